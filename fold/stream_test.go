package fold_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
	"github.com/slotaudit/slotaudit/sim"
)

// TestBuildAuditsAsTheBatch: every bundled log, alone and as the bundled
// directories, audited on the fold's model (fold.Build) gives the batch
// audit's JSON and table, byte for byte — or the fold says it cannot take
// the logs yet (ErrNotFoldable), never answers otherwise.
func TestBuildAuditsAsTheBatch(t *testing.T) {
	t.Run("skew from the stream", testBuildAuditsAsTheBatch)
	// holding copies of the events after a few (as it does of what it
	// holds for long)
	restore := fold.OwnEarly()
	t.Run("copies", testBuildAuditsAsTheBatch)
	restore()
	// assuming no skew whatever the logs' clocks (the first read samples
	// nothing), and folding again where the skew found along says otherwise
	restore = fold.SampleNothing()
	t.Run("no skew assumed", testBuildAuditsAsTheBatch)
	restore()
	// estimating the skew first, whatever the sample of the first read
	// says
	restore = fold.EstimateSkewFirst()
	t.Run("skew first", testBuildAuditsAsTheBatch)
	// and from a read that keeps every request, where a window of the
	// stream cannot tell it
	defer fold.SkewFromReads()()
	t.Run("skew from a read", testBuildAuditsAsTheBatch)
	restore()
}

func testBuildAuditsAsTheBatch(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(logs, "*"))
	folded, refused, dropped := 0, 0, 0
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			n, err := CompareFold(t, []string{p}, parser.Options{})
			switch {
			case errors.Is(err, fold.ErrNotFoldable):
				t.Log(err)
				refused++
			case err != nil:
				t.Fatal(err)
			default:
				folded++
				dropped += n
			}
		})
	}
	t.Logf("%d reads folded (%d stories dropped), %d refused", folded, dropped, refused)
	if folded < 10 || dropped < 20 {
		t.Errorf("only %d reads folded, %d stories dropped", folded, dropped)
	}
}

// CompareFold audits paths on the batch model and on the fold's, and
// fails t where the JSON or the table differ; it returns how many stories
// the fold dropped, or the error that stopped it.
func CompareFold(t *testing.T, paths []string, opts parser.Options) (int, error) {
	t.Helper()
	m, err := fold.Build(paths, opts)
	if err != nil {
		return 0, err
	}
	full, err := parser.Read(paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	batch := reconstruct.Build(full)
	for _, w := range []struct {
		name  string
		write func(a *report.Audit, b *bytes.Buffer) error
	}{
		{"json", func(a *report.Audit, b *bytes.Buffer) error { return a.WriteJSON(b) }},
		{"table", func(a *report.Audit, b *bytes.Buffer) error { return a.WriteTable(b, 120) }},
		{"markdown", func(a *report.Audit, b *bytes.Buffer) error { return a.WriteMarkdown(b) }},
	} {
		var got, want bytes.Buffer
		if err := w.write(&report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}, &got); err != nil {
			t.Fatal(err)
		}
		if err := w.write(&report.Audit{Model: batch, Findings: rules.Run(batch, rules.All), FailOn: rules.Error, Rules: rules.All}, &want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("the fold's %s differs from the batch's:\n%s\nbatch:\n%s", w.name, got.String(), want.String())
		}
	}
	return m.Folded, nil
}

// TestBuildOnSkewedIncidents: simulated incidents of every version (their
// clocks skewed as sim skews them), folded assuming no skew — the first
// read samples nothing, so the fold finds the skew along and folds again
// — and the default way, audit as the batch does.
func TestBuildOnSkewedIncidents(t *testing.T) {
	seeds := uint64(6)
	if testing.Short() {
		seeds = 2
	}
	skewed := 0
	for _, v := range sim.Versions {
		for seed := uint64(1); seed <= seeds; seed++ {
			dir := t.TempDir()
			if _, err := sim.RunInto(sim.Faulty(v, seed), dir); err != nil {
				t.Fatal(err)
			}
			full, err := parser.Read([]string{dir}, parser.Options{})
			if err != nil {
				t.Fatal(err)
			}
			isSkewed := len(reconstruct.Build(full).Skew) > 0
			for _, sample := range []bool{false, true} {
				restore := func() {}
				if !sample {
					restore = fold.SampleNothing()
				}
				_, err := CompareFold(t, []string{dir}, parser.Options{})
				if err != nil && !errors.Is(err, fold.ErrNotFoldable) {
					t.Fatal(err)
				}
				if err == nil && isSkewed && !sample {
					skewed++
					// and it folded twice: assuming none, then with the skew
					m, _ := fold.Build([]string{dir}, parser.Options{})
					if len(m.Stages) == 0 || m.Stages[0].Name != "fold, no skew assumed: the clocks disagree" {
						t.Errorf("%s seed %d: a skewed incident folded once, assuming no skew (%+v)", v, seed, m.Stages)
					}
				}
				restore()
			}
		}
	}
	t.Logf("%d skewed incidents folded with no skew assumed first", skewed)
	if skewed < 10 {
		t.Errorf("only %d skewed incidents folded: the test hardly reaches a fold done again", skewed)
	}
}

// TestLongOpenStoryHoldsNoWindow: a session cluster that also runs
// streaming jobs (their slots allocated from the start to the end) folds
// as the batch audits, and what the fold holds of the TaskManagers' lines
// of no allocation does not grow with the run: a window from a streaming
// slot's first line on held every offer line of the short jobs on its
// TaskManager to the end (4,516 lines at 600 simulated minutes).
func TestLongOpenStoryHoldsNoWindow(t *testing.T) {
	held := map[int]int{}
	for _, minutes := range []int{30, 120} {
		r, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 4, Slots: 4, Jobs: 6, JobSeconds: 5,
			StreamingJobs: 3, Minutes: minutes, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := r.WriteLogs(dir); err != nil {
			t.Fatal(err)
		}
		restore := fold.WatchWindows(func(n int) { held[minutes] = n })
		dropped, err := CompareFold(t, []string{dir}, parser.Options{})
		restore()
		if err != nil {
			t.Fatal(err)
		}
		if dropped == 0 {
			t.Fatalf("%d minutes: no story dropped", minutes)
		}
	}
	if held[120] > 40 || held[120] > held[30]+20 {
		t.Errorf("the windows held %d lines at the end of 30 minutes, %d of 120: they grow with the run", held[30], held[120])
	}
}
