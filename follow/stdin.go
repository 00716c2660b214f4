package follow

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
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
// writes. A gzip stream is copied decompressed, for a reader that reads
// the copy as it grows (a compressed copy cut short would be a broken file
// at every look), or as it is, for one that reads it once it is whole.
type StdinCopy struct {
	path      string
	br        *bufio.Reader
	gunzipped bool // a gzip stream, copied decompressed (set before done)
	copied    atomic.Int64
	mu        sync.Mutex
	ended     bool
	err       error
	full      chan struct{} // signalled once, when standard input ends
	done      chan struct{} // closed when the copy ends (or is not made)
}

// Wait waits until standard input has ended and is all copied (or is a
// gzip stream not copied).
func (c *StdinCopy) Wait() { <-c.done }

// CopyStdin starts copying r into the spool as the input named "-"; a
// gzip stream decompressed when gunzip says so.
func (s *Spool) CopyStdin(r io.Reader, gunzip bool) (*StdinCopy, error) {
	path := filepath.Join(s.dir, "-")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	c := &StdinCopy{path: path, br: bufio.NewReaderSize(r, 256<<10), full: make(chan struct{}, 1), done: make(chan struct{})}
	s.names[path] = "-"
	go c.copy(f, gunzip)
	return c, nil
}

func (c *StdinCopy) copy(f *os.File, gunzip bool) {
	defer close(c.done)
	defer f.Close()
	var in io.Reader = c.br
	if magic, _ := c.br.Peek(2); gunzip && bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(c.br)
		if err != nil {
			c.end(fmt.Errorf("gzip: %w", err))
			return
		}
		c.mu.Lock()
		in, c.gunzipped = zr, true
		c.mu.Unlock()
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil && err == nil {
				err = werr
			}
			c.copied.Add(int64(n)) // (after the write: a read sees it)
		}
		if err != nil {
			c.end(err)
			return
		}
	}
}

// end notes that standard input has ended, with err unless it is EOF.
func (c *StdinCopy) end(err error) {
	c.mu.Lock()
	c.ended = true
	if err != io.EOF {
		c.err = err
	}
	c.mu.Unlock()
	c.full <- struct{}{}
}

// Gunzipped reports whether standard input was a gzip stream, copied
// decompressed (known once the copy has begun to grow or has ended).
func (c *StdinCopy) Gunzipped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gunzipped
}

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
