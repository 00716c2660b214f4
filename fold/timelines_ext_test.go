package fold_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
	"github.com/slotaudit/slotaudit/sim"
)

// TestTimelinesAsTheBatch: every bundled log, alone and as the bundled
// directories, and a session cluster of each protocol, folded with the
// timeline of every story it lets go kept (Narrow.Timelines) — in memory,
// and in a file from the first — give the batch's timeline of every
// allocation, JSON and table, byte for byte; or the fold says it cannot
// take the logs yet.
func TestTimelinesAsTheBatch(t *testing.T) {
	inputs := bundledAnd(t,
		sim.Config{Flink: "1.12.7", TaskManagers: 3, Slots: 4, Jobs: 5, JobSeconds: 5, StreamingJobs: 1, Minutes: 40, Seed: 9},
		sim.Config{Flink: "1.19.1", TaskManagers: 3, Slots: 4, Jobs: 5, JobSeconds: 5, StreamingJobs: 1, Minutes: 40, Seed: 9})
	for _, file := range []bool{false, true} {
		restore := func() {}
		if file {
			restore = fold.SpillToFile()
		}
		folded, letGo := 0, 0
		for _, in := range inputs {
			m, batch := foldAndBatch(t, in, fold.Narrow{Timelines: true})
			if m == nil {
				continue
			}
			for _, format := range []string{"json", "table"} {
				if got, want := timelines(t, m, format), timelines(t, batch, format); got != want {
					t.Fatalf("%v (in a file: %v): the fold's %s timeline differs from the batch's:\n%s\nbatch:\n%s", in, file, format, got, want)
				}
			}
			folded++
			letGo += m.FoldedTimelines.Len()
			if err := m.FoldedTimelines.Close(); err != nil {
				t.Fatal(err)
			}
		}
		restore()
		t.Logf("in a file: %v: %d inputs folded, %d timelines let go", file, folded, letGo)
		if folded < 10 || letGo < 500 {
			t.Errorf("in a file: %v: only %d inputs folded, %d timelines let go", file, folded, letGo)
		}
	}
}

func timelines(t *testing.T, m *reconstruct.Model, format string) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	if format == "json" {
		err = report.WriteTimelineJSON(&b, m, m.Allocations)
	} else {
		err = report.WriteTimelineTable(&b, m, m.Allocations, 100)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestChartsAsTheBatch: every bundled log, alone and as the bundled
// directories, and session clusters of each kind of table, folded with
// each TaskManager's periods walked as it replays (Narrow.Charts), give
// the batch's HTML report byte for byte — also when the lines of stories
// let go that an index rests on are pruned at every story (an index that
// comes to rest on a pruned line again makes the fold refuse, never
// answer otherwise); or the fold says it cannot take the logs yet.
func TestChartsAsTheBatch(t *testing.T) {
	// DEBUG logs fold with their charts: a bar whose index a slot report
	// settled shows the report's line (the 1.9.3 incident's slot index 2
	// is "observed from the slot report")
	for _, dir := range []string{"../testdata/logs/sim-1.9.3-overwrite-debug", "../testdata/logs/sim-1.14.6-slot-timeout-debug"} {
		if m, _ := foldAndBatch(t, []string{dir}, fold.Narrow{Charts: true}); m == nil {
			t.Errorf("%s: not folded with its charts", dir)
		}
	}
	session := func(v string) sim.Config {
		return sim.Config{Flink: v, TaskManagers: 2, Slots: 3, Jobs: 5, JobSeconds: 5, StreamingJobs: 1, Minutes: 120, Seed: 4}
	}
	legacy := session("1.8.2")
	legacy.Inject = []string{"overwrite"} // a free the overwritten map leads to another slot
	// DEBUG: slot reports settle indexes, and a bar shows the report its
	// index rests on
	debug := session("1.9.3")
	debug.Debug = true
	inputs := bundledAnd(t, legacy, session("1.12.7"), session("1.19.1"), debug)
	for _, prune := range []bool{false, true} {
		restore := func() {}
		if prune {
			restore = fold.PruneEarly()
		}
		folded, aggregated := 0, 0
		for _, in := range inputs {
			m, batch := foldAndBatch(t, in, fold.Narrow{Charts: true})
			if m == nil {
				continue
			}
			got, want := page(t, m), page(t, batch)
			if got != want {
				t.Fatalf("%v (pruned early: %v): the fold's HTML report differs from the batch's", in, prune)
			}
			folded++
			if bytes.Contains([]byte(got), []byte("drawn in aggregate")) {
				aggregated++
			}
		}
		restore()
		t.Logf("pruned early: %v: %d inputs folded, %d with charts in aggregate", prune, folded, aggregated)
		if folded < 10 || aggregated < 2 {
			t.Errorf("pruned early: %v: only %d inputs folded, %d with charts in aggregate", prune, folded, aggregated)
		}
	}
}

func page(t *testing.T, m *reconstruct.Model) string {
	t.Helper()
	var b bytes.Buffer
	a := &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}
	if err := a.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// bundledAnd is every bundled log alone, and the logs of each simulated
// run as a directory.
func bundledAnd(t *testing.T, runs ...sim.Config) [][]string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(logs, "*"))
	var inputs [][]string
	for _, p := range paths {
		inputs = append(inputs, []string{p})
	}
	for _, cfg := range runs {
		r, err := sim.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := r.WriteLogs(dir); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, []string{dir})
	}
	return inputs
}

// foldAndBatch is the fold's model of paths, keeping what n asks for, and
// the batch model of them; nil, nil where the fold says it cannot take
// them yet.
func foldAndBatch(t *testing.T, paths []string, n fold.Narrow) (m, batch *reconstruct.Model) {
	t.Helper()
	m, err := fold.BuildNarrowed(paths, parser.Options{}, n)
	if errors.Is(err, fold.ErrNotFoldable) {
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	full, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m, reconstruct.Build(full)
}

// TestTimelinesWithNoRoomForTheSpill: where the spill cannot go to a file
// (no temporary directory), the fold says it cannot take the logs and the
// caller builds the batch model — never an output with timelines missing.
func TestTimelinesWithNoRoomForTheSpill(t *testing.T) {
	defer fold.SpillToFile()()
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "gone"))
	in := bundledAnd(t, sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 4, Jobs: 4, JobSeconds: 5, Minutes: 20, Seed: 3})
	dir := in[len(in)-1]
	_, err := fold.BuildNarrowed(dir, parser.Options{}, fold.Narrow{Timelines: true})
	if !errors.Is(err, fold.ErrNotFoldable) || !strings.Contains(err.Error(), "timelines of the stories let go could not be kept") {
		t.Fatalf("with no temporary directory: %v", err)
	}
	// and with one, the same logs fold
	t.Setenv("TMPDIR", t.TempDir())
	m, err := fold.BuildNarrowed(dir, parser.Options{}, fold.Narrow{Timelines: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.FoldedTimelines.Len() == 0 {
		t.Fatal("no story let go")
	}
	if err := m.FoldedTimelines.Close(); err != nil {
		t.Fatal(err)
	}
}
