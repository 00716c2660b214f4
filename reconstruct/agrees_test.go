package reconstruct

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestAgreesEqualsCompare: agrees gives compare's verdict on random
// reports and table states built to collide — few AllocationIDs, indexes
// known and unknown, placeholders that share an index, reported indexes
// twice, dynamic entries, free slots — and on tables too large for its
// stack arrays.
func TestAgreesEqualsCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]flinklog.ID, 4)
	for i := range ids {
		ids[i], _ = flinklog.ParseID(fmt.Sprintf("%032x", i+1))
	}
	anID := func() flinklog.ID {
		if rng.IntN(4) == 0 {
			return flinklog.ID{} // free
		}
		return ids[rng.IntN(len(ids))]
	}
	agreeing := 0
	for n := 0; n < 200000; n++ {
		r := &Replay{}
		size := rng.IntN(5)
		if n%1000 == 0 {
			size = 70 // past agrees' stack arrays
		}
		var slots []Slot
		for k := 0; k < size; k++ {
			key := rng.IntN(4) // a known index
			if rng.IntN(2) == 0 {
				key = -1 - k // a placeholder, its index known or not
				if rng.IntN(2) == 0 {
					r.Indexes.Set(key, IndexInfo{Index: rng.IntN(4)})
				}
			}
			slots = append(slots, Slot{Index: key, State: Allocated, Alloc: ids[rng.IntN(len(ids))]})
		}
		var reported []flinklog.SlotStatus
		for k := rng.IntN(5); k > 0; k-- {
			idx := rng.IntN(4)
			if rng.IntN(5) == 0 {
				idx = -1 // dynamic
			}
			reported = append(reported, flinklog.SlotStatus{Index: idx, Alloc: anID()})
		}
		if n%3 == 0 {
			// the usual case: the report shows the table as it is
			reported = reported[:0]
			for _, s := range slots {
				reported = append(reported, flinklog.SlotStatus{Index: r.IndexOf(s.Index), Alloc: s.Alloc})
			}
		}
		_, want := r.compare(reported, slots)
		if got := r.agrees(reported, slots); got != want {
			t.Fatalf("case %d: agrees = %v, compare says %v\n report %+v\n table  %+v\n indexes %+v", n, got, want, reported, slots, maps.Collect(r.Indexes.All()))
		}
		if want {
			agreeing++
		}
	}
	if agreeing < 1000 {
		t.Fatalf("only %d agreeing cases: the generator does not reach agreement", agreeing)
	}
}
