package fold_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

const logs = "../testdata/logs"

// plan reads paths and returns the model, the findings and the plan.
func plan(t *testing.T, paths ...string) (*reconstruct.Model, []rules.Finding, []fold.Story, fold.Summary) {
	t.Helper()
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	stories, sum := fold.Plan(m)
	return m, rules.Run(m, rules.All), stories, sum
}

// TestVerdicts: what the plan makes of the stories of known incidents.
func TestVerdicts(t *testing.T) {
	race := func(name string) []string {
		return []string{filepath.Join(logs, name+"-jm.log"), filepath.Join(logs, name+"-tm.log")}
	}
	tests := []struct {
		name  string
		paths []string
		want  map[string]fold.Verdict // AllocationID → verdict
		why   map[string]string       // AllocationID → what kept it
	}{
		{
			// FLINK-14589 on 1.8.2: the overwritten allocation is kept (its
			// RM request failed and was retried), the allocations around it
			// close healthy, one is held at the end
			name:  "legacy 1.8.2 race",
			paths: race("legacy-1.8.2-race-debug"),
			want: map[string]fold.Verdict{
				"c81f4e2a9b3d5f7061e2d4c6b8a09f13": fold.Kept,
				"e6a0c2b4d8f1379520c4e6a8b1d3f5a7": fold.Healthy,
				"a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4": fold.Healthy,
				"3b9d7f1e5c2a4086d9e1f3a5c7b90e24": fold.Open,
			},
			why: map[string]string{"c81f4e2a9b3d5f7061e2d4c6b8a09f13": "the ResourceManager's allocation failed"},
		},
		{
			// the same race on 1.10.3, where the fixed table refuses the
			// second slot: the allocation held at the end in 1.8.2 is
			// freed, and closes healthy
			name:  "fixed 1.10.3 race refused",
			paths: race("fixed-1.10.3-race-refused"),
			want: map[string]fold.Verdict{
				"c81f4e2a9b3d5f7061e2d4c6b8a09f13": fold.Kept,
				"f6e8d0c2b4a6f8e0d2c4b6a8f0e2d4c6": fold.Healthy,
			},
		},
		{
			// a real TaskManager log of one allocation's whole lifecycle,
			// without the JobManager's: the TaskManager's free closes it
			name:  "real 1.14 lifecycle",
			paths: []string{filepath.Join(logs, "real-1.14-standalone-lifecycle-tm.log")},
			want:  map[string]fold.Verdict{"8b8c764d1c0acb3dea13519a60a077bb": fold.Healthy},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, stories, sum := plan(t, tt.paths...)
			got := map[string]fold.Story{}
			for _, s := range stories {
				got[s.Alloc.ID.String()] = s
			}
			for id, want := range tt.want {
				s, ok := got[id]
				if !ok {
					t.Fatalf("no story of %s", id)
				}
				if s.Verdict != want {
					t.Errorf("%s: %s (%s), want %s", id, s.Verdict, s.Why, want)
				}
				if (s.Close >= 0) != (want != fold.Open) {
					t.Errorf("%s: close %d for a %s story", id, s.Close, want)
				}
			}
			for id, why := range tt.why {
				if got[id].Why != why {
					t.Errorf("%s kept because %q, want %q", id, got[id].Why, why)
				}
			}
			if n := sum.Healthy + sum.Kept + sum.Open; n != sum.Allocations || sum.Allocations != len(stories) {
				t.Errorf("summary %+v does not add up to %d stories", sum, len(stories))
			}
			if sum.Peak < 1 || sum.Peak > sum.Allocations {
				t.Errorf("peak %d of %d allocations", sum.Peak, sum.Allocations)
			}
		})
	}
}

// TestNothingHealthyIsTakenUp: over every bundled log, alone and as a
// directory, no finding names a story the plan drops at its close, or cites
// one of its lines.
func TestNothingHealthyIsTakenUp(t *testing.T) {
	entries, err := os.ReadDir(logs)
	if err != nil {
		t.Fatal(err)
	}
	cases := [][]string{}
	for _, e := range entries {
		cases = append(cases, []string{filepath.Join(logs, e.Name())})
	}
	healthy := 0
	for _, paths := range cases {
		t.Run(filepath.Base(paths[0]), func(t *testing.T) {
			m, findings, stories, _ := plan(t, paths...)
			for _, s := range stories {
				if s.Verdict == fold.Healthy && !s.Reopened {
					healthy++
				}
			}
			for _, c := range fold.Contradictions(m, stories, findings) {
				t.Errorf("finding %s takes up %s (cites %s), which closed healthy", c.Finding, c.Story.Alloc.ID, m.Result.Files.Position(c.Cites))
			}
			// nor does any other finding need them
			reduced, _ := fold.Lean(m, stories)
			lean := rules.Run(reduced, rules.All)
			got, _ := json.Marshal(lean)
			want, _ := json.Marshal(findings)
			if string(got) != string(want) {
				t.Errorf("without the stories the plan drops, the rules find\n%s\nwith them\n%s", got, want)
			}
		})
	}
	if healthy == 0 {
		t.Error("no story of the bundled logs closed healthy")
	}
}
