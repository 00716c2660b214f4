package main

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/slotaudit/slotaudit/parser"
)

// progressDelay is how long work runs before a progress line appears: a
// short audit should print nothing but its answer.
const progressDelay = time.Second

// progressWanted: a progress line goes to stderr only when a person
// watches it — a terminal, not CI, not --quiet.
func progressWanted(stderrTerminal, quiet bool, getenv func(string) string) bool {
	return stderrTerminal && !quiet && getenv("CI") == "" && getenv("TERM") != "dumb"
}

// progress draws "what of how much" on w once the work has run for delay,
// until stopped; then it clears its line.
type progress struct {
	done     chan struct{}
	finished chan struct{}
	once     sync.Once
}

// startProgress counts units of total (bytes, or milliseconds of a
// simulation) from counter; total 0 means unknown (stdin). desc says what
// is being done.
func startProgress(w io.Writer, desc string, total int64, bytes bool, counter *atomic.Int64, delay time.Duration) *progress {
	p := &progress{done: make(chan struct{}), finished: make(chan struct{})}
	max := total
	if max <= 0 {
		max = -1 // a spinner
	}
	// The bar starts with the work, so that its rate and ETA are true,
	// but writes nothing until the delay has passed.
	g := &gatedWriter{w: w}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(g),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(20),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetRenderBlankState(false),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true), progressbar.OptionUseIECUnits(true))
	}
	bar := progressbar.NewOptions64(max, opts...)
	go func() {
		defer close(p.finished)
		open := time.After(delay)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				if g.open.Load() {
					_ = bar.Clear()
				}
				return
			case <-open:
				g.open.Store(true)
			case <-t.C:
			}
			_ = bar.Set64(counter.Load())
		}
	}()
	return p
}

// gatedWriter passes writes through once open, and drops them before.
type gatedWriter struct {
	w    io.Writer
	open atomic.Bool
}

func (g *gatedWriter) Write(b []byte) (int, error) {
	if !g.open.Load() {
		return len(b), nil
	}
	return g.w.Write(b)
}

// stop ends the display and waits until its line is cleared.
func (p *progress) stop() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.done) })
	<-p.finished
}

// readProgress starts a progress line for reading paths, when one is
// wanted; the counter goes into parser.Options.Progress.
func (e *env) readProgress(paths []string) (*atomic.Int64, *progress) {
	f, ok := e.stderr.(*os.File)
	if !ok || e.following || e.spooling || !progressWanted(term.IsTerminal(int(f.Fd())), e.quiet, os.Getenv) {
		return nil, nil
	}
	files, err := parser.ExpandPaths(paths)
	if err != nil {
		return nil, nil
	}
	var total int64
	for _, p := range files {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			total += st.Size()
		}
	}
	counter := &atomic.Int64{}
	return counter, startProgress(e.stderr, "reading", total, true, counter, progressDelay)
}
