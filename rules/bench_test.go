package rules_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
	"github.com/slotaudit/slotaudit/sim"
)

// BenchmarkAuditAllocationDense reads, reconstructs and judges a
// simulated Flink 1.12 cluster whose logs are mostly slot lifecycles (20
// TaskManagers, 120 jobs resubmitted for two hours: about 10,000
// allocations, 20 MB), and reports allocations per second, the bytes
// allocated per allocation and the bytes kept per allocation once it is
// judged (issue 26: the per-allocation cost).
func BenchmarkAuditAllocationDense(b *testing.B) {
	dir := b.TempDir()
	res, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 20, Slots: 4, Jobs: 120, Minutes: 120, Seed: 3, Failovers: 1})
	if err != nil {
		b.Fatal(err)
	}
	var paths []string
	for name, text := range res.Files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	allocs := len(res.Truth.Allocations)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		read, err := parser.Read(paths, parser.Options{})
		if err != nil {
			b.Fatal(err)
		}
		m := reconstruct.Build(read)
		rules.Run(m, rules.All)
		if len(m.Allocations) < allocs {
			b.Fatalf("%d allocations reconstructed, the simulation made %d", len(m.Allocations), allocs)
		}
	}
	b.ReportMetric(float64(allocs)*float64(b.N)/b.Elapsed().Seconds(), "allocations/s")
	b.StopTimer()
	b.ReportMetric(float64(keptBytes(b, paths))/float64(allocs), "kept-B/allocation")
}

// keptBytes returns how much live heap a read of paths, its model and its
// findings hold together: what an audit keeps until it writes its
// output (issue 26's bound is on it). Unlike a peak RSS it does not
// depend on when the collector ran.
func keptBytes(b *testing.B, paths []string) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	read, err := parser.Read(paths, parser.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := reconstruct.Build(read)
	findings := rules.Run(m, rules.All)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	runtime.KeepAlive(findings)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}
