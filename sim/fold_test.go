package sim

import (
	"encoding/json"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// TestFoldDropsNothingARuleTakesUp: over simulated incidents of every
// version, with faults, no finding names an allocation the fold plan calls
// healthy (and does not see named again after its close), or cites a line of
// its story. That is what makes dropping such a story at its close exact.
func TestFoldDropsNothingARuleTakesUp(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 8
	}
	if *soak > 0 {
		seeds = *soak
	}
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			var total fold.Summary
			taken := 0 // allocations some finding named or cited
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				cfg := scenarioFor(v, seed)
				r, err := Run(cfg)
				if err != nil {
					t.Fatal(err)
				}
				// as collected logs arrive: rotated, gzipped, in any order
				res, err := parser.Read(writeRun(t, r), parser.Options{ChunkSize: *chunk})
				if err != nil {
					t.Fatal(err)
				}
				m := reconstruct.Build(res)
				findings := rules.Run(m, rules.All)
				stories, sum := fold.Plan(m)
				total.Allocations += sum.Allocations
				total.Healthy += sum.Healthy
				total.Kept += sum.Kept
				total.Open += sum.Open
				total.Reopened += sum.Reopened
				total.Peak = max(total.Peak, sum.Peak)
				for _, s := range stories {
					if _, ok := named(findings, s.Alloc.ID); ok {
						taken++
					}
				}
				for _, c := range fold.Contradictions(m, stories, findings) {
					t.Errorf("seed %d %+v: finding %s takes up %s (cites %s), which the fold plan calls healthy at %s",
						seed, cfg, c.Finding, c.Story.Alloc.ID, res.Files.Position(c.Cites), res.Files.Position(res.Pos(c.Story.Close)))
				}
				// and the rules find the same without those stories: a
				// fold need not keep them for any other finding either
				reduced, _ := fold.Lean(m, stories)
				lean := rules.Run(reduced, rules.All)
				if got, want := findingsJSON(t, lean), findingsJSON(t, findings); got != want {
					t.Errorf("seed %d %+v: without the stories the fold drops, the rules find\n%s\nwith them\n%s", seed, cfg, got, want)
				}
			}
			if total.Healthy == 0 {
				t.Errorf("no story closed healthy in %d seeds: the plan folds nothing", seeds)
			}
			t.Logf("%s: %d seeds, %d allocations: %d healthy (%d of them named again after their close), %d kept, %d open at the end; %d named by findings; at most %d stories held at once",
				v, seeds, total.Allocations, total.Healthy, total.Reopened, total.Kept, total.Open, taken, total.Peak)
		})
	}
}

// named returns the first finding that names alloc.
func named(findings []rules.Finding, alloc flinklog.ID) (string, bool) {
	for _, f := range findings {
		if f.Alloc == alloc {
			return f.ID, true
		}
	}
	return "", false
}

// findingsJSON is findings as one JSON text, to compare whole.
func findingsJSON(t *testing.T, findings []rules.Finding) string {
	t.Helper()
	b, err := json.Marshal(findings)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
