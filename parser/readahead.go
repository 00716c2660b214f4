package parser

import (
	"io"
	"os"
	"sync/atomic"
)

// After an incident the logs are usually read once, from disk: a parser
// that waits for each read leaves the disk idle while it parses and the
// cores idle while it reads, and the audit takes the sum of both instead
// of the longer. readAhead asks the kernel to read the inputs ahead of the
// parsers, in the order they are handed out, and at most budget bytes
// beyond what the parsers have consumed, so that gigabytes of input do not
// evict from the page cache what is about to be read. It only advises; the
// bytes parsed are still read by the parsers, so results cannot change.
type readAhead struct {
	consumed atomic.Int64
	wake     chan struct{}
	done     chan struct{}
	finished chan struct{}
	budget   int64
	advise   func(f *os.File, off, n int64)
}

const (
	readAheadBudget = 64 << 20
	// readAheadWindow is what one advice asks for: Linux reads at most
	// max(read_ahead_kb, max_sectors_kb) per call, 128 KiB to a few MiB.
	readAheadWindow = 1 << 20
)

// startReadAhead starts advising paths in order; nil where the platform
// cannot advise. Paths that are not regular files are passed over.
func startReadAhead(paths []string) *readAhead {
	if !canAdvise {
		return nil
	}
	ra := newReadAhead(readAheadBudget, adviseWillNeed)
	go ra.run(paths)
	return ra
}

func newReadAhead(budget int64, advise func(f *os.File, off, n int64)) *readAhead {
	return &readAhead{wake: make(chan struct{}, 1), done: make(chan struct{}), finished: make(chan struct{}),
		budget: budget, advise: advise}
}

func (ra *readAhead) run(paths []string) {
	defer close(ra.finished)
	var advised int64
	for _, p := range paths {
		if p == "-" {
			continue
		}
		// Only regular files, checked before opening: opening a FIFO
		// blocks until a writer comes, and the parser may already have
		// read it to the end (then none comes, and stop would wait).
		if info, err := os.Stat(p); err != nil || !info.Mode().IsRegular() {
			continue // the parser reports what it cannot read
		}
		f, err := openNoDelay(p)
		if err != nil {
			continue
		}
		info, err := f.Stat()
		if err != nil || !info.Mode().IsRegular() {
			f.Close()
			continue
		}
		for off := int64(0); off < info.Size(); off += readAheadWindow {
			for advised-ra.consumed.Load() > ra.budget {
				select {
				case <-ra.wake:
				case <-ra.done:
					f.Close()
					return
				}
			}
			n := min(readAheadWindow, info.Size()-off)
			ra.advise(f, off, n)
			advised += n
		}
		f.Close()
	}
}

// read notes n bytes consumed by a parser; ra may be nil.
func (ra *readAhead) read(n int) {
	if ra == nil || n <= 0 {
		return
	}
	ra.consumed.Add(int64(n))
	select {
	case ra.wake <- struct{}{}:
	default:
	}
}

// stop ends the advising and waits for it; ra may be nil.
func (ra *readAhead) stop() {
	if ra == nil {
		return
	}
	close(ra.done)
	<-ra.finished
}

// countingReader tells ra (and a progress display) how much of a file the
// parser has read.
type countingReader struct {
	r        io.Reader
	ra       *readAhead
	progress *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.ra.read(n)
	if c.progress != nil && n > 0 {
		c.progress.Add(int64(n))
	}
	return n, err
}
