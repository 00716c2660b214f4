package reconstruct

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

func id(s string) flinklog.ID {
	v, ok := flinklog.ParseID(s + strings.Repeat("0", 32-len(s)))
	if !ok {
		panic(s)
	}
	return v
}

var (
	J1, J2     = id("1"), id("2")
	A1, A2, A3 = id("a1"), id("a2"), id("a3")
)

// op is one step of a table test, written like the Flink unit test it mirrors.
type op struct {
	name  string
	apply func(t *Table) Outcome
	want  [2]Outcome // [legacy, fixed]
}

func alloc(idx int, job, a flinklog.ID, legacy, fixed Outcome) op {
	return op{fmt.Sprintf("allocate(%d, %.8s…)", idx, a), func(t *Table) Outcome { return t.Allocate(idx, job, a) }, [2]Outcome{legacy, fixed}}
}

func free(a flinklog.ID, r Outcome) op {
	return op{fmt.Sprintf("free(%.8s…)", a), func(t *Table) Outcome { _, res := t.Free(a); return res }, [2]Outcome{r, r}}
}

func activate(a flinklog.ID, legacy, fixed Outcome) op {
	return op{fmt.Sprintf("markActive(%.8s…)", a), func(t *Table) Outcome { _, res := t.MarkActive(a); return res }, [2]Outcome{legacy, fixed}}
}

func submit(job, a flinklog.ID, legacy, fixed Outcome) op {
	return op{fmt.Sprintf("submitTask(%.8s…)", a), func(t *Table) Outcome { _, res := t.SubmitTask(job, a); return res }, [2]Outcome{legacy, fixed}}
}

// TestModels replays the situations of Flink's own slot-table unit tests
// (catalogue §7.4) and the FLINK-14589 race under both models.
func TestModels(t *testing.T) {
	tests := []struct {
		name        string
		ops         []op
		wantSlots   [2]string // final table, legacy and fixed
		wantZombies [2]int
	}{
		{
			name: "testRedundantSlotAllocation: same AllocationID on another index",
			ops: []op{
				alloc(0, J1, A1, Accepted, Accepted),
				alloc(1, J1, A1, Overwritten, Refused),
			},
			wantSlots:   [2]string{"0:ALLOCATED(a1000000) 1:ALLOCATED(a1000000) map[a1000000:1]", "0:ALLOCATED(a1000000) map[a1000000:0]"},
			wantZombies: [2]int{1, 0},
		},
		{
			name: "testInconsistentStaticSlotAllocation: other index refused, taken index occupied",
			ops: []op{
				alloc(0, J1, A1, Accepted, Accepted),
				alloc(1, J1, A1, Overwritten, Refused),
				alloc(0, J1, A2, Occupied, Occupied),
			},
			wantZombies: [2]int{1, 0},
		},
		{
			name: "testDuplicateStaticSlotAllocation: same index twice is idempotent",
			ops: []op{
				alloc(0, J1, A1, Accepted, Accepted),
				alloc(0, J1, A1, Idempotent, Idempotent),
			},
			wantSlots: [2]string{"0:ALLOCATED(a1000000) map[a1000000:0]", "0:ALLOCATED(a1000000) map[a1000000:0]"},
		},
		{
			name: "occupied index: another job's allocation",
			ops: []op{
				alloc(0, J1, A1, Accepted, Accepted),
				alloc(0, J2, A2, Occupied, Occupied),
			},
		},
		{
			name: "testFreeSlot and free of an unknown id",
			ops: []op{
				alloc(0, J1, A1, Accepted, Accepted),
				alloc(1, J1, A2, Accepted, Accepted),
				free(A2, Accepted),
				free(A2, Unknown),
				free(A3, Unknown),
			},
			wantSlots: [2]string{"0:ALLOCATED(a1000000) map[a1000000:0]", "0:ALLOCATED(a1000000) map[a1000000:0]"},
		},
		{
			name: "testTryMarkSlotActive: activation through the map, job checked",
			ops: []op{
				alloc(0, J1, A1, Accepted, Accepted),
				alloc(1, J1, A2, Accepted, Accepted),
				alloc(2, J2, A3, Accepted, Accepted),
				activate(A1, Accepted, Accepted),
				activate(A1, Idempotent, Idempotent),
				submit(J1, A2, Accepted, Accepted),
				submit(J1, A3, Unknown, Unknown),
			},
		},
		{
			name: "FLINK-14589: overwrite, reject-and-free of the newer index, zombie, no task slot",
			ops: []op{
				alloc(1, J1, A1, Accepted, Accepted),
				activate(A1, Accepted, Accepted),
				alloc(2, J1, A1, Overwritten, Refused),
				// the JM rejects the offer of index 2; the TM frees A1 — which
				// in legacy is index 2 (the map), in fixed index 1
				free(A1, Accepted),
				submit(J1, A1, Unknown, Unknown),
				free(A1, Unknown),
			},
			wantSlots:   [2]string{"1:ACTIVE(a1000000) map[]", "map[]"},
			wantZombies: [2]int{1, 0},
		},
	}
	for _, tt := range tests {
		for m, model := range []Semantics{Legacy, Fixed} {
			t.Run(tt.name+"/"+model.String(), func(t *testing.T) {
				tab := NewTable(model)
				for i, o := range tt.ops {
					if got := o.apply(tab); got != o.want[m] {
						t.Errorf("step %d %s = %s, want %s (table %s)", i+1, o.name, got, o.want[m], tab)
					}
				}
				if want := tt.wantSlots[m]; want != "" && strings.TrimSpace(tab.String()) != strings.TrimSpace(want) {
					t.Errorf("table = %q, want %q", tab, want)
				}
				if got := len(tab.Zombies()); got != tt.wantZombies[m] {
					t.Errorf("%d zombies, want %d: %s", got, tt.wantZombies[m], tab)
				}
			})
		}
	}
}

// TestMarkInactiveLeavesZombie: closing the JobManager connection walks the
// map, so a zombie slot stays ACTIVE (catalogue §7.3).
func TestMarkInactiveLeavesZombie(t *testing.T) {
	tab := NewTable(Legacy)
	tab.Allocate(1, J1, A1)
	tab.MarkActive(A1)
	tab.Allocate(2, J1, A1)
	tab.Free(A1)
	tab.Allocate(3, J1, A2)
	tab.MarkActive(A2)
	tab.MarkInactive(J1)
	got := tab.Slots()
	if len(got) != 2 || got[0].State != Active || got[1].State != Allocated {
		t.Errorf("after JM loss: %s; want zombie index 1 still ACTIVE and index 3 back to ALLOCATED", tab)
	}
}
