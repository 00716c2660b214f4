package parser

import (
	"io"
	"sync"
)

// asyncReader reads its source ahead in a goroutine, so decompressing a
// .gz input and parsing it use two cores instead of taking turns on one.
// Blocks are recycled; at most asyncDepth are in flight.
type asyncReader struct {
	full    chan asyncBlock
	free    chan []byte
	done    chan struct{}
	cur     asyncBlock
	off     int
	err     error
	closeMu sync.Once
}

type asyncBlock struct {
	b   []byte
	err error
}

const (
	asyncBlockSize = 256 << 10
	asyncDepth     = 4
)

func newAsyncReader(src io.Reader) *asyncReader {
	a := &asyncReader{full: make(chan asyncBlock, asyncDepth), free: make(chan []byte, asyncDepth), done: make(chan struct{})}
	for i := 0; i < asyncDepth; i++ {
		a.free <- make([]byte, asyncBlockSize)
	}
	go func() {
		defer close(a.full)
		for {
			var buf []byte
			select {
			case buf = <-a.free:
			case <-a.done:
				return
			}
			n, err := 0, error(nil)
			for n < len(buf) && err == nil {
				var m int
				m, err = src.Read(buf[n:])
				n += m
			}
			select {
			case a.full <- asyncBlock{buf[:n], err}:
			case <-a.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

func (a *asyncReader) Read(p []byte) (int, error) {
	for a.off == len(a.cur.b) {
		if a.err != nil {
			return 0, a.err
		}
		if a.cur.b != nil {
			a.free <- a.cur.b[:cap(a.cur.b)]
		}
		blk, ok := <-a.full
		if !ok {
			a.err, a.cur = io.EOF, asyncBlock{}
			return 0, a.err
		}
		a.cur, a.off = blk, 0
		if blk.err != nil {
			a.err = blk.err
		}
	}
	n := copy(p, a.cur.b[a.off:])
	a.off += n
	return n, nil
}

// Close stops the read-ahead goroutine.
func (a *asyncReader) Close() error {
	a.closeMu.Do(func() { close(a.done) })
	return nil
}
