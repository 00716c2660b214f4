package reconstruct

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// TestOrderByTimeEqualsScan: the heap merge gives exactly the scan's order
// (the definition) on inputs built to hit its corner: many inputs, times
// tied across inputs, protocol-ranked and unranked kinds mixed (before is
// not transitive among ties), skews that create and break ties, inputs of
// one event. Mutation check: breaking heap ties by time alone, or taking the
// first tied head without the scan, fails this test.
func TestOrderByTimeEqualsScan(t *testing.T) {
	kinds := []flinklog.Kind{flinklog.KindJMSlotRequest, flinklog.KindRMSlotRequest, flinklog.KindTMSlotRequest,
		flinklog.KindTMAllocated, flinklog.KindTMFree, flinklog.KindRMFree, flinklog.KindMetaSlots, flinklog.KindMetaTMID}
	cases := []struct {
		inputs, events, times int
		skew                  bool
	}{
		{1, 50, 5, false},
		{3, 200, 3, false},
		{8, 500, 4, true},
		{40, 2000, 20, true},
		{200, 3000, 50, true},
		{5, 300, 1000, false},
	}
	for ci, c := range cases {
		for seed := uint64(0); seed < 30; seed++ {
			t.Run(fmt.Sprintf("case%d/seed%d", ci, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(ci)))
				var evs []flinklog.Event
				lines := map[int32]int64{}
				for i := 0; i < c.events; i++ {
					f := int32(rng.IntN(c.inputs))
					lines[f] += 1 + int64(rng.IntN(3))
					evs = append(evs, flinklog.Event{
						Pos:  flinklog.Pos{File: f, Line: lines[f]},
						Time: flinklog.Time{Kind: flinklog.TimeUTC, N: int64(rng.IntN(c.times))},
						Kind: kinds[rng.IntN(len(kinds))],
					})
				}
				res := parser.NewResult(nil, evs)
				m := &Model{Result: res, Skew: map[int32]Skew{}}
				if c.skew {
					for f := int32(0); f < int32(c.inputs); f++ {
						m.Skew[f] = Skew{Offset: int64(rng.IntN(3) - 1)}
					}
				}
				if !sameTimeKind(res) {
					t.Fatal("the fast path would not be taken")
				}
				m.order()
				fast := m.Rank
				m.Rank = make([]int32, res.Len())
				m.orderByScan(headsOf(res))
				if !slices.Equal(fast, m.Rank) {
					t.Fatalf("heap merge differs from the scan:\n heap %v\n scan %v", fast[:min(40, len(fast))], m.Rank[:min(40, len(fast))])
				}
			})
		}
	}
}

func headsOf(res *parser.Result) [][]parser.EventRef {
	var heads [][]parser.EventRef
	where := map[int32]int{}
	for i := range res.All() {
		h, ok := where[res.Pos(i).File]
		if !ok {
			h = len(heads)
			where[res.Pos(i).File] = h
			heads = append(heads, nil)
		}
		heads[h] = append(heads[h], i)
	}
	return heads
}
