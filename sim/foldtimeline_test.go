package sim

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// TestFoldTimelinesAsTheBatch: the timeline of every allocation, made on
// a fold's model that wrote out each story as it let it go
// (Narrow.Timelines), is the batch's timeline, JSON and table, byte for
// byte: the simulated incidents of every version, with faults, as plain
// files and as collected logs arrive (rotated, gzipped), and a user's
// part of them — or the fold says it cannot take them yet, never answers
// otherwise. (A slot let go with its index unknown, which the dynamic
// counter would give one when its process ends, is counted: the simulated
// logs have none — a free prints the index — and fold's
// TestSpillGivesTheCounter's index holds that path.)
func TestFoldTimelinesAsTheBatch(t *testing.T) {
	seeds := seedCount(8, 3)
	total, refused, letGo, counted := 0, 0, 0, 0
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				cfg := scenarioFor(v, seed)
				r, err := Run(cfg)
				if err != nil {
					t.Fatal(err)
				}
				plain, tms, others := userParts(t, r)
				for _, paths := range [][]string{{plain}, writeRun(t, r), tms, others} {
					total++
					m, batch := foldAndBatch(t, paths, fold.Narrow{Timelines: true})
					if m == nil {
						refused++
						continue
					}
					if m.FoldedTimelines == nil || m.FoldedTimelines.Len() != m.Folded {
						t.Fatalf("seed %d %v: %d stories let go, the timelines of %v kept", seed, paths, m.Folded, m.FoldedTimelines)
					}
					letGo += m.Folded
					err := m.FoldedTimelines.Each(func(fa *reconstruct.FoldedAllocation) error {
						for _, h := range fa.Held {
							if h.Index.How == "dynamic index counter" {
								counted++
							}
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					for _, format := range []string{"json", "table"} {
						got, want := timelineText(t, m, format), timelineText(t, batch, format)
						if got != want {
							t.Fatalf("seed %d %+v %v: the fold's %s timeline differs from the batch's:\n%s\nbatch:\n%s", seed, cfg, paths, format, got, want)
						}
					}
					if err := m.FoldedTimelines.Close(); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
	t.Logf("%d reads, %d folded (%d timelines let go, %d slots given their index by the dynamic counter at the end), %d refused",
		total, total-refused, letGo, counted, refused)
	// (DEBUG incidents fold too: every read)
	if refused > 0 || letGo < 1000 {
		t.Errorf("only %d of %d reads folded, %d timelines let go", total-refused, total, letGo)
	}
}

// timelineText is the timeline of every allocation of m.
func timelineText(t *testing.T, m *reconstruct.Model, format string) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	if format == "json" {
		err = report.WriteTimelineJSON(&b, m, m.Allocations)
	} else {
		err = report.WriteTimelineTable(&b, m, m.Allocations, 120)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestFoldChartsAsTheBatch: the HTML report made on a fold's model that
// walked each TaskManager's periods of occupancy as it replayed
// (Narrow.Charts) is the batch's page, byte for byte: the simulated
// incidents of every version as in TestFoldTimelinesAsTheBatch, whose
// charts draw every period one by one, and session clusters of each kind
// of table (legacy, drawn twice; fixed; dynamic slots packed into lanes)
// whose charts draw most in aggregate, the fold keeping of each period
// it let go only where it lies.
func TestFoldChartsAsTheBatch(t *testing.T) {
	seeds := seedCount(6, 2)
	var runs []Config
	for _, v := range Versions {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			runs = append(runs, scenarioFor(v, seed))
		}
	}
	for _, v := range []string{"1.9.3", "1.12.7", "1.19.1"} {
		runs = append(runs, Config{Flink: v, TaskManagers: 3, Slots: 4, Jobs: 6, JobSeconds: 5, StreamingJobs: 1, Minutes: 90, Seed: 21})
	}
	total, refused, aggregated, light := 0, 0, 0, 0
	for _, cfg := range runs {
		r, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, paths := range [][]string{writeRun(t, r)} {
			total++
			m, batch := foldAndBatch(t, paths, fold.Narrow{Charts: true})
			if m == nil {
				refused++
				continue
			}
			for _, charts := range m.Charts {
				for _, c := range charts {
					for _, cp := range c.Processes {
						for _, b := range cp.Bars {
							if b.Period == nil {
								light++
							}
						}
					}
				}
			}
			got, want := htmlText(t, m), htmlText(t, batch)
			if got != want {
				t.Fatalf("%+v: the fold's HTML report differs from the batch's (%s)", cfg, firstDiff(got, want))
			}
			if strings.Contains(got, "drawn in aggregate") {
				aggregated++
			}
		}
	}
	t.Logf("%d reads, %d folded (%d with charts in aggregate, %d periods kept as where they lie), %d refused", total, total-refused, aggregated, light, refused)
	// (DEBUG incidents fold too: every read, slot reports on the charts)
	if refused > 0 || aggregated < 3 || light < 1000 {
		t.Errorf("only %d of %d reads folded, %d with charts in aggregate, %d light periods", total-refused, total, aggregated, light)
	}
}

// htmlText is the HTML report of m's audit.
func htmlText(t *testing.T, m *reconstruct.Model) string {
	t.Helper()
	var b bytes.Buffer
	a := &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}
	if err := a.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// firstDiff shows where two long texts part.
func firstDiff(got, want string) string {
	n := 0
	for n < len(got) && n < len(want) && got[n] == want[n] {
		n++
	}
	from := max(0, n-300)
	return "at byte " + strconv.Itoa(n) + ":\nfold:  " + got[from:min(len(got), n+300)] + "\nbatch: " + want[from:min(len(want), n+300)]
}

// foldAndBatch is the fold's model of paths, keeping what n asks for, and
// the batch model of them; nil, nil where the fold says it cannot take
// them yet.
func foldAndBatch(t *testing.T, paths []string, n fold.Narrow) (m, batch *reconstruct.Model) {
	t.Helper()
	m, err := fold.BuildNarrowed(paths, parser.Options{ChunkSize: *chunk}, n)
	if errors.Is(err, fold.ErrNotFoldable) {
		if testing.Verbose() {
			t.Logf("refused: %v", err)
		}
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	full, err := parser.Read(paths, parser.Options{ChunkSize: *chunk})
	if err != nil {
		t.Fatal(err)
	}
	return m, reconstruct.Build(full)
}
