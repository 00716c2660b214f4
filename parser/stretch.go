package parser

import (
	"bufio"
	"io"
	"os"
)

// The stretches of YARN's aggregation (`yarn logs -applicationId`): every
// container's log files follow one another in the file, each a stretch of
// lines of its own. A fold reads each input again on a goroutine of its
// own (Result.ReadAgain); a file of many logs read again whole for each
// was read that many times a pass (a session cluster of 30 TaskManagers
// on YARN is 90 logs or more: taskmanager.log, .out, .err). Read again
// from where its stretch begins to where it ends, each log costs its own
// bytes.

// yarnMark is a place in a YARN file between two lines: where the line
// numbered line ended (0, 0: the file's start), and the container the
// lines after it are of, until a "Container:" line says another.
type yarnMark struct {
	off, line int64
	container string
}

// yarnStretch is where a YARN log's lines lie in its file: from the end of
// the last line of another log's contents before its own (the framing
// lines between, which its summary counts, are its), to the end of its
// last line, or of its "LogType:" line when it has none (to < 0: the
// file's end, where the framing after the last contents is the last
// log's). mark: where the last contents before its last line ended.
type yarnStretch struct {
	from  yarnMark
	to    int64
	mark  int64
	state stretchState
}

// stretchState says whether a log's lines lie in one stretch.
type stretchState uint8

const (
	stretchNone  stretchState = iota // not a YARN log (or not read yet)
	stretchOne                       // one stretch: from, to
	stretchSplit                     // its lines lie in more than one (its LogType came twice, another's contents between)
)

// openStretch notes that a "LogType:" line names st's log: its stretch
// begins after the last contents before it, unless it began before
// (another log's contents between split it).
func (fr *fileReader) openStretch(st *stream) {
	switch sp := &st.stretch; sp.state {
	case stretchNone:
		*sp = yarnStretch{from: fr.yarnAfter, to: fr.lineEnd, mark: fr.yarnAfter.off, state: stretchOne}
	case stretchOne:
		if sp.mark != fr.yarnAfter.off {
			sp.state = stretchSplit
		} else {
			sp.to = fr.lineEnd
		}
	}
}

// contentsLine notes a line of a YARN log's contents (st's, or another
// shard's log's when st is nil) that ended where fr.lineEnd says.
func (fr *fileReader) contentsLine(st *stream, no int64) {
	fr.yarnAfter = yarnMark{off: fr.lineEnd, line: no, container: fr.yarnContainer}
	if st != nil && st.stretch.state == stretchOne {
		st.stretch.to, st.stretch.mark = fr.lineEnd, fr.lineEnd
	}
}

// stretchRead, when set (a test), is told each stretch read again.
var stretchRead func(path string, from, to int64)

// readStretchEmitting reads input k again from its YARN stretch alone, handing
// its events to emit (as readFileEmitting reads the whole file).
func readStretchEmitting(path string, sp yarnStretch, opts *Options, forced *Layout, forceJSON bool, emit *emitter) fileResult {
	f, err := os.Open(path)
	if err != nil {
		return fileResult{err: err}
	}
	defer f.Close()
	end := sp.to
	if end < 0 {
		info, err := f.Stat()
		if err != nil {
			return fileResult{err: err}
		}
		end = info.Size()
	}
	if stretchRead != nil {
		stretchRead(path, sp.from.off, end)
	}
	var r io.Reader = io.NewSectionReader(f, sp.from.off, end-sp.from.off)
	r = stoppable{r, &emit.stop}
	fr := &fileReader{path: path, opts: opts, forced: forced, forceJSON: forceJSON, byName: map[string]*stream{}, emit: emit,
		wrapper: wrapYARN, yarnContainer: sp.from.container, yarnAfter: sp.from}
	br := pieceReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() { br.Reset(nil); pieceReaders.Put(br) }()
	lr := newLineReader(br, opts.MaxLine)
	lr.no, lr.started = sp.from.line, sp.from.off > 0
	readErr := fr.feedLines(lr)
	if sp.to >= 0 {
		// the framing after the stretch is another log's (the next
		// contents', or the last log's at the file's end)
		fr.pendingFraming = 0
	}
	fr.finishFile(lr.no, readErr)
	return fileResult{streams: fr.streams}
}
