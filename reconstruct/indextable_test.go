package reconstruct

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIndexTableActsAsAMap: any sequence of sets and gets — placeholders
// in order, out of order, far below the others (which the map takes and
// keeps when the slice grows past them), printed indexes — gives what a
// map gives, and Keys lists the keys in descending order.
func TestIndexTableActsAsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 26))
	for n := 0; n < 2000; n++ {
		var tab IndexTable
		model := map[int]IndexInfo{}
		next := -1
		for range rng.IntN(300) {
			var key int
			switch rng.IntN(6) {
			case 0, 1: // the next placeholder, as newKey makes it
				key = next
				next--
			case 2: // one made already
				key = -1 - rng.IntN(-next)
			case 3: // far below the others
				key = next - 1 - rng.IntN(5000)
			case 4: // a printed index
				key = rng.IntN(8)
			default: // a lookup only
				key = -1 - rng.IntN(2*(-next)+3)
				got, ok := tab.Get(key)
				want, wok := model[key]
				if ok != wok || got != want {
					t.Fatalf("case %d: Get(%d) = %+v, %v; a map says %+v, %v", n, key, got, ok, want, wok)
				}
				continue
			}
			info := IndexInfo{Index: rng.IntN(8) - 1, Source: IndexSource(rng.IntN(3)), How: "free"}
			tab.Set(key, info)
			model[key] = info
		}
		if tab.Len() != len(model) {
			t.Fatalf("case %d: Len %d, a map holds %d", n, tab.Len(), len(model))
		}
		want := slices.SortedFunc(maps.Keys(model), func(a, b int) int { return cmp.Compare(b, a) })
		if got := tab.Keys(); !slices.Equal(got, want) {
			t.Fatalf("case %d: Keys %v, want %v", n, got, want)
		}
		if got := maps.Collect(tab.All()); !maps.Equal(got, model) {
			t.Fatalf("case %d: All gives %v, a map holds %v", n, got, model)
		}
		tab.fit()
		for key, info := range model {
			if got := tab.At(key); got != info {
				t.Fatalf("case %d: after fit, At(%d) = %+v, want %+v", n, key, got, info)
			}
		}
	}
}
