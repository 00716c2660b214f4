package parser

import (
	"cmp"
	"encoding/binary"
	"iter"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
)

// A Repeat is a slot report that says, word for word, what an earlier
// report of the same input said: only its line, time and the timestamp
// printed before its level differ. A JobManager at DEBUG logs every
// TaskManager's report every heartbeat, nearly always the same one; kept
// as events they were nine tenths of what a long DEBUG log left in memory
// (400 bytes each), as repeats they cost 24 bytes (and the text of their
// timestamp, unless it is Flink's default one, which their time gives
// back).
//
// A Result keeps the first report of each kind as an event and the later
// ones as its repeats; [Result.Event] gives a repeat back as the event it
// stands for, and [Result.All] walks events and repeats in the order the
// events of an unfolded read would have.
type Repeat struct {
	Time    int64 // Time.N; its kind is the event's
	Of      int32 // the event it repeats (its place among the events as read)
	Line    int64
	EndLine int64
	// where its timestamp text is in the texts of its event's repeats
	// (a uvarint length, then the bytes), or stampHead: the time printed
	// in Flink's default layout and a space
	head uint32
}

// stampHead marks a repeat whose text before its level is defaultStamp of
// its time.
const stampHead = 1 << 31

// maxHeadBytes: past this many bytes of timestamp texts a stream stops
// folding, so that the texts of one event's repeats stay addressable by
// head (a piece joined after that adds no more than its own).
var maxHeadBytes = 1 << 30 // a variable for the test that reaches it

// defaultStamp is how Flink's default layouts print a record's time.
const defaultStamp = "2006-01-02 15:04:05,000"

// appendStamp appends the text a record at t printed before its level in
// Flink's default layouts.
func appendStamp(b []byte, t flinklog.Time) []byte {
	return append(time.Unix(0, t.N).UTC().AppendFormat(b, defaultStamp), ' ')
}

// isStamp reports whether head is appendStamp of t.
func isStamp(head string, t flinklog.Time) bool {
	if t.Kind != flinklog.TimeLocal || len(head) != len(defaultStamp)+1 {
		return false
	}
	var buf [len(defaultStamp) + 1]byte
	return string(appendStamp(buf[:0], t)) == head
}

// repeatRun is a stream's repeats of one event, before they are handed
// over: the event's index in the stream, and the repeats' timestamp texts
// one after another (see Repeat.head).
type repeatRun struct {
	event int32
	reps  []Repeat
	heads []byte
}

// add appends ev as a repeat and returns how many bytes of text it
// stored.
func (r *repeatRun) add(ev *flinklog.Event) int {
	rp := Repeat{Time: ev.Time.N, Line: ev.Pos.Line, EndLine: ev.EndLine, head: stampHead}
	n := len(r.heads)
	if head, _ := ev.TextParts(); !isStamp(head, ev.Time) {
		rp.head = uint32(len(r.heads))
		r.heads = binary.AppendUvarint(r.heads, uint64(len(head)))
		r.heads = append(r.heads, head...)
	}
	r.reps = append(r.reps, rp)
	return len(r.heads) - n
}

// addFrom appends o's k-th repeat and returns how many bytes of text it
// stored.
func (r *repeatRun) addFrom(o *repeatRun, k int) int {
	rp := o.reps[k]
	n := len(r.heads)
	if rp.head != stampHead {
		l, w := binary.Uvarint(o.heads[rp.head:])
		text := o.heads[rp.head:][:w+int(l)]
		rp.head = uint32(len(r.heads))
		r.heads = append(r.heads, text...)
	}
	r.reps = append(r.reps, rp)
	return len(r.heads) - n
}

// foldKey finds the report a new one may repeat: the same message text,
// sender and slots (by a sum of them). sameButWhen decides.
type foldKey struct {
	tail     string
	instance flinklog.ID
	n        int
	sum      uint64
}

func keyOf(ev *flinklog.Event) foldKey {
	// a word at a time: byte by byte (FNV-1a) it was 3.6 % of reading
	// bench/run's 1 GB corpus, whose JobManagers log at DEBUG every
	// TaskManager's report every ten seconds (sameButWhen decides: a
	// sum two reports share only costs a fold)
	h := uint64(14695981039346656037)
	for i := range ev.Slots {
		st := &ev.Slots[i]
		h = sumString(h, st.SlotID)
		h = sumWord(h, uint64(st.Index))
		a, j := st.Alloc.Bytes(), st.Job.Bytes()
		h = sumWord(h, binary.LittleEndian.Uint64(a[:8]))
		h = sumWord(h, binary.LittleEndian.Uint64(a[8:]))
		h = sumWord(h, binary.LittleEndian.Uint64(j[:8]))
		h = sumWord(h, binary.LittleEndian.Uint64(j[8:]))
	}
	_, tail := ev.TextParts()
	return foldKey{tail: tail, instance: ev.Instance, n: len(ev.Slots), sum: h}
}

// sumWord mixes w into the sum h.
func sumWord(h, w uint64) uint64 {
	return bits.RotateLeft64((h^w)*0x9e3779b97f4a7c15, 29)
}

// sumString mixes s into the sum h, eight bytes at a time, then its
// length.
func sumString(h uint64, s string) uint64 {
	for len(s) >= 8 {
		h = sumWord(h, uint64(s[0])|uint64(s[1])<<8|uint64(s[2])<<16|uint64(s[3])<<24|
			uint64(s[4])<<32|uint64(s[5])<<40|uint64(s[6])<<48|uint64(s[7])<<56)
		s = s[8:]
	}
	var w uint64
	for i := 0; i < len(s); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	return sumWord(sumWord(h, w), uint64(len(s)))
}

// folded is the report a foldKey last found: the event as added (to
// compare) and its index in the stream's events.
type folded struct {
	ev flinklog.Event
	at int32
}

// maxFolds bounds the reports a stream remembers for folding; past it, it
// starts afresh (later reports start new runs: nothing is lost but
// memory).
const maxFolds = 4096

// foldable reports whether ev may be kept as a repeat. A TaskManager's
// events get its ResourceID by position at the end (resourceFiller): a
// repeat could need another than its event. The reference read folds
// nothing, so that tests compare folding with not folding.
func (s *stream) foldable(ev *flinklog.Event) bool {
	return ev.Kind == flinklog.KindRMSlotReport && ev.Component != flinklog.ComponentTM && !s.opts.Reference && !s.opts.noFold && s.headBytes < maxHeadBytes
}

// foldInto returns the event of the stream that foldable ev repeats, or
// -1: then ev is remembered as the event it is about to be, the stream's
// next.
func (s *stream) foldInto(ev *flinklog.Event) int32 {
	key := keyOf(ev)
	if f, ok := s.folds[key]; ok && sameButWhen(&f.ev, ev) {
		return f.at
	}
	if s.folds == nil || len(s.folds) >= maxFolds {
		s.folds = map[foldKey]folded{}
	}
	s.folds[key] = folded{ev: *ev, at: int32(s.events.len())}
	return -1
}

// runOf returns the run of event at (making it).
func (s *stream) runOf(at int32) *repeatRun {
	k, ok := s.runAt[at]
	if !ok {
		if s.runAt == nil {
			s.runAt = map[int32]int{}
		}
		k = len(s.runs)
		s.runAt[at] = k
		s.runs = append(s.runs, repeatRun{event: at})
	}
	return &s.runs[k]
}

// fold records ev as a repeat of an earlier report of the stream when
// there is one, and reports whether it did; otherwise the caller adds it.
func (s *stream) fold(ev *flinklog.Event) bool {
	if !s.foldable(ev) {
		return false
	}
	at := s.foldInto(ev)
	if at < 0 {
		return false
	}
	s.headBytes += s.runOf(at).add(ev)
	return true
}

// sameButWhen reports whether b says what a says, all but where and when:
// every field of the event but its line, last line, time and the
// timestamp text before its level. TestSameButWhenSeesEveryField changes
// each field in turn.
func sameButWhen(a, b *flinklog.Event) bool {
	_, aTail := a.TextParts()
	_, bTail := b.TextParts()
	aRep, aN := a.RepeatSpan()
	bRep, bN := b.RepeatSpan()
	aSum, aAway := a.TextAway()
	bSum, bAway := b.TextAway()
	return a.Pos.File == b.Pos.File && a.Pos.Rec == b.Pos.Rec && a.Time.Kind == b.Time.Kind &&
		a.Level == b.Level && a.Component == b.Component && a.Kind == b.Kind &&
		a.Alloc == b.Alloc && a.Job == b.Job && a.Other == b.Other && a.Instance == b.Instance &&
		a.Resource == b.Resource && a.SlotID == b.SlotID &&
		a.SlotIndex == b.SlotIndex && a.RequestedIndex == b.RequestedIndex &&
		a.SlotState == b.SlotState && a.Dynamic == b.Dynamic &&
		a.Request == b.Request && a.Task == b.Task && a.Attempt == b.Attempt &&
		a.From == b.From && a.To == b.To && a.Reason == b.Reason &&
		a.Version == b.Version && a.Count == b.Count &&
		// a repeat keeps no line of its own for a cause: never folded
		a.CauseLine == b.CauseLine && a.CauseText == b.CauseText &&
		slices.Equal(a.Slots, b.Slots) && aTail == bTail && aSum == bSum && aAway == bAway &&
		aRep == bRep && aN == bN
}

// absorbRuns takes o's runs as they are, o's events being taken as they
// are too (numbered from base in s; lines already shifted by offset).
func (s *stream) absorbRuns(o *stream, base int, offset int64) {
	for _, r := range o.runs {
		r.event += int32(base)
		for k := range r.reps {
			r.reps[k].Line += offset
			if r.reps[k].EndLine > 0 {
				r.reps[k].EndLine += offset
			}
		}
		if s.runAt == nil {
			s.runAt = map[int32]int{}
		}
		s.runAt[r.event] = len(s.runs)
		s.runs = append(s.runs, r)
		s.headBytes += len(r.heads)
	}
}

// absorbFolding copies o's events and repeats into s (o read after s,
// its event lines already shifted by offset), folding o's reports into
// those s holds: a follow reads a poll's few lines as a piece, and each
// heartbeat's report would otherwise be an event of its own. Events and
// repeats are taken in line order, so every run stays in line order.
func (s *stream) absorbFolding(o *stream, offset int64) {
	type item struct {
		line int64
		ev   *flinklog.Event // an event of o, or nil
		run  int             // else o's run,
		rep  int             // and its repeat
	}
	var items []item
	for ev := range o.events.all {
		c := *ev // all reuses what ev points to
		items = append(items, item{line: ev.Pos.Line, ev: &c})
	}
	for k := range o.runs {
		for j := range o.runs[k].reps {
			o.runs[k].reps[j].Line += offset
			if o.runs[k].reps[j].EndLine > 0 {
				o.runs[k].reps[j].EndLine += offset
			}
			items = append(items, item{line: o.runs[k].reps[j].Line, run: k, rep: j})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.line, b.line) })
	went := make([]int32, len(o.runs)) // o's run → the event of s its repeats repeat
	e := int32(0)                      // o's index of the next event
	for _, it := range items {
		if it.ev == nil {
			s.headBytes += s.runOf(went[it.run]).addFrom(&o.runs[it.run], it.rep)
			continue
		}
		at := int32(-1)
		if s.foldable(it.ev) {
			at = s.foldInto(it.ev)
		}
		if at >= 0 {
			s.headBytes += s.runOf(at).add(it.ev)
		} else {
			at = int32(s.events.len())
			s.events.add(*it.ev)
		}
		if k, ok := o.runAt[e]; ok {
			went[k] = at
		}
		e++
	}
	o.events, o.runs = eventBlocks{}, nil
}

// markRuns returns what hands a stream's events over: called with each
// event in order, it says the repeat span's first of an event that has
// repeats (its run's index in pending + 1), appending the run to pending.
func (s *stream) markRuns(pending *[]*repeatRun) func(i int) (int32, bool) {
	if len(s.runs) == 0 {
		return func(int) (int32, bool) { return 0, false }
	}
	return func(i int) (int32, bool) {
		k, ok := s.runAt[int32(i)]
		if !ok {
			return 0, false
		}
		*pending = append(*pending, &s.runs[k])
		return int32(len(*pending)), true
	}
}

// placeRepeats moves the pending runs into r, in the order of the events
// they repeat (r.Events is in its final order), and points each event at
// its repeats.
func (r *Result) placeRepeats(pending []*repeatRun) {
	if len(pending) == 0 {
		return
	}
	n := 0
	for _, run := range pending {
		n += len(run.reps)
	}
	r.repeats = make([]Repeat, 0, n)
	for i := 0; i < r.events.len(); i++ {
		mark, _ := r.events.span(i)
		if mark == 0 {
			continue
		}
		run := pending[mark-1]
		r.events.setSpan(i, int32(len(r.repeats)+1), int32(len(run.reps)))
		for _, rp := range run.reps {
			rp.Of = int32(i)
			r.repeats = append(r.repeats, rp)
		}
		// shared with the stream, which only ever appends to them
		if len(run.heads) > 0 {
			if r.heads == nil {
				r.heads = map[int32][]byte{}
			}
			r.heads[int32(i)] = run.heads
		}
	}
}

// EventRef names one event of a [Result]: an event as read, or a slot
// report folded as a repeat of one (see Repeat). It is the only way to
// name an event outside this package: [Result.Event] gives the event it
// names whichever it is, so no reader counts events in two ways. Refs
// below the number of events as read name them; the rest name repeats.
// Ordering refs is not ordering events: [Result.All] walks them in
// position order. Two facts about refs readers may use: the events read
// from one record have refs that follow one another, and so do the
// repeats of one event, in line order.
type EventRef int32

// Len counts the events: those read and the repeats, the events a read
// that folded nothing would have. Every ref below it names one.
func (r *Result) Len() int { return r.events.len() + len(r.repeats) }

// Event returns the event ref names, written out into a copy of its own:
// changing it changes nothing in r.
func (r *Result) Event(ref EventRef) *flinklog.Event {
	if int(ref) < r.events.len() {
		return r.events.event(int(ref))
	}
	return r.repeatEvent(ref)
}

// ReadEvent writes the event ref names out into dst and returns dst: a
// walk of many events that keeps none of them makes no copy of each.
func (r *Result) ReadEvent(ref EventRef, dst *flinklog.Event) *flinklog.Event {
	if int(ref) < r.events.len() {
		return r.events.read(int(ref), dst)
	}
	*dst = *r.repeatEvent(ref)
	return dst
}

func (r *Result) repeatEvent(ref EventRef) *flinklog.Event {
	rp := &r.repeats[int(ref)-r.events.len()]
	ev := r.events.event(int(rp.Of))
	ev.Pos.Line, ev.EndLine, ev.Time.N = rp.Line, rp.EndLine, rp.Time
	ev.SetRepeatSpan(0, 0)
	_, tail := ev.TextParts()
	if rp.head == stampHead {
		ev.SetText(string(appendStamp(nil, ev.Time)), tail)
		return ev
	}
	heads := r.heads[rp.Of]
	n, w := binary.Uvarint(heads[rp.head:])
	ev.SetText(string(heads[int(rp.head)+w:][:n]), tail)
	return ev
}

// base returns the packed event that ref is or repeats, and its block.
func (r *Result) base(ref EventRef) (*eventBlock, *packedEvent) {
	if int(ref) < r.events.len() {
		return r.events.at(int(ref))
	}
	return r.events.at(int(r.repeats[int(ref)-r.events.len()].Of))
}

// Pos returns the position of the event ref names, without writing it
// out.
func (r *Result) Pos(ref EventRef) flinklog.Pos {
	if int(ref) < r.events.len() {
		return r.events.pos(int(ref))
	}
	rp := &r.repeats[int(ref)-r.events.len()]
	at := r.events.pos(int(rp.Of))
	at.Line = rp.Line
	return at
}

// Time returns the time of the event ref names, without writing it out.
func (r *Result) Time(ref EventRef) flinklog.Time {
	if int(ref) < r.events.len() {
		b, p := r.events.at(int(ref))
		return b.timeOf(p)
	}
	rp := &r.repeats[int(ref)-r.events.len()]
	_, p := r.events.at(int(rp.Of))
	return flinklog.Time{Kind: p.timeKind, N: rp.Time}
}

// Kind returns the kind of the event ref names, without writing it out.
func (r *Result) Kind(ref EventRef) flinklog.Kind {
	b, p := r.base(ref)
	return b.kindOf(p)
}

// BaseRef returns the ref of the event as read that ref is or repeats:
// what the repeats of one report share.
func (r *Result) BaseRef(ref EventRef) EventRef {
	if int(ref) < r.events.len() {
		return ref
	}
	return EventRef(r.repeats[int(ref)-r.events.len()].Of)
}

// SetResource names the TaskManager of the event ref names, as a reader
// that joins a rotated log to its process learns it. A repeat takes the
// ResourceID of the event it repeats (a TaskManager's events are never
// folded).
func (r *Result) SetResource(ref EventRef, resource string) {
	r.events.setResource(int(r.BaseRef(ref)), resource)
}

// Base returns the event as read that ref is or repeats, written out: all
// but its position, time and text is the event's.
func (r *Result) Base(ref EventRef) *flinklog.Event {
	return r.events.event(int(r.BaseRef(ref)))
}

// AllOf yields the refs of the events of the given kinds, in the order
// All gives them: for a walk that looks at a few kinds of a busy read's
// millions of events, without a call per event. A block's events are
// matched by the numbers of their shapes (eventShape).
func (r *Result) AllOf(kinds ...flinklog.Kind) iter.Seq[EventRef] {
	return r.AllWhere(func(k flinklog.Kind, _ flinklog.Component) bool { return slices.Contains(kinds, k) })
}

// AllWhere yields the refs of the events whose kind and component keep
// accepts, in the order All gives them. keep is asked once for each shape
// of each block, not once an event: a walk that wants the TaskManager's
// events skips the blocks of a JobManager's log whole.
func (r *Result) AllWhere(keep func(flinklog.Kind, flinklog.Component) bool) iter.Seq[EventRef] {
	if r.keepsSlotReports(keep) {
		// repeats are slot reports, merged in by position: All's walk
		return func(yield func(EventRef) bool) {
			for i := range r.All() {
				b, p := r.base(i)
				if sh := b.shapes[p.shape]; keep(sh.kind, sh.component) && !yield(i) {
					return
				}
			}
		}
	}
	return func(yield func(EventRef) bool) {
		i := 0
		var want [math.MaxUint8 + 1]bool // the block's shapes keep accepts
		for _, b := range r.events.blocks {
			some := false
			for k, sh := range b.shapes {
				want[k] = keep(sh.kind, sh.component)
				some = some || want[k]
			}
			if !some {
				i += len(b.evs)
				continue
			}
			for k := range b.evs {
				if want[b.evs[k].shape] && !yield(EventRef(i)) {
					return
				}
				i++
			}
		}
	}
}

// keepsSlotReports reports whether keep accepts a slot report of some
// block: the events that repeats repeat.
func (r *Result) keepsSlotReports(keep func(flinklog.Kind, flinklog.Component) bool) bool {
	if len(r.repeats) == 0 {
		return false
	}
	for _, b := range r.events.blocks {
		for _, sh := range b.shapes {
			if sh.kind == flinklog.KindRMSlotReport && keep(sh.kind, sh.component) {
				return true
			}
		}
	}
	return false
}

// CountOf returns how many events AllOf(kinds...) yields: what a walk
// over a busy read's events sizes its maps by before it fills them (grown
// from empty, their rehashing was a third of the model's time on an
// allocation-dense read).
func (r *Result) CountOf(kinds ...flinklog.Kind) int {
	n := 0
	for range r.AllOf(kinds...) {
		n++
	}
	return n
}

// All yields the ref of every event, repeats included, in position order:
// the order of the events of a read that folded nothing.
func (r *Result) All() iter.Seq[EventRef] {
	return func(yield func(EventRef) bool) {
		for i := range r.AllAt() {
			if !yield(i) {
				return
			}
		}
	}
}

// AllAt is All with each event's position (Pos), which the walk knows
// already: a walk that reads every event's position finds no block again.
func (r *Result) AllAt() iter.Seq2[EventRef, flinklog.Pos] {
	return func(yield func(EventRef, flinklog.Pos) bool) {
		// the repeats of events already passed, by their next position
		var q repeatQueue
		i := 0 // the blocks are walked in order: no lookup per event
		for kb, b := range r.events.blocks {
			base := r.events.baseOf(kb)
			for k := range b.evs {
				at := b.pos(&b.evs[k])
				at.File += base
				for len(q) > 0 && q[0].pos.Less(at) {
					if !yield(q.next(r)) {
						return
					}
				}
				if !yield(EventRef(i), at) {
					return
				}
				rep, nrep := b.span(k)
				if r.events.overlay(kb) != nil {
					sp := r.events.spans[int32(i)]
					rep, nrep = sp[0], sp[1]
				}
				if rep > 0 && nrep > 0 {
					first := int(rep - 1)
					q.push(repeatCursor{flinklog.Pos{File: at.File, Line: r.repeats[first].Line}, first, first + int(nrep)})
				}
				i++
			}
		}
		for len(q) > 0 {
			if !yield(q.next(r)) {
				return
			}
		}
	}
}

// repeatCursor is the next repeat of one event to yield: Repeats[k:end].
type repeatCursor struct {
	pos    flinklog.Pos
	k, end int
}

// repeatQueue is a min-heap of cursors by position (positions differ: a
// repeat is a record of its own).
type repeatQueue []repeatCursor

// next returns the first repeat (as an index for At) and its position
// (Pos: the cursor's lacks the event's Rec), and moves its cursor.
func (q *repeatQueue) next(r *Result) (EventRef, flinklog.Pos) {
	s := *q
	v := EventRef(r.events.len() + s[0].k)
	s[0].k++
	if s[0].k < s[0].end {
		s[0].pos.Line = r.repeats[s[0].k].Line
	} else {
		s[0] = s[len(s)-1]
		s = s[:len(s)-1]
	}
	s.down(0)
	*q = s
	return v, r.Pos(v)
}

func (q *repeatQueue) push(c repeatCursor) {
	*q = append(*q, c)
	s := *q
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].pos.Less(s[p].pos) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (q repeatQueue) down(i int) {
	for {
		l, rt, small := 2*i+1, 2*i+2, i
		if l < len(q) && q[l].pos.Less(q[small].pos) {
			small = l
		}
		if rt < len(q) && q[rt].pos.Less(q[small].pos) {
			small = rt
		}
		if small == i {
			return
		}
		q[i], q[small] = q[small], q[i]
		i = small
	}
}

// Expanded returns every event with the repeats written out, in the order
// of All: what a read that folded nothing returns as Events. Each one's
// text is whole (its TextParts head is empty), read again if it was let
// go.
func (r *Result) Expanded() []flinklog.Event {
	out := make([]flinklog.Event, 0, r.Len())
	for v := range r.All() {
		ev := *r.Event(v)
		ev.SetRepeatSpan(0, 0)
		// every text whole, as read or read again, so that reads compare
		// whichever kept it
		text := r.Text(v)
		ev.SetText("", text)
		out = append(out, ev)
	}
	return out
}

// NewResult returns a read result that holds events as read, nothing
// folded, in position order (a stable sort of them), for files: what a
// reader of logs it cannot read yet, or a test, builds by hand.
func NewResult(files Files, events []flinklog.Event) *Result {
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(a, b flinklog.Event) int {
		switch {
		case a.Pos.Less(b.Pos):
			return -1
		case b.Pos.Less(a.Pos):
			return 1
		}
		return 0
	})
	return &Result{Files: files, events: storeOf(evs)}
}

// Head is what most walks of every event look at, read without writing
// the event out (Result.Head).
type Head struct {
	Kind              flinklog.Kind
	Component         flinklog.Component
	Resource          string
	Alloc, Job, Other flinklog.ID
}

// Attempt returns the attempt ID the event ref names (a task deployed or
// received), without writing the event out.
func (r *Result) Attempt(ref EventRef) string {
	b, p := r.base(ref)
	if p.extra == 0 {
		return ""
	}
	w := b.words[p.extra-1:]
	switch {
	case w[0]&xAttempt != 0:
		return b.strs[w[1+wordsBefore(w[0], xAttempt)]]
	case w[0]&xAttemptID != 0:
		return b.ids[w[1+wordsBefore(w[0], xAttemptID)]].String()
	}
	return ""
}

// AttemptOf returns the event's ExecutionAttemptID as the block keeps it:
// an ID when it is 32 lower-case hex digits (Flink's own form), its text
// otherwise, both zero when it names none. A join of every deployment to
// its receipt keys the first by ID and the second by text, without
// writing every ID out as Attempt does.
func (r *Result) AttemptOf(ref EventRef) (id flinklog.ID, text string) {
	b, p := r.base(ref)
	if p.extra == 0 {
		return flinklog.ID{}, ""
	}
	w := b.words[p.extra-1:]
	switch {
	case w[0]&xAttempt != 0:
		return flinklog.ID{}, b.strs[w[1+wordsBefore(w[0], xAttempt)]]
	case w[0]&xAttemptID != 0:
		return b.ids[w[1+wordsBefore(w[0], xAttemptID)]], ""
	}
	return flinklog.ID{}, ""
}

// Head returns the head of the event ref names (a repeat's is its
// event's): a walk of every event that only decides which to look at
// costs no copy of each.
func (r *Result) Head(ref EventRef) Head {
	i := int(r.BaseRef(ref))
	k, j := r.events.locate(i)
	b := r.events.blocks[k]
	p := &b.evs[j]
	h := Head{Kind: b.kindOf(p), Component: b.componentOf(p),
		Resource: r.events.resourceAt(i, k, j), Alloc: b.ids[p.alloc], Job: b.ids[p.job]}
	h.Other = b.otherOf(p)
	return h
}
