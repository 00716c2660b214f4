package parser

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/slotaudit/slotaudit/flinklog"
)

// defaultChunkSize is the least a piece of one large file is: a file at
// least twice as big is read in pieces, in parallel.
const defaultChunkSize = 8 << 20

// chunk is Options.ChunkSize or its default.
func (o *Options) chunk() int64 {
	if o.ChunkSize <= 0 {
		return defaultChunkSize
	}
	return int64(o.ChunkSize)
}

// workers is Options.Workers or its default, one per CPU.
func (o *Options) workers() int {
	if o.Workers <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Workers
}

// openLarge opens path for a read on several cores: a regular file of at
// least two chunks, not stdin, not a reference read. ok=false leaves it to
// the sequential read, which reports what went wrong, if anything did.
func openLarge(path string, opts *Options) (_ *os.File, size int64, ok bool) {
	if opts.Reference || path == "-" {
		return nil, 0, false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, false
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || info.Size() < 2*opts.chunk() {
		f.Close()
		return nil, 0, false
	}
	return f, info.Size(), true
}

// readFileChunked reads one large plain file on every core: it cuts the
// file at record starts into pieces, reads each piece with a stream of
// its own, and joins the streams into the one a sequential read would
// have made (counts summed, line numbers shifted, hints and identities
// taken in file order). It applies only where the join is exact: an
// uncompressed regular file in a layout whose records carry their time or
// in JSON (cut before lines that open an object), bare or in a container
// runtime's lines (see chunkableInput). Where a piece ends inside a
// multi-line JSON object or a split line, or a later piece holds
// time-of-day records (whose day depends on what came before), it gives up
// (ok=false) and the caller reads sequentially.
func readFileChunked(path string, opts *Options, forced *Layout, forceJSON bool) (fileResult, bool) {
	f, size, ok := openLarge(path, opts)
	if !ok {
		return fileResult{}, false
	}
	defer f.Close()
	c, ok := chunkableInput(f, forced, forceJSON)
	if !ok {
		return fileResult{}, false
	}
	rr, ok := readInPieces(f, path, opts, c, 0, size, opts.chunk())
	if !ok {
		return fileResult{}, false
	}
	merged := rr.s
	merged.finish()
	merged.spill.flush()
	merged.sum.Wrapper = c.wrapper
	// The content key is left to Read, which hashes the file only when
	// another input has its size: hashing here read every byte twice.
	return fileResult{streams: []*stream{merged}, content: contentKey{size: size, lazy: true}, path: path}, true
}

// rangeRead is a range of a file read into one flushed stream.
type rangeRead struct {
	s      *stream
	lines  int64 // lines read
	pieces int   // pieces read apart and joined into s
	// the range ended inside a record that a sequential read would have
	// gone on reading: a multi-line JSON object, or a line a container
	// runtime split that was not joined yet
	open bool
}

// readRange reads r, bytes [from, to) of path, starting at a record start
// (or at the file's start), into one flushed stream. Every range takes the
// layout (and the wrapper) the file's first lines decide, as a sequential
// read does: a range may be too short to decide the same on its own.
func readRange(r io.Reader, path string, opts *Options, c *chunkable, from, to int64) (rangeRead, error) {
	// a range of a regular file, neither gzip nor lone-CR (chunkableInput)
	fr := &fileReader{path: path, opts: opts, forced: c.layout, forceJSON: c.json, wrapper: c.wrapper, byName: map[string]*stream{}, reread: true}
	br := pieceReaders.get()
	br.Reset(r)
	defer func() { br.Reset(nil); pieceReaders.put(br) }()
	lr := newLineReader(br, opts.MaxLine)
	lr.started = from > 0 // a byte-order mark only opens the file
	failed := fr.feedLines(lr)
	split := fr.partialOpen
	fr.flushPartial()
	s := fr.stream("", "", "")
	openJSON := s.flushPiece()
	return rangeRead{s: s, lines: lr.no, pieces: 1, open: openJSON || split}, failed
}

// pieceReaders are the buffers pieces, and files read whole line by line,
// are read through, 256 KiB each: a gigabyte is read in thousands of
// pieces, a directory may hold thousands of small logs, and a buffer of
// its own for each was heap the kernel had to fault in anew (7 % of a
// noisy log's profile was page faults; see keptPool). Nothing read keeps a slice of one
// (every record copies what it keeps). At 64 KiB the 1 GB chatty corpus took
// 3–5 % more CPU (four times the preads, and a record left for the next
// buffer four times as often); at 1 MiB as much as at 64 KiB (a buffer
// no longer in the core's cache when its lines are classified).
var pieceReaders = keptReaders(pieceBuffer)

// pieceBuffer is the size of pieceReaders' buffers.
const pieceBuffer = 256 << 10

// leanReaders are the buffers of a lean read again (Options.LeanReadAgain).
var leanReaders = keptReaders(32 << 10)

// keptReaders is a keptPool of line readers' buffers of size bytes, a
// few per core: a fold's read again holds a reader per input at once, and
// more than the pool keeps are let go as they are put back.
func keptReaders(size int) *keptPool[*bufio.Reader] {
	return &keptPool[*bufio.Reader]{max: 4 * runtime.GOMAXPROCS(0), new: func() *bufio.Reader { return bufio.NewReaderSize(nil, size) }}
}

// leanBlock and leanBatch are how many events a lean read again holds in
// a block, and hands over at a time.
const (
	leanBlock = 128
	leanBatch = 32
)

// headBuffers hold the megabyte chunkableHead reads of every file.
var headBuffers = &keptPool[[]byte]{max: 2 * runtime.GOMAXPROCS(0), new: func() []byte { return make([]byte, 1<<20) }}

// readInPieces reads bytes [from, to) of f, which start at a record start
// (or at the file's start), as pieces of at least chunk bytes cut at record
// starts, on every core, and joins them: the flushed stream (not finished)
// that one sequential read of the range makes, and the lines it read (see
// rangeRead). ok=false when the range is too short to cut, or when a piece
// cannot be joined exactly (a read error, time-of-day records after the
// first piece, a record open at the end of any piece but the last); the
// caller then reads the range in one piece. The last piece may end in an
// open record (rangeRead.open), which the sequential read would have gone
// on reading had the range gone on.
func readInPieces(f *os.File, path string, opts *Options, c *chunkable, from, to, chunk int64) (rangeRead, bool) {
	size := to - from
	if size < 2*chunk {
		return rangeRead{}, false
	}
	n := int(min(size/chunk, 64))
	offsets := []int64{from}
	var scratch []byte
	for k := 1; k < n; k++ {
		if off, ok := nextHeader(f, from+size*int64(k)/int64(n), chunk, c, &scratch); ok && off > offsets[len(offsets)-1] && off < to {
			offsets = append(offsets, off)
		}
	}
	if len(offsets) < 2 {
		return rangeRead{}, false
	}
	offsets = append(offsets, to)

	pieces := len(offsets) - 1
	streams := make([]*stream, pieces)
	pieceLines := make([]int64, pieces)
	open := make([]bool, pieces)
	failed := make([]error, pieces)
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < min(opts.workers(), pieces); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				var r io.Reader = io.NewSectionReader(f, offsets[i], offsets[i+1]-offsets[i])
				if opts.ra != nil || opts.Progress != nil {
					r = countingReader{r, opts.ra, opts.Progress}
				}
				rr, err := readRange(r, path, opts, c, offsets[i], offsets[i+1])
				failed[i], open[i] = err, rr.open
				streams[i], pieceLines[i] = rr.s, rr.lines
			}
		}()
	}
	for i := 0; i < pieces; i++ {
		work <- i
	}
	close(work)
	wg.Wait()

	for i := 0; i < pieces; i++ {
		switch {
		case failed[i] != nil, // a read error: the sequential read says where
			i > 0 && streams[i].seenTOD,
			i < pieces-1 && open[i],
			streams[i].layout != c.layout, streams[i].isJSON != c.json:
			return rangeRead{}, false
		}
	}
	rr := rangeRead{s: streams[0], lines: pieceLines[0], pieces: pieces, open: open[pieces-1]}
	for i := 1; i < pieces; i++ {
		rr.s.absorb(streams[i], rr.lines)
		rr.lines += pieceLines[i]
	}
	return rr, true
}

// chunkable is how a file that can be read in pieces is read: as JSON, or in
// a layout whose records carry their own time (not a time of day); inside a
// container runtime's wrapper (CRI, Docker's JSON, kubectl --timestamps)
// or not.
type chunkable struct {
	layout  *Layout // nil for JSON
	json    bool
	fast    *flinkHeader // Flink's own layouts: decodes their headers fast
	wrapper string       // wrapNone, wrapCRI, wrapDocker or wrapKubeTS
}

// recordStart reports whether a line starts a record wherever a sequential
// read is outside one: a header of the layout, or a JSON object's first
// line. A cut before such a line is exact unless a multi-line JSON object
// or a split line was still open there, which the piece before says
// (rangeRead.open).
func (c *chunkable) recordStart(line []byte) bool {
	if c.wrapper != wrapNone {
		// a whole line of the wrapper's (a piece a runtime split off is
		// never a place to cut)
		content, ok := unwrapWhole(c.wrapper, line)
		if !ok {
			return false
		}
		line = content
	}
	if c.json {
		at := skipBlanks(line, 0)
		return at < len(line) && line[at] == '{'
	}
	// as stream.matchHeader decides
	if c.fast != nil {
		if _, ok, decided := c.fast.match(line); decided {
			return ok
		}
	}
	_, ok := c.layout.match(line)
	return ok
}

// unwrapWhole returns the log line a container runtime's wrapper line
// holds, if the wrapper holds it whole.
func unwrapWhole(wrapper string, b []byte) ([]byte, bool) {
	switch wrapper {
	case wrapCRI:
		content, partial, ok := cutCRI(b)
		return content, ok && !partial
	case wrapDocker:
		var d struct {
			Log *string `json:"log"`
		}
		if json.Unmarshal(b, &d) != nil || d.Log == nil || !strings.HasSuffix(*d.Log, "\n") {
			return nil, false
		}
		return []byte(strings.TrimRight(*d.Log, "\r\n")), true
	case wrapKubeTS:
		return cutTimestamp(b), true
	}
	return b, true
}

// chunkableInput reads the head of f and says how a sequential read would
// read it, if the file can be read in pieces: a layout whose timestamps
// hold the date or that counts time from the JVM's start (Flink's,
// logback's, a --layout pattern), or JSON; unwrapped or in a container
// runtime's lines (not YARN's aggregation, not kubectl --prefix); no gzip. The answer is the file's own (its header
// decoder remembers the day last decoded).
func chunkableInput(f *os.File, forced *Layout, forceJSON bool) (*chunkable, bool) {
	c, ok, _ := chunkableHead(f, forced, forceJSON)
	return c, ok
}

// chunkableHead is chunkableInput; decided=false says that the head was
// too short to tell (or could not be read): the answer may change as the
// file grows.
func chunkableHead(f *os.File, forced *Layout, forceJSON bool) (_ *chunkable, ok, decided bool) {
	head := headBuffers.get()
	defer headBuffers.put(head)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, false
	}
	head = head[:n]
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || hasLoneCR(head) {
		// gzip, or lines that end with a lone CR: read sequentially
		// (openInput reads such a CR as a line end; pieces would not)
		return nil, false, true
	}
	if detectExport(head[:min(len(head), exportHeadSize)]) != "" {
		return nil, false, true // a log-store export is read whole (readExport)
	}
	whole := head
	var look []pline
	for no := int64(1); len(look) < detectLines; no++ {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			break // the head ends mid-line: too long to judge, read sequentially
		}
		line := bytes.TrimSuffix(head[:i], []byte("\r"))
		if no == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if bytes.IndexByte(line, 0x1b) >= 0 {
			line = stripANSI(line)
		}
		look = append(look, pline{no: no, text: line, phys: 1})
		head = head[i+1:]
	}
	if len(look) < detectLines {
		return nil, false, false
	}
	layout, isJSON := forced, forceJSON
	switch w, _ := detectWrapper(look[:64]); w {
	case wrapNone:
		if layout == nil && !isJSON {
			layout, isJSON = detectLayout(look)
		}
	case wrapCRI, wrapDocker, wrapKubeTS:
		// what the wrapped lines hold is decided on them unwrapped (and
		// joined), as the sequential read decides it
		fr := &fileReader{opts: &Options{MaxLine: defaultMaxLine, MaxRecord: defaultMaxRecord}, forced: forced, forceJSON: forceJSON,
			wrapper: w, byName: map[string]*stream{}}
		for no := int64(1); fr.main == nil || !fr.main.decided; no++ {
			i := bytes.IndexByte(whole, '\n')
			if i < 0 {
				return nil, false, false
			}
			line := bytes.TrimSuffix(whole[:i], []byte("\r"))
			if no == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			fr.feed(no, line, false)
			whole = whole[i+1:]
		}
		c, ok := chunkableAs(fr.main.layout, fr.main.isJSON)
		if ok {
			c.wrapper = w
		}
		return c, ok, true
	default: // YARN's and kubectl --prefix's name streams of their own
		return nil, false, true
	}
	c, ok := chunkableAs(layout, isJSON)
	return c, ok, true
}

// chunkableAs is the chunkable for records in layout or in JSON, unless the
// layout's records depend on those before them.
func chunkableAs(layout *Layout, isJSON bool) (*chunkable, bool) {
	if isJSON {
		return &chunkable{json: true}, true
	}
	if layout == nil || layout.timeOfDay() {
		return nil, false // a time of day's date depends on every record before it
	}
	return &chunkable{layout: layout, fast: newFlinkHeader(layout)}, true
}

// nextHeader finds the first record header line starting after off (within
// window bytes, at most a megabyte): a place where a sequential read starts
// a new record too. It reads 64 KiB first and more only when no header
// line is complete in what it read (a header is usually a few hundred
// bytes on): the megabyte at each of a file's 63 cuts was 6 % more reading
// and 63 MB of garbage per gigabyte. The answer is the megabyte's: lines
// are looked at in the same order, and a line complete in less is
// complete in more. buf is scratch space, kept between calls.
func nextHeader(f *os.File, off int64, window int64, c *chunkable, buf *[]byte) (int64, bool) {
	limit := int(min(window, 1<<20))
	for want := min(limit, 64<<10); ; want = min(2*want, limit) {
		if cap(*buf) < want {
			*buf = make([]byte, want)
		}
		b := (*buf)[:want]
		n, _ := f.ReadAt(b, off)
		b = b[:n]
		if at, found := firstHeaderLine(b, c); found {
			return off + int64(at), true
		}
		if n < want || want == limit {
			return 0, false
		}
	}
}

// firstHeaderLine returns where the first complete line after b's first
// newline that is a record header starts.
func firstHeaderLine(b []byte, c *chunkable) (int, bool) {
	i := bytes.IndexByte(b, '\n')
	for i >= 0 {
		start := i + 1
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			return 0, false
		}
		line := bytes.TrimSuffix(b[start:start+end], []byte("\r"))
		if c.recordStart(line) {
			return start, true
		}
		i = start + end
	}
	return 0, false
}

// flushPiece ends a piece: its last record is complete (the next piece
// starts at a header). It reports whether a multi-line JSON object was
// still open, which a sequential read would have continued.
func (s *stream) flushPiece() (openJSON bool) {
	if !s.decided {
		s.decide()
	}
	openJSON = s.jsonBuf != nil
	if openJSON {
		s.finishJSONBuf(s.jsonAt)
	}
	s.finishRecord()
	s.release()
	// (a piece's block being filled goes to the spill now, not when it is
	// joined: dozens of pieces wait for their join)
	s.spill.flush()
	return openJSON
}

// absorb appends the piece o, read after s, whose line 1 is line offset+1
// of the file.
func (s *stream) absorb(o *stream, offset int64) {
	a, b := &s.sum, &o.sum
	a.Lines += b.Lines
	a.RecordLines += b.RecordLines
	a.Records += b.Records
	a.EventCount += b.EventCount
	a.EventRecs += b.EventRecs
	a.Irrelevant += b.Irrelevant
	a.Unparsed += b.Unparsed
	a.Stray += b.Stray
	a.Truncated += b.Truncated
	if a.First.IsZero() {
		a.First = b.First
	}
	if !b.Last.IsZero() {
		a.Last = b.Last
	}
	s.ndcYes += o.ndcYes
	s.ndcNo += o.ndcNo
	for c, n := range o.comps {
		s.comps[c] += n
	}
	s.hints.Merge(&o.hints)
	// A piece's events are taken as they are (its own: nothing else holds
	// them), so a file read in 64 pieces is held once while it is joined,
	// not twice; only a small piece (a follow's poll) is copied, so that a
	// long follow does not keep a block per poll.
	o.events.shiftLines(offset)
	if s.spill != nil {
		s.spill.absorb(o.spill, offset)
	}
	// What noteEvent read of the piece: the meta events again, in order
	// (the last version and slot count win), and the TaskManagers the
	// piece's RM and JM lines named, from the piece's own list (its
	// events may not all be kept: Options.Keep).
	var scratch flinklog.Event
	for b, p := range o.events.walk {
		switch b.kindOf(p) {
		case flinklog.KindMetaTMID, flinklog.KindMetaSlots, flinklog.KindMetaVersion:
			b.unpack(p, &scratch)
			s.noteEvent(&scratch)
		}
	}
	for _, r := range o.registered {
		s.registered = appendUnique(s.registered, r)
	}
	if s.opts.Keep != nil {
		for _, at := range o.keptAt {
			s.keptAt = append(s.keptAt, s.classified+at)
		}
	}
	s.classified += o.classified
	if o.events.len() >= eventBlockLen/4 {
		s.absorbRuns(o, s.events.len(), offset)
		s.events.adopt(&o.events)
	} else {
		s.absorbFolding(o, offset)
	}
	kept := map[string]int{}
	for _, d := range s.diags {
		kept[d.Summary]++
	}
	for _, d := range o.diags {
		if kept[d.Summary] >= maxDiagsPerKind {
			continue
		}
		kept[d.Summary]++
		if d.Pos.Line > 0 {
			d.Pos.Line += offset
		}
		s.diags = append(s.diags, d)
	}
}
