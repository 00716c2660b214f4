package parser

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/slotaudit/slotaudit/flinklog"
)

// Reading an input again, a block at a time: the first piece of a
// streaming audit (docs/folding-plan.md, step 1). A first read of the
// inputs (with Keep, it holds next to nothing) settles what the read
// decides only at its end — each input's number, whether it duplicates
// another, the ResourceIDs its TaskManager events get — and ReadAgain then
// reads one input again, in line order, handing its events over as they
// are read, completed as that first read completed them, while holding a
// few blocks of them at most.

// InputReader hands one input's events over in line order, a batch at a
// time (Result.ReadAgain).
type InputReader struct {
	e   *emitter
	err error
}

// ErrNotRereadable is what ReadAgain says of an input it cannot read again
// event for event as the read did: its events are not handed over, and the
// caller reads the batch way.
var ErrNotRereadable = errors.New("input cannot be read again event for event")

// errStopped ends a read again that its caller closed.
var errStopped = errors.New("read again: stopped")

// CanReadAgain says, before any reading, why input k cannot be read again
// (ErrNotRereadable; see ReadAgain), or nil: a caller that reads inputs
// again one after another learns at once that one of them cannot be.
func (r *Result) CanReadAgain(k int) error {
	if k < 0 || k >= len(r.Inputs) {
		return fmt.Errorf("read again: no input %d", k)
	}
	in := &r.Inputs[k]
	path := r.readFrom[k]
	fills := r.fills[k]
	why := ""
	switch {
	case in.DuplicateOf != "":
		why = "a duplicate of " + in.DuplicateOf
	case path == "-":
		why = "standard input"
	case fills == nil:
		why = "a slot report kept by the read and repeated"
	case r.logsIn(k) > MaxLogsReadAgain && !r.stretchesPay(k) && r.spilledLog(k, true) == nil:
		why = fmt.Sprintf("one of the %d logs of a file (each read again reads the whole file, or its stretch of it: at most %d files' worth)", r.logsIn(k), MaxLogsReadAgain)
	case r.identity == nil && in.hasTM() && (in.ResourceIDSource == "file name" || strings.HasPrefix(in.ResourceIDSource, "joined")):
		// joinIdentities names its events from the other inputs' lines
		why = "a TaskManager log named after its file"
	}
	for _, f := range fills {
		if f.resource == "" && in.hasTM() && r.identity == nil {
			why = "TaskManager lines named by other components' lines"
		}
	}
	if why != "" {
		return fmt.Errorf("%w: %s is %s", ErrNotRereadable, path, why)
	}
	return nil
}

// MaxLogsReadAgain is how many logs a file may hold (kubectl logs --prefix
// of several pods, YARN's aggregation, a log-store export) for ReadAgain
// to read each again: each is read again by reading the whole file, so a
// fold of such a file reads it that many times a pass — unless the read
// spilled the log's events (Options.Spill), which are then decoded.
const MaxLogsReadAgain = 8

// spilledLog is input k's events in the read's spill, if they can be read
// back for a read again that wants their texts or not: nil when they
// cannot.
func (r *Result) spilledLog(k int, texts bool) *spillLog {
	if k >= len(r.spilled) {
		return nil
	}
	sl := r.spilled[k]
	if sl == nil || texts && sl.away && !r.retexts(k) {
		return nil
	}
	return sl
}

// retexts reports whether input k's events that let their texts go can
// have them read back by position (Result.TextAt) as they are read again
// from the spill: an input that is its file, read whole.
func (r *Result) retexts(k int) bool {
	return r.logsIn(k) == 1 && r.Files[k].Stream == ""
}

// ReadFrom is the path input k was read from: its Path, unless it was
// read in another's place and renamed after the read (a copy of standard
// input, a log store's fetch, a follow's copy).
func (r *Result) ReadFrom(k int) string { return r.readFrom[k] }

// logsIn counts the inputs read from the file input k was read from.
func (r *Result) logsIn(k int) int { return r.logsOf[r.readFrom[k]] }

// stretchesPay reports whether input k is read again from its stretch of
// its file, and the stretches of the file's logs together cost no more
// than reading the file MaxLogsReadAgain times (pods whose lines
// interleave each stretch over most of the file).
func (r *Result) stretchesPay(k int) bool {
	sf := r.stretched[r.readFrom[k]]
	if r.stretchOf(k).state != stretchOne || sf == nil {
		return false
	}
	info, err := os.Stat(r.readFrom[k])
	return err == nil && sf.pays(info.Size(), MaxLogsReadAgain)
}

// stretchOf returns where input k's lines lie in its file of several
// logs.
func (r *Result) stretchOf(k int) logStretch {
	if k < len(r.stretches) {
		return r.stretches[k]
	}
	return logStretch{}
}

// ReadAgain starts reading input k of r (its place in r.Inputs) again, on a
// goroutine of its own: the events Next hands over are those of r's input
// k, in order, written out as r.Event writes them, whatever Keep r's read
// had. opts must be the options r was read with. An input that r's read
// completed with what no line of its own says (a duplicate, standard
// input, a log-store export or a wrapped log, a slot report a read without
// Keep folded into a Repeat, a TaskManager named by the other components'
// lines) is
// ErrNotRereadable; a file that has changed since is an error when the
// read again ends.
func (r *Result) ReadAgain(k int, opts Options) (*InputReader, error) {
	if err := r.CanReadAgain(k); err != nil {
		return nil, err
	}
	in := &r.Inputs[k]
	path := r.readFrom[k]
	fills := r.fills[k]
	forced, forceJSON, err := ResolveLayout(opts.Layout)
	if err != nil {
		return nil, err
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = defaultMaxLine
	}
	if opts.MaxRecord <= 0 {
		opts.MaxRecord = defaultMaxRecord
	}
	opts.Keep, opts.Stdin, opts.Progress, opts.Spill = nil, nil, nil, nil
	opts.lone, opts.files, opts.noHints, opts.noFold = true, 1, true, true
	e := &emitter{file: in.File, fills: fills, ch: make(chan readBatch, 2), stream: r.Files[k].Stream, texts: opts.KeepTexts,
		lean: opts.LeanReadAgain, only: opts.OnlyKinds}
	if !r.pending {
		// named as the join named them (none pending: as read, for the
		// caller to make the join from)
		e.named = r.joinedName
	}
	if sl := r.spilledLog(k, opts.KeepTexts); sl != nil {
		// decoded from the spill, as the file would be read again (the
		// texts it let go read back by position: parsing the file again
		// for them was most of the cost of writing every event out)
		if opts.KeepTexts && sl.away {
			e.retext = func(pos flinklog.Pos, sum uint32) string { return r.TextAt(pos, sum) }
		}
		go func() {
			defer close(e.ch)
			if err := sl.replay(e); err != nil {
				e.err = err
				return
			}
			if e.next != in.EventCount {
				e.err = fmt.Errorf("read again: %s: the spill gave %d events, the read %d", in.Path, e.next, in.EventCount)
			}
		}()
		return &InputReader{e: e}, nil
	}
	// (a file of several logs — kubectl --prefix, YARN's aggregation, a
	// log-store export — is read again whole for each: the others' lines
	// are read and let go)
	e.others = r.logsIn(k) > 1
	sp := r.stretchOf(k)
	go func() {
		defer close(e.ch)
		var fr fileResult
		if e.others && sp.state == stretchOne {
			// a log of a YARN aggregation or of a kubectl --prefix file:
			// its stretch alone
			fr = readStretchEmitting(path, sp, &opts, forced, forceJSON, e)
		} else {
			fr = readFileEmitting(path, &opts, forced, forceJSON, e)
		}
		e.finish(fr, in)
	}()
	return &InputReader{e: e}, nil
}

// AllAgain reads every input of r again, one after another in r's order,
// and yields each event as r.Event gives it, with its text: every event
// of a read whose Keep kept only some (a fold's first read, once its
// identities are joined), for an output that lists them all, at the cost
// of another read. opts must be the options r was read with. An input
// that cannot be read again is ErrNotRereadable, before any event of it.
func (r *Result) AllAgain(opts Options, yield func(*flinklog.Event) error) error {
	opts.KeepTexts = true
	for k, in := range r.Inputs {
		if in.DuplicateOf != "" || in.EventCount == 0 {
			continue // (no event of its own in the read)
		}
		ir, err := r.ReadAgain(k, opts)
		if err != nil {
			return err
		}
		for {
			batch, err := ir.Next()
			if err == nil && batch == nil {
				break
			}
			if err != nil {
				ir.Close()
				return err
			}
			for i := range batch {
				if err := yield(&batch[i]); err != nil {
					ir.Close()
					return err
				}
			}
		}
	}
	return nil
}

// hasTM reports whether the input holds TaskManager lines.
func (in *InputSummary) hasTM() bool {
	for _, c := range in.Components {
		if c == flinklog.ComponentTM {
			return true
		}
	}
	return false
}

// Next returns the input's next events, in line order: the caller's to
// keep (they are not reused). It returns nil at the end of the input, and
// the error that ended the read again early, if one did.
func (ir *InputReader) Next() ([]flinklog.Event, error) {
	evs, _, err := ir.NextNumbered()
	return evs, err
}

// NextNumbered is Next, and each event's number among the input's events
// (its ref less the input's first): nil when the read again hands over
// every event (no Options.OnlyKinds), whose numbers run on one by one.
func (ir *InputReader) NextNumbered() ([]flinklog.Event, []int, error) {
	if ir.err != nil {
		return nil, nil, ir.err
	}
	b, ok := <-ir.e.ch
	if !ok {
		ir.err = ir.e.err
		if ir.err == nil {
			ir.err = io.EOF
		}
		if ir.err == io.EOF {
			return nil, nil, nil
		}
		return nil, nil, ir.err
	}
	return b.evs, b.nums, nil
}

// readBatch is what a read again hands over at once: events, and their
// numbers when it hands over only some (emitter.only).
type readBatch struct {
	evs  []flinklog.Event
	nums []int
}

// Close stops the read again and waits for it to end.
func (ir *InputReader) Close() {
	ir.e.stop.Store(true)
	for range ir.e.ch {
	}
	if ir.err == nil {
		ir.err = errStopped
	}
}

// emitter is what a read again's streams hand their blocks to: it writes
// the events out, completed as the first read completed them, and sends
// them on.
type emitter struct {
	stop  atomic.Bool
	ch    chan readBatch
	file  int32          // the input's number in the read
	fills []resourceFill // its ResourceID fills, numbered among every event
	fill  int            // the fill in effect
	next  int            // the number of the next event
	err   error          // what ended the read early (set before ch closes)
	extra bool           // the file gave another log than the read found in it
	// stream is the log of the file the input is (FileInfo.Stream: ""
	// for the file's own lines); others: the file held other logs too
	stream string
	others bool
	// texts: the events carry their texts (Options.KeepTexts); lean: it
	// holds less at once (Options.LeanReadAgain)
	texts, lean bool
	// retext reads back the text of an event decoded from a spill that
	// let it go (nil: none to read back)
	retext func(pos flinklog.Pos, sum uint32) string
	// named is the ResourceID the read's join of identities gave an event
	// (Result.joinedName), nil where it has none to give
	named func(*flinklog.Event) (string, bool)
	// only: the kinds handed over (Options.OnlyKinds), nil for all;
	// keepShape is only read through the shapes of the block at hand
	only      map[flinklog.Kind]bool
	keepShape []bool
}

// block returns what the file's log named name hands its blocks to: the
// input's are sent on, the other logs' let go; a file read again that
// gives another log, where the read found only the input's, is not the
// file that was read.
func (e *emitter) block(name string) func(*eventBlock) {
	if name != e.stream {
		e.extra = e.extra || !e.others
		return func(*eventBlock) {}
	}
	return e.send
}

// send writes blk's events out and sends them on, unless the read again
// was stopped.
func (e *emitter) send(blk *eventBlock) {
	if e.stop.Load() || len(blk.evs) == 0 {
		return
	}
	batch := rereadBatch
	if e.lean {
		batch = leanBatch
	}
	if e.only != nil {
		e.keepShape = e.keepShape[:0]
		for _, sh := range blk.shapes {
			e.keepShape = append(e.keepShape, e.only[sh.kind])
		}
	}
	for lo := 0; lo < len(blk.evs); lo += batch {
		e.sendPart(blk, lo, min(lo+batch, len(blk.evs)))
	}
}

// rereadBatch is how many events a read again hands over at once: written
// out, an event is ~450 bytes, and a merge holds a few batches of every
// input.
const rereadBatch = 256

// sendPart writes blk's events [lo, hi) out and sends them on.
func (e *emitter) sendPart(blk *eventBlock, lo, hi int) {
	// (a new batch each time: a caller may hold on to its events)
	var nums []int
	n := hi - lo
	if e.only != nil {
		n = 0
		for j := lo; j < hi; j++ {
			if e.keepShape[blk.evs[j].shape] {
				n++
			}
		}
		if n == 0 {
			e.next += hi - lo
			return
		}
		nums = make([]int, 0, n)
	}
	batch := make([]flinklog.Event, 0, n)
	for j := lo; j < hi; j++ {
		if e.only != nil {
			if !e.keepShape[blk.evs[j].shape] {
				e.next++
				continue
			}
			nums = append(nums, e.next)
		}
		// (grown within what make zeroed: appending a zero Event wrote
		// it again, through the collector's write barriers)
		batch = batch[:len(batch)+1]
		ev := &batch[len(batch)-1]
		blk.unpack(&blk.evs[j], ev)
		ev.SetRepeatSpan(0, 0)
		ev.Pos.File = e.file
		for e.fill+1 < len(e.fills) && e.fills[e.fill+1].from <= e.next {
			e.fill++
		}
		if e.fill < len(e.fills) && ev.Resource == "" && ev.Component == flinklog.ComponentTM {
			ev.Resource = e.fills[e.fill].resource
		}
		if e.named != nil {
			if r, ok := e.named(ev); ok {
				ev.Resource = r
			}
		}
		if e.retext != nil {
			if sum, away := ev.TextAway(); away {
				ev.SetText(e.retext(ev.Pos, sum), "")
			}
		}
		e.next++
	}
	e.ch <- readBatch{batch, nums}
}

// finish sends the events the read again left in its stream, and says why
// the read again is not the read's input in, if it is not.
func (e *emitter) finish(fr fileResult, in *InputSummary) {
	switch {
	case fr.err != nil && errors.Is(fr.err, errStopped):
		e.err = errStopped
		return
	case fr.err != nil:
		e.err = fr.err
		return
	case e.stop.Load():
		e.err = errStopped
		return
	case e.extra:
		e.err = fmt.Errorf("%w: %s now holds more than one log", ErrNotRereadable, in.Path)
		return
	}
	var st *stream
	for _, s := range fr.streams {
		if s.sum.Stream == e.stream {
			st = s
		}
	}
	if st == nil {
		e.err = fmt.Errorf("read again: %s has changed since it was read (no log %q in it)", in.Path, e.stream)
		return
	}
	if len(st.runs) > 0 {
		// (a read again folds no report, Options.noFold: a guard)
		e.err = fmt.Errorf("%w: %s repeats a slot report word for word", ErrNotRereadable, in.Path)
		return
	}
	for _, blk := range st.events.blocks {
		blk.close()
		e.send(blk)
	}
	st.events.blocks = nil
	if st.sum.Err != in.Err || e.next != in.EventCount || st.sum.Lines != in.Lines {
		e.err = fmt.Errorf("read again: %s has changed since it was read (%d lines and %d events, then %d and %d)",
			in.Path, st.sum.Lines, e.next, in.Lines, in.EventCount)
	}
}

// stoppable is a reader that fails once stop is set: a read again that its
// caller closed stops reading the file.
type stoppable struct {
	r    io.Reader
	stop *atomic.Bool
}

func (s stoppable) Read(p []byte) (int, error) {
	if s.stop.Load() {
		return 0, errStopped
	}
	return s.r.Read(p)
}

// WithEvents returns a read of the same inputs as r — their files,
// summaries, diagnostics and texts read back by position — that holds
// events instead of r's: the events a streaming audit kept of them
// (reconstruct's fold), in the order a read gives them (by position; the
// events of one record in the order read). The refs of the result number
// events in that order.
func (r *Result) WithEvents(events []flinklog.Event) *Result {
	out := &Result{Files: r.Files, Inputs: r.Inputs, Diagnostics: r.Diagnostics, Skipped: r.Skipped,
		readFrom: r.readFrom, maxLine: r.maxLine, fills: r.fills, rereader: r.rereader, logsOf: r.logsOf, stretches: r.stretches, stretched: r.stretched,
		spill: r.spill, spilled: r.spilled}
	out.events = storeOf(events)
	return out
}

// LetEventsGo empties r of its events, keeping the rest of the read (its
// inputs, summaries, diagnostics; ReadAgain reads them again): a fold
// lets its first read's events go once it has read what it needs of them.
func (r *Result) LetEventsGo() {
	r.events, r.repeats, r.heads = eventStore{}, nil, nil
}

// AttemptID returns an attempt as a read keeps it (Result.AttemptOf): an
// ID when it is 32 lower-case hex digits, else not (its text is the key).
func AttemptID(a string) (flinklog.ID, bool) { return attemptID(a) }

// EventPack holds events packed as a read holds them — a few dozen bytes
// each rather than an Event's several hundred, their texts let go where
// they were — for a caller that holds many events for long (a fold, the
// lines it keeps to the end). Events are added, then read back by their
// place once the pack is sealed.
type EventPack struct {
	s      eventStore
	blk    *eventBlock // being filled
	sealed bool
}

// Add appends a copy of ev (before Seal).
func (p *EventPack) Add(ev *flinklog.Event) {
	if p.blk == nil || p.blk.full() {
		p.flush()
		c := eventBlockLen
		if p.s.n == 0 {
			c = 64 // (most packs hold few)
		}
		p.blk = newEventBlock(c)
	}
	p.blk.push(ev)
}

func (p *EventPack) flush() {
	if p.blk != nil {
		p.blk.close()
		p.s.push(p.blk)
		p.blk = nil
	}
}

// Len returns the number of events added.
func (p *EventPack) Len() int {
	n := p.s.n
	if p.blk != nil {
		n += len(p.blk.evs)
	}
	return n
}

// Seal ends the adding; the events can be read back.
func (p *EventPack) Seal() {
	if !p.sealed {
		p.flush()
		p.s.seal()
		p.sealed = true
	}
}

// Read writes event i out into ev and returns it (after Seal).
func (p *EventPack) Read(i int, ev *flinklog.Event) *flinklog.Event { return p.s.read(i, ev) }

// WithPack is WithEvents with the events of a pack (sealed if it was not),
// which the result then holds as they are packed.
func (r *Result) WithPack(p *EventPack) *Result {
	p.Seal()
	out := r.WithEvents(nil)
	out.events = p.s
	return out
}

// Thin lets go of every event but those keep keeps and each input's first
// event and first TaskManager event — what a read with Keep set to keep
// keeps of it (see Options.Keep), where the read kept more: a fold's first
// read under a budget, which kept every event up to a count, before the
// fold reads the inputs again. A read with repeats (slot reports) is left
// as it is.
func (r *Result) Thin(keep func(*flinklog.Event) bool) {
	if len(r.repeats) > 0 {
		return
	}
	var p EventPack
	first, firstTM := map[int32]bool{}, map[int32]bool{}
	var scratch flinklog.Event
	for i := 0; i < r.events.len(); i++ {
		ev := r.events.read(i, &scratch)
		f := ev.Pos.File
		tm := ev.Component == flinklog.ComponentTM
		// (as stream.kept keeps them: the meta lines, then the first line
		// and the first TaskManager line after them)
		switch {
		case ev.Kind == flinklog.KindMetaVersion, ev.Kind == flinklog.KindMetaTMID, ev.Kind == flinklog.KindMetaSlots:
			p.Add(ev)
		case !first[f] || tm && !firstTM[f]:
			p.Add(ev)
			first[f] = true
			firstTM[f] = firstTM[f] || tm
		case keep(ev):
			p.Add(ev)
		}
	}
	p.Seal()
	r.events = p.s
}
