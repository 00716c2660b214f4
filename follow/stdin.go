package follow

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// StdinCopy copies standard input into a spool as it comes, so that a
// follow of a pipe (kubectl logs -f POD | slotaudit audit --follow -) can
// audit it as a file: read on by parser.Follower as it grows, and, once
// the events are many, read again by a fold like every other copy. It
// holds nothing in memory but a buffer; the pipe is read as fast as it
// writes. A gzip stream is not copied (the follower decompresses it as it
// comes; read as a file, a stream cut short would be a broken file at
// every look): Gzip says so, and Reader gives the stream back unread.
type StdinCopy struct {
	path    string
	br      *bufio.Reader
	decided chan struct{} // closed once Gzip is known
	gzip    bool
	copied  atomic.Int64
	mu      sync.Mutex
	ended   bool
	err     error
	full    chan struct{} // signalled once, when standard input ends
	done    chan struct{} // closed when the copy ends (or is not made)
}

// Wait waits until standard input has ended and is all copied (or is a
// gzip stream not copied).
func (c *StdinCopy) Wait() { <-c.done }

// CopyStdin starts copying r into the spool as the input named "-". A
// gzip stream is copied only if gzipToo (a read of the whole copy, once it
// is done, decompresses it as a read of standard input does).
func (s *Spool) CopyStdin(r io.Reader, gzipToo bool) (*StdinCopy, error) {
	path := filepath.Join(s.dir, "-")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	c := &StdinCopy{path: path, br: bufio.NewReaderSize(r, 256<<10), decided: make(chan struct{}), full: make(chan struct{}, 1), done: make(chan struct{})}
	s.names[path] = "-"
	go c.copy(f, gzipToo)
	return c, nil
}

func (c *StdinCopy) copy(f *os.File, gzipToo bool) {
	defer close(c.done)
	defer f.Close()
	magic, _ := c.br.Peek(2)
	c.gzip = bytes.Equal(magic, []byte{0x1f, 0x8b}) && !gzipToo
	close(c.decided)
	if c.gzip {
		return
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := c.br.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil && err == nil {
				err = werr
			}
			c.copied.Add(int64(n)) // (after the write: a read sees it)
		}
		if err != nil {
			c.mu.Lock()
			c.ended = true
			if err != io.EOF {
				c.err = err
			}
			c.mu.Unlock()
			c.full <- struct{}{}
			return
		}
	}
}

// Decided waits until the first bytes tell whether standard input is a
// gzip stream (or it ended, or ctx did): false when ctx ended first.
func (c *StdinCopy) Decided(ctx context.Context) bool {
	select {
	case <-c.decided:
		return true
	case <-ctx.Done():
		return false
	}
}

// Gzip reports whether standard input is a gzip stream that is not copied
// (once Decided).
func (c *StdinCopy) Gzip() bool { return c.gzip }

// Reader is standard input as it was given, unread: for the follower to
// read a gzip stream itself.
func (c *StdinCopy) Reader() io.Reader { return c.br }

// Path is the copy's file.
func (c *StdinCopy) Path() string { return c.path }

// Stdin tells how many bytes of standard input are in the copy and
// whether it has ended (all of it copied).
func (c *StdinCopy) Stdin() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.copied.Load(), c.ended
}

// StdinFull is signalled once, when standard input has ended: the copy
// holds no more than a buffer, so it is never full before.
func (c *StdinCopy) StdinFull() <-chan struct{} { return c.full }

// Err is the error that ended standard input early, if one did.
func (c *StdinCopy) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
