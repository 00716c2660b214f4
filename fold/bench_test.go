package fold_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/sim"
)

// BenchmarkFoldSession times the two passes of the command's fold over a
// session cluster's logs (bench/alloc-dense's workload, two simulated
// hours: ~20k allocations): "first", the first read that spills its
// events and keeps next to none, and "fold", FromFirst over it (the skew's
// pass, if any, and the fold's). allocs/s is the fold's allocations a
// second of that pass alone; issue 26 asks 200k of the whole.
func BenchmarkFoldSession(b *testing.B) {
	for _, level := range []struct {
		name  string
		debug bool
	}{{"INFO", false}, {"DEBUG", true}} {
		dir := b.TempDir()
		cfg := sim.Config{Flink: "1.12.7", TaskManagers: 20, Slots: 8, Jobs: 20, JobSeconds: 10, Minutes: 120, Seed: 26, Debug: level.debug}
		if _, err := sim.RunInto(cfg, dir); err != nil {
			b.Fatal(err)
		}
		paths, err := filepath.Glob(filepath.Join(dir, "*.log"))
		if err != nil || len(paths) == 0 {
			b.Fatalf("no logs in %s (%v)", dir, err)
		}
		var bytes int64
		for _, p := range paths {
			st, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			bytes += st.Size()
		}
		first := func(b *testing.B) *parser.Result {
			sp, err := parser.NewSpill(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = sp.Close() })
			res, err := parser.Read(paths, parser.Options{Keep: fold.NewFirstKeep(), DeferIdentities: true, Spill: sp})
			if err != nil {
				b.Fatal(err)
			}
			return res
		}
		b.Run(level.name+"/first", func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				first(b)
			}
		})
		b.Run(level.name+"/fold", func(b *testing.B) {
			b.SetBytes(bytes)
			allocs := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				res := first(b)
				b.StartTimer()
				m, err := fold.FromFirst(res, parser.Options{})
				if err != nil {
					b.Fatal(err)
				}
				allocs = m.AllocationCount()
			}
			if allocs < 10_000 {
				b.Fatalf("the fold gave %d allocations: not the workload this benchmark is for", allocs)
			}
			b.ReportMetric(float64(allocs)*float64(b.N)/b.Elapsed().Seconds(), "allocs/s")
		})
	}
}
