// Package benchcorpus finds the corpus the corpus benchmarks read: the
// files of the directory SLOTAUDIT_BENCH_CORPUS names (bench/run's
// corpora, e.g. /tmp/slotaudit-bench/corpus-1024/logs). The parser's and
// the model's benchmarks set beside `rg -c -F slot` on the same files.
package benchcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Files returns the corpus's files and their size in bytes; it skips b
// when the variable names no directory, and fails it when the directory
// holds no file.
func Files(b *testing.B) (files []string, size int64) {
	b.Helper()
	dir := os.Getenv("SLOTAUDIT_BENCH_CORPUS")
	if dir == "" {
		b.Skip("SLOTAUDIT_BENCH_CORPUS names no directory")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no files in %s: %v", dir, err)
	}
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			size += info.Size()
		}
	}
	return files, size
}
