package main

import (
	"bytes"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer the progress goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgressWanted(t *testing.T) {
	tests := []struct {
		terminal, quiet bool
		env             map[string]string
		want            bool
	}{
		{true, false, nil, true},
		{false, false, nil, false},
		{true, true, nil, false},
		{true, false, map[string]string{"CI": "true"}, false},
		{true, false, map[string]string{"TERM": "dumb"}, false},
	}
	for _, tc := range tests {
		if got := progressWanted(tc.terminal, tc.quiet, func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("progressWanted(terminal %v, quiet %v, %v) = %v", tc.terminal, tc.quiet, tc.env, got)
		}
	}
}

// TestProgressLine: work shorter than the delay draws nothing; longer work
// draws what was read of the total, and clears its line at the end.
func TestProgressLine(t *testing.T) {
	var quick lockedBuffer
	var n atomic.Int64
	p := startProgress(&quick, "reading", 1<<20, true, &n, 200*time.Millisecond)
	n.Store(1 << 19)
	p.stop()
	if quick.String() != "" {
		t.Errorf("quick work drew %q", quick.String())
	}

	var slow lockedBuffer
	n.Store(0)
	p = startProgress(&slow, "reading", 4<<20, true, &n, 10*time.Millisecond)
	n.Store(1 << 20)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(slow.String(), "1.0/4.0 MiB") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	out := slow.String()
	if !strings.Contains(out, "reading") || !strings.Contains(out, "1.0/4.0 MiB") {
		t.Errorf("progress line %q lacks what was read of the total", out)
	}
	if !strings.HasSuffix(out, "\x1b[2K\r") {
		t.Errorf("progress line not cleared at the end: %q", out[max(0, len(out)-40):])
	}
}
