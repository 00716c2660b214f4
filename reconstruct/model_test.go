package reconstruct

import (
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
