package parser

import (
	"io"
	"os"
)

// The stretches of a file of several logs. A fold reads each input again
// on a goroutine of its own (Result.ReadAgain); a file of many logs read
// again whole for each was read that many times a pass. But YARN's
// aggregation (`yarn logs -applicationId`) writes every container's files
// one after another, and `kubectl logs --prefix` of many pods, without
// -f, pod after pod: read again from where its stretch of the file begins
// to where it ends, each log costs about its own bytes. (A session
// cluster of 30 TaskManagers on YARN is 90 logs or more: taskmanager.log,
// .out, .err; on Kubernetes, a pod and its sidecars.)

// lineMark is a place in a file between two lines: where the line
// numbered line ended (0, 0: the file's start), and, in a YARN file, the
// container the lines after it are of, until a "Container:" line says
// another.
type lineMark struct {
	off, line int64
	container string
}

// logStretch is where a log's lines lie in its file, and how the file
// wraps them (wrapYARN, or wrapKubePrefix and kubeTS). A YARN log's
// begins at the end of the last line of another log's contents before its
// own (the framing lines between, which its summary counts, are its) and
// ends at the end of its last line, or of its "LogType:" line when it has
// none (to < 0: the file's end, where the framing after the last contents
// is the last log's); mark: where the last contents before its last line
// ended. A pod's runs from its first line to its last, whatever lies
// between (other pods' lines are let go as a whole read lets them go).
type logStretch struct {
	from    lineMark
	to      int64
	mark    int64
	state   stretchState
	wrapper string
	kubeTS  bool
}

// stretchState says whether a log's lines lie in one stretch.
type stretchState uint8

const (
	stretchNone  stretchState = iota // not a log of a YARN or kubectl file (or not read yet)
	stretchOne                       // one stretch: from, to
	stretchSplit                     // a YARN log whose lines lie in more than one (its LogType came twice, another's contents between)
)

// stretchedFile is what the stretches of one file's logs cost to read
// again: their bytes together, but for those that run to the file's end
// (toEnd: where they begin).
type stretchedFile struct {
	total int64
	toEnd []int64
}

func (sf *stretchedFile) add(sp logStretch) {
	if sp.to < 0 {
		sf.toEnd = append(sf.toEnd, sp.from.off)
	} else {
		sf.total += sp.to - sp.from.off
	}
}

// pays reports whether the stretches together cost no more than reading
// the file of size bytes times times.
func (sf *stretchedFile) pays(size int64, times int) bool {
	total := sf.total
	for _, from := range sf.toEnd {
		total += size - from
	}
	return total <= int64(times)*size
}

// podLine notes a line of a kubectl --prefix file's pod log st, which
// fr.lineStart and fr.lineEnd place in the file.
func (fr *fileReader) podLine(st *stream, no int64) {
	sp := &st.stretch
	if sp.state == stretchNone {
		*sp = logStretch{from: lineMark{off: fr.lineStart, line: no - 1}, state: stretchOne, wrapper: wrapKubePrefix, kubeTS: fr.kubeTS}
	}
	sp.to = fr.lineEnd
}

// openStretch notes that a "LogType:" line names st's log: its stretch
// begins after the last contents before it, unless it began before
// (another log's contents between split it).
func (fr *fileReader) openStretch(st *stream) {
	switch sp := &st.stretch; sp.state {
	case stretchNone:
		*sp = logStretch{from: fr.yarnAfter, to: fr.lineEnd, mark: fr.yarnAfter.off, state: stretchOne, wrapper: wrapYARN}
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
	fr.yarnAfter = lineMark{off: fr.lineEnd, line: no, container: fr.yarnContainer}
	if st != nil && st.stretch.state == stretchOne {
		st.stretch.to, st.stretch.mark = fr.lineEnd, fr.lineEnd
	}
}

// stretchRead, when set (a test), is told each stretch read again.
var stretchRead func(path string, from, to int64)

// readStretchEmitting reads a log of path again from its stretch alone,
// handing its events to emit (as readFileEmitting reads the whole file).
func readStretchEmitting(path string, sp logStretch, opts *Options, forced *Layout, forceJSON bool, emit *emitter) fileResult {
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
		wrapper: sp.wrapper, kubeTS: sp.kubeTS, yarnContainer: sp.from.container, yarnAfter: sp.from}
	readers := pieceReaders
	if emit.lean {
		readers = leanReaders
	}
	br := readers.get()
	br.Reset(r)
	defer func() { br.Reset(nil); readers.put(br) }()
	lr := newLineReader(br, opts.MaxLine)
	lr.no, lr.started = sp.from.line, sp.from.off > 0
	readErr := fr.feedLines(lr)
	if sp.to >= 0 {
		// (YARN) the framing after the stretch is another log's (the next
		// contents', or the last log's at the file's end)
		fr.pendingFraming = 0
	}
	fr.finishFile(lr.no, readErr)
	return fileResult{streams: fr.streams}
}
