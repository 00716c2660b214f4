package sim

import (
	"bytes"
	"errors"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
)

// TestFoldTablesAtATime: `slots --at T` on a fold's model — which replays
// each process up to its first line later than T as the lines come, and
// keeps the stories open there — gives the batch's tables (JSON and text)
// byte for byte, at times inside a slot's life, on a line's own time, a
// millisecond after it, before the logs and after them, and as a time of
// day — DEBUG logs too (the tables at a time compare no slot report; the
// reports are compared as the fold goes).
func TestFoldTablesAtATime(t *testing.T) {
	seeds := seedCount(6, 2)
	total, compared, dropped := 0, 0, 0
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				dir := t.TempDir()
				if _, err := RunInto(scenarioFor(v, seed), dir); err != nil {
					t.Fatal(err)
				}
				full, err := parser.Read([]string{dir}, parser.Options{})
				if err != nil {
					t.Fatal(err)
				}
				batch := reconstruct.Build(full)
				for _, given := range tableTimes(batch, seed) {
					total++
					at := func(b *parser.TimeBounds) flinklog.Time {
						t, _ := report.OnFirstDayIn(b, given)
						return t
					}
					m, err := fold.BuildNarrowed([]string{dir}, parser.Options{}, fold.Narrow{At: at})
					if errors.Is(err, fold.ErrNotFoldable) {
						// (DEBUG slot reports fold too: a refusal is a story
						// the table at T names that the fold let go)
						t.Fatalf("seed %d, at %s: %v", seed, given, err)
					}
					if err != nil {
						t.Fatal(err)
					}
					compared++
					dropped += m.Folded
					for _, text := range []bool{false, true} {
						got, want := tablesAt(t, m, given, text), tablesAt(t, batch, given, text)
						if got != want {
							t.Fatalf("seed %d, at %s (text %v): the fold's tables differ from the batch's:\n%s\nbatch:\n%s", seed, given, text, got, want)
						}
					}
				}
			}
		})
	}
	t.Logf("%d tables at a time, %d folded (%d stories dropped beside those kept)", total, compared, dropped)
	if compared < len(Versions) || dropped == 0 {
		t.Errorf("only %d of %d folded, %d stories dropped", compared, total, dropped)
	}
}

// tableTimes are the times a seed's tables are asked for: around the life
// of one allocation that held a slot (its allocation line's own time, a
// millisecond after, half-way to its free), before the first line and
// after the last, and that line's time as a time of day.
func tableTimes(m *reconstruct.Model, seed uint64) []flinklog.Time {
	var held []*reconstruct.Allocation
	for _, a := range m.Allocations {
		if len(a.Held) > 0 {
			held = append(held, a)
		}
	}
	if len(held) == 0 {
		return nil
	}
	h := held[int(seed*7919)%len(held)].Held[0]
	from := m.Result.Time(h.Allocated)
	if from.Kind == flinklog.TimeNone {
		return nil
	}
	out := []flinklog.Time{from, {Kind: from.Kind, N: from.N + 1e6}}
	if h.Freed >= 0 {
		if to := m.Result.Time(h.Freed); to.Kind == from.Kind {
			out = append(out, flinklog.Time{Kind: from.Kind, N: (from.N + to.N) / 2})
		}
	}
	bounds := m.Result.TimeBounds()
	if last, ok := bounds.Latest(from.Kind); ok {
		out = append(out, flinklog.Time{Kind: from.Kind, N: last + 3600e9})
	}
	if first, ok := bounds.FirstDated(); ok && first.Kind == from.Kind {
		out = append(out, flinklog.Time{Kind: from.Kind, N: first.N - 1e9})
	}
	if from.Kind == flinklog.TimeLocal || from.Kind == flinklog.TimeUTC {
		out = append(out, flinklog.Time{Kind: flinklog.TimeOfDay, N: from.N % (24 * 3600e9)})
	}
	return out
}

// tablesAt is what `slots --at given` writes of m (JSON, or text), or the
// TaskManager it cannot place the time in.
func tablesAt(t *testing.T, m *reconstruct.Model, given flinklog.Time, text bool) string {
	t.Helper()
	at := given
	if placed, ok := report.OnFirstDay(m.Result, given); ok {
		at = placed
	}
	tables, unplaced := report.SlotsTables(m, &report.Filter{}, []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed}, &at, true)
	if unplaced != nil {
		return "cannot place the time in " + unplaced.Resource
	}
	var b bytes.Buffer
	var err error
	if text {
		err = report.WriteSlotsTablesText(&b, tables, report.ReportsDiffering, 120)
	} else {
		err = report.WriteSlotsTablesJSON(&b, tables)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
