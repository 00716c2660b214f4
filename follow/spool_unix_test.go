//go:build unix

package follow

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSpoolRefusesAPipe: a named pipe among the inputs is not copied (its
// open would wait for a writer, and what is read of it is gone): Sync says
// so at once, and the follow goes on with the follower alone.
func TestSpoolRefusesAPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "taskmanager.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Sync([]string{fifo}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Sync of a named pipe: %v, want it refused", err)
	}
}
