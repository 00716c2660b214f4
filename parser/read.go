package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/slotaudit/slotaudit/flinklog"
)

// Result is everything read from a set of inputs. Its events are known by
// [EventRef]: [Result.All] walks them in position order (by input, inputs
// sorted by path, then by line; the input of a log-store export's origin
// in the order of the store's time, see export.go), and [Result.Event]
// gives one.
type Result struct {
	Files  Files
	Inputs []InputSummary
	// events are the events as read, in position order; a slot report
	// that repeats one of them word for word is not among them but in
	// repeats (see Repeat), grouped by the event, in the order of events.
	events      eventStore
	repeats     []Repeat
	heads       map[int32][]byte // the timestamp texts of each event's repeats (see Repeat.head)
	Diagnostics []Diagnostic
	rereader    *lineSource // see Text
	// fills are each input's ResourceID fills (stream.fillsRead), by its
	// place in Inputs: what ReadAgain completes the events read again with
	fills [][]resourceFill
	// spill is what the read spilled its events to (Options.Spill), and
	// spilled each input's events in it, by its place in Inputs (nil
	// where they cannot be read back from it)
	spill   *Spill
	spilled []*spillLog
	// readFrom is the path each of Files was read from, which Text reads
	// again: a caller may rename Files for its output
	readFrom []string
	maxLine  int // Options.MaxLine of the read: a line read again is cut where it was
	// Skipped names the directory entries not read (links that lead
	// nowhere or to directories, FIFOs, devices).
	Skipped []SkippedPath
	// identity is the scope of the join that named TaskManager lines from
	// the other components' lines, and joined its answer by segment
	// (ReadAgain names the events read again as it did); pending: the
	// join was deferred (Options.DeferIdentities) and not made yet
	identity *IdentityScope
	joined   map[IdentitySegment]string
	pending  bool
	// bounds: the time bounds of every event read, where the result holds
	// only some (SetTimeBounds)
	bounds *TimeBounds
	// logsOf counts the inputs read from each path (logsIn); stretches
	// are where each input's lines lie in a YARN aggregation or a kubectl
	// --prefix file (not gzipped), by its place in Inputs (ReadAgain reads
	// only them), and stretched what they cost by path
	logsOf    map[string]int
	stretches []logStretch
	stretched map[string]*stretchedFile
}

// Read reads every path (files, directories, "-" for stdin; gzip is
// detected) and returns the events and an account of every input. Only an
// input that cannot be opened at all is an error; what cannot be parsed is
// reported in the summaries and diagnostics.
func Read(paths []string, opts Options) (*Result, error) {
	return read(paths, opts, nil)
}

// read is Read; a Follower passes itself to read appended bytes only.
func read(paths []string, opts Options, fl *Follower) (*Result, error) {
	if opts.MaxLine <= 0 {
		opts.MaxLine = defaultMaxLine
	}
	if opts.MaxRecord <= 0 {
		opts.MaxRecord = defaultMaxRecord
	}
	forced, forceJSON, err := ResolveLayout(opts.Layout)
	if err != nil {
		return nil, err
	}
	if opts.FlinkVersion != "" {
		if !flagVersion.MatchString(opts.FlinkVersion) {
			return nil, fmt.Errorf("--flink-version %q: want MAJOR.MINOR or MAJOR.MINOR.PATCH, such as 1.14 or 1.9.1", opts.FlinkVersion)
		}
	}
	if fl != nil {
		paths = fl.present(paths)
	}
	if fl != nil || slices.Contains(paths, "-") {
		// what Keep may need to read again in full (namedByOthers) could
		// not be: standard input is read once, a follow reads on
		opts.Keep = nil
	}
	files, skipped, err := expandPaths(paths, opts.SortAs)
	if err != nil {
		return nil, err
	}
	if fl != nil {
		fl.forget(files)
	}
	workers := opts.workers()
	opts.files = len(files)
	opts.lone = len(files) == 1 && fl == nil
	if fl == nil {
		opts.ra = startReadAhead(files)
		defer opts.ra.stop()
	}
	results := make([]fileResult, len(files))
	var wg sync.WaitGroup
	jobs := make(chan int)
	for w := 0; w < min(workers, len(files)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if fl != nil {
					if fr, ok := fl.readFile(files[i], &opts, forced, forceJSON); ok {
						results[i] = fr
						fl.dropWhole(files[i]) // read in pieces from now on: the same content
						continue
					}
				}
				if fr, ok := readFileChunked(files[i], &opts, forced, forceJSON); ok {
					results[i] = fr
				} else if fr, ok := readFileSharded(files[i], &opts, forced, forceJSON); ok {
					results[i] = fr
				} else {
					results[i] = readFile(files[i], &opts, forced, forceJSON)
				}
				if fl != nil {
					fl.noteWhole(files[i], results[i])
				}
			}
		}()
	}
	for i := range files {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if fl != nil {
		results = append(results, fl.retiredResults()...)
	}

	// A file that vanished since the walk, or whose gzip header is broken,
	// is lost like an unreadable one: named, and the rest is read.
	kept := results[:0]
	var firstErr error
	for _, fr := range results {
		if fr.err == nil {
			kept = append(kept, fr)
			continue
		}
		if firstErr == nil {
			firstErr = fr.err
		}
		var ie *InputError
		if errors.As(fr.err, &ie) {
			skipped = append(skipped, SkippedPath{Path: ie.Path, Reason: ie.Err.Error(), Lost: true})
		} else {
			return nil, fr.err
		}
	}
	if len(kept) == 0 && firstErr != nil {
		return nil, firstErr
	}
	results = kept
	deferred := false
	if opts.Keep != nil && opts.DeferIdentities && namedByOthers(results) {
		deferred = true
	} else if opts.Keep != nil && namedByOthers(results) {
		// joinIdentities names these TaskManager events from the other
		// components' lines about every AllocationID: it needs them all
		opts.Keep = nil
		return read(paths, opts, fl)
	}
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Path < skipped[j].Path })
	res := &Result{Skipped: skipped, maxLine: opts.MaxLine, spill: opts.Spill}
	total := 0
	for _, fr := range results {
		for _, st := range fr.streams {
			total += st.events.len()
		}
	}
	// The same log given twice (a copy under another name, a .gz of it) is
	// read once: the later input (in path order) keeps its summary, marked
	// as a duplicate, and contributes no events.
	settleContentKeys(results)
	firstWith := map[contentKey]string{}
	var pending []*repeatRun
	// byTime: the inputs whose events are in time order, not line order
	// (a log-store export's streams)
	var byTime map[int32]bool
	for _, fr := range results {
		base := int32(len(res.Files))
		dupOf := ""
		if fr.content.size > 0 {
			if first, ok := firstWith[fr.content]; ok {
				dupOf = first
			} else if len(fr.streams) > 0 {
				firstWith[fr.content] = fr.streams[0].sum.Path
			}
		}
		for _, st := range fr.streams {
			sum, diags := st.sum, st.diags
			if dupOf != "" {
				sum.DuplicateOf, sum.EventCount, sum.EventRecs = dupOf, 0, 0
				st.events, st.runs, st.runAt = eventBlocks{away: st.events.away}, nil, nil
				diags = []Diagnostic{{Pos: flinklog.Pos{File: sum.File, Line: 1}, Severity: "warning",
					Summary: "same content as " + dupOf + ": its events are counted once, from there"}}
			}
			sum.File += base
			if st.byTime {
				if byTime == nil {
					byTime = map[int32]bool{}
				}
				byTime[sum.File] = true
			}
			res.Files = append(res.Files, FileInfo{Path: sum.Path, Stream: sum.Stream})
			res.readFrom = append(res.readFrom, sum.Path)
			if res.logsOf == nil {
				res.logsOf = map[string]int{}
			}
			res.logsOf[sum.Path]++
			if sp := st.stretch; sp.state != stretchNone && !sum.Gzip {
				if res.stretches == nil {
					res.stretches = make([]logStretch, len(res.Inputs), len(res.Inputs)+1)
					res.stretched = map[string]*stretchedFile{}
				}
				res.stretches = append(res.stretches, sp)
				sf := res.stretched[sum.Path]
				if sf == nil {
					sf = &stretchedFile{}
					res.stretched[sum.Path] = sf
				}
				sf.add(sp)
			} else if res.stretches != nil {
				res.stretches = append(res.stretches, logStretch{})
			}
			res.Inputs = append(res.Inputs, sum)
			if dupOf == "" {
				res.fills = append(res.fills, st.fillsRead())
			} else {
				res.fills = append(res.fills, nil)
			}
			if res.spill != nil {
				sl := st.spill.done()
				if dupOf != "" || sl != nil && sl.n != sum.EventCount {
					sl = nil
				}
				res.spilled = append(res.spilled, sl)
			}
			h := &handover{base: base, fills: st.fills, fill: st.resourceFiller(), mark: st.markRuns(&pending)}
			st.events.drain(func(blk *eventBlock) {
				res.events.take(blk, fl == nil, h)
			})
			for i := range diags {
				diags[i].Pos.File += base
			}
			res.Diagnostics = append(res.Diagnostics, diags...)
		}
	}
	// Streams of one file interleave (YARN, kubectl --prefix): order by
	// position, unless they are in order already (sorting writes every
	// event out and packs it again). An export's stream keeps the time
	// order it was read in.
	res.events.seal()
	less := func(a, b flinklog.Pos) bool {
		if a.File != b.File || byTime == nil || !byTime[a.File] {
			return a.Less(b)
		}
		return false
	}
	sorted := true
	for i := 1; i < res.events.len() && sorted; i++ {
		sorted = !less(res.events.pos(i), res.events.pos(i-1))
	}
	if !sorted {
		evs := res.events.list()
		sort.SliceStable(evs, func(i, j int) bool { return less(evs[i].Pos, evs[j].Pos) })
		res.events = storeOf(evs)
	}
	res.placeRepeats(pending)
	if deferred {
		res.identity, res.pending = res.identityScope(), true
	} else {
		joinIdentities(res)
	}
	// A follow's streams' blocks, copied into res.events, are garbage now,
	// but a collection that ran during the copy saw them alive beside it,
	// and set the next heap goal at twice both: the model built next would
	// grow the heap to four times the events before collecting again.
	// Collected here, the goal follows what lives on. A collection costs a
	// marking of the live heap; it is only worth it when the events are
	// large, and only a follow copies them (eventStore).
	if fl != nil && total*eventSize >= collectAfterHandoff {
		runtime.GC()
	}
	return res, nil
}

// namedByOthers reports whether some TaskManager events of the read are
// left without a ResourceID of their own, for joinIdentities to find from
// other components' lines: an input named after its file, or events above
// a file's first banner that no line of it names (finish).
func namedByOthers(results []fileResult) bool {
	for _, fr := range results {
		for _, st := range fr.streams {
			if st.comps[flinklog.ComponentTM] == 0 {
				continue
			}
			if st.sum.ResourceIDSource == "file name" {
				return true
			}
			for _, f := range st.fills {
				if f.resource == "" {
					return true
				}
			}
		}
	}
	return false
}

// collectAfterHandoff: events of at least this many bytes make Read
// collect the streams' copies before it returns.
const collectAfterHandoff = 32 << 20

type fileResult struct {
	streams []*stream
	err     error
	// content identifies what was read (decompressed), to find the same
	// log given twice under different names.
	content contentKey
	path    string // the file a lazy content key is computed from
}

type contentKey struct {
	size int64
	sum  uint64
	// lazy: sum is not computed yet; the input is a regular uncompressed
	// file whose first size bytes settleContentKeys hashes if it must
	lazy bool
}

// settleContentKeys computes the content sums left lazy, but only for inputs
// whose size another input shares: nearly every log has a size of its own,
// and hashing every byte cost as much as reading it. An input whose sum
// cannot be computed (the file went away, or shrank) keeps a key of its own:
// it is never taken for another's duplicate.
func settleContentKeys(results []fileResult) {
	bySize := map[int64]int{}
	for _, fr := range results {
		if fr.content.size > 0 {
			bySize[fr.content.size]++
		}
	}
	for i := range results {
		c := &results[i].content
		if !c.lazy || c.size == 0 {
			continue
		}
		if bySize[c.size] > 1 {
			if sum, ok := hashFilePrefix(results[i].path, c.size); ok {
				c.sum, c.lazy = sum, false
				continue
			}
		}
		c.size = -int64(i) - 1 // unique, and never a duplicate
	}
}

// hashFilePrefix hashes the first size bytes of path as hashingReader does.
func hashFilePrefix(path string, size int64) (uint64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var h maphash.Hash
	h.SetSeed(contentSeed)
	n, err := io.Copy(&h, io.LimitReader(f, size))
	return h.Sum64(), err == nil && n == size
}

// contentSeed is fixed for the process: keys are compared within one run.
var contentSeed = maphash.MakeSeed()

// hashingReader hashes and counts what passes through it.
type hashingReader struct {
	r    io.Reader
	h    maphash.Hash
	size int64
	skip bool // count only
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	if !hr.skip {
		hr.h.Write(p[:n])
	}
	hr.size += int64(n)
	return n, err
}

// wrapper kinds
const (
	wrapNone       = ""
	wrapDocker     = "docker-json"
	wrapCRI        = "cri"
	wrapKubePrefix = "kubectl-prefix"
	wrapKubeTS     = "kubectl-timestamps"
	wrapYARN       = "yarn"
)

type fileReader struct {
	path      string
	opts      *Options
	forced    *Layout
	forceJSON bool
	gz        bool

	wrapper string
	kubeTS  bool // kubectl --prefix output that also has --timestamps
	// reread: the input is a regular file, read as it is (no gzip, no
	// lone-CR line ends), that Result.Text can read again by line; its
	// unwrapped streams let their events' texts go (eventBlocks.away)
	reread  bool
	emit    *emitter // set by Result.ReadAgain: its streams hand their blocks over
	streams []*stream
	byName  map[string]*stream
	main    *stream // the stream called "", once it exists

	// joining of partial lines (CRI "P", Docker pieces without "\n")
	partial      []byte
	partialStart int64
	partialLines int
	partialOpen  bool

	// YARN aggregated log state
	yarnContainer  string
	yarnCur        *stream
	yarnOther      bool // the current log is another shard's (yarnCur is nil)
	yarnInContents bool
	pendingFraming int
	// lineStart, lineEnd: where the line being fed begins and ends in
	// the file; yarnAfter: where the last line of a log's contents ended
	// (logStretch)
	lineStart, lineEnd int64
	yarnAfter          lineMark

	// a shard of readFileSharded: it parses the lines of the streams it
	// owns (see owns), numbered by order of first appearance
	shard, shards int
	order         map[string]int32
}

func readFile(path string, opts *Options, forced *Layout, forceJSON bool) fileResult {
	return readFileEmitting(path, opts, forced, forceJSON, nil)
}

// readFileEmitting is readFile, its streams handing each block of events
// to emit as it fills (see eventBlocks.emit) when emit is set.
func readFileEmitting(path string, opts *Options, forced *Layout, forceJSON bool, emit *emitter) fileResult {
	r, closer, gz, err := openInput(path, opts.Stdin, opts.ra, opts.Progress)
	if err != nil {
		return fileResult{err: err}
	}
	defer func() { _ = closer() }()
	_, crLines := r.(crReader)
	if emit != nil {
		r = stoppable{r, &emit.stop}
	}
	// A regular uncompressed file can be hashed later, and only if it
	// must be (settleContentKeys); anything else is hashed as it is read.
	lazy := !gz && path != "-" && isRegularFile(path)
	// A lone input is no other's duplicate: its content is not hashed
	// (hashing stdin cost a sixth of reading it).
	hr := &hashingReader{r: r, skip: lazy || opts.lone}
	hr.h.SetSeed(contentSeed)
	fr := &fileReader{path: path, opts: opts, forced: forced, forceJSON: forceJSON, gz: gz, byName: map[string]*stream{}, emit: emit}
	readers := pieceReaders
	if emit != nil && emit.lean {
		readers = leanReaders
	}
	br := readers.get()
	br.Reset(hr)
	// A log-store export is told by its first bytes (its lines may be one
	// JSON document, or longer than a line may be).
	// (A layout given applies to the records' messages.)
	head, _ := br.Peek(exportHeadSize)
	if kind := detectExport(head); kind != "" {
		fr.wrapper = kind
		seekable := lazy && !hasLoneCR(head)
		lines, readErr := fr.readExport(br, kind, seekable)
		fr.finishFile(lines, readErr)
		return fr.result(hr, lazy, path)
	}
	fr.reread = lazy && !crLines && (emit == nil || !emit.texts)
	lr := newLineReader(br, opts.MaxLine)
	_, readErr := fr.readLines(lr)
	fr.finishFile(lr.no, readErr)
	if crLines {
		// a lone CR ends a line here: a stretch read of the bytes
		// would cut other lines (and its places are of the lines cut so)
		for _, st := range fr.streams {
			st.stretch = logStretch{}
		}
	}
	// (an export's reader is not given back: its decoders are not held to
	// copying what they keep, as the line reader's are)
	br.Reset(nil)
	readers.put(br)
	return fr.result(hr, lazy, path)
}

// result is what readFile read, with the content key of what hr read.
func (fr *fileReader) result(hr *hashingReader, lazy bool, path string) fileResult {
	if lazy {
		return fileResult{streams: fr.streams, content: contentKey{size: hr.size, lazy: true}, path: path}
	}
	return fileResult{streams: fr.streams, content: contentKey{size: hr.size, sum: hr.h.Sum64()}}
}

// readLines feeds every line lr gives, the wrapper decided on the first
// 64 of them; it returns how many lines that decision saw and the read
// error that stopped it, if any (not io.EOF).
func (fr *fileReader) readLines(lr *lineReader) (looked int, readErr error) {
	var look []pline
	var lookTrunc []bool
	var lookEnd []int64
	for len(look) < 64 {
		line, trunc, err := lr.next()
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		look = append(look, pline{no: lr.no, text: append([]byte(nil), line...), phys: 1})
		lookTrunc = append(lookTrunc, trunc)
		lookEnd = append(lookEnd, lr.off)
	}
	fr.wrapper, fr.kubeTS = detectWrapper(look)
	for i, p := range look {
		fr.lineStart, fr.lineEnd = fr.lineEnd, lookEnd[i]
		fr.feed(p.no, p.text, lookTrunc[i])
	}
	if readErr == nil && len(look) == 64 {
		readErr = fr.feedLines(lr)
	}
	return len(look), readErr
}

// feedLines feeds the rest of lr's lines; it returns the read error that
// stopped it, if any (not io.EOF).
func (fr *fileReader) feedLines(lr *lineReader) error {
	for {
		// the text hot path: the complete lines already in the buffer, in
		// one go (see feedBlock)
		if st := fr.main; fr.wrapper == wrapNone && st != nil && lr.started && st.blockReady() {
			if n := lr.br.Buffered(); n > 0 {
				buf, _ := lr.br.Peek(n)
				if end := bytes.LastIndexByte(buf, '\n'); end >= 0 && int64(end+1) < maxLines-lr.no {
					if used := st.feedBlock(buf[:end+1], &lr.no, lr.max); used > 0 {
						_, _ = lr.br.Discard(used)
						lr.off += int64(used)
						continue
					}
				}
				// Nothing read: the buffer holds one record, which
				// feedBlock leaves for more of it to come. The buffer
				// takes more behind it if it can (at the end of the input,
				// or with one record the size of the buffer, the record is
				// read line by line below).
				if n < lr.br.Size() {
					if more, _ := lr.br.Peek(lr.br.Size()); len(more) > n {
						continue
					}
				}
			}
		}
		start := lr.off
		line, trunc, err := lr.next()
		if err != nil {
			if err != io.EOF {
				return err
			}
			return nil
		}
		fr.lineStart, fr.lineEnd = start, lr.off
		fr.feed(lr.no, line, trunc)
	}
}

// finishFile ends the read of every stream after the file's last line,
// lines of them, or after readErr stopped it.
func (fr *fileReader) finishFile(lines int64, readErr error) {
	fr.flushPartial()
	if len(fr.streams) == 0 {
		fr.stream("", "", "") // an empty input still gets a summary
	}
	if fr.pendingFraming > 0 {
		last := fr.streams[len(fr.streams)-1]
		last.sum.Framing += fr.pendingFraming
		last.sum.Lines += fr.pendingFraming
		if last.stretch.state == stretchOne {
			last.stretch.to = -1 // (the framing lines are its)
		}
	}
	for _, st := range fr.streams {
		st.finish()
		st.sum.Wrapper = fr.wrapper
		st.sum.Gzip = fr.gz
		// (its block being filled goes to the spill as the file ends, not
		// when the read does: a directory of hundreds of logs held one
		// open block each, and its index, until then)
		st.spill.flush()
	}
	if readErr != nil {
		msg := readErr.Error()
		if errors.Is(readErr, io.ErrUnexpectedEOF) {
			msg = "input ends unexpectedly (truncated gzip?)"
		}
		last := fr.streams[len(fr.streams)-1]
		last.sum.Err = fmt.Sprintf("read stopped after line %d: %s", lines, msg)
		last.diag(lines, "warning", "read error: "+msg+"; the lines before it were read", nil)
	}
}

func isRegularFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

func (fr *fileReader) stream(name, hint, hintSrc string) *stream {
	if name == "" && fr.main != nil {
		return fr.main // every line of an unwrapped file: no map lookup
	}
	if st, ok := fr.byName[name]; ok {
		return st
	}
	idx := int32(len(fr.streams))
	if fr.shards > 0 {
		idx = fr.order[name]
	}
	st := newStream(idx, FileInfo{Path: fr.path, Stream: name}, fr.opts, fr.forced, fr.forceJSON)
	// the reference read keeps every text, for the tests that compare
	// the texts read back with it
	st.events.away = fr.reread && fr.wrapper == wrapNone && name == "" && !fr.opts.Reference
	if st.spill != nil {
		st.spill.away = st.events.away
	}
	st.classifier.SumText = st.events.away // no text made to be dropped
	st.nameHint, st.nameHintSrc = hint, hintSrc
	if fr.emit != nil {
		st.events.emit = fr.emit.block(name)
		if fr.emit.lean {
			st.events.limit = leanBlock
		}
	}
	fr.byName[name] = st
	fr.streams = append(fr.streams, st)
	if name == "" {
		fr.main = st
	}
	return st
}

func (fr *fileReader) feed(no int64, b []byte, trunc bool) {
	switch fr.wrapper {
	case wrapYARN:
		fr.feedYARN(no, b, trunc)
	case wrapKubePrefix:
		name, rest, ok := cutKubePrefix(b)
		if !ok {
			if fr.owns(nil) {
				fr.stream("", "", "").line(no, b, 1, trunc)
			}
			return
		}
		if !fr.owns(name) {
			return
		}
		if fr.kubeTS {
			rest = cutTimestamp(rest)
		}
		st := fr.podStream(name)
		st.line(no, rest, 1, trunc)
		fr.podLine(st, no)
	case wrapKubeTS:
		fr.stream("", "", "").line(no, cutTimestamp(b), 1, trunc)
	case wrapCRI:
		content, partial, ok := cutCRI(b)
		if !ok {
			fr.flushPartial()
			fr.stream("", "", "").line(no, b, 1, trunc)
			return
		}
		fr.join(no, content, !partial, trunc)
	case wrapDocker:
		var d struct {
			Log *string `json:"log"`
		}
		if err := json.Unmarshal(b, &d); err != nil || d.Log == nil {
			fr.flushPartial()
			fr.stream("", "", "").line(no, b, 1, trunc)
			return
		}
		content := *d.Log
		complete := strings.HasSuffix(content, "\n")
		content = strings.TrimRight(content, "\r\n")
		fr.join(no, []byte(content), complete, trunc)
	default:
		fr.stream("", "", "").line(no, b, 1, trunc)
	}
}

// join reassembles a line that the container runtime split into pieces.
func (fr *fileReader) join(no int64, piece []byte, complete, trunc bool) {
	if !fr.partialOpen {
		if complete {
			fr.stream("", "", "").line(no, piece, 1, trunc)
			return
		}
		fr.partialOpen, fr.partialStart, fr.partialLines = true, no, 0
		fr.partial = fr.partial[:0]
	}
	if len(fr.partial)+len(piece) <= fr.opts.MaxLine {
		fr.partial = append(fr.partial, piece...)
	} else {
		trunc = true
	}
	fr.partialLines++
	if complete {
		fr.flushPartialTrunc(trunc)
	}
}

func (fr *fileReader) flushPartial() { fr.flushPartialTrunc(false) }

func (fr *fileReader) flushPartialTrunc(trunc bool) {
	if !fr.partialOpen {
		return
	}
	fr.partialOpen = false
	fr.stream("", "", "").line(fr.partialStart, fr.partial, fr.partialLines, trunc)
}

// detectWrapper looks at the first lines for container-runtime and
// aggregation wrappers around the log lines.
func detectWrapper(look []pline) (string, bool) {
	var n, docker, cri, kprefix, kts, kprefixTS int
	for _, p := range look {
		b := p.text
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		n++
		if bytes.HasPrefix(b, []byte("Container: container_")) || bytes.HasPrefix(b, []byte("LogType:")) {
			return wrapYARN, false
		}
		switch {
		case bytes.HasPrefix(b, []byte(`{"log":`)):
			docker++
		case isCRILine(b):
			cri++
		case bytes.HasPrefix(b, []byte("[pod/")):
			kprefix++
			if _, rest, ok := cutKubePrefix(b); ok && len(cutTimestamp(rest)) < len(rest) {
				kprefixTS++
			}
		case len(cutTimestamp(b)) < len(b):
			kts++
		}
	}
	switch {
	case n == 0:
		return wrapNone, false
	case docker*2 > n:
		return wrapDocker, false
	case cri*2 > n:
		return wrapCRI, false
	case kprefix*2 > n:
		return wrapKubePrefix, kprefixTS*2 > kprefix
	case kts*2 > n:
		return wrapKubeTS, false
	}
	return wrapNone, false
}

// cutTimestamp strips a leading RFC 3339 timestamp with a zone and a blank
// (kubectl logs --timestamps); it returns b unchanged when there is none.
func cutTimestamp(b []byte) []byte {
	sp := bytes.IndexByte(b, ' ')
	if sp < 20 || sp > 40 {
		return b
	}
	ts := b[:sp]
	if ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' {
		return b
	}
	last := ts[len(ts)-1]
	if last != 'Z' && !bytes.ContainsAny(ts[19:], "+-") {
		return b
	}
	if _, ok := parseISOTime(string(ts)); !ok {
		return b
	}
	return b[sp+1:]
}

func isCRILine(b []byte) bool {
	_, _, ok := cutCRI(b)
	return ok
}

// cutCRI parses "<RFC3339Nano> <stdout|stderr> <F|P> <content>".
func cutCRI(b []byte) (content []byte, partial bool, ok bool) {
	rest := cutTimestamp(b)
	if len(rest) == len(b) {
		return nil, false, false
	}
	for _, s := range []string{"stdout ", "stderr "} {
		if bytes.HasPrefix(rest, []byte(s)) {
			rest = rest[len(s):]
			if len(rest) >= 1 && (rest[0] == 'F' || rest[0] == 'P') && (len(rest) == 1 || rest[1] == ' ') {
				partial = rest[0] == 'P'
				if len(rest) > 2 {
					return rest[2:], partial, true
				}
				return nil, partial, true
			}
		}
	}
	return nil, false, false
}

// podStream is the stream of the kubectl --prefix name ("pod/<pod>/<container>").
// The name is a string only when the stream is new: the lines of a
// multi-gigabyte file allocated one each.
func (fr *fileReader) podStream(name []byte) *stream {
	if st, ok := fr.byName[string(name)]; ok {
		return st
	}
	n := string(name)
	pod := strings.TrimPrefix(n, "pod/")
	if i := strings.IndexByte(pod, '/'); i >= 0 {
		pod = pod[:i]
	}
	return fr.stream(n, pod, "pod")
}

// cutKubePrefix parses kubectl logs --prefix: "[pod/<pod>/<container>] line".
func cutKubePrefix(b []byte) ([]byte, []byte, bool) {
	if !bytes.HasPrefix(b, []byte("[pod/")) {
		return nil, nil, false
	}
	end := bytes.IndexByte(b, ']')
	if end < 0 {
		return nil, nil, false
	}
	rest := b[end+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return b[1:end], rest, true
}

// feedYARN splits `yarn logs -applicationId` output into one stream per
// container log file.
func (fr *fileReader) feedYARN(no int64, b []byte, trunc bool) {
	framing := func() {
		fr.pendingFraming++
	}
	switch {
	case bytes.HasPrefix(b, []byte("Container: ")):
		f := strings.Fields(string(b[len("Container: "):]))
		if len(f) > 0 {
			fr.yarnContainer = f[0]
		}
		fr.yarnInContents, fr.yarnCur, fr.yarnOther = false, nil, false
		framing()
		return
	case bytes.HasPrefix(b, []byte("LogType:")):
		name := fr.yarnContainer + "/" + strings.TrimSpace(string(b[len("LogType:"):]))
		fr.yarnInContents, fr.yarnCur, fr.yarnOther = false, nil, false
		if fr.owns([]byte(name)) {
			fr.yarnCur = fr.stream(name, fr.yarnContainer, "container")
			fr.openStretch(fr.yarnCur)
		} else {
			fr.yarnOther = true
		}
		framing()
		return
	case bytes.HasPrefix(b, []byte("End of LogType:")):
		fr.yarnInContents = false
		framing()
		return
	}
	if !fr.yarnInContents {
		if bytes.HasPrefix(b, []byte("Log Contents:")) || bytes.HasPrefix(b, []byte("LogContents:")) {
			fr.yarnInContents = fr.yarnCur != nil || fr.yarnOther
			framing()
			return
		}
		if fr.yarnCur == nil && !fr.yarnOther || isYARNHeader(b) {
			framing()
			return
		}
	}
	if fr.yarnOther {
		// a line of a log another shard reads: it counts the framing
		// before it, as this shard would have
		fr.pendingFraming = 0
		fr.contentsLine(nil, no)
		return
	}
	st := fr.yarnCur
	if st == nil {
		framing()
		return
	}
	if fr.pendingFraming > 0 {
		st.sum.Framing += fr.pendingFraming
		st.sum.Lines += fr.pendingFraming
		fr.pendingFraming = 0
	}
	st.line(no, b, 1, trunc)
	fr.contentsLine(st, no)
}

func isYARNHeader(b []byte) bool {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return true
	}
	for _, p := range []string{"LogAggregationType:", "Log Upload Time:", "LogLastModifiedTime:", "LogLength:", "=====", "*****"} {
		if bytes.HasPrefix(t, []byte(p)) {
			return true
		}
	}
	return false
}

// eventSize is what one event takes in Result's slice.
var eventSize = int(reflect.TypeFor[flinklog.Event]().Size())
