package parser

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadAheadOrderAndBudget: the read-ahead advises every window of the
// regular files in the order given, passes over what it cannot read, never
// runs more than its budget ahead of what the parsers consumed, and stops
// at once when asked, even while it waits for the parsers.
func TestReadAheadOrderAndBudget(t *testing.T) {
	dir := t.TempDir()
	sizes := map[string]int{"a.log": 3*readAheadWindow + 10, "b.log": 0, "c.log": readAheadWindow / 2}
	var paths []string
	for _, name := range []string{"a.log", "missing.log", "b.log", "sub", "c.log"} {
		p := filepath.Join(dir, name)
		paths = append(paths, p)
		switch n, ok := sizes[name]; {
		case ok:
			if err := os.WriteFile(p, []byte(strings.Repeat("x", n)), 0o644); err != nil {
				t.Fatal(err)
			}
		case name == "sub":
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	type advice struct {
		file    string
		off, n  int64
		aheadBy int64 // advised beyond consumed, this advice included
	}
	var mu sync.Mutex
	var got []advice
	var advised int64
	budget := int64(readAheadWindow)
	var ra *readAhead
	ra = newReadAhead(budget, func(f *os.File, off, n int64) {
		mu.Lock()
		defer mu.Unlock()
		advised += n
		got = append(got, advice{filepath.Base(f.Name()), off, n, advised - ra.consumed.Load()})
	})
	go ra.run(paths)

	// It advises up to the budget (and one window past it) and waits.
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("advised %d windows, want %d", k, n)
			}
		}
	}
	waitFor(2)
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	if len(got) != 2 {
		t.Errorf("advised %d windows with nothing consumed, want 2 (budget %d)", len(got), budget)
	}
	mu.Unlock()
	// As the parsers read, it goes on, to the end.
	for i := 0; i < 8; i++ {
		ra.read(readAheadWindow / 2)
	}
	waitFor(5)
	ra.stop()
	want := []advice{
		{"a.log", 0, readAheadWindow, 0}, {"a.log", readAheadWindow, readAheadWindow, 0},
		{"a.log", 2 * readAheadWindow, readAheadWindow, 0}, {"a.log", 3 * readAheadWindow, 10, 0},
		{"c.log", 0, readAheadWindow / 2, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("advised %v, want %v", got, want)
	}
	for i := range want {
		g := got[i]
		if g.file != want[i].file || g.off != want[i].off || g.n != want[i].n {
			t.Errorf("advice %d = %s@%d+%d, want %s@%d+%d", i, g.file, g.off, g.n, want[i].file, want[i].off, want[i].n)
		}
		if g.aheadBy > budget+readAheadWindow {
			t.Errorf("advice %d ran %d bytes ahead of the parsers, budget %d", i, g.aheadBy, budget)
		}
	}

	// Stopped while waiting for the parsers: returns, and advises no more.
	got = nil
	ra2 := newReadAhead(0, func(f *os.File, off, n int64) { got = append(got, advice{file: f.Name()}) })
	go ra2.run(paths)
	time.Sleep(10 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { ra2.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return while the read-ahead waited")
	}
	if len(got) != 1 {
		t.Errorf("with no budget, advised %d windows before any read, want 1", len(got))
	}
}
