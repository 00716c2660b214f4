package parser

import (
	"bytes"
	"encoding/binary"

	"github.com/slotaudit/slotaudit/flinklog"
)

// The text hot path. A chatter-heavy log in Flink's own layout is nearly
// all records that can give no event: reading each line into a record
// (copying it), decoding its whole header and handing it to Classify was
// most of an audit's time. feedBlock reads a block of complete lines as
// they lie in the line reader's buffer instead:
//
//   - ESC bytes are found in the whole block at once;
//   - each line is sorted into record start, continuation or other by its
//     first bytes; a record start's timestamp is decoded, and the rest of
//     its header (level, padded logger, NDC) is looked up among the fields
//     already decoded (headerField), not decoded again;
//   - a record is kept as where it lies in the block (lazyRec); when it
//     ends, one whose message and continuation lines hold no anchor of
//     those Classify and the version hints read (flinklog.HasAnchor), and
//     that its logger does not single out (flinklog.NeedsClassify), is
//     only counted, as finishRecord would
//     count it; any other is read into a record as a line-by-line read
//     reads it (materialize) and finished by finishRecord.
//
// Every line feedBlock does not sort itself (a line holding ESC, one that
// no fast decoder reads, a stray line, a JSON object, anything in an open
// JSON object) goes to stream.line, as the line reader would have sent it,
// after the record in progress is materialized: from there on the stream
// is in the state a line-by-line read leaves. So is it at the end of every
// block. FuzzReadStream, FuzzFastText and FuzzChunkedRead hold it to the
// reference read.

// headerField is the part of a Flink header between its timestamp and its
// message as printed: the level, the logger padded to 60 columns, log4j
// 2's NDC and the dash. A log holds a few hundred of them; a line whose
// bytes after the timestamp start with one decodes exactly as the line it
// was decoded from (matchRest reads nothing past the dash), so it is
// decoded once.
type headerField struct {
	text   []byte // from the level's blanks to the dash, inclusive
	level  []byte // inside text
	logger []byte // inside text
	ndc    bool
	info   *loggerInfo // the stream's, once a record of it is finished
}

// header is what matchRest decodes of line when the field starts at pos
// of it (and the timestamp is t): the same, read from the field.
func (f *headerField) header(line []byte, pos int, t flinklog.Time) header {
	in := func(part []byte) []byte {
		at := pos + cap(f.text) - cap(part)
		return line[at : at+len(part)]
	}
	return header{time: t, level: in(f.level), logger: in(f.logger), ndcSeen: f.ndc,
		msg: line[skipBlanks(line, pos+len(f.text)):]}
}

// fieldCache holds the fields last decoded, by a hash of their bytes.
type fieldCache [64]*headerField

// fieldSlot returns the slot of the field that starts at pos of s, from
// bytes the level and the padded logger fill; ok=false for a line too short
// to have them.
func fieldSlot(s []byte, pos int) (int, bool) {
	if len(s) < pos+64 {
		return 0, false
	}
	w := s[pos : pos+64]
	h := binary.LittleEndian.Uint64(w[0:])*0x9e3779b97f4a7c15 ^
		binary.LittleEndian.Uint64(w[8:])*0xc2b2ae3d27d4eb4f ^
		binary.LittleEndian.Uint64(w[16:])*0x165667b19e3779f9 ^
		binary.LittleEndian.Uint64(w[24:])*0x27d4eb2f165667c5 ^
		binary.LittleEndian.Uint64(w[32:])*0x94d049bb133111eb ^
		binary.LittleEndian.Uint64(w[40:])*0xbf58476d1ce4e5b9 ^
		binary.LittleEndian.Uint64(w[48:])*0xff51afd7ed558ccd ^
		binary.LittleEndian.Uint64(w[56:])*0xc4ceb9fe1a85ec53
	return int(h >> 58), true
}

// lazyRec is a text record of the block feedBlock reads, by where it lies.
type lazyRec struct {
	on      bool
	no      int64 // its first line
	lines   int   // its physical lines so far
	hdr     int   // where its header line starts in the block
	msgAt   int   // where its message starts
	hdrEnd  int   // where the header line's text ends (before "\r\n")
	end     int   // where the line after it starts
	bodyLen int   // the length its Body would have (appendBody)
	t       flinklog.Time
	field   *headerField
	fieldAt int // where the field starts in the header line
}

// blockReady reports whether feedBlock may read the stream's next lines:
// its layout is decided and is Flink's own (with or without the date), it
// is not the reference read, no JSON object is open and it is a file's
// stream, not a log-store export's.
func (s *stream) blockReady() bool {
	return s.decided && s.fast != nil && s.jsonBuf == nil && !s.isJSON && s.exp == expNone && !s.byTime
}

// feedBlock reads the complete lines of b (it ends with '\n'), numbering
// them on from *no, as the line reader's lines would have been read; it
// stops before a line longer than maxLine (with its newline), which the
// line reader cuts, and returns how many bytes it read. It leaves the
// record in progress at the end, if it can, unread (see unreadLazy): its
// continuation lines may lie past b, and read into a record then, it was
// classified like evidence, once a block — most of the records a chatty
// log classified for nothing.
func (s *stream) feedBlock(b []byte, no *int64, maxLine int) int {
	if s.fields == nil {
		s.fields = new(fieldCache)
	}
	esc := bytes.IndexByte(b, 0x1b)
	off := 0
	for off < len(b) {
		end := off + bytes.IndexByte(b[off:], '\n')
		if end+1-off > maxLine {
			break
		}
		next := end + 1
		*no++
		text := b[off:end]
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		if esc >= 0 && esc < end || s.jsonBuf != nil {
			if esc >= 0 && esc < end {
				if i := bytes.IndexByte(b[next:], 0x1b); i >= 0 {
					esc = next + i
				} else {
					esc = -1
				}
			}
			s.delegate(b, *no, text)
			off = next
			continue
		}
		switch {
		case len(text) == 0:
			s.delegate(b, *no, text)
		case text[0] >= '0' && text[0] <= '9':
			if !s.startLazy(b, *no, off, next, text) {
				s.delegate(b, *no, text)
			}
		case text[0] == ' ' || text[0] == '\t':
			if at := skipBlanks(text, 0); at < len(text) && text[at] == '{' {
				s.delegate(b, *no, text)
				break
			}
			s.continueLazy(b, *no, text, next)
		default:
			s.delegate(b, *no, text)
		}
		off = next
	}
	if s.lz.on {
		return s.unreadLazy(no)
	}
	return off
}

// unreadLazy takes back the record in progress, lazy still, as if its
// lines had not been read, and returns where it starts in the block: the
// next block starts with it.
func (s *stream) unreadLazy(no *int64) int {
	lz := &s.lz
	lz.on = false
	s.sum.Lines -= lz.lines
	if lz.field.ndc {
		s.ndcYes--
	} else {
		s.ndcNo--
	}
	*no -= int64(lz.lines)
	return lz.hdr
}

// delegate reads a line feedBlock does not sort itself as the line reader's
// lines are read, after the record in progress is materialized.
func (s *stream) delegate(b []byte, no int64, text []byte) {
	s.materialize(b)
	s.line(no, text, 1, false)
}

// startLazy starts a record at the line text (at off in b, the next line
// at next) if Flink's layout decodes it as the fast header decoder would;
// false leaves the line to stream.line.
func (s *stream) startLazy(b []byte, no int64, off, next int, text []byte) bool {
	t, pos, ok := s.fast.matchTime(text)
	if !ok {
		return false
	}
	slot, cached := fieldSlot(text, pos)
	var f *headerField
	if cached {
		if f = s.fields[slot]; f != nil && !bytes.HasPrefix(text[pos:], f.text) {
			f = nil
		}
	}
	if f == nil {
		var h header
		if !s.fast.matchRest(text, pos, &h) {
			return false
		}
		dash := len(text) - len(h.msg) - 1
		for text[dash] != '-' {
			dash--
		}
		f = &headerField{text: bytes.Clone(text[pos : dash+1]), ndc: h.ndcSeen}
		at := offsetIn(text, h.logger) - pos
		f.logger = f.text[at : at+len(h.logger)]
		at = offsetIn(text, h.level) - pos
		f.level = f.text[at : at+len(h.level)]
		if cached {
			s.fields[slot] = f
		}
	}
	if s.lz.on {
		s.finishLazy(b)
	} else {
		s.finishRecord()
	}
	s.sum.Lines++
	if f.ndc {
		s.ndcYes++
	} else {
		s.ndcNo++
	}
	// field by field: a composite literal was built aside and copied in
	// with the collector's bulk barrier, 5 % of a chatty log's read
	lz := &s.lz
	lz.on, lz.no, lz.lines, lz.bodyLen = true, no, 1, 0
	lz.hdr, lz.msgAt, lz.hdrEnd, lz.end = off, off+skipBlanks(text, pos+len(f.text)), off+len(text), next
	lz.t, lz.field, lz.fieldAt = t, f, pos
	return true
}

// continueLazy adds a continuation line (it starts with a blank) to the
// record in progress, as appendBody would; a line too long for the
// record's limit is left to appendBody, which cuts the record.
func (s *stream) continueLazy(b []byte, no int64, text []byte, next int) {
	lz := &s.lz
	if !lz.on {
		if s.rec == nil {
			s.line(no, text, 1, false) // a file cut mid-record: headerless
			return
		}
		s.sum.Lines++
		s.appendBody(no, text, 1)
		return
	}
	if lz.bodyLen+len(text)+1 > s.opts.MaxRecord {
		s.materialize(b)
		s.sum.Lines++
		s.appendBody(no, text, 1)
		return
	}
	s.sum.Lines++
	if lz.bodyLen > 0 {
		lz.bodyLen++
	}
	lz.bodyLen += len(text)
	lz.lines++
	lz.end = next
}

// finishLazy ends the record in progress: counted, when Classify and the
// version hints would make nothing of it, as finishRecord counts such a
// record; else materialized and finished by finishRecord.
func (s *stream) finishLazy(b []byte) {
	lz := &s.lz
	f := lz.field
	if f.info == nil {
		f.info = s.logger(f.logger)
	}
	info := f.info
	if !plausibleTime(lz.t) || flinklog.NeedsClassify(&info.LoggerInfo, b[lz.msgAt:lz.hdrEnd]) || flinklog.HasAnchor(b[lz.msgAt:lz.end]) {
		s.materialize(b)
		s.recInfo = info // the record's logger, looked up already
		s.finishRecord()
		return
	}
	lz.on = false
	s.sum.Records++
	s.sum.RecordLines += lz.lines
	if t := s.adjustTime(lz.t); !t.IsZero() {
		if s.sum.First.IsZero() {
			s.sum.First = t
		}
		s.sum.Last = t
	}
	if info.Component != flinklog.ComponentUnknown && !info.counted {
		s.comps[info.Component]++
		info.counted = true
	}
	s.sum.Irrelevant++
}

// materialize reads the record in progress, if any, into the stream's
// record as the line reader's lines would have been read (startRecord,
// appendBody): it is finished or goes on as any other.
func (s *stream) materialize(b []byte) {
	lz := &s.lz
	if !lz.on {
		return
	}
	lz.on = false
	line := b[lz.hdr:lz.hdrEnd]
	s.startRecord(lz.no, line, 1, lz.field.header(line, lz.fieldAt, lz.t))
	no := lz.no
	for off := lz.hdrEnd; ; {
		off += bytes.IndexByte(b[off:], '\n') + 1
		if off >= lz.end {
			break
		}
		no++
		end := off + bytes.IndexByte(b[off:], '\n')
		text := b[off:end]
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		s.appendBody(no, text, 1)
	}
}
