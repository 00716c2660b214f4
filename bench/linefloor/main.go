// Command linefloor measures the least an audit that accounts for every
// line must do to a log in Flink's own text layout: read every file with
// pread in 256 KiB pieces on as many goroutines as there are cores, cut
// each piece into lines, and sort each line into a record start (the
// layout's fixed-column timestamp, "2021-03-14 09:00:00,551 ", with a
// plausible month, day and time) or another line. It looks at nothing
// else: no level, no logger, no message, no event. bench/floors runs it
// beside ripgrep and slotaudit and checks that its counts of lines and
// records are the audit's.
//
// It is a measuring instrument, not part of slotaudit: it knows one layout
// (log4j's and log4j2's default Flink pattern, which every corpus of
// bench/run and bench/alloc-dense is written in) and no compression.
//
//	go run ./bench/linefloor FILE...
//
// prints "lines N records N bytes N" on one line.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
)

// defaultPiece is the reader's piece: the parser reads 256 KiB at a time
// too.
const defaultPiece = 256 << 10

// piece is a part of a file a worker reads: from off, the lines that
// begin in [off, off+size).
type piece struct {
	file int
	off  int64
}

// counts is what a worker found.
type counts struct {
	lines, records, bytes int64
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: linefloor FILE...")
		os.Exit(2)
	}
	c, err := run(os.Args[1:], runtime.GOMAXPROCS(0), defaultPiece)
	if err != nil {
		fmt.Fprintln(os.Stderr, "linefloor:", err)
		os.Exit(1)
	}
	fmt.Printf("lines %d records %d bytes %d\n", c.lines, c.records, c.bytes)
}

// run counts the lines and record starts of paths on workers goroutines,
// reading size bytes at a time.
func run(paths []string, workers, size int) (counts, error) {
	files := make([]*os.File, len(paths))
	var pieces []piece
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return counts{}, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return counts{}, err
		}
		files[i] = f
		for off := int64(0); off < st.Size(); off += int64(size) {
			pieces = append(pieces, piece{i, off})
		}
	}
	work := make(chan piece, 64)
	go func() {
		for _, p := range pieces {
			work <- p
		}
		close(work)
	}()
	var (
		mu       sync.Mutex
		total    counts
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size+1)
			var c counts
			for p := range work {
				if err := countPiece(files[p.file], p.off, size, buf, &c); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			total.lines += c.lines
			total.records += c.records
			total.bytes += c.bytes
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total, firstErr
}

// countPiece counts the lines that begin in [off, off+size) of f: a line
// that began before off is its predecessor's, and its own last line is
// read on past the piece's end. buf holds size+1 bytes: the byte before
// off tells whether off begins a line.
func countPiece(f *os.File, off int64, size int, buf []byte, c *counts) error {
	start := off
	if off > 0 {
		start = off - 1
	}
	n, err := f.ReadAt(buf[:size+int(off-start)], start)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	b := buf[:n]
	c.bytes += int64(n - int(off-start))
	if off > 0 {
		// The line that begins here begins after the first newline from
		// off-1 on (at off itself when the byte before it is one).
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil // the piece lies inside one line
		}
		b = b[i+1:]
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			// The last line runs past the piece: only its head matters.
			c.lines++
			if recordStart(b) || (len(b) < 24 && recordStart(tail(f, off+int64(size), b))) {
				c.records++
			}
			return nil
		}
		c.lines++
		if recordStart(b[:i]) {
			c.records++
		}
		b = b[i+1:]
	}
	return nil
}

// tail returns head followed by up to 24 bytes of f from at: the start of
// a line cut by the piece's end, long enough for recordStart.
func tail(f *os.File, at int64, head []byte) []byte {
	var more [24]byte
	n, _ := f.ReadAt(more[:], at)
	return append(append([]byte(nil), head...), more[:n]...)
}

// recordStart reports whether line begins with the layout's timestamp,
// "yyyy-MM-dd HH:mm:ss,SSS " (a '.' for the ',' too), at plausible values.
func recordStart(line []byte) bool {
	if len(line) < 24 {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22} {
		if line[i]-'0' > 9 {
			return false
		}
	}
	if line[4] != '-' || line[7] != '-' || line[10] != ' ' || line[13] != ':' || line[16] != ':' ||
		(line[19] != ',' && line[19] != '.') || line[23] != ' ' {
		return false
	}
	two := func(i int) int { return int(line[i]-'0')*10 + int(line[i+1]-'0') }
	month, day := two(5), two(8)
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && two(11) < 24 && two(14) < 60 && two(17) < 61
}
