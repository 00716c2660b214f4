package fold_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/sim"
)

// TestTimelineOfTheLastMinutes: a session cluster's hour, its timeline
// narrowed to a time (the last minutes, from a time of day on, up to a
// time) on the fold's model is the batch's, byte for byte; and a story
// kept only because it might fall in the window counted back from the
// logs' end is let go once the stream has gone past it (Filter.Outside,
// asked again as the stream goes on): with the last ten minutes of sixty
// asked for, most stories are dropped, not kept to the end.
func TestTimelineOfTheLastMinutes(t *testing.T) {
	for _, v := range []string{"1.12.7", "1.18.1"} {
		t.Run(v, func(t *testing.T) {
			dir := t.TempDir()
			cfg := sim.Config{Flink: v, TaskManagers: 4, Slots: 4, Jobs: 4, JobSeconds: 10, Minutes: 60, Seed: 5}
			if _, err := sim.RunInto(cfg, dir); err != nil {
				t.Fatal(err)
			}
			full, err := parser.Read([]string{dir}, parser.Options{})
			if err != nil {
				t.Fatal(err)
			}
			batch := reconstruct.Build(full)
			first := full.Time(batch.Allocations[0].Events[0])
			if first.Kind != flinklog.TimeLocal && first.Kind != flinklog.TimeUTC {
				t.Fatalf("a dated log was expected, got %v", first)
			}
			halfway := flinklog.Time{Kind: flinklog.TimeOfDay, N: first.N%(24*3600e9) + 30*60e9}.String()
			for _, w := range []struct {
				since, until string
				mostDropped  bool
			}{
				{"10m", "", true},
				{halfway, "", false},
				{"", "50m", false},
				// (the stories after an --until counted back from the end
				// may yet fall in it: kept to the end)
				{"20m", "10m", false},
			} {
				t.Run(fmt.Sprintf("since %q until %q", w.since, w.until), func(t *testing.T) {
					f := &report.Filter{}
					var err error
					if f.Since, err = report.ParseBound("--since", w.since); err != nil {
						t.Fatal(err)
					}
					if f.Until, err = report.ParseBound("--until", w.until); err != nil {
						t.Fatal(err)
					}
					held := 0
					defer fold.WatchDeferred(func(n int) { held = n })()
					m, err := fold.BuildNarrowed([]string{dir}, parser.Options{}, fold.Narrow{Outside: f.Outside})
					if errors.Is(err, fold.ErrNotFoldable) {
						t.Fatal(err)
					}
					if err != nil {
						t.Fatal(err)
					}
					shown := f.Allocations(batch, batch.Allocations)
					if len(shown) == 0 || len(shown) == len(batch.Allocations) {
						t.Fatalf("the window shows %d of %d allocations: it does not narrow", len(shown), len(batch.Allocations))
					}
					for _, table := range []bool{false, true} {
						var got, want bytes.Buffer
						write := func(b *bytes.Buffer, m *reconstruct.Model) {
							only := f.Allocations(m, m.Allocations)
							if table {
								err = report.WriteTimelineTable(b, m, only, 120)
							} else {
								err = report.WriteTimelineJSON(b, m, only)
							}
							if err != nil {
								t.Fatal(err)
							}
						}
						write(&got, m)
						write(&want, batch)
						if got.String() != want.String() {
							t.Fatalf("the fold's timeline (table %v) differs from the batch's:\n%s\nbatch:\n%s", table, got.String(), want.String())
						}
					}
					t.Logf("%d allocations, %d shown, %d kept, at most %d kept for now", len(batch.Allocations), len(shown), len(m.Allocations), held)
					if len(m.Allocations) > len(shown)+len(shown)/4 {
						t.Errorf("%d allocations kept for a window of %d", len(m.Allocations), len(shown))
					}
					// (a story is asked again every few thousand lines)
					if w.mostDropped && held > len(shown)+400 {
						t.Errorf("%d stories kept for now at once, for a window of %d: the stories that left the window were not let go as the stream went on", held, len(shown))
					}
				})
			}
		})
	}
}
