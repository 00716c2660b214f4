package sim

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// TestFoldNarrowsAsTheBatch: whole, or narrowed to an allocation, a job
// or a TaskManager, alone or with a time window, the fold's model — which
// keeps the stories the filter names (Filter.Pins) and carries the time
// bounds of every line — gives the batch's timeline (JSON and table), the
// batch's narrowed audit (JSON) and explanation, and the slot tables at the
// end of each log (JSON and text), byte for byte; or the fold says it cannot
// take the logs yet, never answers otherwise.
func TestFoldNarrowsAsTheBatch(t *testing.T) {
	seeds := seedCount(6, 2)
	total, refused, compared, pinnedDropped, reportsListed := 0, 0, 0, 0, 0
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				cfg := scenarioFor(v, seed)
				dir := t.TempDir()
				if _, err := RunInto(cfg, dir); err != nil {
					t.Fatal(err)
				}
				// all the logs, and the other components' alone (with no
				// TaskManager log, no process's last line is kept: the
				// time bounds must come from every line read)
				var others []string
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if !strings.Contains(e.Name(), "taskmanager") {
						others = append(others, filepath.Join(dir, e.Name()))
					}
				}
				for _, paths := range [][]string{{dir}, others} {
					full, err := parser.Read(paths, parser.Options{})
					if err != nil {
						t.Fatal(err)
					}
					batch := reconstruct.Build(full)
					for _, f := range narrowings(t, batch, seed) {
						total++
						m, err := fold.BuildNarrowed(paths, parser.Options{}, narrowOf(f))
						if errors.Is(err, fold.ErrNotFoldable) {
							refused++
							continue
						}
						if err != nil {
							t.Fatal(err)
						}
						compared++
						pinnedDropped += m.Folded
						if got, want := m.Result.TimeBounds(), full.TimeBounds(); got != want {
							t.Fatalf("seed %d %v: the fold's time bounds %+v, the read's %+v", seed, paths, got, want)
						}
						reported := full.CountOf(flinklog.KindRMSlotReport) > 0
						withReports := m
						if reported {
							// slots lists every report compared: each is
							// written out as it is compared
							n := narrowOf(f)
							n.Reports = true
							withReports, err = fold.BuildNarrowed(paths, parser.Options{}, n)
							if err != nil {
								t.Fatalf("seed %d %v: a fold for every slot report: %v", seed, paths, err)
							}
							if withReports.Compared == nil {
								t.Fatalf("seed %d %v: a fold for every slot report kept none", seed, paths)
							}
							reportsListed++
						}
						for _, out := range outputsOf(f) {
							of := m
							if strings.HasPrefix(out, "slots") {
								of = withReports
							}
							got, want := narrowedText(t, of, f, out), narrowedText(t, batch, f, out)
							if got != want {
								t.Fatalf("seed %d %+v, %v, %s: the fold's %s differs from the batch's:\n%s\nbatch:\n%s", seed, cfg, paths, f, out, got, want)
							}
						}
						if withReports.Compared != nil {
							if err := withReports.Compared.Close(); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
			}
		})
	}
	t.Logf("%d narrowed reads, %d folded (%d stories dropped beside those kept), %d refused; %d folded again listing every slot report", total, compared, pinnedDropped, refused, reportsListed)
	// (every read folds, DEBUG incidents included)
	if refused > 0 || pinnedDropped == 0 || reportsListed == 0 {
		t.Errorf("only %d of %d narrowed reads folded, %d stories dropped, %d listing the slot reports", compared, total, pinnedDropped, reportsListed)
	}
}

// narrowings are the filters a seed's incident is narrowed by: one of its
// allocations, its first allocation's job, a TaskManager that held a slot,
// each alone and with a window (the last ten minutes, or from a time of
// day on), chosen by the seed.
func narrowings(t *testing.T, m *reconstruct.Model, seed uint64) []*report.Filter {
	t.Helper()
	if len(m.Allocations) == 0 {
		return nil
	}
	a := m.Allocations[int(seed*7919)%len(m.Allocations)]
	out := []*report.Filter{{}, {Alloc: a.ID}}
	if a.Job.IsSet() {
		out = append(out, &report.Filter{Job: a.Job})
	}
	for _, b := range m.Allocations {
		if len(b.Held) > 0 {
			out = append(out, &report.Filter{TaskManager: strings.ToUpper(b.Held[0].Resource[:1]) + b.Held[0].Resource[1:]})
			break
		}
	}
	since := "10m"
	if seed%2 == 0 {
		// a time of day: placed on the logs' first day
		if tm := m.Result.Time(a.Events[0]); tm.Kind == flinklog.TimeLocal || tm.Kind == flinklog.TimeUTC {
			since = flinklog.Time{Kind: flinklog.TimeOfDay, N: tm.N % (24 * 3600e9)}.String()
		}
	}
	for _, f := range slices.Clone(out) {
		w := *f
		var err error
		if w.Since, err = report.ParseBound("--since", since); err != nil {
			t.Fatal(err)
		}
		out = append(out, &w)
	}
	return out
}

// narrowOf is what the fold keeps for f, as a timeline asks (the
// command's foldNarrow).
func narrowOf(f *report.Filter) fold.Narrow {
	switch {
	case f.NarrowsAllocations():
		return fold.Narrow{Pin: f.Pins}
	case f.Windowed():
		return fold.Narrow{Outside: f.Outside}
	}
	return fold.Narrow{}
}

// outputsOf are the outputs a fold serves under f: the timeline only
// narrowed to allocations (their stories pinned) or to a time (each story
// kept until it cannot be in the window), the slot tables at the
// end of the logs only where no time is given (slots reads --until as
// --at, a table at a time, which a fold does not give).
func outputsOf(f *report.Filter) []string {
	out := []string{"audit json", "explain"}
	if f.NarrowsAllocations() || f.Windowed() {
		out = append(out, "timeline json", "timeline table")
	}
	if f.Since.Arg == "" && f.Until.Arg == "" {
		out = append(out, "slots json", "slots text")
	}
	return out
}

// narrowedText is what a narrowed command writes of m: the timeline of the
// allocations the filter keeps, or the audit it narrows.
func narrowedText(t *testing.T, m *reconstruct.Model, f *report.Filter, out string) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch out {
	case "timeline json":
		err = report.WriteTimelineJSON(&b, m, f.Allocations(m, m.Allocations))
	case "timeline table":
		err = report.WriteTimelineTable(&b, m, f.Allocations(m, m.Allocations), 120)
	case "slots json", "slots text":
		var tables []report.SlotsTable
		for _, tm := range report.SlotsTaskManagers(m, f) {
			for _, p := range tm.Processes {
				for _, sem := range []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed} {
					tables = append(tables, report.SlotsTable{M: m, TM: tm, P: p, R: p.Replay, Semantics: sem, Reports: true})
				}
			}
		}
		if out == "slots json" {
			err = report.WriteSlotsTablesJSON(&b, tables)
		} else {
			err = report.WriteSlotsTablesText(&b, tables, report.ReportsDiffering, 120)
		}
	case "explain":
		a := &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All, Filter: f}
		err = a.WriteExplain(&b, a.FindingIDs(), 120)
	default:
		a := &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All, Filter: f}
		err = a.WriteJSON(&b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
