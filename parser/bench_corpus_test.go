package parser

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadCorpus reads the files of the directory
// SLOTAUDIT_BENCH_CORPUS names (bench/run's corpora, e.g.
// /tmp/slotaudit-bench/corpus-1024/logs) as an audit does, on every core:
// the parser's share of an audit's time, to set beside `rg -c -F slot` on
// the same files. Skipped without the variable.
func BenchmarkReadCorpus(b *testing.B) {
	dir := os.Getenv("SLOTAUDIT_BENCH_CORPUS")
	if dir == "" {
		b.Skip("SLOTAUDIT_BENCH_CORPUS names no directory")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no files in %s: %v", dir, err)
	}
	var size int64
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			size += info.Size()
		}
	}
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Read(files, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
