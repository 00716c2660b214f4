package reconstruct_test

import (
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/sim"
)

// TestReplayStreamOnIncidents: the streamed replays of the simulated
// incidents of every version (with faults: overwrites, refusals, lost
// TaskManagers, restarts, mid-story logs) are their batch replays without
// the allocations the streams let go, compacting rarely and at every drop.
func TestReplayStreamOnIncidents(t *testing.T) {
	seeds := uint64(20)
	if testing.Short() {
		seeds = 5
	}
	for _, v := range sim.Versions {
		t.Run(v, func(t *testing.T) {
			dropped, kept := 0, 0
			for seed := uint64(1); seed <= seeds; seed++ {
				cfg := sim.Faulty(v, seed)
				cfg.Debug = seed%2 == 0 // slot reports to compare, now and then
				dir := t.TempDir()
				if _, err := sim.RunInto(cfg, dir); err != nil {
					t.Fatal(err)
				}
				res, err := parser.Read([]string{dir}, parser.Options{})
				if err != nil {
					t.Fatal(err)
				}
				m := reconstruct.Build(res)
				for _, every := range []int{64, 1} {
					d, k := reconstruct.CheckReplayStreams(t, m, every)
					dropped += d
					kept += k
				}
			}
			if dropped == 0 {
				t.Errorf("no allocation dropped in %d incidents", seeds)
			}
			t.Logf("%s: %d dropped, %d kept", v, dropped, kept)
		})
	}
}
