package reconstruct

import (
	"strconv"
	"strings"
	"testing"

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
	a1, _ := parser.ParseID("4d281fc2b655ae175b84d7592d68df69")
	a := m.Allocation(a1)
	if a == nil {
		t.Fatal("no timeline for A1")
	}
	var kinds []string
	lastLine := map[int32]int32{}
	for _, i := range a.Events {
		ev := res.Events[i]
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
	tmFile := res.Events[a.Events[1]].Pos.File
	// RM "Request slot" 11:03:52,011 vs TM "Receive slot request" 11:03:11,516.
	if sk := m.Skew[tmFile]; sk.Offset != 40495e6 || res.Events[sk.Because].Pos.Line != 24 {
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
// and the last one, after the JobManager released A1, shows the zombie the
// fixed table would have freed.
func TestSlotReportsAgainstTables(t *testing.T) {
	m := buildLogs(t, "legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")
	evs := m.Result.Events
	a1, _ := parser.ParseID("c81f4e2a9b3d5f7061e2d4c6b8a09f13")
	a := m.Allocation(a1)
	if a == nil || len(a.Held) != 2 {
		t.Fatalf("A1 held %+v, want two slots", a)
	}
	first, second := a.Held[0], a.Held[1]
	line := func(i int) int32 { return evs[i].Pos.Line }
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
	if len(r.Reports) != 6 {
		t.Fatalf("%d slot reports compared, want 6", len(r.Reports))
	}
	for k, chk := range r.Reports {
		if !chk.Agrees[Legacy] {
			t.Errorf("report %d (jm.log:%d) differs from the legacy table: %+v", k, chk.Pos.Line, chk.Rows[Legacy])
		}
		wantFixed := k != len(r.Reports)-1
		if chk.Agrees[Fixed] != wantFixed {
			t.Errorf("report %d (jm.log:%d) agrees with the fixed table: %v, want %v", k, chk.Pos.Line, chk.Agrees[Fixed], wantFixed)
		}
	}
	last := r.Reports[len(r.Reports)-1]
	for _, row := range last.Rows[Fixed] {
		if row.Index == 2 && (row.Agrees || row.Reported != a1 || row.Replayed.Alloc.IsSet()) {
			t.Errorf("last report, index 2 under the fixed table: %+v, want reported A1 against a free slot", row)
		}
	}
	// Divergences: the second allocation (refused), the redeployment
	// (accepted) and the JobManager's release (frees index 2).
	var ops []string
	for _, d := range r.Divergences {
		st := r.Steps[d.Step]
		ops = append(ops, st.Op+"@"+strconv.Itoa(int(evs[st.Event].Pos.Line)))
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
