package parser

import (
	"testing"

	"github.com/slotaudit/slotaudit/internal/benchcorpus"
)

// BenchmarkReadCorpus reads the files of the directory
// SLOTAUDIT_BENCH_CORPUS names (bench/run's corpora, e.g.
// /tmp/slotaudit-bench/corpus-1024/logs) as an audit does, on every core:
// the parser's share of an audit's time, to set beside `rg -c -F slot` on
// the same files. Skipped without the variable.
func BenchmarkReadCorpus(b *testing.B) {
	files, size := benchcorpus.Files(b)
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Read(files, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
