package parser_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/sim"
)

// BenchmarkFoldingWindow measures what folding (docs/design.md, "Bounded
// memory") could keep of a session cluster's events: walking them in the
// merged order, an allocation is folded at its last event and an event of
// no allocation as soon as it passes; a block of events can go once all
// of its events are folded, and is needed from its first. It reports the
// most blocks needed at once, as a share of all (peak-blocks-%), the
// same when events of no allocation are kept to the end instead
// (kept-blocks-%: they are in every block) or, those that name a job,
// until the job's last event (job-blocks-%), and the most allocations
// open at once. SLOTAUDIT_BENCH_CORPUS=dir (as for BenchmarkReadCorpus)
// measures the logs in dir instead of a simulated hour of 20
// TaskManagers.
func BenchmarkFoldingWindow(b *testing.B) {
	dir := os.Getenv("SLOTAUDIT_BENCH_CORPUS")
	if dir == "" {
		res, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 20, Slots: 8, Jobs: 20, JobSeconds: 10, Seed: 26, Minutes: 60})
		if err != nil {
			b.Fatal(err)
		}
		dir = b.TempDir()
		for name, text := range res.Files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		b.Fatal(err)
	}
	var w window
	for b.Loop() {
		res, err := parser.Read(paths, parser.Options{})
		if err != nil {
			b.Fatal(err)
		}
		w = foldingWindow(res, reconstruct.Build(res))
	}
	b.ReportMetric(100*float64(w.peak)/float64(w.blocks), "peak-blocks-%")
	b.ReportMetric(100*float64(w.kept)/float64(w.blocks), "kept-blocks-%")
	b.ReportMetric(100*float64(w.jobs)/float64(w.blocks), "job-blocks-%")
	b.ReportMetric(float64(w.open), "peak-open-allocations")
	b.ReportMetric(float64(w.blocks), "blocks")
}

// window is what foldingWindow measures: the most blocks needed at once
// when events of no allocation are folded as they pass (peak), kept to
// the end (kept), or kept to their job's last event when they name one
// (jobs); the most allocations open at once; how many blocks there are.
type window struct{ peak, kept, jobs, open, blocks int }

// foldingWindow measures res's window (see BenchmarkFoldingWindow).
func foldingWindow(res *parser.Result, m *reconstruct.Model) window {
	folded := make([]int32, res.Len()) // the rank after which the event may go
	for i := range folded {
		folded[i] = -1
	}
	var spans [][2]int32 // each allocation's first and last rank
	for _, a := range m.Allocations {
		lo, hi := int32(len(folded)), int32(-1)
		for _, e := range a.Events {
			lo, hi = min(lo, m.Rank[e]), max(hi, m.Rank[e])
		}
		for _, e := range a.Events {
			folded[e] = max(folded[e], hi)
		}
		spans = append(spans, [2]int32{lo, hi})
	}
	jobLast := map[flinklog.ID]int32{}
	for i := range folded {
		if j := res.Head(parser.EventRef(i)).Job; j.IsSet() {
			jobLast[j] = max(jobLast[j], m.Rank[i], folded[i])
		}
	}
	loose := blockSpans(res, m, folded, func(parser.EventRef) int32 { return -1 })
	return window{
		peak: mostAtOnce(loose),
		kept: mostAtOnce(blockSpans(res, m, folded, func(parser.EventRef) int32 { return int32(len(folded)) })),
		jobs: mostAtOnce(blockSpans(res, m, folded, func(ref parser.EventRef) int32 {
			if j := res.Head(ref).Job; j.IsSet() {
				return jobLast[j]
			}
			return -1
		})),
		open:   mostAtOnce(spans),
		blocks: len(loose),
	}
}

// blockSpans returns each block's span in the merged order: from its
// first event to the last rank at which one of its events is folded. An
// event of no allocation is folded at loose(ref), or as it passes when
// that is -1.
func blockSpans(res *parser.Result, m *reconstruct.Model, folded []int32, loose func(parser.EventRef) int32) [][2]int32 {
	byBlock := map[int][2]int32{}
	for i := range folded {
		ref := parser.EventRef(i)
		if res.BaseRef(ref) != ref {
			continue // a repeat lies in its report's block
		}
		r, f := m.Rank[i], folded[i]
		if f < 0 {
			f = max(r, loose(ref))
		}
		k := parser.BlockOfEvent(res, ref)
		s, ok := byBlock[k]
		if !ok {
			s = [2]int32{r, f}
		}
		byBlock[k] = [2]int32{min(s[0], r), max(s[1], f)}
	}
	out := make([][2]int32, 0, len(byBlock))
	for _, s := range byBlock {
		out = append(out, s)
	}
	return out
}

// mostAtOnce returns the most spans that hold one rank.
func mostAtOnce(spans [][2]int32) int {
	type step struct{ at, d int32 }
	steps := make([]step, 0, 2*len(spans))
	for _, s := range spans {
		steps = append(steps, step{s[0], 1}, step{s[1] + 1, -1})
	}
	slices.SortFunc(steps, func(x, y step) int {
		if x.at != y.at {
			return int(x.at - y.at)
		}
		return int(x.d - y.d)
	})
	live, top := 0, 0
	for _, s := range steps {
		live += int(s.d)
		top = max(top, live)
	}
	return top
}
