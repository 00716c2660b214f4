package parser_test

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// The project's own logs in the shapes of real, public Flink log excerpts
// (see testdata/README.md): the same layouts, wordings and event sequences,
// with their own ids. A missing file fails the test: these are the only
// checks against real-log shapes and must run in every clone.
const realShapesDir = "../testdata/logs"

func readRealShape(t *testing.T, name string) *parser.Result {
	t.Helper()
	res, err := parser.Read([]string{filepath.Join(realShapesDir, name)}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inputs) == 0 {
		t.Fatalf("%s: no input read", name)
	}
	return res
}

func allocSet(res *parser.Result) []string {
	seen := map[string]bool{}
	for _, ev := range res.Expanded() {
		for _, id := range []flinklog.ID{ev.Alloc, ev.Other} {
			if id.IsSet() {
				seen[id.String()] = true
			}
		}
		for _, s := range ev.Slots {
			if s.Alloc.IsSet() {
				seen[s.Alloc.String()] = true
			}
		}
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func eventsOf(res *parser.Result, kind flinklog.Kind) []flinklog.Event {
	var out []flinklog.Event
	for _, ev := range res.Expanded() {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func wantAllocs(t *testing.T, res *parser.Result, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := allocSet(res); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("AllocationIDs = %v, want exactly %v", got, want)
	}
}

func wantNoUnparsed(t *testing.T, res *parser.Result) {
	t.Helper()
	for _, in := range res.Inputs {
		if in.Unparsed != 0 {
			t.Errorf("%s: %d unparsed records, want 0 (diagnostics: %v)", in.Path, in.Unparsed, res.Diagnostics)
		}
	}
}

func TestRealShape114TaskManagerLifecycle(t *testing.T) {
	res := readRealShape(t, "real-1.14-standalone-lifecycle-tm.log")
	wantAllocs(t, res, "8b8c764d1c0acb3dea13519a60a077bb")
	wantNoUnparsed(t, res)
	req := eventsOf(res, flinklog.KindTMSlotRequest)
	if len(req) != 1 || req[0].Job.String() != "d142880e8427abeec12975fd55911ea2" || req[0].SlotIndex != -1 {
		t.Errorf("slot request = %+v, want one for job d142880e… with no index", req)
	}
	if n := len(eventsOf(res, flinklog.KindTMActivate)); n != 3 {
		t.Errorf("%d Activate events, want 3 (one per offer and per task)", n)
	}
	if n := len(eventsOf(res, flinklog.KindTMTaskReceived)); n != 2 {
		t.Errorf("%d tasks received, want 2 (slot sharing)", n)
	}
	free := eventsOf(res, flinklog.KindTMFree)
	if len(free) != 1 || free[0].SlotIndex != 0 || free[0].SlotState != "ACTIVE" {
		t.Errorf("free = %+v, want index 0 in state ACTIVE", free)
	}
	// the day jump: 2023-02-12 registration, 2023-02-13 job
	in := res.Inputs[0]
	if got := in.First.String()[:10] + " " + in.Last.String()[:10]; got != "2023-02-12 2023-02-13" {
		t.Errorf("first/last day = %s", got)
	}
	if v := in.VersionMin; v.IsZero() || (flinklog.Version{Major: 1, Minor: 14}).Less(v) || in.VersionMax.Less(flinklog.Version{Major: 1, Minor: 14}) {
		t.Errorf("inferred version %s does not contain 1.14", in.FlinkVersion)
	}
}

func TestRealShape110SlotRequestIDIsNotAllocationID(t *testing.T) {
	res := readRealShape(t, "real-1.10-standalone-slotpool-jm.log")
	wantAllocs(t, res, "3134b65ab3adf32b1cc8fa650bdf6593")
	wantNoUnparsed(t, res)
	jmReq := eventsOf(res, flinklog.KindJMSlotRequest)
	if len(jmReq) != 1 || jmReq[0].Request != "1a714a16e81c1aad236d31def0b9d299" || jmReq[0].Alloc.IsSet() {
		t.Errorf("JM slot request = %+v, want SlotRequestId 1a714a16… and no AllocationID", jmReq)
	}
	rmReq := eventsOf(res, flinklog.KindRMSlotRequest)
	if len(rmReq) != 1 || rmReq[0].Job.String() != "29ae36563d8b6da25a43a846eb31e7ea" || rmReq[0].Component != flinklog.ComponentRM {
		t.Errorf("RM slot request = %+v", rmReq)
	}
	reg := eventsOf(res, flinklog.KindRMTMRegister)
	if len(reg) != 2 || reg[0].Resource != "aba45ee6ebc57f4590641e1f037860cf" || reg[1].Resource != reg[0].Resource {
		t.Errorf("registrations = %+v, want the same TaskManager twice", reg)
	}
	for _, d := range eventsOf(res, flinklog.KindJMDeploy) {
		if d.Resource != "d1b61b4b171b2f3a9f889eeaf77ee09a" || d.Alloc.IsSet() {
			t.Errorf("deploy %+v: want TaskManager d1b61b4b… and no allocation id (1.10)", d)
		}
	}
}

func TestRealShape18LegacyFreesAndNewJob(t *testing.T) {
	res := readRealShape(t, "real-1.8-zk-ha-job-switch-tm.log")
	wantAllocs(t, res, "3931da53f50a0be52d057e0bd04ab300", "5ba9682170905f4ec5a399fc47f5edba",
		"da514e287ba054769ba41cbb44f07539", "03870712d5f63adfa395d6cff31aeea0")
	wantNoUnparsed(t, res)
	want := map[string]int{"3931da53f50a0be52d057e0bd04ab300": 4, "5ba9682170905f4ec5a399fc47f5edba": 0, "da514e287ba054769ba41cbb44f07539": 1}
	free := eventsOf(res, flinklog.KindTMFree)
	if len(free) != 3 {
		t.Fatalf("%d frees, want 3", len(free))
	}
	for _, f := range free {
		if idx, ok := want[f.Alloc.String()]; !ok || idx != f.SlotIndex || f.SlotState != "ACTIVE" || f.Job.String() != "5440698c83998e1705bb7a7af3d2e242" {
			t.Errorf("free %s index %d state %s job %s: want index %d ACTIVE of the old job", f.Alloc, f.SlotIndex, f.SlotState, f.Job, idx)
		}
	}
	for _, ev := range res.Expanded() {
		if ev.Alloc.String() == "03870712d5f63adfa395d6cff31aeea0" && ev.SlotIndex != -1 {
			t.Errorf("%s gave the new allocation index %d: the log never says it", ev.Kind, ev.SlotIndex)
		}
	}
	if in := res.Inputs[0]; in.VersionMax.IsZero() || (flinklog.Version{Major: 1, Minor: 9}).Less(in.VersionMax) {
		t.Errorf("version %q: want inferred <= 1.9 (legacy TaskSlotTable logger)", in.FlinkVersion)
	}
}

func TestRealShape112MiniCluster(t *testing.T) {
	res := readRealShape(t, "real-1.12-minicluster-interleaved.log")
	wantAllocs(t, res, "5bbd933e4a241d65099eec01407ec6a1")
	wantNoUnparsed(t, res)
	in := res.Inputs[0]
	if strings.Join(componentNames(in.Components), ",") != "jm,rm,tm" {
		t.Errorf("components = %v, want all three", in.Components)
	}
	if in.ResourceID != "b044da05-ca4e-4810-84c1-dec8ee162646" {
		t.Errorf("TaskManager = %q (%s), want the MiniCluster's UUID", in.ResourceID, in.ResourceIDSource)
	}
	if in.Stray != 6 {
		t.Errorf("%d stray lines, want the 6 stdout words", in.Stray)
	}
	free := eventsOf(res, flinklog.KindTMFree)
	if len(free) != 1 || free[0].SlotIndex != 0 || free[0].SlotState != "ALLOCATED" || free[0].Resource != in.ResourceID {
		t.Errorf("free = %+v", free)
	}
	for _, ev := range res.Expanded() {
		if ev.Request != "" && ev.Request != "f9a51bb5d9fb33fdebd0bd6ba93e3c41" {
			t.Errorf("unexpected SlotRequestId %s", ev.Request)
		}
	}
	if n := len(eventsOf(res, flinklog.KindTMActivate)); n != 3 {
		t.Errorf("%d Activate events, want 3", n)
	}
	if n := len(eventsOf(res, flinklog.KindJMDeploy)); n != 2 {
		t.Errorf("%d deployments, want 2", n)
	}
}

func TestRealShape111JSONNoAllocationID(t *testing.T) {
	res := readRealShape(t, "real-1.11-k8s-jsonlayout-task-failed-jm.json")
	wantAllocs(t, res) // SingleLogicalSlot@b0e812e9 is an object identity, not an id
	wantNoUnparsed(t, res)
	failed := eventsOf(res, flinklog.KindJMTaskFailed)
	if len(failed) != 1 || failed[0].Attempt != "818f26ff6bff254199c973226b722641" || !strings.Contains(failed[0].Reason, "RemoteTransportException") {
		t.Errorf("task failure = %+v", failed)
	}
	if in := res.Inputs[0]; in.Layout != "json" || in.Records != 16 || in.Stray != 0 {
		t.Errorf("input = %+v, want 16 JSON records and nothing stray (logEvent records are records)", in)
	}
}

func componentNames(cs []flinklog.Component) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}
