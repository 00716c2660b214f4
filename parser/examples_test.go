package parser_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
)

// The real, public Flink log excerpts beside the project (../shared/examples)
// with notes on what a correct analysis concludes. The test skips where the
// folder is absent; it never copies them.
const examplesDir = "../../shared/examples"

func readExample(t *testing.T, name string) *parser.Result {
	t.Helper()
	path := filepath.Join(examplesDir, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not available: %v", path, err)
	}
	res, err := parser.Read([]string{path}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func allocSet(res *parser.Result) []string {
	seen := map[string]bool{}
	for _, ev := range res.Events {
		for _, id := range []parser.ID{ev.Alloc, ev.Other} {
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

func eventsOf(res *parser.Result, kind parser.Kind) []parser.Event {
	var out []parser.Event
	for _, ev := range res.Events {
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

func TestExample01TaskManager114(t *testing.T) {
	res := readExample(t, "01-tm-1.14-standalone-full-lifecycle.log")
	wantAllocs(t, res, "3b41f2b6c9f47bf531ac47e91afde9fb")
	wantNoUnparsed(t, res)
	req := eventsOf(res, parser.KindTMSlotRequest)
	if len(req) != 1 || req[0].Job.String() != "f69c1ca4892ecbc08d4247ded254f467" || req[0].SlotIndex != -1 {
		t.Errorf("slot request = %+v, want one for job f69c1ca4… with no index", req)
	}
	if n := len(eventsOf(res, parser.KindTMActivate)); n != 3 {
		t.Errorf("%d Activate events, want 3 (one per offer and per task)", n)
	}
	if n := len(eventsOf(res, parser.KindTMTaskReceived)); n != 2 {
		t.Errorf("%d tasks received, want 2 (slot sharing)", n)
	}
	free := eventsOf(res, parser.KindTMFree)
	if len(free) != 1 || free[0].SlotIndex != 0 || free[0].SlotState != "ACTIVE" {
		t.Errorf("free = %+v, want index 0 in state ACTIVE", free)
	}
	// the day jump: 2022-05-26 registration, 2022-05-27 job
	in := res.Inputs[0]
	if got := in.First.String()[:10] + " " + in.Last.String()[:10]; got != "2022-05-26 2022-05-27" {
		t.Errorf("first/last day = %s", got)
	}
	if v := in.VersionMin; v.IsZero() || (parser.Version{Major: 1, Minor: 14}).Less(v) || in.VersionMax.Less(parser.Version{Major: 1, Minor: 14}) {
		t.Errorf("inferred version %s does not contain 1.14", in.FlinkVersion)
	}
}

func TestExample03SlotRequestIDIsNotAllocationID(t *testing.T) {
	res := readExample(t, "03-jm-rm-1.10-standalone-slotpool.log")
	wantAllocs(t, res, "0c281e95bf020f4088b3c54b47ea3c9d")
	wantNoUnparsed(t, res)
	jmReq := eventsOf(res, parser.KindJMSlotRequest)
	if len(jmReq) != 1 || jmReq[0].Request != "886601088399e7df846d7d1383d736a2" || jmReq[0].Alloc.IsSet() {
		t.Errorf("JM slot request = %+v, want SlotRequestId 88660108… and no AllocationID", jmReq)
	}
	rmReq := eventsOf(res, parser.KindRMSlotRequest)
	if len(rmReq) != 1 || rmReq[0].Job.String() != "9d9ced6c7ac0a516b1958073f0edd4e4" || rmReq[0].Component != parser.ComponentRM {
		t.Errorf("RM slot request = %+v", rmReq)
	}
	reg := eventsOf(res, parser.KindRMTMRegister)
	if len(reg) != 2 || reg[0].Resource != "2c1556deb41732fd9124989609914a5c" || reg[1].Resource != reg[0].Resource {
		t.Errorf("registrations = %+v, want the same TaskManager twice", reg)
	}
	for _, d := range eventsOf(res, parser.KindJMDeploy) {
		if d.Resource != "75eef81d20fd250ba7860a5e6a4c2153" || d.Alloc.IsSet() {
			t.Errorf("deploy %+v: want TaskManager 75eef81d… and no allocation id (1.10)", d)
		}
	}
}

func TestExample05LegacyFreesAndNewJob(t *testing.T) {
	res := readExample(t, "05-tm-1.8-zk-ha-job-switch-tm1.log")
	wantAllocs(t, res, "c48aa5dac020842a0757df3f156602e2", "05779e6e4e4cea2a00abb6fb1914bd41",
		"8eecf0ce4186b1d18679c0c5e0b5c06e", "2933096b8d0e4e738986ccf0c0a33f4b")
	wantNoUnparsed(t, res)
	want := map[string]int{"c48aa5dac020842a0757df3f156602e2": 4, "05779e6e4e4cea2a00abb6fb1914bd41": 0, "8eecf0ce4186b1d18679c0c5e0b5c06e": 1}
	free := eventsOf(res, parser.KindTMFree)
	if len(free) != 3 {
		t.Fatalf("%d frees, want 3", len(free))
	}
	for _, f := range free {
		if idx, ok := want[f.Alloc.String()]; !ok || idx != f.SlotIndex || f.SlotState != "ACTIVE" || f.Job.String() != "7a1920a97535147e94747a4494dffc80" {
			t.Errorf("free %s index %d state %s job %s: want index %d ACTIVE of the old job", f.Alloc, f.SlotIndex, f.SlotState, f.Job, idx)
		}
	}
	for _, ev := range res.Events {
		if ev.Alloc.String() == "2933096b8d0e4e738986ccf0c0a33f4b" && ev.SlotIndex != -1 {
			t.Errorf("%s gave the new allocation index %d: the log never says it", ev.Kind, ev.SlotIndex)
		}
	}
	if in := res.Inputs[0]; in.VersionMax.IsZero() || (parser.Version{Major: 1, Minor: 9}).Less(in.VersionMax) {
		t.Errorf("version %q: want inferred <= 1.9 (legacy TaskSlotTable logger)", in.FlinkVersion)
	}
}

func TestExample07MiniCluster(t *testing.T) {
	res := readExample(t, "07-minicluster-1.12-interleaved-free-allocated.log")
	wantAllocs(t, res, "d73fe42189235dfaf22a937eb4556ee1")
	wantNoUnparsed(t, res)
	in := res.Inputs[0]
	if strings.Join(componentNames(in.Components), ",") != "jm,rm,tm" {
		t.Errorf("components = %v, want all three", in.Components)
	}
	if in.ResourceID != "a7c681c7-48a2-4491-803a-535036a51fcb" {
		t.Errorf("TaskManager = %q (%s), want the MiniCluster's UUID", in.ResourceID, in.ResourceIDSource)
	}
	if in.Stray != 6 {
		t.Errorf("%d stray lines, want the 6 stdout words", in.Stray)
	}
	free := eventsOf(res, parser.KindTMFree)
	if len(free) != 1 || free[0].SlotIndex != 0 || free[0].SlotState != "ALLOCATED" || free[0].Resource != in.ResourceID {
		t.Errorf("free = %+v", free)
	}
	for _, ev := range res.Events {
		if ev.Request != "" && ev.Request != "1e28fd68790f78b4b48f557e8ba4d92f" {
			t.Errorf("unexpected SlotRequestId %s", ev.Request)
		}
	}
	if n := len(eventsOf(res, parser.KindTMActivate)); n != 3 {
		t.Errorf("%d Activate events, want 3", n)
	}
	if n := len(eventsOf(res, parser.KindJMDeploy)); n != 2 {
		t.Errorf("%d deployments, want 2", n)
	}
}

func TestExample10JSONNoAllocationID(t *testing.T) {
	res := readExample(t, "10-json-k8s-1.11-jsonlayout-slot-task-failed.log")
	wantAllocs(t, res) // SingleLogicalSlot@6929f626 is an object identity, not an id
	wantNoUnparsed(t, res)
	failed := eventsOf(res, parser.KindJMTaskFailed)
	if len(failed) != 1 || failed[0].Attempt != "f682d65339f1ae8ed4d3cf8732b0300e" || !strings.Contains(failed[0].Reason, "RemoteTransportException") {
		t.Errorf("task failure = %+v", failed)
	}
	if in := res.Inputs[0]; in.Layout != "json" || in.Records != 16 || in.Stray != 0 {
		t.Errorf("input = %+v, want 16 JSON records and nothing stray (logEvent records are records)", in)
	}
}

func componentNames(cs []parser.Component) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}
