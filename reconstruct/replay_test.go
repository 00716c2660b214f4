package reconstruct

import (
	"maps"
	"testing"
	"unsafe"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

func readLog(t *testing.T, name string) []flinklog.Event {
	t.Helper()
	res, err := parser.Read([]string{"../testdata/logs/" + name}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Expanded()
}

// TestReplayLegacyRace: the 1.6.2 TaskManager log of the FLINK-14589 race at
// INFO. Legacy: A1 allocated twice without a free; the free of the newer slot
// (index 2) leaves the older one ACTIVE and unreachable, its index never
// printed. Fixed: the second request is refused, the free of the rejected
// offer never happens, A1 keeps its one slot.
func TestReplayLegacyRace(t *testing.T) {
	evs := readLog(t, "legacy-1.6.2-race-tm.log")
	r := ReplayTM(evs, Config{FromStart: true})
	a1, _ := flinklog.ParseID("4d281fc2b655ae175b84d7592d68df69")
	if len(r.Divergences) != 1 {
		t.Fatalf("%d divergences, want 1: %+v", len(r.Divergences), r.Divergences)
	}
	d := r.Divergences[0]
	st := r.Steps[d.Step]
	if r.AllocOf(st) != a1 || d.Legacy != Overwritten || d.Fixed != Refused || evs[st.Event].Pos.Line != 33 {
		t.Errorf("divergence %+v at step %+v (line %d), want the second 'Allocated slot for A1' (line 33)", d, st, evs[st.Event].Pos.Line)
	}
	zl := r.Tables[Legacy].Zombies()
	if len(zl) != 1 || zl[0].Alloc != a1 || zl[0].State != Active || r.IndexOf(zl[0].Index) != -1 {
		t.Errorf("legacy zombies = %+v (index %d), want A1 ACTIVE with its index never printed", zl, r.IndexOf(zl[0].Index))
	}
	if z := r.Tables[Fixed].Zombies(); len(z) != 0 {
		t.Errorf("fixed zombies = %+v, want none", z)
	}
	if idx, ok := r.Tables[Fixed].Lookup(a1); !ok || r.Tables[Fixed].slots[idx].State != Active {
		t.Errorf("fixed: A1 should keep its first slot, ACTIVE; table %s", r.Tables[Fixed])
	}
	// the free of index 2 resolved the legacy placeholder of the second allocation
	resolved := 0
	for key, info := range r.Indexes.All() {
		if info.Index == 2 {
			resolved++
			if !r.refused[key] {
				t.Errorf("index 2 resolved to placeholder %d, which is not the refused (second) allocation", key)
			}
		}
	}
	if resolved != 1 {
		t.Errorf("index 2 resolved %d times: %+v", resolved, maps.Collect(r.Indexes.All()))
	}
}

// TestReplayHealthyAgrees: on healthy logs both models take every step the
// same way (repeated Activate lines, a free in state ALLOCATED after a JM
// loss, a fixed table's refusal line are all normal).
func TestReplayHealthyAgrees(t *testing.T) {
	for _, name := range []string{
		"legacy-1.9.1-debug-tm.log", "fixed-1.10.0-refused-duplicate-tm.log", "1.14.3-logback-tm.log",
		"fixed-1.12-minicluster-time-only.log", "2.1.0-cri-tm.log", "1.19.1-jsonlayout-tm.json",
		"fixed-1.11.3-k8s-restart-tm.log", "fixed-1.18.1-dynamic-slots-tm.log",
	} {
		r := ReplayTM(readLog(t, name), Config{FromStart: true})
		if len(r.Divergences) != 0 {
			t.Errorf("%s: %d divergences on a healthy log: %+v", name, len(r.Divergences), r.Divergences)
		}
		for m, tab := range r.Tables {
			if z := tab.Zombies(); len(z) != 0 {
				t.Errorf("%s: %s model has zombies %+v", name, Semantics(m), z)
			}
		}
	}
}

// TestReplayResolvesIndexFromRefusal: the 1.10.0 fixed table's refusal line
// prints the index the allocation holds, before any free does.
func TestReplayResolvesIndexFromRefusal(t *testing.T) {
	evs := readLog(t, "fixed-1.10.0-refused-duplicate-tm.log")
	r := ReplayTM(evs, Config{FromStart: true})
	if r.Indexes.Len() != 1 || len(r.Conflicts) != 0 {
		t.Fatalf("indexes %+v conflicts %v", maps.Collect(r.Indexes.All()), r.Conflicts)
	}
	for _, info := range r.Indexes.All() {
		if info.Index != 0 || info.Pos.Line != 11 || info.Source != IndexObserved {
			t.Errorf("index %+v, want 0 observed at line 11 (Allocation ID … is already allocated in TaskSlot(index:0 …))", info)
		}
	}
	if len(r.Divergences) != 0 {
		t.Errorf("a refused duplicate that logs no second allocation is no divergence: %+v", r.Divergences)
	}
}

// TestStepsNameTheirAllocations: a step keeps its AllocationID as a number
// into the replay's table of them; every step read from an event names
// that event's AllocationID (a prior slot's, the one its line shows), an
// OpInactive none, and a step stays 24 bytes.
func TestStepsNameTheirAllocations(t *testing.T) {
	if n := unsafe.Sizeof(Step{}); n != 24 {
		t.Errorf("a Step is %d bytes, want 24", n)
	}
	for _, name := range []string{
		"legacy-1.8.2-race-debug-tm.log", "fixed-1.10.0-refused-duplicate-tm.log", "fixed-1.18.1-dynamic-slots-tm.log",
		"fixed-1.11.3-k8s-restart-tm.log",
	} {
		evs := readLog(t, name)
		r := ReplayTM(evs, Config{FromStart: true})
		named := 0
		for si, st := range r.Steps {
			got := r.AllocOf(st)
			switch st.Op {
			case OpInactive:
				if got.IsSet() {
					t.Errorf("%s: step %d (%s) names %s", name, si, st.Op, got)
				}
			case OpPrior:
				if !got.IsSet() {
					t.Errorf("%s: prior step %d names no AllocationID", name, si)
				}
			default:
				if want := evs[st.Event].Alloc; got != want {
					t.Errorf("%s: step %d (%s) names %s, its event %s", name, si, st.Op, got, want)
				}
				named++
			}
		}
		if named == 0 {
			t.Errorf("%s: no step read from an event", name)
		}
	}
}
