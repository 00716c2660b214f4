package parser

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
)

// stdinBuffered is the most standard input a follow holds read but not
// yet taken by a poll: past it, the reading waits (and so does the
// writer of the pipe) and says it is full (Follower.StdinFull), so that
// the next poll comes at once. A fast pipe (kubectl logs -f prints a
// pod's whole log before it follows) is read at the speed of the polls,
// and cannot fill the memory.
const stdinBuffered = 4 << 20

// followedStdin is standard input as a follow reads it: a goroutine reads
// it as it comes (a pipe blocks until it has something); each poll takes
// what it read, gives the complete lines to a reader kept from poll to
// poll, and ends the read with a copy of that reader, as readOn does for a
// file that cannot be cut.
type followedStdin struct {
	mu    sync.Mutex
	more  *sync.Cond // signalled when a poll takes what was read
	taken []byte     // read, not yet taken by a poll
	read  int64      // bytes read so far
	ended bool       // EOF or a read error (err)
	err   error
	full  chan struct{} // a poll should come now: the buffer is full, or the input ended

	// owned by the poll that holds polling
	polling sync.Mutex
	data    []byte // taken, not yet given to on: every line until on is made, then the incomplete last one
	seen    int64  // bytes taken
	hash    maphash.Hash
	on      *fileReader
	lines   int64
	over    bool // the incomplete line is longer than MaxLine: its rest is skipped until its end
	// A log-store export is static: it is read whole at every poll. raw
	// holds what came until its first bytes decide whether it is one
	// (decided), export names it, all holds it.
	raw     []byte
	decided bool
	export  string
	all     []byte
}

func newFollowedStdin(r io.Reader) *followedStdin {
	s := &followedStdin{full: make(chan struct{}, 1)}
	s.more = sync.NewCond(&s.mu)
	s.hash.SetSeed(contentSeed)
	go s.readAll(r)
	return s
}

func (s *followedStdin) readAll(r io.Reader) {
	// a gzip stream (zcat's input piped as it is) is decompressed as it
	// comes, as Read does for a gzip input, not read as binary lines
	br := bufio.NewReaderSize(r, 64<<10)
	r = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			s.mu.Lock()
			s.ended, s.err = true, fmt.Errorf("gzip: %w", err)
			s.mu.Unlock()
			s.wake()
			return
		}
		r = zr
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Read(buf)
		s.mu.Lock()
		for len(s.taken)+n > stdinBuffered {
			s.wake()
			s.more.Wait()
		}
		s.taken = append(s.taken, buf[:n]...)
		s.read += int64(n)
		if err != nil {
			s.ended = true
			if err != io.EOF {
				s.err = err
			}
			s.mu.Unlock()
			s.wake()
			return
		}
		s.mu.Unlock()
	}
}

// wake asks for a poll now, without waiting for one to take it.
func (s *followedStdin) wake() {
	select {
	case s.full <- struct{}{}:
	default:
	}
}

// state is how much was read and whether the input ended.
func (s *followedStdin) state() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read, s.ended
}

// take returns what was read since the last take.
func (s *followedStdin) take() (data []byte, ended bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, s.taken = s.taken, nil
	s.more.Broadcast()
	return data, s.ended, s.err
}

// poll reads what standard input brought since the last poll: the same
// result as Read of everything it brought so far.
func (s *followedStdin) poll(opts *Options, forced *Layout, forceJSON bool) fileResult {
	s.polling.Lock()
	defer s.polling.Unlock()
	data, ended, readErr := s.take()
	s.seen += int64(len(data))
	s.hash.Write(data)
	if !s.decided {
		s.raw = append(s.raw, data...)
		kind := detectExport(s.raw[:min(len(s.raw), exportHeadSize)])
		if kind != "" || ended || len(s.raw) >= exportHeadSize {
			s.decided, s.export, s.all = true, kind, s.raw
			if kind == "" {
				s.all = nil
			}
			s.raw = nil
		}
	} else if s.export != "" {
		s.all = append(s.all, data...)
	}
	if s.export != "" {
		fr := &fileReader{path: "-", opts: opts, forced: forced, forceJSON: forceJSON, byName: map[string]*stream{}, wrapper: s.export}
		lines, err := fr.readExport(bufio.NewReaderSize(bytes.NewReader(s.all), 64<<10), s.export, false)
		if err == nil {
			err = readErr
		}
		fr.finishFile(lines, err)
		return fileResult{streams: fr.streams, content: contentKey{size: s.seen, sum: s.hash.Sum64()}}
	}
	if s.over { // the rest of a line longer than MaxLine, up to its end
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			data = nil
		} else {
			s.over = false
			data = data[i:]
		}
	}
	// The complete lines are the one s.data began (if any) and data's up to
	// its last newline; what data holds past it begins the next.
	complete := bytes.LastIndexByte(data, '\n') + 1
	if complete > 0 {
		if s.on == nil {
			s.data = append(s.data, data[:complete]...)
			// the wrapper is decided on the first 64 lines: until they
			// are all there, everything is read again at each poll
			fr := &fileReader{path: "-", opts: opts, forced: forced, forceJSON: forceJSON, byName: map[string]*stream{}}
			lr := newLineReader(bytes.NewReader(s.data), opts.MaxLine)
			if looked, _ := fr.readLines(lr); looked == 64 {
				s.on, s.lines, s.data = fr, lr.no, nil
			}
		} else {
			// read where they are: not copied together first
			lr := newLineReader(io.MultiReader(bytes.NewReader(s.data), bytes.NewReader(data[:complete])), opts.MaxLine)
			lr.no, lr.started = s.lines, true
			s.on.feedLines(lr)
			s.lines, s.data = lr.no, s.data[:0]
		}
	}
	s.addIncomplete(data[complete:], opts.MaxLine)

	if s.on == nil {
		fr := &fileReader{path: "-", opts: opts, forced: forced, forceJSON: forceJSON, byName: map[string]*stream{}}
		lr := newLineReader(bytes.NewReader(s.data), opts.MaxLine)
		fr.readLines(lr)
		fr.finishFile(lr.no, readErr)
		return fileResult{streams: fr.streams, content: contentKey{size: s.seen, sum: s.hash.Sum64()}}
	}
	last := s.on.copyForEnd()
	lr := newLineReader(bytes.NewReader(s.data), opts.MaxLine)
	lr.no, lr.started = s.lines, true
	last.feedLines(lr)
	last.finishFile(lr.no, readErr)
	return fileResult{streams: last.streams, content: contentKey{size: s.seen, sum: s.hash.Sum64()}}
}

// addIncomplete appends b, which holds no newline, to the line that data
// ends in. Of a line longer than max only the first max+1 bytes are kept:
// the line reader keeps max of them and marks it truncated, as it does
// reading the whole line, and an endless line does not fill the memory.
func (s *followedStdin) addIncomplete(b []byte, max int) {
	if len(b) == 0 {
		return
	}
	s.data = append(s.data, b...)
	if line := len(s.data) - (bytes.LastIndexByte(s.data, '\n') + 1); line > max+1 {
		s.data = s.data[:len(s.data)-(line-max-1)]
		s.over = true
	}
}
