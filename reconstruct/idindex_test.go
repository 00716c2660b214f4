package reconstruct

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestIDIndexActsAsAMap: random IDs, and IDs that share their first 8
// bytes (hand-made or hostile), set and looked up in any order, give what
// a map of whole IDs gives.
func TestIDIndexActsAsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 5))
	id := func(lo, hi uint64) flinklog.ID {
		x, ok := flinklog.ParseID(fmt.Sprintf("%016x%016x", lo, hi))
		if !ok {
			t.Fatalf("%016x%016x: not an ID", lo, hi)
		}
		return x
	}
	for n := 0; n < 300; n++ {
		var ids []flinklog.ID
		for k := 0; k < 40; k++ {
			lo := rng.Uint64()
			if k > 0 && rng.IntN(3) == 0 {
				// the first 8 bytes of an earlier one (the hex is written
				// big-end first, the index reads the bytes as they lie)
				b := ids[rng.IntN(len(ids))].Bytes()
				lo = 0
				for _, c := range b[:8] {
					lo = lo<<8 | uint64(c)
				}
			}
			ids = append(ids, id(lo, rng.Uint64()))
		}
		x := newIDIndex[int](rng.IntN(50))
		want := map[flinklog.ID]int{}
		for op := 0; op < 200; op++ {
			k := ids[rng.IntN(len(ids))]
			if rng.IntN(2) == 0 {
				v := rng.IntN(1000)
				x.set(k, v)
				want[k] = v
				continue
			}
			got, ok := x.get(k)
			w, wok := want[k]
			if ok != wok || got != w {
				t.Fatalf("case %d: get(%s) = %d, %v; a map says %d, %v", n, k, got, ok, w, wok)
			}
		}
		if x.len() != len(want) {
			t.Fatalf("case %d: %d IDs, a map holds %d", n, x.len(), len(want))
		}
		for k, w := range want {
			if got, ok := x.get(k); !ok || got != w {
				t.Fatalf("case %d: get(%s) = %d, %v at the end, want %d", n, k, got, ok, w)
			}
		}
		// the allocations' index: each ID added once, found by it
		ax := newAllocIndex(rng.IntN(50))
		allocs := map[flinklog.ID]*Allocation{}
		for _, k := range ids {
			if allocs[k] == nil && rng.IntN(4) > 0 {
				allocs[k] = &Allocation{ID: k}
				ax.add(allocs[k])
			}
		}
		for _, k := range ids {
			if got := ax.get(k); got != allocs[k] {
				t.Fatalf("case %d: allocation of %s is %p, want %p", n, k, got, allocs[k])
			}
		}
		var zero idIndex[int]
		if _, ok := zero.get(ids[0]); ok {
			t.Fatal("an empty index holds an ID")
		}
	}
}
