package parser

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/slotaudit/slotaudit/flinklog"
)

// A Follower reads the same paths again and again as they grow (audit
// --follow), reading only the bytes appended since the last time where
// that gives exactly what a fresh Read gives: uncompressed files in a dated
// layout or in JSON (bare or in a container runtime's lines), as
// readFileChunked reads them in pieces. What was appended is read as a
// piece cut before the last record's first line (a header, a JSON object's
// opening line) and joined at once to what was read before; the last
// record (which may still grow) is read again each time. Any other
// uncompressed file (kubectl --prefix or YARN output, whose streams
// interleave; a time-of-day layout, whose dates depend on every record
// before; no layout) is read on by one sequential reader kept from poll to
// poll, which reads the complete lines appended since; a copy of it reads
// the line still being written and ends the read. A file that shrinks or
// is replaced (rotation) is read from its start; a compressed one is read
// whole.
type Follower struct {
	paths []string
	opts  Options
	mu    sync.Mutex
	files map[string]*followed
	stdin *followedStdin // when "-" is among the paths
	// retired: what was read of files since rotated away, truncated,
	// replaced or deleted, kept as inputs of their own (RotatedName) so
	// that what they proved stays proven; rotations counts them per path
	retired   []retiredSegment
	rotations map[string]int
	gone      map[string]bool // named paths that disappeared after being read
	known     map[string]bool // named paths that existed at some read
	// whole: files read whole at the last read (too short to cut yet,
	// gzip, ...), with what that read gave, to retire if they are rotated
	whole map[string]*wholeRead
}

// wholeRead is a file the last read read whole, and what it gave.
type wholeRead struct {
	info    os.FileInfo
	size    int64
	head    []byte
	streams []*stream
}

// retiredSegment is what was read of one incarnation of a followed file.
type retiredSegment struct {
	path    string
	streams []*stream // never drained: each Read hands out clones
}

// RotatedName names what a follow read of path before its n-th rotation
// (truncation, replacement or deletion): an input of its own beside the
// file's new content.
func RotatedName(path string, n int) string { return fmt.Sprintf("%s (rotated %d)", path, n) }

// UnrotatedName is the path a RotatedName was made from (path itself when
// it is none).
func UnrotatedName(path string) string {
	if i := strings.LastIndex(path, " (rotated "); i > 0 && strings.HasSuffix(path, ")") {
		if _, err := strconv.Atoi(path[i+len(" (rotated ") : len(path)-1]); err == nil {
			return path[:i]
		}
	}
	return path
}

type followed struct {
	info os.FileInfo // to notice a replaced file
	how  *chunkable
	// read holds every complete record before cut, joined from the pieces
	// read so far (flushed, not finished); lines counts its lines.
	read   *stream
	lines  int64
	pieces int   // pieces joined into read
	cut    int64 // where the unread part starts: the last record's header
	// the first bytes of the file and of the line at cut, as last read: a
	// file truncated and written again in place (logrotate copytruncate)
	// that has grown past its old size between two reads is caught by them
	head, cutHead []byte
	size          int64 // the size at the last read
	// snap: the streams the last read returned, as undrained copies: what
	// is kept if the file is rotated away before the next read
	snap []*stream
	// on: the reader that reads the file on when it cannot be cut (how is
	// nil); it has read every complete line before cut, lines of them
	on *fileReader
}

// NewFollower prepares to read paths repeatedly with opts. When "-" is
// among them, it starts reading opts.Stdin as it comes; each Read reads
// what came since the last.
func NewFollower(paths []string, opts Options) *Follower {
	fl := &Follower{paths: paths, opts: opts, files: map[string]*followed{}, rotations: map[string]int{}, gone: map[string]bool{}, known: map[string]bool{}, whole: map[string]*wholeRead{}}
	if slices.Contains(paths, "-") && opts.Stdin != nil {
		fl.stdin = newFollowedStdin(opts.Stdin)
	}
	return fl
}

// StdinFull is signalled when the Follower holds as much standard input as
// it reads ahead of its reads, or when standard input ends: a Read should
// come now rather than at the next tick. nil when it does not follow
// standard input.
func (fl *Follower) StdinFull() <-chan struct{} {
	if fl.stdin == nil {
		return nil
	}
	return fl.stdin.full
}

// Stdin tells how many bytes of standard input the Follower has read so
// far and whether it has ended (EOF or a read error); 0 and false when it
// does not follow standard input.
func (fl *Follower) Stdin() (read int64, ended bool) {
	if fl.stdin == nil {
		return 0, false
	}
	return fl.stdin.state()
}

// Read reads the paths as they are now: the same Result as Read.
func (fl *Follower) Read() (*Result, error) { return read(fl.paths, fl.opts, fl) }

func (fl *Follower) state(path string) *followed {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.files[path]
}

func (fl *Follower) setState(path string, st *followed) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.files[path] = st
}

// readFile reads what was appended to path; ok=false means: read it whole.
func (fl *Follower) readFile(path string, opts *Options, forced *Layout, forceJSON bool) (fileResult, bool) {
	if path == "-" {
		if fl.stdin == nil {
			return fileResult{}, false
		}
		return fl.stdin.poll(opts, forced, forceJSON), true
	}
	if opts.Reference {
		return fileResult{}, false
	}
	f, err := os.Open(path)
	if err != nil {
		return fileResult{}, false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return fileResult{}, false
	}
	size := info.Size()
	st := fl.state(path)
	old := st
	if st != nil && (!sameBytes(f, 0, st.head) || !sameBytes(f, st.cut, st.cutHead)) {
		st = nil
	}
	if st == nil || !os.SameFile(st.info, info) || size < st.size {
		if old != nil {
			// rotated (copytruncate, rename and create, rewritten): what
			// was read of the old content stays an input of its own
			fl.retire(path, old)
		}
		how, ok, decided := chunkableHead(f, forced, forceJSON)
		if !ok && !decided {
			// too short to tell: read whole until it can be told, so
			// that a log that starts small is cut when it can be
			fl.setState(path, nil)
			return fileResult{}, false
		}
		st = &followed{how: how}
	}
	st.info, st.size = info, size
	if st.how == nil {
		return fl.readOn(f, path, opts, forced, forceJSON, st)
	}

	// The new complete records become a piece; the last record is kept
	// back and read again next time.
	if h := lastHeader(f, st.cut, size, st.how); h > st.cut {
		// Much that is new (the first read of a large log) is read in
		// pieces on every core, as Read reads a large file.
		rr, ok := readInPieces(f, path, opts, st.how, st.cut, h, opts.chunk())
		var err error
		if !ok {
			rr, err = readPiece(f, path, opts, st.how, st.cut, h)
		}
		piece := rr.s
		if err != nil || rr.open || st.read != nil && piece.seenTOD {
			fl.setState(path, nil)
			return fileResult{}, false
		}
		// Joined at once: a long follow adds a piece per change, and
		// keeping them apart would cost memory and time per piece.
		if st.read == nil {
			st.read = piece
		} else {
			st.read.absorb(piece, st.lines)
		}
		st.lines += rr.lines
		st.pieces += rr.pieces
		st.cut = h
	}
	last, err := readPiece(f, path, opts, st.how, st.cut, size)
	tail := last.s
	if err != nil || st.read != nil && tail.seenTOD {
		fl.setState(path, nil)
		return fileResult{}, false
	}
	st.head, st.cutHead = readAt(f, 0, size), readAt(f, st.cut, size)
	fl.setState(path, st)

	merged := tail
	if st.read != nil {
		merged = st.read.clone()
		merged.absorb(tail, st.lines)
	}
	merged.finish()
	merged.sum.Wrapper = st.how.wrapper
	st.snap = []*stream{merged.clone()}
	// The content key is left to Read, as for a file read in pieces: it
	// hashes the first size bytes only when another input has that size.
	return fileResult{streams: []*stream{merged}, content: contentKey{size: size, lazy: true}, path: path}, true
}

// readOn reads the complete lines appended to f since the last poll with
// the reader kept in st (made on the first poll, from the file's start),
// then the line still being written, if any, and the ending of the read
// with a copy of it. ok=false means: read it whole (gzip, fewer lines than
// the wrapper is decided on, a read error).
func (fl *Follower) readOn(f *os.File, path string, opts *Options, forced *Layout, forceJSON bool, st *followed) (fileResult, bool) {
	fail := func() (fileResult, bool) {
		fl.setState(path, nil)
		return fileResult{}, false
	}
	size := st.size
	end := afterLastNewline(f, st.cut, size)
	if end < 0 {
		return fail()
	}
	if st.on == nil {
		if magic := readAt(f, 0, 2); bytes.Equal(magic, []byte{0x1f, 0x8b}) || loneCRHead(f) || exportFile(f) {
			return fail() // gzip, lone-CR line ends, a log-store export: read whole (openInput, readExport)
		}
		// much kubectl --prefix output at once (a follow started on a
		// running cluster): its pods are read on every core
		if workers := opts.shardsPerFile(); workers > 1 && end >= 2*opts.chunk() {
			var ok bool
			if st.on, st.lines, ok = readShards(f, path, opts, forced, forceJSON, end, workers); ok {
				st.pieces += workers - 1 // and one below, as for any poll
			}
		}
		if st.on == nil {
			fr := &fileReader{path: path, opts: opts, forced: forced, forceJSON: forceJSON, byName: map[string]*stream{}, reread: true}
			lr := newLineReader(io.NewSectionReader(f, 0, end), opts.MaxLine)
			// the wrapper is decided on the first 64 lines, which must be
			// there and complete to be the ones a whole read decides on
			if looked, err := fr.readLines(lr); err != nil || looked < 64 {
				return fail()
			}
			st.on, st.lines = fr, lr.no
		}
	} else if end > st.cut {
		lr := newLineReader(io.NewSectionReader(f, st.cut, end-st.cut), opts.MaxLine)
		lr.no, lr.started = st.lines, true
		if err := st.on.feedLines(lr); err != nil {
			return fail()
		}
		st.lines = lr.no
	}
	if end > st.cut {
		st.pieces++
	}
	st.cut = end

	last := st.on.copyForEnd()
	lr := newLineReader(io.NewSectionReader(f, end, size-end), opts.MaxLine)
	lr.no, lr.started = st.lines, true
	if err := last.feedLines(lr); err != nil {
		return fail()
	}
	last.finishFile(lr.no, nil)
	st.head, st.cutHead = readAt(f, 0, size), readAt(f, st.cut, size)
	st.snap = st.snap[:0]
	for _, s := range last.streams {
		st.snap = append(st.snap, s.clone())
	}
	fl.setState(path, st)
	return fileResult{streams: last.streams, content: contentKey{size: size, lazy: true}, path: path}, true
}

// afterLastNewline returns where the line after the last newline of f's
// bytes [from, to) starts, from when there is none, or -1 when f cannot
// be read.
func afterLastNewline(f *os.File, from, to int64) int64 {
	buf := make([]byte, 64<<10)
	for end := to; end > from; {
		lo := max(from, end-int64(len(buf)))
		b := buf[:end-lo]
		if n, _ := f.ReadAt(b, lo); n < len(b) {
			return -1
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return lo + int64(i) + 1
		}
		end = lo
	}
	return from
}

// copyForEnd copies the reader and its streams for a read to be ended
// (finishFile) without ending this one, which reads on at the next poll.
func (fr *fileReader) copyForEnd() *fileReader {
	c := *fr
	c.streams = make([]*stream, len(fr.streams))
	c.byName = make(map[string]*stream, len(fr.byName))
	copied := make(map[*stream]*stream, len(fr.streams))
	for i, s := range fr.streams {
		c.streams[i] = s.copyForEnd()
		copied[s] = c.streams[i]
	}
	for name, s := range fr.byName {
		c.byName[name] = copied[s]
	}
	c.main, c.yarnCur = copied[fr.main], copied[fr.yarnCur]
	c.partial = bytes.Clone(fr.partial)
	return &c
}

// copyForEnd is clone for a stream that is still being read: what it
// holds unfinished (lines before its layout is decided, the record in
// progress, a JSON object not yet closed) and every cache it changes while
// reading are its own in the copy.
func (s *stream) copyForEnd() *stream {
	c := s.clone()
	c.pending = slices.Clone(s.pending) // their texts are never changed
	c.recBuf, c.rec = record{}, nil
	if s.rec != nil {
		r := *s.rec
		r.Logger, r.Msg, r.Body, r.First = bytes.Clone(r.Logger), bytes.Clone(r.Msg), bytes.Clone(r.Body), bytes.Clone(r.First)
		c.recBuf = r
		c.rec = &c.recBuf
	}
	c.jsonBuf = bytes.Clone(s.jsonBuf) // nil stays nil: it says whether an object is open
	if s.fast != nil {
		fast := *s.fast
		fast.prevLogger = bytes.Clone(fast.prevLogger)
		c.fast = &fast
	}
	c.classifier.Forget()
	// a logger's entry notes when its component was counted
	c.loggers = make(map[string]*loggerInfo, len(s.loggers))
	for name, info := range s.loggers {
		own := *info
		c.loggers[name] = &own
	}
	c.lastLogger, c.lastInfo = bytes.Clone(s.lastLogger), nil
	c.fields = nil // they point into the original's logger entries
	if s.lastInfo != nil {
		if info, ok := c.loggers[string(s.lastLogger)]; ok && s.loggers[string(s.lastLogger)] == s.lastInfo {
			c.lastInfo = info
		} else { // past maxLoggerCache names
			own := *s.lastInfo
			c.lastInfo = &own
		}
	}
	return c
}

// readAt returns up to 64 bytes of f at off, not past size.
func readAt(f *os.File, off, size int64) []byte {
	b := make([]byte, min(64, max(0, size-off)))
	n, _ := f.ReadAt(b, off)
	return b[:n]
}

// sameBytes reports whether f still holds want at off.
func sameBytes(f *os.File, off int64, want []byte) bool {
	got := make([]byte, len(want))
	n, _ := f.ReadAt(got, off)
	return n == len(want) && bytes.Equal(got, want)
}

// readPiece reads bytes [from, to) of f as one piece.
func readPiece(f *os.File, path string, opts *Options, how *chunkable, from, to int64) (rangeRead, error) {
	return readRange(io.NewSectionReader(f, from, to-from), path, opts, how, from, to)
}

// lastHeader returns the start of the last complete record header line
// in (from, to), or from when there is none. It looks from the end back:
// the first read of a follow finds the whole log new, and reading it
// forward only to find its last header cost a pass over every line. A line
// longer than 64 KiB with its newline is never taken for a header, as in
// the line reader of lastHeaderForward, which tests keep as its definition.
func lastHeader(f *os.File, from, to int64, how *chunkable) int64 {
	const block = 64 << 10
	buf, spanning := make([]byte, block), make([]byte, block)
	next := int64(-1) // the newline after nl below: the end of the line after it
	for end := to; end > from; {
		lo := max(from, end-block)
		b := buf[:end-lo]
		if n, _ := f.ReadAt(b, lo); n < len(b) {
			return from // the file shrank under us: nothing new this time
		}
		for i := len(b); ; {
			j := bytes.LastIndexByte(b[:i], '\n')
			if j < 0 {
				break
			}
			nl := lo + int64(j)
			if next >= 0 && next-nl <= block {
				// the complete line [nl+1, next)
				var line []byte
				if next-lo <= int64(len(b)) {
					line = b[j+1 : next-lo]
				} else { // it goes on into the block read before
					line = spanning[:next-nl-1]
					if n, _ := f.ReadAt(line, nl+1); n < len(line) {
						return from
					}
				}
				l := bytes.TrimSuffix(line, []byte("\r"))
				if how.recordStart(l) {
					return nl + 1
				}
			}
			next, i = nl, j
		}
		end = lo
	}
	return from
}

// clone copies a flushed stream so that joining others to it and
// finishing it leave it as it was, for the next time. Its events are
// shared, not copied: neither joining nor finishing changes an event
// already added.
func (s *stream) clone() *stream {
	c := *s
	c.events = s.events.share()
	// runs grow when a later piece repeats their reports: the clone's
	// appends must not land in arrays the original goes on filling
	c.runs = slices.Clone(s.runs)
	for k := range c.runs {
		r := &c.runs[k]
		r.reps, r.heads = slices.Clip(r.reps), slices.Clip(r.heads)
	}
	c.runAt, c.folds = maps.Clone(s.runAt), maps.Clone(s.folds)
	c.jsonObj, c.jsonMaps = jsonMembers{}, jsonMaps{} // filled again for every record: not to be shared
	c.diags = append([]Diagnostic(nil), s.diags...)
	c.hints = s.hints.Clone()
	c.tmIDs = append([]string(nil), s.tmIDs...)
	c.registered = append([]string(nil), s.registered...)
	c.comps = make(map[flinklog.Component]int, len(s.comps))
	for k, v := range s.comps {
		c.comps[k] = v
	}
	c.diagKind = make(map[string]int, len(s.diagKind))
	for k, v := range s.diagKind {
		c.diagKind[k] = v
	}
	c.sum.Components = nil
	return &c
}

// Pieces counts the pieces read apart and joined for every file read
// incrementally (what a poll finds new is one piece, or several read on
// every core when it is much), for tests that check that following is
// incremental.
func (fl *Follower) Pieces() int {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	n := 0
	for _, st := range fl.files {
		if st != nil {
			n += st.pieces
		}
	}
	return n
}

// retire keeps what was last read of path (st) as a retired segment.
func (fl *Follower) retire(path string, st *followed) {
	if st == nil || len(st.snap) == 0 {
		return
	}
	fl.retireStreams(path, st.snap)
	st.snap = nil
}

func (fl *Follower) retireStreams(path string, streams []*stream) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.rotations[path]++
	name := RotatedName(path, fl.rotations[path])
	seg := retiredSegment{path: name}
	for _, s := range streams {
		c := s.clone()
		c.sum.Path = name
		seg.streams = append(seg.streams, c)
	}
	fl.retired = append(fl.retired, seg)
}

// noteWhole remembers what a whole read of path gave (fr, not drained
// yet), and retires what the previous whole read gave when the file was
// rotated in between: replaced, shrunk, or no longer starting as it did.
func (fl *Follower) noteWhole(path string, fr fileResult) {
	if path == "-" || fr.err != nil {
		return
	}
	info, err := os.Stat(path)
	if err != nil {
		return
	}
	head := make([]byte, min(info.Size(), 4096))
	if f, err := os.Open(path); err == nil {
		n, _ := f.ReadAt(head, 0)
		head = head[:n]
		f.Close()
	}
	fl.mu.Lock()
	prev := fl.whole[path]
	fl.mu.Unlock()
	if prev != nil && (!os.SameFile(prev.info, info) || info.Size() < prev.size || !bytes.HasPrefix(head, prev.head[:min(len(prev.head), len(head))])) {
		fl.retireStreams(path, prev.streams)
	}
	w := &wholeRead{info: info, size: info.Size(), head: head}
	for _, s := range fr.streams {
		w.streams = append(w.streams, s.clone())
	}
	fl.mu.Lock()
	fl.whole[path] = w
	fl.mu.Unlock()
}

// dropWhole forgets the last whole read of path: the file is read in
// pieces from now on, which read that content again.
func (fl *Follower) dropWhole(path string) {
	fl.mu.Lock()
	delete(fl.whole, path)
	fl.mu.Unlock()
}

// retireWhole retires what the last whole read of path gave (the file is
// gone, or now read in pieces).
func (fl *Follower) retireWhole(path string) {
	fl.mu.Lock()
	w := fl.whole[path]
	delete(fl.whole, path)
	fl.mu.Unlock()
	if w != nil {
		fl.retireStreams(path, w.streams)
	}
}

// present drops from paths the named files that are gone after having
// been read (what was read of them is retired, and said once through
// Gone), and notices those that came back.
func (fl *Follower) present(paths []string) []string {
	out := paths[:0:0]
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		_, err := os.Lstat(p)
		fl.mu.Lock()
		st, known := fl.files[p], fl.known[p]
		fl.mu.Unlock()
		switch {
		case err == nil:
			fl.mu.Lock()
			delete(fl.gone, p)
			fl.known[p] = true
			fl.mu.Unlock()
			out = append(out, p)
		case errors.Is(err, fs.ErrNotExist) && known:
			if st != nil {
				fl.retire(p, st)
				fl.setState(p, nil)
			}
			fl.retireWhole(p)
			fl.mu.Lock()
			fl.gone[p] = true
			fl.mu.Unlock()
		default:
			out = append(out, p) // let the read say what is wrong
		}
	}
	return out
}

// forget retires the files of the last read that a new listing no longer
// holds (deleted from a directory given): unless the same file is listed
// under another name (renamed), which is read there — the same inode,
// still holding what was read of it (an inode is given again to a new
// file once the old one is deleted; a file truncated before it was moved
// holds none of it).
func (fl *Follower) forget(listed []string) {
	in := map[string]bool{}
	type listedFile struct {
		path string
		info os.FileInfo
	}
	var infos []listedFile
	for _, f := range listed {
		in[f] = true
		if fi, err := os.Stat(f); err == nil {
			infos = append(infos, listedFile{f, fi})
		}
	}
	// holds reports whether the file at path (info) is at least size
	// long and holds each of at (offset → bytes)
	holds := func(path string, size int64, at map[int64][]byte) bool {
		f, err := os.Open(path)
		if err != nil {
			return false
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil || info.Size() < size {
			return false
		}
		for off, b := range at {
			if !sameBytes(f, off, b) {
				return false
			}
		}
		return true
	}
	fl.mu.Lock()
	var drop []string
	for p := range fl.files {
		if !in[p] && !slices.Contains(fl.paths, p) {
			drop = append(drop, p)
		}
	}
	var dropWhole []string
	for p, w := range fl.whole {
		if !in[p] && !slices.Contains(fl.paths, p) {
			renamed := false
			for _, lf := range infos {
				renamed = renamed || os.SameFile(w.info, lf.info) && holds(lf.path, w.size, map[int64][]byte{0: w.head})
			}
			if renamed {
				delete(fl.whole, p)
			} else {
				dropWhole = append(dropWhole, p)
			}
		}
	}
	fl.mu.Unlock()
	slices.Sort(dropWhole)
	for _, p := range dropWhole {
		fl.retireWhole(p)
	}
	slices.Sort(drop)
	for _, p := range drop {
		st := fl.state(p)
		renamed := false
		for _, lf := range infos {
			if st != nil && st.info != nil && os.SameFile(st.info, lf.info) &&
				holds(lf.path, st.size, map[int64][]byte{0: st.head, st.cut: st.cutHead}) {
				renamed = true
			}
		}
		if !renamed {
			fl.retire(p, st)
		}
		fl.setState(p, nil)
		fl.mu.Lock()
		delete(fl.files, p)
		fl.mu.Unlock()
	}
}

// retiredResults hands out the retired segments for one read.
func (fl *Follower) retiredResults() []fileResult {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	out := make([]fileResult, 0, len(fl.retired))
	for _, seg := range fl.retired {
		fr := fileResult{path: seg.path}
		for _, s := range seg.streams {
			fr.streams = append(fr.streams, s.clone())
		}
		out = append(out, fr)
	}
	return out
}

// Gone lists the named paths that disappeared after being read and have
// not come back.
func (fl *Follower) Gone() []string {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	var out []string
	for p := range fl.gone {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
