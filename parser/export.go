package parser

// This file reads log-store exports: what an operator downloads from the
// store a deployment ships its logs to (Elasticsearch/OpenSearch, Loki,
// VictoriaLogs, CloudWatch Logs, Google Cloud Logging, Datadog) and
// attaches to a ticket. An export is detected by its content, never by its
// name (detectExport); each of its records names where it came from (a
// pod, a container, a host and file, a log stream: its origin), and the
// records of one origin become one stream of the file, as kubectl --prefix
// pods do. Each record's message is handed to the stream as the log line(s)
// it is (a raw Flink line with its own timestamp) or, when the store kept a
// structured record (ECS: message, log.level and log.logger apart), as the
// JSON object it is: layouts, JSON layouts and multi-line records work on
// them unchanged.
//
// A store gives records out of order and pages overlap: the records of
// each origin are put in order of the store's time (then of a second key
// the store keeps, Filebeat's log.offset, then of their place in the
// export), and a record that repeats an earlier one of its origin exactly
// (time and text) is counted as a duplicate and read once. An export's
// events are therefore in time order, not line order, within their stream
// (stream.byTime); each keeps as its line the physical line of the export
// where its record begins.
//
// Memory: a first pass reads the export as it comes (JSON documents
// through a streaming token walk, one hit or entry decoded at a time;
// NDJSON and CSV one record at a time) and keeps, per record, its origin,
// time, place and where its bytes are (exportRec, 48 bytes). A second
// pass reads each record's bytes again, origin by origin in time order,
// and hands its message over. An input that cannot be read twice (gzip,
// standard input, lone-CR line ends) keeps each record's message from the
// first pass instead.

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/slotaudit/slotaudit/flinklog"
)

// The exports read, by the wrapper name the inputs table shows.
const (
	wrapESSearch    = "elasticsearch-search" // _search, scroll, PIT responses: hits.hits[]._source
	wrapESNDJSON    = "es-ndjson"            // one document a line: elasticdump's {"_index",…,"_source"} or bare _source objects
	wrapKibanaCSV   = "kibana-csv"           // Kibana / OpenSearch Dashboards CSV report: a header row of field names
	wrapLokiRange   = "loki-query-range"     // /loki/api/v1/query_range and query: data.result[].stream / values
	wrapLogcliJSONL = "logcli-jsonl"         // logcli query --output jsonl
	wrapVictoria    = "victorialogs-jsonl"   // VictoriaLogs /select/logsql/query
	wrapCWEvents    = "cloudwatch-events"    // aws logs filter-log-events / get-log-events
	wrapCWS3        = "cloudwatch-s3"        // a CloudWatch Logs export to S3: <time> <message> lines
	wrapGcloudJSON  = "gcloud-json"          // gcloud logging read --format json: an array of LogEntry
	wrapDatadogJSON = "datadog-json"         // Datadog Logs Search API (v2 events search) responses
	wrapDatadogCSV  = "datadog-csv"          // Datadog Log Explorer CSV export
)

// exportKinds lists the export wrappers, for documentation and tests.
var exportKinds = []string{wrapESSearch, wrapESNDJSON, wrapKibanaCSV, wrapLokiRange, wrapLogcliJSONL, wrapVictoria,
	wrapCWEvents, wrapCWS3, wrapGcloudJSON, wrapDatadogJSON, wrapDatadogCSV}

// isExport reports whether a wrapper is a log-store export.
func isExport(wrapper string) bool { return slices.Contains(exportKinds, wrapper) }

// exportHeadSize is how much of an input detectExport is given.
const exportHeadSize = 64 << 10

var bom = []byte("\xef\xbb\xbf")

// exportItem is one record of an export as its decoder reads it.
type exportItem struct {
	origin exportOrigin
	time   flinklog.Time // the store's time of the record; zero when it has none
	tie    int64         // a second order the store keeps (Filebeat's log.offset); 0 when none
	text   string        // the message: log line(s), or a JSON object when obj
	obj    bool
	bad    string // why the record cannot be read: it is counted as unparsed
	detail []byte // for bad: the record's text, capped
}

// exportOrigin names where records came from: the stream's name in the
// file, and (for a pod) the name a TaskManager's ResourceID may be.
type exportOrigin struct {
	name, hint, hintSrc string
}

// exportRec is a record the first pass keeps: enough to put it in order,
// find its bytes again and account for its lines (48 bytes).
type exportRec struct {
	t     int64 // the store's time (Time.N); a record without one sorts after the one before it
	tie   int64
	line  int64 // the physical line where it begins
	start int64 // its bytes in the file (for the second pass); the index of its message in payloads when the input cannot be read twice
	size  int32
	phys  int32 // physical lines it is counted for (lines no record before it claimed)
	rec   int32 // its place among the records that begin on its line (Pos.Rec)
	kind  flinklog.TimeKind
	obj   bool
}

// exportBad is a record counted as unparsed, with why.
type exportBad struct {
	line   int64
	phys   int
	why    string
	detail []byte
}

// exportStream gathers one origin's records.
type exportStream struct {
	origin   exportOrigin
	recs     []exportRec
	payloads []string // the records' messages, when the input cannot be read twice
	bad      []exportBad
	framing  int   // framing lines counted with it (those before its records)
	lastT    int64 // the time of its last timed record
}

// exportReader is the first pass over an export, and the second.
type exportReader struct {
	fr   *fileReader
	kind string
	keep bool  // keep each record's message: the input cannot be read twice
	base int64 // bytes before what the decoders read (a byte-order mark)
	// extract reads one record from its bytes again (second pass)
	extract func([]byte) exportItem
	limit   int // the longest record line (NDJSON, S3 lines) read

	byName  map[string]*exportStream
	claimed int64 // the last physical line counted for a record
	last    *exportStream
	// the line the last record began on, and how many began there before
	// it: records of a JSON document on one line are told apart (Pos.Rec)
	lastFirst int64
	onLine    int32
	notes     []exportBad // info diagnostics (a page without records)
}

// readExport reads an export of the given kind from br, which is at the
// input's first byte; seekable says that path can be read again at the
// offsets br's bytes have (an uncompressed regular file). It returns the
// physical lines read and the read error that stopped it, if any.
func (fr *fileReader) readExport(br *bufio.Reader, kind string, seekable bool) (int64, error) {
	x := &exportReader{fr: fr, kind: kind, keep: !seekable, byName: map[string]*exportStream{},
		limit: fr.opts.MaxLine + fr.opts.MaxRecord}
	if b, _ := br.Peek(len(bom)); bytes.Equal(b, bom) {
		_, _ = br.Discard(len(bom))
		x.base = int64(len(bom))
	}
	var lines int64
	var err error
	switch kind {
	case wrapESNDJSON, wrapLogcliJSONL, wrapVictoria:
		lines, err = x.readNDJSON(br)
	case wrapKibanaCSV, wrapDatadogCSV:
		lines, err = x.readCSV(br)
	case wrapCWS3:
		lines, err = x.readS3Lines(br)
	default:
		lines, err = x.readDocs(br)
	}
	x.finish(lines, seekable)
	return lines, err
}

// stream returns the records of an origin.
func (x *exportReader) stream(o exportOrigin) *exportStream {
	es, ok := x.byName[o.name]
	if !ok {
		es = &exportStream{origin: o}
		x.byName[o.name] = es
	}
	return es
}

// add keeps a record that begins on physical line first and ends on last,
// bytes [start, end) of the file. Its lines no record claimed before are
// its own, unless it is a JSON value (json): its message, a JSON string,
// is on one line, the others are the export's structure (framing).
func (x *exportReader) add(it exportItem, first, last, start, end int64, json bool) {
	es := x.stream(it.origin)
	x.last = es
	if gap := first - x.claimed - 1; gap > 0 {
		es.framing += int(gap) // the export's own structure before it
	}
	phys := int64(0)
	if last > x.claimed {
		phys = last - max(first, x.claimed+1) + 1
		x.claimed = last
	}
	if json && phys > 1 {
		es.framing += int(phys - 1)
		phys = 1
	}
	if it.bad != "" {
		es.bad = append(es.bad, exportBad{line: first, phys: int(phys), why: it.bad, detail: capBytes(it.detail, 200)})
		return
	}
	if first == x.lastFirst {
		x.onLine++
	} else {
		x.lastFirst, x.onLine = first, 0
	}
	r := exportRec{line: first, rec: x.onLine, start: start, size: int32(min(end-start, 1<<31-1)), phys: int32(phys), kind: it.time.Kind, tie: it.tie, obj: it.obj}
	if it.time.IsZero() {
		r.t = es.lastT
	} else {
		r.t, es.lastT = it.time.N, it.time.N
	}
	if x.keep {
		r.start = int64(len(es.payloads))
		es.payloads = append(es.payloads, it.text)
	}
	es.recs = append(es.recs, r)
}

// broken counts physical lines first to last, which the export's
// decoder could not read as records, as one unparsed record.
func (x *exportReader) broken(first, last int64, why string, detail []byte) {
	o := exportOrigin{}
	if x.last != nil {
		o = x.last.origin
	}
	first = max(first, x.claimed+1)
	if last < first {
		// nothing left unclaimed (a one-line document): a record of its own
		// on the line it was read on
		first, last = x.claimed, x.claimed
	}
	x.add(exportItem{origin: o, bad: why, detail: detail}, first, last, 0, 0, false)
}

func capBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// finish ends the first pass (lines: the physical lines read) and makes
// the streams: one per origin, in the order of their names (the order of
// records in an export, shuffled by the store, does not decide it), each
// fed its records in time order, duplicates counted and left out.
func (x *exportReader) finish(lines int64, seekable bool) {
	if trailing := lines - x.claimed; trailing > 0 {
		es := x.last
		if es == nil {
			es = x.stream(exportOrigin{})
		}
		es.framing += int(trailing)
	}
	var f *os.File
	if seekable {
		var err error
		if f, err = os.Open(x.fr.path); err != nil {
			f = nil // read below as records that cannot be read again
		} else {
			defer f.Close()
		}
	}
	names := make([]string, 0, len(x.byName))
	for n := range x.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	streams := make([]*stream, len(names))
	for k, n := range names {
		es := x.byName[n]
		st := x.fr.stream(es.origin.name, es.origin.hint, es.origin.hintSrc)
		st.byTime = true
		if k == 0 {
			for _, nb := range x.notes {
				st.diag(nb.line, "info", nb.why, nb.detail)
			}
		}
		st.sum.Framing += es.framing
		st.sum.Lines += es.framing
		for _, b := range es.bad {
			st.exportUnparsed(b.line, b.phys, b.why, b.detail)
		}
		streams[k] = st
	}
	// The origins' streams are fed on every core: each reads its own
	// records (ReadAt shares the file).
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(x.fr.opts.workers(), len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for k := range work {
				x.feed(x.byName[names[k]], streams[k], f, &buf)
			}
		}()
	}
	for k := range names {
		work <- k
	}
	close(work)
	wg.Wait()
}

// feed gives st the records of es in time order, duplicates counted and
// left out.
func (x *exportReader) feed(es *exportStream, st *stream, f *os.File, buf *[]byte) {
	slices.SortStableFunc(es.recs, func(a, b exportRec) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.tie, b.tie)
	})
	var group dupGroup
	dups, firstDup := 0, int64(0)
	for i := range es.recs {
		r := &es.recs[i]
		var text string
		obj := r.obj
		if x.keep {
			text = es.payloads[r.start]
			es.payloads[r.start] = ""
		} else {
			var why string
			text, obj, why = x.reread(f, r, buf)
			if why != "" {
				st.exportUnparsed(r.line, int(r.phys), why, nil)
				continue
			}
		}
		if group.seen(r, text) {
			st.exportDuplicate(r.line, int(r.phys))
			if dups == 0 {
				firstDup = r.line
			}
			dups++
			continue
		}
		t := flinklog.Time{}
		if r.kind != flinklog.TimeNone {
			t = flinklog.Time{Kind: r.kind, N: r.t}
		}
		st.exportRecord(r.line, r.rec, text, int(r.phys), t, obj)
	}
	if dups > 0 {
		st.diag(firstDup, "info", fmt.Sprintf("%d records of this origin repeat an earlier one exactly (same time and text: export pages that overlap); each is read once", dups), nil)
	}
	es.recs, es.payloads = nil, nil
}

// reread reads a record's bytes again and decodes its message.
func (x *exportReader) reread(f *os.File, r *exportRec, buf *[]byte) (string, bool, string) {
	const changed = "the record could not be read again (the file changed while it was read?)"
	if f == nil {
		return "", false, changed
	}
	if cap(*buf) < int(r.size) {
		*buf = make([]byte, r.size)
	}
	b := (*buf)[:r.size]
	if n, err := f.ReadAt(b, r.start); n < len(b) && err != nil {
		return "", false, changed
	}
	it := x.extract(b)
	if it.bad != "" {
		return "", false, changed
	}
	return it.text, it.obj, ""
}

// dupGroup finds exact duplicates among records of the same time (and
// tie): the texts of the current time's records.
type dupGroup struct {
	t, tie int64
	timed  bool
	texts  []string
	set    map[string]bool // past a few texts
}

func (g *dupGroup) seen(r *exportRec, text string) bool {
	timed := r.kind != flinklog.TimeNone
	if !timed || !g.timed || r.t != g.t || r.tie != g.tie {
		g.t, g.tie, g.timed, g.texts, g.set = r.t, r.tie, timed, g.texts[:0], nil
		if timed {
			g.texts = append(g.texts, text)
		}
		return false
	}
	if g.set != nil {
		if g.set[text] {
			return true
		}
		g.set[text] = true
		return false
	}
	if slices.Contains(g.texts, text) {
		return true
	}
	g.texts = append(g.texts, text)
	if len(g.texts) > 16 {
		g.set = map[string]bool{}
		for _, s := range g.texts {
			g.set[s] = true
		}
	}
	return false
}

// exportRecord hands a record's message to the stream: its first line as
// the line it is, the others as lines of the same record (a stack trace
// or multi-line message the store kept whole). t is the record's time,
// taken by a message that has none of its own. phys is the physical lines
// of the export the record is counted for; rec its Pos.Rec.
func (s *stream) exportRecord(no int64, rec int32, text string, phys int, t flinklog.Time, obj bool) {
	s.ext, s.exp, s.extRec = t, expStart, rec
	text = strings.TrimSuffix(text, "\n")
	// the record's physical lines: the first line's, or one each when
	// they are its message's lines (a CSV row, an S3 export's lines)
	each := phys > 1 && phys == strings.Count(text, "\n")+1
	for first := true; ; first = false {
		line, rest, more := strings.Cut(text, "\n")
		line = strings.TrimSuffix(line, "\r")
		b, trunc := []byte(line), false
		if len(b) > s.opts.MaxLine {
			b, trunc = b[:s.opts.MaxLine], true
		}
		p := 0
		switch {
		case each:
			p = 1
		case first:
			p = phys
		}
		s.line(no, b, p, trunc)
		if !more || obj {
			break
		}
		text, s.exp = rest, expCont
	}
	s.exp, s.ext, s.extRec = expNone, flinklog.Time{}, 0
}

// exportUnparsed counts an export record that cannot be read.
func (s *stream) exportUnparsed(no int64, phys int, why string, detail []byte) {
	s.sum.Lines += phys
	s.sum.RecordLines += phys
	s.sum.Records++
	s.sum.Unparsed++
	s.diag(no, "warning", "export record: "+why+"; counted as unparsed", detail)
}

// exportDuplicate counts a record that repeats an earlier one exactly.
func (s *stream) exportDuplicate(no int64, phys int) {
	s.sum.Lines += phys
	s.sum.RecordLines += phys
	s.sum.Records++
	s.sum.Duplicates++
}

// detectExport tells, by content alone, whether head (an input's first
// bytes, decompressed, at most exportHeadSize) begins a log-store export,
// and which; "" when it does not.
func detectExport(head []byte) string {
	head = bytes.TrimPrefix(head, bom)
	at := skipBlanks(head, 0)
	for at < len(head) && (head[at] == '\n' || head[at] == '\r') {
		at = skipBlanks(head, at+1)
	}
	if at == len(head) {
		return ""
	}
	if head[at] == '{' || head[at] == '[' {
		return sniffJSON(head[at:])
	}
	return sniffText(head[at:])
}

// exportFile reports whether the file f begins a log-store export.
func exportFile(f *os.File) bool {
	head := make([]byte, exportHeadSize)
	n, _ := f.ReadAt(head, 0)
	return detectExport(head[:n]) != ""
}

// lineCounter counts the lines of what is read through it, and tells the
// line of a byte offset (offsets asked about never go back: a decoder's
// position), keeping only the newlines read ahead of the last one asked.
type lineCounter struct {
	r     io.Reader
	off   int64
	nl    []int64 // offsets of newlines at or after the last offset asked
	below int64   // newlines before it
	asked int64
	last  byte
	err   error // a read error (not EOF)
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		c.nl = append(c.nl, c.off+int64(i+j))
		i += j + 1
	}
	if n > 0 {
		c.last = p[n-1]
	}
	c.off += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// lineAt returns the 1-based line of byte offset o (an offset before one
// asked earlier is taken as that one).
func (c *lineCounter) lineAt(o int64) int64 {
	o = max(o, c.asked)
	c.asked = o
	k := 0
	for k < len(c.nl) && c.nl[k] < o {
		k++
	}
	c.below += int64(k)
	c.nl = c.nl[k:]
	return c.below + 1
}

// lines counts the lines read: each newline ends one, and a last line
// without one counts too.
func (c *lineCounter) lines() int64 {
	n := c.below + int64(len(c.nl))
	if c.off > 0 && c.last != '\n' {
		n++
	}
	return n
}

// rawLines reads physical lines with their offsets, each cut at max bytes.
type rawLines struct {
	br  *bufio.Reader
	off int64
	no  int64
	max int
	buf []byte
}

// next returns the next line without its line end, the offsets it spans
// (line end included) and whether it was cut; io.EOF at the end.
func (l *rawLines) next() (line []byte, start, end int64, cut bool, err error) {
	start = l.off
	l.buf = l.buf[:0]
	for {
		chunk, e := l.br.ReadSlice('\n')
		l.off += int64(len(chunk))
		if len(l.buf)+len(chunk) <= l.max {
			l.buf = append(l.buf, chunk...)
		} else {
			if room := l.max - len(l.buf); room > 0 {
				l.buf = append(l.buf, chunk[:room]...)
			}
			cut = true
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e != nil && e != io.EOF {
			return nil, start, l.off, false, e
		}
		if e == io.EOF && l.off == start {
			return nil, start, start, false, io.EOF
		}
		break
	}
	l.no++
	line = bytes.TrimSuffix(l.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, start, l.off, cut, nil
}

// readNDJSON reads one record a line (blank lines are framing).
func (x *exportReader) readNDJSON(br *bufio.Reader) (int64, error) {
	switch x.kind {
	case wrapLogcliJSONL:
		x.extract = logcliItem
	case wrapVictoria:
		x.extract = victoriaItem
	default:
		x.extract = esDocItem
	}
	l := &rawLines{br: br, off: x.base, max: x.limit}
	for {
		line, start, end, cut, err := l.next()
		if err == io.EOF {
			return l.no, nil
		}
		if err != nil {
			return l.no, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var it exportItem
		if cut {
			it = exportItem{bad: fmt.Sprintf("longer than %d bytes", x.limit), detail: line}
		} else {
			it = x.extract(line)
		}
		x.add(it, l.no, l.no, start, end, false)
	}
}
