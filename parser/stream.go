package parser

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
)

// InputSummary accounts for one logical input (a file, or one stream inside
// a file). Lines = Framing + Stray + the lines of all Records, and Records =
// the records that gave Events + Irrelevant + Unparsed + Duplicates: nothing
// read is left out of the sums.
type InputSummary struct {
	File   int32
	Path   string
	Stream string
	Layout string // detected or forced layout; "headerless" when none was found
	// Wrapper: docker-json, cri, kubectl-prefix, kubectl-timestamps, yarn,
	// a log-store export's name (elasticsearch-search, loki-query-range,
	// …: see exportKinds), or ""
	Wrapper string
	Gzip    bool

	Components       []flinklog.Component
	ResourceID       string
	ResourceIDSource string // banner, registration, container, pod, file name
	FlinkVersion     string // "1.14.4", or a range such as "1.11-1.12"
	VersionSource    string // banner, inferred, flag
	VersionMin       flinklog.Version
	VersionMax       flinklog.Version
	Slots            int // taskmanager.numberOfTaskSlots, 0 if not logged

	Lines       int
	RecordLines int // lines that belong to records (headers, continuations, JSON objects)
	Records     int
	EventCount  int // events emitted
	EventRecs   int // records that gave at least one event
	Irrelevant  int
	Unparsed    int
	Stray       int // lines outside any record (stdout noise, garbage)
	Framing     int // wrapper lines (YARN headers, an export's JSON structure or CSV header)
	// Duplicates: records of a log-store export that repeat an earlier
	// record of the same origin exactly (time and text): pages that
	// overlap. Counted among Records, read once.
	Duplicates  int
	Truncated   int // lines or records cut at the size limit
	First, Last flinklog.Time
	Err         string // a read error that stopped this input early
	// DuplicateOf names an earlier input with the same content: this one's
	// events were not counted again.
	DuplicateOf string
	// Fetched: the input was fetched from a log store (nil for files).
	Fetched *Fetched
}

// Diagnostic is something the parser could not read, with where and why.
type Diagnostic struct {
	Pos      flinklog.Pos
	Severity string // "warning" or "info"
	Summary  string
	Detail   string // the offending text, capped
}

// Options control reading.
type Options struct {
	Layout       string // force a layout: built-in name, "json", or a conversion pattern
	FlinkVersion string // force the Flink version of every input
	MaxLine      int    // longest physical line kept (default 1 MiB)
	MaxRecord    int    // most continuation bytes kept per record (default 1 MiB)
	Workers      int    // files (and pieces of a large file) read in parallel (default: number of CPUs)
	// Reference turns off every shortcut (fast header decoding, skipping
	// records that cannot hold evidence, decoding only some members of a
	// JSON record): the slow path that the fast one is tested against.
	Reference bool
	// ChunkSize is the least piece one large file is cut into for reading
	// on several cores (default 8 MiB; a file under twice that is read
	// in one piece).
	ChunkSize int
	Stdin     interface{ Read([]byte) (int, error) }
	// Progress, when set, has every byte read from an input file added to
	// it (compressed bytes of a gzip), for a progress display.
	Progress *atomic.Int64
	// Keep, when set, says which events the caller wants: the others are
	// classified and counted (every summary is what a full read gives) but
	// not kept, so that a read for one allocation or job holds what it
	// asks for, not a month of logs. The read keeps more than Keep asks
	// for what its own account needs (the meta events, the first event of
	// every input and its first TaskManager event), so a caller filters
	// again. Where the read must name a TaskManager from other
	// components' lines (a log named only by its file, or a rotated log's
	// head), it reads everything again without Keep: the answer is always
	// the full read's. It must not depend on an event's time. A read of
	// standard input, or a follow's, keeps every event (neither can be
	// read again).
	Keep func(*flinklog.Event) bool
	// DeferIdentities: where a read with Keep would read everything again
	// to name a TaskManager from the other components' lines, it does not;
	// the join is left to the caller (Result.IdentitiesPending), who makes
	// it from the inputs read again (a fold) and hands it back
	// (Result.ApplyIdentities).
	DeferIdentities bool
	// Spill, when set, is where the read writes every event it
	// classifies, whatever Keep keeps (see Spill): the Result's ReadAgain
	// then decodes an input's events from it instead of parsing its file
	// again. The caller closes it once the Result is no longer read
	// again.
	Spill *Spill
	// KeepTexts: the events ReadAgain hands over carry their texts (a
	// read lets a plain file's events' texts go, and Result.Text reads
	// them back by position)
	KeepTexts bool
	// LeanReadAgain: ReadAgain holds less of its input at once (a 32 KiB
	// buffer, blocks of 128 events, 32 handed over at a time), for a
	// caller that reads many inputs again at once
	LeanReadAgain bool
	// OnlyKinds, when set, makes ReadAgain hand over only the events of
	// the kinds it holds, each with its number among all of the input's
	// events (InputReader.NextNumbered): a caller that reads a few kinds
	// of a log dense with others (the skew's estimate) neither writes the
	// others out nor merges them.
	OnlyKinds map[flinklog.Kind]bool

	// SortAs names the paths read in place of others (a copy of standard
	// input, a follow's copies of its inputs): each sorts among the inputs
	// where the name it is shown under would, so that the inputs are
	// numbered as a read of the originals numbers them.
	SortAs map[string]string

	ra *readAhead // set by read for its workers
	// files is how many files read reads: the cores a file has to itself
	// decide how many shards read it (shardsPerFile)
	files int
	// lone: the read has one input and no earlier reads of a follow, so
	// that input is no other's duplicate
	lone bool
	// noHints: the read looks for no version hints (a read again: its
	// summary is the first read's, and hints change nothing else)
	noHints bool
	// noFold: every slot report is an event of its own, none a Repeat (a
	// read again hands each over where its line is)
	noFold bool
}

const (
	defaultMaxLine   = 1 << 20
	defaultMaxRecord = 1 << 20
	detectLines      = 256 // lines buffered to detect a layout
	maxDiagsPerKind  = 5
)

type pline struct {
	no   int64
	text []byte
	phys int // physical lines this logical line was joined from (container runtimes split long lines)
	// a line of a log-store export's record (see stream.exp), and the
	// record's own time
	exp uint8
	ext flinklog.Time
	rec int32
}

// What a line of a log-store export is (stream.exp).
const (
	expNone  uint8 = iota // a line of a log file
	expStart              // the first line of an export record's message
	expCont               // a further line of it: part of the record the first began
)

// record is one log record in assembly: what Classify reads, and what
// only reading needs to know of it. Byte slices are owned by the record.
type record struct {
	flinklog.Record
	headerless bool
	truncated  bool  // continuation lines beyond the record limit were skipped
	rec        int32 // Pos.Rec of its events
}

// stream turns the lines of one logical input into records and events.
type stream struct {
	idx int32
	// spill: what the stream spills (Options.Spill), nil without
	spill *spillLog
	// stretch: where a YARN log's lines lie in its file
	stretch logStretch
	opts    *Options
	forced  *Layout
	forceJ  bool

	sum     InputSummary
	layout  *Layout
	fast    *flinkHeader // nil unless layout is Flink's own and Options.Reference is off
	isJSON  bool
	decided bool
	pending []pline
	recBuf  record // the buffers every text record reuses
	// classifier holds what classifying remembers across records (the
	// matches of recent slot reports)
	classifier flinklog.Classifier

	rec      *record
	recLines int // physical lines of rec so far
	jsonBuf  []byte
	jsonAt   int64
	jsonN    int         // physical lines in jsonBuf
	jsonScan jsonScan    // the balance of jsonBuf so far
	jsonObj  jsonMembers // the members of one-line JSON records, reused
	jsonMaps jsonMaps    // and the maps of the objects nested in them

	lastTOD int64
	day     int64
	seenTOD bool

	ndcYes, ndcNo int
	hints         flinklog.VersionHints
	// the version is given (--flink-version): what hints say is never read
	versionGiven bool
	// recInfo: the logger of the record finishRecord finishes next, when
	// the caller knows it (set for that record alone)
	recInfo     *loggerInfo
	comps       map[flinklog.Component]int
	tmIDs       []string // from "Starting TaskManager with ResourceID"
	registered  []string // TaskManagers named by RM/JM lines of the same file
	nameHint    string   // container / pod name from a wrapper
	nameHintSrc string

	// A log-store export's stream (readExport): its records were put in
	// time order, so its events are not in line order (byTime; nothing is
	// folded, see Repeat); exp and ext say what the line being read is and
	// the time its export record has, for a message without one.
	byTime bool
	exp    uint8
	ext    flinklog.Time
	extRec int32 // the record's place among those beginning on its line (Pos.Rec)

	loggers    map[string]*loggerInfo
	lastLogger []byte
	lastInfo   *loggerInfo

	// the text hot path (feedBlock): the record in progress where it lies
	// in the block, and the header fields decoded
	lz     lazyRec
	fields *fieldCache

	events    eventBlocks
	runs      []repeatRun        // repeated slot reports (see fold)
	runAt     map[int32]int      // the run of each event that has one
	headBytes int                // timestamp texts the runs hold
	folds     map[foldKey]folded // reports that later ones may repeat
	fills     []resourceFill     // set by finish, applied by resourceFiller
	diags     []Diagnostic
	diagKind  map[string]int
	// keptFirst, keptFirstTM: the stream has kept its first event other
	// than a meta one, and its first TaskManager one (see kept); Keep is
	// handed keepScratch. (Last: the fields read for every record stay
	// together.)
	keptFirst, keptFirstTM bool
	keepScratch            flinklog.Event
	// classified counts the events classified, kept or not; keptAt is the
	// number of each event kept, when Keep is set, so that fillsRead can
	// say where each fill begins in the events a full read would keep.
	classified int
	keptAt     []int
}

// hintsAlways makes streams collect version hints even when the version
// is given, for the test that shows the result is the same.
var hintsAlways = false

func newStream(idx int32, info FileInfo, opts *Options, forced *Layout, forceJSON bool) *stream {
	s := &stream{idx: idx, opts: opts, forced: forced, forceJ: forceJSON, comps: map[flinklog.Component]int{}, diagKind: map[string]int{}}
	s.classifier.Reference = opts.Reference
	s.sum.File, s.sum.Path, s.sum.Stream = idx, info.Path, info.Stream
	_, given := flinklog.ParseVersion(opts.FlinkVersion)
	s.versionGiven = (given || opts.noHints) && !hintsAlways
	if opts.Spill != nil {
		s.spill = newSpillLog(opts.Spill)
	}
	return s
}

func (s *stream) diag(line int64, sev, summary string, detail []byte) {
	s.diagKind[summary]++
	if s.diagKind[summary] > maxDiagsPerKind {
		return
	}
	s.diags = append(s.diags, Diagnostic{Pos: flinklog.Pos{File: s.idx, Line: line}, Severity: sev, Summary: summary, Detail: capString(string(detail), 200)})
}

// capString caps a diagnostic's detail at n bytes, marking the cut.
func capString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// line feeds one line (already unwrapped) to the stream; phys is the number
// of physical lines it was joined from, normally 1.
func (s *stream) line(no int64, b []byte, phys int, truncated bool) {
	s.sum.Lines += phys
	if truncated {
		s.sum.Truncated++
		s.diag(no, "warning", fmt.Sprintf("line longer than %d bytes truncated", s.opts.MaxLine), b[:min(len(b), 120)])
	}
	if bytes.IndexByte(b, 0x1b) >= 0 {
		b = stripANSI(b)
	}
	if !s.decided && (s.forced != nil || s.forceJ) {
		// A layout given (--layout, or a piece of a file whose first
		// lines decided it) is not detected: the first lines need not be
		// held (each copied; 4 % of a chatty gigabyte read in pieces).
		s.decide()
	}
	if !s.decided {
		s.pending = append(s.pending, pline{no, append([]byte(nil), b...), phys, s.exp, s.ext, s.extRec})
		if len(s.pending) >= detectLines {
			s.decide()
		}
		return
	}
	s.process(no, b, phys)
}

func (s *stream) decide() {
	s.decided = true
	switch {
	case s.forceJ:
		s.isJSON = true
	case s.forced != nil:
		s.layout = s.forced
	default:
		s.layout, s.isJSON = detectLayout(s.pending)
	}
	switch {
	case s.isJSON:
		s.sum.Layout = "json"
	case s.layout != nil:
		s.sum.Layout = s.layout.Name
	default:
		s.sum.Layout = "headerless"
		dated := 0
		for _, p := range s.pending {
			if len(p.text) > 0 && p.text[0] >= '0' && p.text[0] <= '9' {
				dated++
			}
		}
		if dated*2 > len(s.pending) && len(s.pending) > 0 {
			at := s.pending[0].no
			s.diag(at, "warning", "most lines start like log records but match no known layout; records are read without time, level or logger. For a custom layout pass --layout with its log4j conversion pattern", s.pending[0].text)
		}
	}
	if s.layout != nil && !s.opts.Reference {
		s.fast = newFlinkHeader(s.layout)
	}
	pend := s.pending
	s.pending = nil
	exp, ext, rec := s.exp, s.ext, s.extRec
	for _, p := range pend {
		s.exp, s.ext, s.extRec = p.exp, p.ext, p.rec
		s.process(p.no, p.text, p.phys)
	}
	s.exp, s.ext, s.extRec = exp, ext, rec
}

// detectLayout scores every built-in layout on the first lines and picks the
// one that decodes the most; JSON wins when most record-like lines are JSON.
func detectLayout(lines []pline) (*Layout, bool) {
	// JSON-like: an object start or end, or a "key": member of a
	// pretty-printed object. JSON needs most non-blank lines to be JSON-like,
	// so one stray "{" in a text file does not turn it into JSON.
	jsonLike, nonBlank := 0, 0
	for _, p := range lines {
		t := bytes.TrimSpace(p.text)
		if len(t) == 0 {
			continue
		}
		nonBlank++
		// Jackson's pretty printer (log4j JsonLayout, compact=false) writes
		// "key" : value and nested objects as { "k" : v }.
		switch {
		case t[0] == '{' || t[0] == '}' || t[0] == '[' || t[0] == ']':
			jsonLike++
		case t[0] == '"' && (bytes.Contains(t, []byte(`":`)) || bytes.Contains(t, []byte(`" :`))):
			jsonLike++
		}
	}
	var best *Layout
	bestScore := 0
	for _, l := range builtinLayouts {
		n := 0
		for _, p := range lines {
			if len(p.text) > 0 && p.text[0] >= '0' && p.text[0] <= '9' {
				if _, ok := l.match(p.text); ok {
					n++
				}
			}
		}
		if n > bestScore {
			best, bestScore = l, n
		}
	}
	if jsonLike > bestScore && jsonLike*2 > nonBlank {
		return nil, true
	}
	return best, false
}

func (s *stream) process(no int64, b []byte, phys int) {
	if s.jsonBuf != nil {
		s.jsonContinue(no, b, phys)
		return
	}
	if s.exp == expCont && s.rec != nil {
		// the store holds the message as one record: its lines are the
		// record's, whatever they look like
		s.appendBody(no, b, phys)
		return
	}
	// the first byte after blanks (bytes.TrimLeft built a set on every
	// line: 3-4 % of a noisy log's CPU profile)
	if at := skipBlanks(b, 0); at < len(b) && b[at] == '{' && (s.isJSON || s.layout == nil || !s.layoutMatches(b)) {
		s.jsonStart(no, b, phys)
		return
	}
	if s.layout != nil {
		if h, ok := s.matchHeader(b); ok {
			s.startRecord(no, b, phys, h)
			if h.ndcSeen {
				s.ndcYes++
			} else {
				s.ndcNo++
			}
			return
		}
	}
	// Another layout in the same file (a restart with another config, a
	// concatenation of files)?
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		for _, l := range builtinLayouts {
			if l == s.layout {
				continue
			}
			if h, ok := l.match(b); ok {
				s.diag(no, "info", "record in a different layout than the rest of the input ("+l.Name+")", b)
				s.startRecord(no, b, phys, h)
				return
			}
		}
	}
	switch {
	case isContinuation(b):
		if s.rec == nil {
			// A file cut mid-record: keep what it holds as a headerless record.
			s.startHeaderless(no, b, phys)
			return
		}
		s.appendBody(no, b, phys)
	case s.layout == nil && !s.isJSON:
		if len(bytes.TrimSpace(b)) == 0 {
			s.stray(no, b, phys)
			return
		}
		s.startHeaderless(no, b, phys)
	default:
		s.stray(no, b, phys)
	}
}

// matchHeader decodes a header with the input's layout, through the fast
// decoder of Flink's own layout when it is that one.
func (s *stream) matchHeader(b []byte) (header, bool) {
	if s.fast != nil {
		if h, ok, decided := s.fast.match(b); decided {
			return h, ok
		}
	}
	return s.layout.match(b)
}

func (s *stream) layoutMatches(b []byte) bool {
	if s.layout == nil {
		return false
	}
	_, ok := s.layout.match(b)
	return ok
}

func (s *stream) stray(no int64, b []byte, phys int) {
	s.sum.Stray += phys
	if len(bytes.TrimSpace(b)) > 0 {
		s.diag(no, "info", "line outside any log record (stdout output or garbage)", b)
	}
}

// isContinuation recognises the lines that belong to the record above: stack
// frames, "Caused by:", exception headers, indented or TAB-led lines of
// multi-line messages (slot reports, resource summaries).
func isContinuation(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case ' ', '\t', '}', ']', ')':
		return true
	}
	for _, p := range [][]byte{[]byte("Caused by:"), []byte("Suppressed:"), []byte("... "), []byte("Missing resources:"), []byte("Current resources:"), []byte("at ")} {
		if bytes.HasPrefix(b, p) {
			return true
		}
	}
	return flinklog.LooksLikeExceptionHeader(b)
}

// reuse hands out the stream's record buffer, emptied: a record is
// classified (and everything kept from it copied) before the next starts,
// so one set of byte buffers serves every text record.
func (s *stream) reuse() *record {
	r := &s.recBuf
	*r = record{Record: flinklog.Record{Logger: r.Logger[:0], Msg: r.Msg[:0], Body: r.Body[:0], BodyAt: r.BodyAt[:0], First: r.First[:0]}}
	return r
}

func (s *stream) startRecord(no int64, line []byte, phys int, h header) {
	s.finishRecord()
	r := s.reuse()
	t := h.time
	if t.IsZero() && s.exp != expNone {
		t = s.ext // a layout without a date: the export record's time
	}
	r.Start, r.End, r.Time, r.Level, r.rec = no, no, s.adjustTime(t), levelString(h.level), s.extRec
	r.Logger = append(r.Logger, h.logger...)
	r.Msg = append(r.Msg, h.msg...)
	r.First = append(r.First, line[:min(len(line), flinklog.MaxTextLen+1)]...)
	r.MsgAt = len(line) - len(h.msg) // the message ends the line in every layout but a rare custom one; see flinklog.Record.MsgAt
	r.LevelAt = offsetIn(line, h.level)
	s.rec, s.recLines = r, phys
}

func (s *stream) startHeaderless(no int64, line []byte, phys int) {
	s.finishRecord()
	r := s.reuse()
	r.Start, r.End, r.headerless, r.rec = no, no, true, s.extRec
	if s.exp != expNone {
		r.Time = s.ext // a message without a header: the export record's time
	}
	r.Msg = append(r.Msg, line...)
	r.First = append(r.First, line[:min(len(line), flinklog.MaxTextLen+1)]...)
	s.rec, s.recLines = r, phys
}

// offsetIn returns where part lies in b, when it is a non-empty piece of
// b's own memory; else 0.
func offsetIn(b, part []byte) int {
	if len(part) == 0 || cap(part) > cap(b) {
		return 0
	}
	i := cap(b) - cap(part)
	if i+len(part) > len(b) || &b[i] != &part[0] {
		return 0
	}
	return i
}

// ownLevel returns level in memory of its own, without allocating for the
// usual ones.
func ownLevel(level string) string {
	switch level {
	case "INFO":
		return "INFO"
	case "DEBUG":
		return "DEBUG"
	case "WARN":
		return "WARN"
	case "ERROR":
		return "ERROR"
	case "TRACE":
		return "TRACE"
	}
	return strings.Clone(level)
}

// levelString converts a level without allocating for the usual ones.
func levelString(b []byte) string { return ownLevel(string(b)) }

func (s *stream) appendBody(no int64, b []byte, phys int) {
	r := s.rec
	r.End = no
	s.recLines += phys
	if r.truncated {
		return
	}
	if len(r.Body)+len(b)+1 > s.opts.MaxRecord {
		r.truncated = true
		s.sum.Truncated++
		s.diag(no, "warning", fmt.Sprintf("record longer than %d bytes: the rest of it is not read", s.opts.MaxRecord), nil)
		return
	}
	if len(r.Body) > 0 {
		r.Body = append(r.Body, '\n')
	}
	r.Body = append(r.Body, b...)
	r.BodyAt = append(r.BodyAt, no)
}

func (s *stream) adjustTime(t flinklog.Time) flinklog.Time {
	if t.Kind != flinklog.TimeOfDay {
		return t
	}
	const dayN = int64(24 * time.Hour)
	// A time of day far below the previous one crossed midnight; a small step
	// back is thread interleaving, not a new day.
	if s.seenTOD && t.N < s.lastTOD-dayN/2 {
		s.day++
	}
	s.seenTOD = true
	s.lastTOD = t.N
	return flinklog.Time{Kind: flinklog.TimeOfDay, N: s.day*dayN + t.N}
}

func (s *stream) jsonStart(no int64, b []byte, phys int) {
	// Nearly every line of a JSON log is one whole object: decoded once,
	// without the balance scan below, which would find it complete.
	if !s.opts.Reference {
		if exception, ok := fastJSONObject(b, &s.jsonObj, &s.jsonMaps); ok {
			jr, err := recordFromObject(&s.jsonObj, exception)
			s.jsonDecoded(no, no, phys, jr, err, b)
			return
		}
	}
	var scan jsonScan
	if scan.feed(b) || scan.complete() {
		s.jsonRecord(no, no, phys, b, b)
		return
	}
	s.jsonBuf = append(make([]byte, 0, len(b)*4), b...)
	s.jsonAt, s.jsonN, s.jsonScan = no, phys, scan
}

// jsonContinue collects a pretty-printed (multi-line) JSON object.
func (s *stream) jsonContinue(no int64, b []byte, phys int) {
	// A whole log record on its own line means the object collected so far
	// was cut off (a truncated write, a hand-edited excerpt). A whole record,
	// not just valid JSON: a nested member of a pretty-printed object ("{ "class"
	// : ... }") is valid JSON too.
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		if _, err := s.decodeJSON(t); err == nil {
			s.finishJSONBuf(no - 1)
			s.process(no, b, phys)
			return
		}
	}
	if len(s.jsonBuf)+len(b) > s.opts.MaxRecord {
		s.finishJSONBuf(no)
		s.process(no, b, phys)
		return
	}
	s.jsonBuf = append(s.jsonBuf, '\n')
	s.jsonBuf = append(s.jsonBuf, b...)
	s.jsonN += phys
	// the newline too: it ends an escape inside a string
	broken := s.jsonScan.feed([]byte{'\n'}) || s.jsonScan.feed(b)
	if broken || s.jsonScan.complete() {
		buf := s.jsonBuf
		s.jsonBuf = nil
		first := buf
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		s.jsonRecord(s.jsonAt, no, s.jsonN, buf, first)
	}
}

// finishJSONBuf ends an unterminated JSON object (the file or a limit cut it).
func (s *stream) finishJSONBuf(last int64) {
	if s.jsonBuf == nil {
		return
	}
	buf := s.jsonBuf
	s.jsonBuf = nil
	first := buf
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	s.finishRecord()
	s.sum.Records++
	s.sum.Unparsed++
	s.sum.RecordLines += s.jsonN
	// The extent as a count, not as line numbers: a piece of a file read in
	// pieces numbers its lines from its own start (Pos is shifted when the
	// pieces are joined; text is not).
	lines := "1 line"
	if n := last - s.jsonAt + 1; n != 1 {
		lines = fmt.Sprintf("%d lines", n)
	}
	s.diag(s.jsonAt, "warning", "JSON object starting here is cut off ("+lines+"); counted as unparsed", first)
}

func (s *stream) jsonRecord(start, end int64, lines int, obj, first []byte) {
	jr, err := s.decodeJSON(obj)
	if err != nil && end > start {
		// A hand-wrapped object: a line break inside a string. Pretty-printed
		// JSON reads the same without its line breaks, so retry joined.
		if jr2, err2 := s.decodeJSON(bytes.ReplaceAll(obj, []byte("\n"), nil)); err2 == nil {
			jr, err = jr2, nil
		}
	}
	s.jsonDecoded(start, end, lines, jr, err, first)
}

// decodeJSON decodes a JSON record, the slow way in Options.Reference.
func (s *stream) decodeJSON(b []byte) (jsonRecord, error) {
	if s.opts.Reference {
		return decodeJSONRecordSlow(b)
	}
	return decodeJSONRecord(b)
}

// jsonDecoded turns a decoded JSON record (or its error) into a record.
func (s *stream) jsonDecoded(start, end int64, lines int, jr jsonRecord, err error, first []byte) {
	s.finishRecord()
	if err != nil {
		s.sum.Records++
		s.sum.Unparsed++
		s.sum.RecordLines += lines
		s.diag(start, "warning", "unreadable JSON record: "+err.Error(), first)
		return
	}
	// The buffers text records reuse: a record's bytes were copied anew
	// for every JSON record, a quarter of all a JSON log's reading allocated
	// (Classify copies what it keeps).
	r := s.reuse()
	if jr.time.IsZero() && s.exp != expNone {
		jr.time = s.ext // an object without a time: the export record's
	}
	// the record's strings may share the line's bytes (fastJSONObject): the
	// level is kept in events, so it gets its own
	r.Start, r.End, r.Time, r.Level, r.rec = start, end, s.adjustTime(jr.time), ownLevel(jr.level), s.extRec
	r.Logger = append(r.Logger, jr.logger...)
	msg, rest, _ := strings.Cut(jr.msg, "\n")
	r.Msg = append(r.Msg, msg...)
	r.Body = append(r.Body, rest...)
	if jr.thrown != "" {
		if rest != "" {
			r.Body = append(r.Body, '\n')
		}
		r.Body = append(r.Body, jr.thrown...)
	}
	r.First = append(r.First, first[:min(len(first), flinklog.MaxTextLen+1)]...)
	s.rec, s.recLines = r, lines
	s.finishRecord()
}

// finishRecord classifies the record in progress.
func (s *stream) finishRecord() {
	r, info := s.rec, s.recInfo
	s.recInfo = nil
	if r == nil {
		return
	}
	s.rec = nil
	s.sum.Records++
	s.sum.RecordLines += s.recLines
	s.recLines = 0
	if !plausibleTime(r.Time) {
		// One absurd timestamp must not move a process's clock (every
		// skew, order and duration rests on them) or change a verdict.
		s.sum.Unparsed++
		s.diag(r.Start, "warning", "implausible timestamp (before 2010, after 2099 or out of range): the record's events are not used; counted as unparsed", r.First)
		return
	}
	if !r.Time.IsZero() {
		if s.sum.First.IsZero() {
			s.sum.First = r.Time
		}
		s.sum.Last = r.Time
	}
	if info == nil {
		info = s.logger(r.Logger)
	}
	if !s.versionGiven {
		s.hints.Note(&r.Record, &info.LoggerInfo)
	}
	// The first event is held until the record is done: a record that
	// gives one slot report may repeat an earlier one (fold).
	n := 0
	var first flinklog.Event
	// (Keep is looked at only when set: a call an event cost a read
	// without it 9 % on a TaskManager's log)
	keep := s.opts.Keep
	firstAt := s.classified
	status, why := s.classifier.Classify(&r.Record, &info.LoggerInfo, func(ev flinklog.Event) {
		ev.Pos.File, ev.Pos.Rec = s.idx, r.rec
		s.comps[ev.Component]++
		s.noteEvent(&ev)
		if s.spill != nil {
			s.spill.add(ev)
		}
		switch n {
		case 0:
			first = ev
		case 1:
			if keep == nil || s.keptAs(&first, firstAt) {
				s.events.add(first)
			}
			fallthrough
		default:
			if keep == nil || s.keptAs(&ev, firstAt+n) {
				s.events.add(ev)
			}
		}
		n++
	})
	s.classified += n
	// (a slot report not kept is not folded either: its repeats, word for
	// word the same, are not kept)
	if n == 1 && (keep == nil || s.keptAs(&first, firstAt)) {
		if s.byTime || !s.fold(&first) {
			s.events.add(first)
		} else if keep != nil {
			// a repeat is no event of the stream's: the events kept are
			// numbered among every event without it (fillsRead)
			s.keptAt = s.keptAt[:len(s.keptAt)-1]
		}
	}
	// Only which components an input holds matters: noted once per logger.
	if info.Component != flinklog.ComponentUnknown && !info.counted {
		s.comps[info.Component]++
		info.counted = true
	}
	switch status {
	case flinklog.StatusEvents:
		s.sum.EventRecs++
		s.sum.EventCount += n
	case flinklog.StatusUnparsed:
		s.sum.Unparsed++
		s.diag(r.Start, "warning", why+"; counted as unparsed", r.First)
	default:
		s.sum.Irrelevant++
	}
}

// kept reports whether the stream keeps ev (Options.Keep). What the
// stream's own account reads is always kept: the meta events (version,
// identity, slots), and its first events, for the ResourceID given to the
// TaskManager events above its first banner (finish) and for whether it
// held any evidence at all. A piece of a file keeps its own firsts too:
// more than needed, never less.
// keptAs is kept, for the stream's event number at (counting every event
// classified), noting the number of an event kept.
func (s *stream) keptAs(ev *flinklog.Event, at int) bool {
	if !s.kept(ev) {
		return false
	}
	s.keptAt = append(s.keptAt, at)
	return true
}

func (s *stream) kept(ev *flinklog.Event) bool {
	switch {
	case ev.Kind == flinklog.KindMetaVersion, ev.Kind == flinklog.KindMetaTMID, ev.Kind == flinklog.KindMetaSlots:
		return true
	case !s.keptFirst || !s.keptFirstTM && ev.Component == flinklog.ComponentTM:
		s.keptFirst = true
		s.keptFirstTM = s.keptFirstTM || ev.Component == flinklog.ComponentTM
		return true
	}
	// (Keep sees a copy: handed to a function value, ev itself would
	// escape, and every event of every read would be put on the heap)
	s.keepScratch = *ev
	return s.opts.Keep(&s.keepScratch)
}

func (s *stream) noteEvent(ev *flinklog.Event) {
	switch ev.Kind {
	case flinklog.KindMetaTMID:
		s.tmIDs = appendUnique(s.tmIDs, ev.Resource)
	case flinklog.KindRMTMRegister, flinklog.KindRMTMClose, flinklog.KindJMDeploy:
		// TaskManagers that the RM or JM in this file talk about: in a
		// MiniCluster file, a single one is the TaskManager of the file.
		s.registered = appendUnique(s.registered, ev.Resource)
	case flinklog.KindMetaSlots:
		s.sum.Slots = ev.Count
	case flinklog.KindMetaVersion:
		if s.sum.VersionSource != "flag" && ev.Version != "" {
			s.sum.FlinkVersion = ev.Version
			s.sum.VersionSource = "banner"
		}
	}
}

func appendUnique(list []string, v string) []string {
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// finish flushes the stream and settles per-input facts: identity, version,
// components. TaskManager events get the TaskManager's ResourceID here,
// because the line that names it may come after them (or never).
func (s *stream) finish() {
	if !s.decided {
		s.decide()
	}
	if s.jsonBuf != nil {
		s.finishJSONBuf(s.jsonAt)
	}
	s.finishRecord()
	s.release()
	if s.sum.Layout == "flink" || s.sum.Layout == "flink-time" {
		switch {
		case s.ndcYes > 0 && s.ndcYes >= s.ndcNo:
			s.sum.Layout = strings.Replace(s.sum.Layout, "flink", "log4j2", 1)
		case s.ndcNo > 0:
			s.sum.Layout = strings.Replace(s.sum.Layout, "flink", "log4j1", 1)
		}
	}
	for c := range s.comps {
		if c != flinklog.ComponentUnknown {
			s.sum.Components = append(s.sum.Components, c)
		}
	}
	sort.Slice(s.sum.Components, func(i, j int) bool { return s.sum.Components[i] < s.sum.Components[j] })

	s.settleIdentity()
	s.settleVersion()
	// In line order: a long line's warning is raised as it is read, which
	// can be before the records above it are classified.
	sort.SliceStable(s.diags, func(i, j int) bool { return s.diags[i].Pos.Line < s.diags[j].Pos.Line })
	// Each TaskManager event belongs to the ResourceID of the process that
	// logged it: the latest "Starting TaskManager with ResourceID" above it
	// (a standalone TaskManager restarts under a new one), else the input's.
	// Events are not changed here but where they are handed over
	// (resourceFiller): a follow shares them with the next poll, when a
	// ResourceID logged later may change what this one decides.
	current := s.sum.ResourceID
	if len(s.tmIDs) > 0 {
		current = s.tmIDs[0]
	}
	// A file that begins in the middle of a process (rotated, cut) and
	// holds a banner further down: the lines above the banner belong to an
	// earlier process whose ResourceID the file never names. They are left
	// unnamed here, for the other components' lines to name (see
	// joinIdentities), rather than given the later process's.
	// (these walks read an event's kind, component and ResourceID where
	// it lies: written out, every event of a busy log was a tenth of a
	// read)
	for b, p := range s.events.walk {
		kind := b.kindOf(p)
		if kind == flinklog.KindMetaVersion || kind == flinklog.KindMetaTMID {
			break
		}
		if b.componentOf(p) == flinklog.ComponentTM && len(s.tmIDs) > 0 && !strings.HasPrefix(string(kind), "meta.") {
			current = ""
			break
		}
	}
	// For each banner, the ResourceID its process announces next, if it
	// does before another banner: found walking back from the end.
	announced := map[int]string{} // by the banner's index
	next := ""
	at := s.events.len()
	for b, p := range s.events.walkBackward {
		at--
		switch kind := b.kindOf(p); {
		case kind == flinklog.KindMetaTMID && b.strs[p.resource] != "":
			next = b.strs[p.resource]
		case kind == flinklog.KindMetaVersion:
			announced[at] = next
			next = ""
		}
	}
	s.fills = []resourceFill{{0, current}}
	i, named := 0, false
	for b, p := range s.events.walk {
		switch kind := b.kindOf(p); {
		case kind == flinklog.KindMetaTMID && b.strs[p.resource] != "":
			current, named = b.strs[p.resource], true
		case kind == flinklog.KindMetaVersion:
			// A banner opens a new process: it is the ResourceID the
			// process announces next, if it announces one. The file's first
			// process announcing none where later ones do (its line was
			// cut) is not taken for theirs: it is left for joinIdentities.
			// (A later one that has not named itself yet, in a follow,
			// stays with the process before until it does.)
			if id := announced[i]; id != "" {
				current = id
			} else if len(s.tmIDs) > 0 && !named {
				current = ""
			}
		}
		if last := &s.fills[len(s.fills)-1]; current != last.resource {
			s.fills = append(s.fills, resourceFill{i, current})
		}
		i++
	}
}

// fillsRead returns the stream's fills with each one's from counted among
// the events a read without Keep keeps (Result.ReadAgain applies them to
// the events it reads again), nil where that cannot be said: a read with
// Keep that folded a slot report it kept.
func (s *stream) fillsRead() []resourceFill {
	if s.opts.Keep == nil {
		if len(s.runs) > 0 {
			return nil // (numbered among the events as read, repeats apart)
		}
		return s.fills
	}
	if len(s.keptAt) != s.events.len() {
		return nil
	}
	out := make([]resourceFill, len(s.fills))
	for k, f := range s.fills {
		out[k] = f
		if f.from > 0 {
			out[k].from = s.keptAt[f.from]
		}
	}
	return out
}

// resourceFill: from event index from on, TaskManager events that name no
// ResourceID get resource (until the next fill).
type resourceFill struct {
	from     int
	resource string
}

// resourceFiller returns what completes the stream's events as they are
// handed over, in order (i is the event's index in the stream, and never
// goes back): the ResourceID settled by finish.
func (s *stream) resourceFiller() func(b *eventBlock, p *packedEvent, i int) {
	k := 0
	// the number of the last fill's ResourceID in the last block filled:
	// a closed block finds a string by looking through its table, once
	// for each of its TaskManager events before
	var last struct {
		b *eventBlock
		k int
		n uint16
	}
	return func(b *eventBlock, p *packedEvent, i int) {
		for k+1 < len(s.fills) && s.fills[k+1].from <= i {
			k++
		}
		if k < len(s.fills) && fillsIn(b, p, s.fills[k].resource) {
			if last.b != b || last.k != k {
				last.b, last.k, last.n = b, k, b.str16(s.fills[k].resource)
			}
			p.resource = last.n
		}
	}
}

// fillsIn reports whether a fill of resource names the TaskManager of p:
// a TaskManager event that names none.
func fillsIn(b *eventBlock, p *packedEvent, resource string) bool {
	return p.resource == 0 && resource != "" && b.componentOf(p) == flinklog.ComponentTM
}

// fillsOf returns the stream's fills that apply to its events [at,
// at+n), their from made relative to at.
func fillsOf(fills []resourceFill, at, n int) []resourceFill {
	var out []resourceFill
	for k, f := range fills {
		if k+1 < len(fills) && fills[k+1].from <= at || f.from >= at+n {
			continue // over before the block, or begun after it
		}
		out = append(out, resourceFill{max(f.from-at, 0), f.resource})
	}
	return out
}

func (s *stream) settleIdentity() {
	hasTM := s.comps[flinklog.ComponentTM] > 0
	switch {
	case len(s.tmIDs) == 1:
		s.sum.ResourceID, s.sum.ResourceIDSource = s.tmIDs[0], "banner"
	case len(s.tmIDs) > 1:
		// A restarted TaskManager under a new ResourceID in one file: events
		// keep the id each one printed; the input names the last.
		s.sum.ResourceID, s.sum.ResourceIDSource = s.tmIDs[len(s.tmIDs)-1], "banner (last of several)"
		s.diag(0, "info", fmt.Sprintf("the file holds %d TaskManager ResourceIDs (restarts?): %s", len(s.tmIDs), strings.Join(s.tmIDs, ", ")), nil)
	case hasTM && s.nameHint != "":
		s.sum.ResourceID, s.sum.ResourceIDSource = s.nameHint, s.nameHintSrc
	case hasTM && len(s.registered) == 1 && s.comps[flinklog.ComponentRM] > 0:
		// MiniCluster: one TaskManager registered at the RM in the same file.
		s.sum.ResourceID, s.sum.ResourceIDSource = s.registered[0], "registration"
	case hasTM:
		base := filepath.Base(s.sum.Path)
		if s.sum.Stream != "" {
			base = filepath.Base(s.sum.Stream)
		}
		for _, ext := range []string{".gz", ".log", ".txt", ".json"} {
			base = strings.TrimSuffix(base, ext)
		}
		if base != "" && base != "-" {
			s.sum.ResourceID, s.sum.ResourceIDSource = base, "file name"
		}
	}
}

// loggerInfo is what a record's logger alone says (flinklog.LoggerInfo),
// remembered per logger name: a log has a few hundred loggers and millions
// of records. Past maxLoggerCache names (hostile input) it stops
// remembering rather than grow.
type loggerInfo struct {
	flinklog.LoggerInfo
	// counted: the component has been noted for the input
	counted bool
}

func newLoggerInfo(logger []byte) *loggerInfo {
	return &loggerInfo{LoggerInfo: flinklog.NewLoggerInfo(logger)}
}

func (s *stream) logger(logger []byte) *loggerInfo {
	// Records of one logger come in runs (a Kafka consumer's fetches).
	if s.lastInfo != nil && bytes.Equal(logger, s.lastLogger) {
		return s.lastInfo
	}
	info, ok := s.loggers[string(logger)]
	if !ok {
		info = newLoggerInfo(logger)
		if s.loggers == nil {
			s.loggers = map[string]*loggerInfo{}
		}
		if len(s.loggers) < maxLoggerCache {
			s.loggers[string(logger)] = info
		}
	}
	s.lastLogger, s.lastInfo = append(s.lastLogger[:0], logger...), info
	return info
}

const maxLoggerCache = 4096

// release lets go of what only reading needed (record buffers sized by the
// largest record seen, the report cache's maps, the logger cache): a file
// read in pieces keeps up to 64 finished pieces until it joins them.
func (s *stream) release() {
	s.recBuf = record{}
	s.classifier.Forget()
	s.folds = nil // a piece joined later folds into what the joined stream remembers
	s.loggers, s.lastLogger, s.lastInfo = nil, nil, nil
	s.fields = nil            // the fields' logger entries are the cache's
	s.jsonObj = jsonMembers{} // its strings may hold on to a line buffer
	s.jsonMaps = jsonMaps{}
}

// stripANSI removes terminal escape sequences (colour codes of the Kubernetes
// operator's layout, or hostile input) before a line is matched.
func stripANSI(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != 0x1b {
			out = append(out, c)
			continue
		}
		if i+1 < len(b) && b[i+1] == '[' {
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		if i+1 < len(b) && b[i+1] == ']' { // OSC ... BEL or ST
			j := i + 2
			for j < len(b) && b[j] != 0x07 && !(b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\') {
				j++
			}
			if j < len(b) && b[j] == 0x1b {
				j++
			}
			i = j
			continue
		}
		i++ // a two-byte escape
	}
	return out
}

// The window of plausible absolute timestamps: Flink's slot logs begin in
// 2018; 2100 leaves room and stays far from int64 nanosecond overflow.
var (
	minPlausible = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	maxPlausible = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
)

// implausible is the time a decoder gives a timestamp it read but that no
// clock could have printed (out of range, overflowing).
var implausible = flinklog.Time{Kind: flinklog.TimeUTC, N: math.MinInt64}

// plausibleTime reports whether an absolute time lies in the window;
// relative and time-of-day times, and no time, are not judged.
func plausibleTime(t flinklog.Time) bool {
	if t.Kind != flinklog.TimeUTC && t.Kind != flinklog.TimeLocal {
		return true
	}
	return t.N >= minPlausible && t.N < maxPlausible
}
