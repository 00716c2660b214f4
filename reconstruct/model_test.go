package reconstruct

import (
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// TestTimelineAcrossComponents: the race's TM and JM logs joined by
// AllocationID. The TM host's clock is behind; the skew estimate puts the
// RM's request before the TM's receipt, as the protocol demands.
func TestTimelineAcrossComponents(t *testing.T) {
	res, err := parser.Read([]string{"../testdata/logs/legacy-1.6.2-race-tm.log", "../testdata/logs/legacy-1.6.2-race-jm.log"}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := Build(res)
	a1, _ := flinklog.ParseID("4d281fc2b655ae175b84d7592d68df69")
	a := m.Allocation(a1)
	if a == nil {
		t.Fatal("no timeline for A1")
	}
	var kinds []string
	lastLine := map[int32]int64{}
	for _, i := range a.Events {
		ev := res.Event(i)
		kinds = append(kinds, string(ev.Kind))
		if ev.Pos.Line < lastLine[ev.Pos.File] {
			t.Errorf("timeline breaks the order of %s at line %d", res.Files[ev.Pos.File].Path, ev.Pos.Line)
		}
		lastLine[ev.Pos.File] = ev.Pos.Line
	}
	got := strings.Join(kinds, " ")
	// The RM's request comes first (causality, through the skew); the JM's
	// and RM's lines that the timestamps place later stay later.
	want := "rm.slot_request tm.slot_request tm.allocated tm.activate tm.slot_request tm.allocated tm.free rm.alloc_failed jm.fulfilled tm.task_no_slot jm.release"
	if got != want {
		t.Errorf("timeline of A1:\n got  %s\n want %s", got, want)
	}
	if a.Resource != "6ffd65caf4e9039487d3d4bc2d9b5d88" || a.Job.String() != "f9743e6b86a8c4a8dfb0bfa20b9a86ad" {
		t.Errorf("A1 resource %q job %s", a.Resource, a.Job)
	}
	tmFile := res.Event(a.Events[1]).Pos.File
	// RM "Request slot" 11:03:52,011 vs TM "Receive slot request" 11:03:11,516.
	if sk := m.Skew[tmFile]; sk.Offset != 40495e6 || res.Event(sk.Because).Pos.Line != 24 {
		t.Errorf("skew of the TaskManager input = %+v, want 40.495 s forced by line 24", sk)
	}
	if len(m.TaskManagers) != 1 || len(m.TaskManagers[0].Processes) != 1 || len(m.TaskManagers[0].Processes[0].Replay.Divergences) != 1 {
		t.Errorf("task managers: %+v", m.TaskManagers)
	}
}

func buildLogs(t *testing.T, names ...string) *Model {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, "../testdata/logs/"+n)
	}
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Build(res)
}

// TestSlotReportsAgainstTables: the 1.8.2 race at DEBUG, where the
// ResourceManager's slot reports print the TaskManager's whole table. The
// report taken while A1 held one slot reveals its index (2), which no
// TaskManager line ever prints; every report agrees with the legacy table,
// and the last three, after the JobManager released A1, show the zombie the
// fixed table would have freed.
func TestSlotReportsAgainstTables(t *testing.T) {
	m := buildLogs(t, "legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")
	res := m.Result
	a1, _ := flinklog.ParseID("c81f4e2a9b3d5f7061e2d4c6b8a09f13")
	a := m.Allocation(a1)
	if a == nil || len(a.Held) != 2 {
		t.Fatalf("A1 held %+v, want two slots", a)
	}
	first, second := a.Held[0], a.Held[1]
	line := func(i parser.EventRef) int64 { return res.Event(i).Pos.Line }
	if line(first.Allocated) != 17 || first.Index.Index != 2 || first.Index.Source != IndexObserved ||
		first.Index.How != "slot report" || first.Index.Pos.Line != 25 || first.Freed != -1 || !first.Zombie {
		t.Errorf("first slot of A1 = %+v, want allocated at tm.log:17, index 2 observed in the slot report at jm.log:25, never freed, a zombie", first)
	}
	if line(second.Allocated) != 26 || second.Index.Index != 1 || second.Index.How != "free" || second.Freed < 0 || line(second.Freed) != 29 || second.Zombie {
		t.Errorf("second slot of A1 = %+v, want allocated at tm.log:26, index 1 from its free at tm.log:29", second)
	}
	p := m.TaskManagers[0].Processes[0]
	if p.Runs != Legacy || !strings.Contains(p.RunsWhy, "1.8.2") {
		t.Errorf("runs %s (%s), want legacy assumed from 1.8.2", p.Runs, p.RunsWhy)
	}
	r := p.Replay
	if r.CheckCount() != 8 {
		t.Fatalf("%d slot reports compared, want 8", r.CheckCount())
	}
	var last *SlotReportCheck
	for k, chk := range r.Checks() {
		if !chk.Agrees[Legacy] {
			t.Errorf("report %d (jm.log:%d) differs from the legacy table: %+v", k, p.Config.Probes.Probe(k).Pos.Line, chk.Rows(Legacy))
		}
		wantFixed := k < 5 // the last three come after the JobManager released A1

		if chk.Agrees[Fixed] != wantFixed {
			t.Errorf("report %d (jm.log:%d) agrees with the fixed table: %v, want %v", k, p.Config.Probes.Probe(k).Pos.Line, chk.Agrees[Fixed], wantFixed)
		}
		last = chk
	}
	for _, row := range last.Rows(Fixed) {
		if row.Index == 2 && (row.Agrees || row.Reported != a1 || row.Replayed.Alloc.IsSet()) {
			t.Errorf("last report, index 2 under the fixed table: %+v, want reported A1 against a free slot", row)
		}
	}
	// Divergences: the second allocation (refused), the redeployment
	// (accepted) and the JobManager's release (frees index 2).
	var ops []string
	for _, d := range r.Divergences {
		st := r.Steps[d.Step]
		ops = append(ops, st.Op.String()+"@"+strconv.Itoa(int(res.Event(st.Event).Pos.Line)))
	}
	if got := strings.Join(ops, " "); got != "allocate@26 submit@35 free@41" {
		t.Errorf("divergences %s, want allocate@26 submit@35 free@41", got)
	}
	// The TM clock is 1.5 s behind; A3's request and receipt are 4 ms apart.
	var tmFile int32
	for f, fi := range m.Result.Files {
		if strings.HasSuffix(fi.Path, "tm.log") {
			tmFile = int32(f)
		}
	}
	if sk := m.Skew[tmFile]; sk.Offset != 1496e6 {
		t.Errorf("skew %+v, want +1.496 s", sk)
	}
}

// TestRestartStartsEmptyTable: a Kubernetes pod's container restarted
// under the same ResourceID. The second banner starts a new process whose
// table is empty; A and B were still held by the first process (their
// indexes from its slot report), and are dropped, not carried over.
func TestRestartStartsEmptyTable(t *testing.T) {
	m := buildLogs(t, "fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log")
	res := m.Result
	if len(m.TaskManagers) != 1 || len(m.TaskManagers[0].Processes) != 2 {
		t.Fatalf("want one TaskManager with two processes, got %+v", m.TaskManagers)
	}
	p1, p2 := m.TaskManagers[0].Processes[0], m.TaskManagers[0].Processes[1]
	if !p1.Config.FromStart || !p2.Config.FromStart || res.Event(p2.Events[0]).Pos.Line != 28 {
		t.Errorf("processes start at lines %d and %d (from start %v %v), want 2 and 28",
			res.Event(p1.Events[0]).Pos.Line, res.Event(p2.Events[0]).Pos.Line, p1.Config.FromStart, p2.Config.FromStart)
	}
	agrees := false
	for _, chk := range p1.Replay.Checks() {
		agrees = chk.Agrees[Fixed]
	}
	if p1.Config.Probes.Len() != 1 || p2.Config.Probes.Len() != 0 || p1.Replay.CheckCount() != 1 || !agrees {
		t.Errorf("the slot report before the restart belongs to the first process and agrees: %d / %d reports", p1.Config.Probes.Len(), p2.Config.Probes.Len())
	}
	for _, tc := range []struct {
		alloc     string
		index     int
		how       string
		replaced  bool
		freedLine int64
	}{
		{"a1a2a3a4b5b6c7c8d9d0e1e2f3f4a5a6", 0, "slot report", true, 0},
		{"b7b8c9c0d1d2e3e4f5f6a7a8b9b0c1c2", 1, "slot report", true, 0},
		{"c3c4d5d6e7e8f9f0a1a2b3b4c5c6d7d8", 1, "only index left", false, 0},
		{"d9d0e1e2f3f4a5a6b7b8c9c0d1d2e3e4", 0, "free", false, 48},
	} {
		id, _ := flinklog.ParseID(tc.alloc)
		a := m.Allocation(id)
		if a == nil || len(a.Held) != 1 {
			t.Errorf("%s: held %+v, want one slot", tc.alloc, a)
			continue
		}
		h := a.Held[0]
		if h.Index.Index != tc.index || h.Index.How != tc.how || (h.Replaced >= 0) != tc.replaced {
			t.Errorf("%s: %+v, want index %d by %q, replaced %v", tc.alloc, h, tc.index, tc.how, tc.replaced)
		}
		if tc.freedLine > 0 && (h.Freed < 0 || res.Event(h.Freed).Pos.Line != tc.freedLine) {
			t.Errorf("%s: freed at event %d, want line %d", tc.alloc, h.Freed, tc.freedLine)
		}
	}
	// The inference hangs on D's free: index 0 taken while C was held.
	c, _ := flinklog.ParseID("c3c4d5d6e7e8f9f0a1a2b3b4c5c6d7d8")
	if h := m.Allocation(c).Held[0]; h.Index.Source != IndexInferred || h.Index.Pos.Line != 48 {
		t.Errorf("C's index evidence %+v, want inferred from line 48", h.Index)
	}
	for _, p := range m.TaskManagers[0].Processes {
		if len(p.Replay.Divergences) != 0 {
			t.Errorf("divergences on a healthy restart: %+v", p.Replay.Divergences)
		}
	}
}

// TestMidStoryPriorSlots: a rotated TaskManager log that begins while slots
// are held. The ids first seen in a task submission, a refusal naming the
// occupant of index 3 and an accepted duplicate were allocated before the
// file; no step is reported as a failure, and the refusal reveals indexes.
func TestMidStoryPriorSlots(t *testing.T) {
	m := buildLogs(t, "midstory-1.14-rotated-tm.log")
	p := m.TaskManagers[0].Processes[0]
	if p.Config.FromStart || p.Runs != Fixed || p.RunsPos.Line != 9 {
		t.Errorf("from start %v, runs %s (%s, line %d); want mid-story, fixed from the line-9 duplicate", p.Config.FromStart, p.Runs, p.RunsWhy, p.RunsPos.Line)
	}
	if len(p.Replay.Divergences) != 0 {
		t.Errorf("divergences %+v", p.Replay.Divergences)
	}
	for _, tc := range []struct {
		alloc string
		prior bool
		index int
		how   string
		held  int
	}{
		{"0f1e2d3c4b5a69788796a5b4c3d2e1f0", true, 3, "occupant", 1},
		{"9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49", true, 1, "refusal", 1},
		{"5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d", false, 0, "free", 1},
		{"7b6a5f4e3d2c1b0a9f8e7d6c5b4a3928", false, -1, "", 0}, // refused: index 3 is X's
	} {
		id, _ := flinklog.ParseID(tc.alloc)
		a := m.Allocation(id)
		if a == nil || len(a.Held) != tc.held {
			t.Errorf("%s: %+v, want %d held slots", tc.alloc, a, tc.held)
			continue
		}
		if tc.held == 0 {
			continue
		}
		h := a.Held[0]
		if h.Prior != tc.prior || h.Index.Index != tc.index || h.Index.How != tc.how || h.Freed < 0 {
			t.Errorf("%s: %+v, want prior %v, index %d by %q, freed", tc.alloc, h, tc.prior, tc.index, tc.how)
		}
	}
}

// TestDynamicIndexCounter: from 1.18 every request gets the next dynamic
// index numberOfTaskSlots + k. One printed free (index 5 for the second
// request) confirms the counter; the other slots' indexes follow from it.
func TestDynamicIndexCounter(t *testing.T) {
	m := buildLogs(t, "fixed-1.18.1-dynamic-slots-tm.log")
	r := m.TaskManagers[0].Processes[0].Replay
	want := map[string]int{
		"1d2c3b4a59687f6e5d4c3b2a1908f7e6": 4, "2e3d4c5b6a7980f7e6d5c4b3a2019f8e": 5,
		"3f4e5d6c7b8a9102f8e7d6c5b4a3120f": 6, "4a5f6e7d8c9b0a13a9f8e7d6c5b4231a": 7,
	}
	for s, idx := range want {
		id, _ := flinklog.ParseID(s)
		a := m.Allocation(id)
		if a == nil || len(a.Held) != 1 || a.Held[0].Index.Index != idx {
			t.Errorf("%s: %+v, want index %d", s, a, idx)
			continue
		}
		info := a.Held[0].Index
		wantHow, wantSrc := "dynamic index counter", IndexInferred
		if idx == 5 {
			wantHow, wantSrc = "free", IndexObserved
		}
		if info.How != wantHow || info.Source != wantSrc || info.Pos.Line != 17 {
			t.Errorf("%s: evidence %+v, want %s %q at line 17", s, info, wantSrc, wantHow)
		}
	}
	if len(r.Divergences) != 0 {
		t.Errorf("divergences %+v", r.Divergences)
	}
}

// TestReplayAtHoldsWhatWasHeldBeforeTheLog: in a log that begins mid-story,
// a slot first shown after T (freed, refused as an occupant) was held at T
// too, marked as held from before the first line.
func TestReplayAtHoldsWhatWasHeldBeforeTheLog(t *testing.T) {
	m := buildLogs(t, "midstory-1.14-rotated-tm.log")
	tm := m.TaskManagers[0]
	for _, tc := range []struct {
		at   string
		want []string
	}{
		// before the first line: only what was held before the log
		{"2022-06-03T23:59:58.400", []string{"0f1e2d3c4b5a69788796a5b4c3d2e1f0", "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"}},
		// after the allocation of 5a4b…, before the frees
		{"2022-06-04T00:00:05", []string{"0f1e2d3c4b5a69788796a5b4c3d2e1f0", "5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d", "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"}},
		// after the frees: nothing
		{"2022-06-04T00:00:39", nil},
	} {
		at, err := parser.ParseTimeArg(tc.at)
		if err != nil {
			t.Fatal(err)
		}
		p := m.ProcessAt(tm, at)
		r := m.ReplayAt(p, at)
		var got []string
		for _, s := range r.Tables[Fixed].Slots() {
			got = append(got, s.Alloc.String())
		}
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("at %s held %v, want %v", tc.at, got, tc.want)
		}
	}
}
