package parser

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReadAheadPassesOverFIFO: a FIFO named on the command line (a
// process substitution, a named pipe) that no one writes to any more must
// not hold the read-ahead, which the end of the audit waits for. Opening
// it would block until a writer came.
func TestReadAheadPassesOverFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	after := filepath.Join(dir, "after.log")
	if err := os.WriteFile(after, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var advised []string
	ra := newReadAhead(readAheadBudget, func(f *os.File, off, n int64) { advised = append(advised, filepath.Base(f.Name())) })
	done := make(chan struct{})
	go func() { ra.run([]string{fifo, after}); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the read-ahead is stuck on a FIFO without a writer")
	}
	if len(advised) != 1 || advised[0] != "after.log" {
		t.Errorf("advised %v, want [after.log]", advised)
	}
}
