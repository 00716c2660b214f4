package parser

// This file reads evidence texts back by position. An event of a regular
// file read as it is keeps no text (eventBlocks.away): a busy cluster's
// logs hold millions of events, and their first lines were most of what a
// read kept in memory (0.74 of 2.56 GB of live heap on 225,000
// allocations), while only the few that become evidence are ever shown.
// Result.Text reads such an event's line from the file again when it is
// written, by its line number, and checks it against the sum kept.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/slotaudit/slotaudit/flinklog"
)

// textSum is the sum an event keeps of the text it lets go.
func textSum(s string) uint32 { return flinklog.TextSum(s) }

// lineMarkEvery: a file's line index marks where every lineMarkEvery-th
// line starts (8 bytes per 64 lines), so a line is read back by one pread
// of the lines after a mark.
const lineMarkEvery = 64

// Text returns the text of the event ref names: its record's first
// physical line as read (capped at flinklog.MaxTextLen bytes and "…"). An
// event that let its text go reads it back from its file. When the file
// cannot be read, or its line is no longer what was read (a file rewritten
// since), Text says so in place of the text, in brackets: evidence is
// never silently replaced by other text.
func (r *Result) Text(ref EventRef) string {
	_, p := r.base(ref)
	if p.flags&pTextAway == 0 {
		return r.Event(ref).Text()
	}
	return r.TextAt(r.Pos(ref), p.textSum)
}

// TextAt is Text for a line the read let go that no event of r holds any
// more (a story a fold let go): the line at pos, checked against sum, the
// sum its event kept (flinklog.Event.TextAway).
func (r *Result) TextAt(pos flinklog.Pos, sum uint32) string {
	if int(pos.File) < 0 || int(pos.File) >= len(r.readFrom) {
		return "[text not kept: unknown input]"
	}
	path := r.readFrom[pos.File]
	text, got, err := r.lines().read(path, pos.Line, r.maxLine)
	if err != nil {
		return fmt.Sprintf("[line %d of %s could not be read again: %v]", pos.Line, path, err)
	}
	if got != sum {
		return fmt.Sprintf("[line %d of %s changed since it was read]", pos.Line, path)
	}
	return text
}

// lines returns the result's re-reader, made on first use: the lines of
// one read are read back through one index per file.
func (r *Result) lines() *lineSource {
	linesMu.Lock()
	defer linesMu.Unlock()
	if r.rereader == nil {
		r.rereader = &lineSource{files: map[string]*lineIndex{}}
	}
	return r.rereader
}

// linesMu guards the making of Results' re-readers.
var linesMu sync.Mutex

// lineSource reads lines of files back by number. Up to maxOpenLines
// files stay open, the least recently read closed first: a timeline
// alternates between the JobManager's file and a TaskManager's line by
// line, and a directory of thousands of TaskManager logs must not hold as
// many descriptors.
type lineSource struct {
	mu    sync.Mutex
	files map[string]*lineIndex
	open  []*openFile // most recently read last
	buf   []byte
	// starts: where lineAt tells the lines it passed begin
	starts [lineMarkEvery]int64
}

type openFile struct {
	path string
	f    *os.File
	// the last pieces read of it, the one read from last first: the lines
	// of one allocation's story, and of the next one's, lie near each
	// other — in a few places of a busy JobManager's log (a story's first
	// lines and its last, a minute of 600 lines later, are more than a
	// piece apart)
	pieces [piecesPerFile]filePiece
	// blocks: where the lines after a few marks begin, as far as reads
	// have passed them, for a read to start from the known line nearest
	// its own rather than from the mark (every event of a busy log
	// written out, or every timeline, its lines back and forth: 32 lines
	// skipped a line on average); next is the one to fill next
	blocks [blocksPerFile]lineStarts
	next   int
}

// lineStarts is where the lines after one mark of a file begin: at[i] is
// where line mark*lineMarkEvery+i+1 begins, for i < n.
type lineStarts struct {
	mark int64
	n    int
	at   [lineMarkEvery]int64
}

// blocksPerFile is how many marks' lines a file keeps where they begin:
// 2,048 lines, a few minutes of a busy JobManager's log, which a
// timeline's stories go back and forth in (17 KB a file open).
const blocksPerFile = 32

// block returns the starts known after mark k, made (the mark's own line
// known) if none are.
func (o *openFile) block(k, markAt int64) *lineStarts {
	for i := range o.blocks {
		if b := &o.blocks[i]; b.n > 0 && b.mark == k {
			return b
		}
	}
	b := &o.blocks[o.next]
	o.next = (o.next + 1) % blocksPerFile
	b.mark, b.n, b.at[0] = k, 1, markAt
	return b
}

// filePiece is a piece of a file read from at.
type filePiece struct {
	b  []byte
	at int64
}

// piecesPerFile is how many pieces of a file a lineSource keeps.
const piecesPerFile = 4

// holds reports whether the piece holds the byte at.
func (p *filePiece) holds(at int64) bool {
	return len(p.b) > 0 && at >= p.at && at < p.at+int64(len(p.b))
}

// pieceSize is how much of a file a text's read keeps for the next.
const pieceSize = 64 << 10

// maxOpenLines bounds the files a lineSource keeps open (the soft limit
// of descriptors is often 1024).
const maxOpenLines = 32

// lineIndex marks where lines of one file start, as far as it was read.
type lineIndex struct {
	marks []int64 // marks[k]: where line k*lineMarkEvery+1 starts
	lines int64   // complete lines counted
	end   int64   // where the line after them starts
}

func (ls *lineSource) file(path string) (*openFile, error) {
	for k := len(ls.open) - 1; k >= 0; k-- {
		if o := ls.open[k]; o.path == path {
			copy(ls.open[k:], ls.open[k+1:])
			ls.open[len(ls.open)-1] = o
			return o, nil
		}
	}
	var spare [piecesPerFile]filePiece // the piece buffers of the file closed, for the one opened
	if len(ls.open) >= maxOpenLines {
		_ = ls.open[0].f.Close()
		spare = ls.open[0].pieces
		for k := range spare {
			spare[k].b = spare[k].b[:0]
		}
		ls.open = append(ls.open[:0], ls.open[1:]...)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	ls.open = append(ls.open, &openFile{path: path, f: f, pieces: spare})
	return ls.open[len(ls.open)-1], nil
}

// read returns line no (1-based) of path as a read of it gave the
// record's text: without its end of line and (line 1) a byte-order mark,
// terminal escapes removed, capped as flinklog caps text; and its sum
// (textSum of the text).
func (ls *lineSource) read(path string, no int64, maxLine int) (string, uint32, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	o, err := ls.file(path)
	if err != nil {
		return "", 0, err
	}
	f := o.f
	ix := ls.files[path]
	if ix == nil {
		ix = &lineIndex{marks: []int64{0}}
		ls.files[path] = ix
	}
	if err := ls.extend(f, ix, no); err != nil {
		return "", 0, err
	}
	if no < 1 || no > ix.lines+1 {
		return "", 0, fmt.Errorf("the file has %d lines now", ix.lines)
	}
	k := (no - 1) / lineMarkEvery
	bs := o.block(k, ix.marks[k])
	want := int((no - 1) % lineMarkEvery)
	from := min(want, bs.n-1) // the known line nearest, at or before it
	line, starts, err := ls.lineAt(o, bs.at[from], int64(want-from), maxLine, ls.starts[:0])
	if err != nil {
		return "", 0, err
	}
	if from == bs.n-1 {
		// (the lines passed on the way, and its own, where they begin)
		bs.n += copy(bs.at[bs.n:], starts)
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if no == 1 {
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	}
	if bytes.IndexByte(line, 0x1b) >= 0 {
		line = stripANSI(line)
	}
	return capText(line), flinklog.LineSum(line), nil
}

// cutLine is what lineReader makes of a line read whole (its "\n"
// included, when it has one): cut at max bytes, end of line stripped.
func cutLine(b []byte, max int) []byte {
	if len(b) > max {
		b = b[:max]
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return b
}

// capText is the text flinklog keeps of a record's first line.
func capText(line []byte) string {
	if len(line) > flinklog.MaxTextLen {
		return string(line[:flinklog.MaxTextLen]) + "…"
	}
	return string(line)
}

// extend counts lines of f from where ix stopped until line no starts
// (or the file ends), marking every lineMarkEvery-th. Every whole line of
// what it reads is counted: stopping at line no read the same piece again
// for the next text a few lines on (the timelines of a busy cluster read
// their files over and over).
func (ls *lineSource) extend(f *os.File, ix *lineIndex, no int64) error {
	if ix.lines >= no {
		return nil
	}
	if cap(ls.buf) < 256<<10 {
		ls.buf = make([]byte, 256<<10)
	}
	buf := ls.buf[:256<<10]
	for ix.lines < no {
		n, err := f.ReadAt(buf, ix.end)
		chunk := buf[:n]
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			ix.end += int64(i) + 1
			ix.lines++
			chunk = chunk[i+1:]
			if ix.lines%lineMarkEvery == 0 {
				ix.marks = append(ix.marks, ix.end)
			}
		}
		if ix.lines >= no {
			return nil
		}
		if n < len(buf) || err != nil {
			if err != nil && err != io.EOF {
				return err
			}
			return nil // the last line may have no end of line
		}
		if len(chunk) == n {
			// no end of line in a whole buffer: a line longer than it;
			// go on after what was looked at
			ix.end += int64(n)
			continue
		}
	}
	return nil
}

// readPiece reads the piece of the file from at in place of the one used
// least lately, and puts it first.
func (o *openFile) readPiece(at int64) error {
	last := o.pieces[piecesPerFile-1]
	copy(o.pieces[1:], o.pieces[:piecesPerFile-1])
	o.pieces[0] = last
	pc := &o.pieces[0]
	if cap(pc.b) < pieceSize {
		pc.b = make([]byte, pieceSize)
	}
	n, err := o.f.ReadAt(pc.b[:pieceSize], at)
	if err != nil && err != io.EOF {
		pc.b = pc.b[:0]
		return err
	}
	pc.b, pc.at = pc.b[:n], at
	return nil
}

// lineIn returns the line that starts skip lines into b, its end of line
// included, if b holds it whole; starts gets where in b each of the skip
// lines after the first begins (the line's own start last).
func lineIn(b []byte, skip int64, starts []int64) ([]byte, []int64, bool) {
	off := 0
	for ; skip > 0; skip-- {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return nil, starts, false
		}
		off += i + 1
		starts = append(starts, int64(off))
	}
	if i := bytes.IndexByte(b[off:], '\n'); i >= 0 {
		return b[off : off+i+1], starts, true
	}
	return nil, starts, false
}

// lineAt returns the line that starts skip lines after offset at, cut at
// maxLine bytes as the read cut it (its end of line included, when it
// fits: finishLine strips it), and where each of the skip lines after the
// one at at begins (the line's own start last), when it found them in a
// piece of the file (none where it read on past one).
func (ls *lineSource) lineAt(o *openFile, at, skip int64, maxLine int, starts []int64) ([]byte, []int64, error) {
	if maxLine <= 0 {
		maxLine = defaultMaxLine
	}
	// From a piece read before, or one read from here in place of the
	// one used least lately (the line returned lies in it, until the
	// next read of the file)
	k := 0
	for k < piecesPerFile && !o.pieces[k].holds(at) {
		k++
	}
	if k == piecesPerFile {
		if err := o.readPiece(at); err != nil {
			return nil, nil, err
		}
	} else if k > 0 {
		// used last: first
		pc := o.pieces[k]
		copy(o.pieces[1:k+1], o.pieces[:k])
		o.pieces[0] = pc
	}
	absolute := func(starts []int64) []int64 {
		for i := range starts {
			starts[i] += at
		}
		return starts
	}
	if pc := &o.pieces[0]; len(pc.b) > 0 || at == pc.at {
		if line, starts, ok := lineIn(pc.b[at-pc.at:], skip, starts); ok {
			return cutLine(line, maxLine), absolute(starts), nil
		}
		if at > pc.at && len(pc.b) == pieceSize {
			// the line runs past the piece's end: a piece is read from
			// at, for the lines after it too (the one before it stays: a
			// timeline's next story goes back into it)
			if err := o.readPiece(at); err != nil {
				return nil, nil, err
			}
			pc = &o.pieces[0]
			if line, starts, ok := lineIn(pc.b, skip, starts[:0]); ok {
				return cutLine(line, maxLine), absolute(starts), nil
			}
		}
	}
	f := o.f
	var out []byte
	// The line is a few dozen lines after the mark: read a little first,
	// more while it is not there. A whole buffer read for each text copied
	// 256 KiB a line (the timelines of 300,000 allocations: 2.5 minutes).
	size := min(16<<10, cap(ls.buf))
	for {
		n, err := f.ReadAt(ls.buf[:size], at)
		size = min(2*size, cap(ls.buf))
		chunk := ls.buf[:n]
		for skip > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			chunk, at, skip = chunk[i+1:], at+int64(i)+1, skip-1
		}
		if skip > 0 {
			if n == 0 || err != nil && err != io.EOF {
				return nil, nil, fmt.Errorf("line not found")
			}
			at += int64(len(chunk))
			continue
		}
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			return cutLine(append(out, chunk[:i+1]...), maxLine), nil, nil
		}
		out = append(out, chunk...)
		if n == 0 || err != nil || len(out) > maxLine {
			out = cutLine(out, maxLine)
			if err != nil && err != io.EOF {
				return nil, nil, err
			}
			return out, nil, nil
		}
		at += int64(len(chunk))
	}
}
