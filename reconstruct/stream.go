package reconstruct

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// The merged stream: every input of a read read again (parser.ReadAgain),
// its events handed over in Model.Rank's order without holding more than a
// few blocks of each input (docs/folding-plan.md, step 3). The read it
// starts from may have kept nothing: it gives the inputs, their numbers and
// their ResourceIDs; the skew comes from the caller.

// Merged yields the events of every input of a read in the merged order.
type Merged struct {
	res     *parser.Result
	opts    parser.Options
	inputs  []mergedInput
	q       *headMerge
	started bool
	rank    int32
	live    int               // the inputs with a head
	kind    flinklog.TimeKind // the kind of every event's time
	err     error
	// pending are the inputs not read yet, by when they begin; an input
	// is read from an hour (startAhead) of the merge's time before its
	// first line, so that a directory of rotated logs holds the few files
	// that overlap in time, not all of them. taken: the latest time of a
	// head the merge has given, which a head of an input read later must
	// come after (else the merge gives way: ErrNotMergeable).
	pending  []int
	taken    int64
	anyTaken bool
	// open counts the inputs being read, peak the most at once
	open, peak int
	// the merge runs ahead of Next's caller on a goroutine of its own
	// (see runAhead): what it hands over, the batch being taken, and how
	// to stop it
	ahead   chan aheadBatch
	cur     aheadBatch
	at      int
	quit    chan struct{}
	done    chan struct{}
	stopped bool
}

// aheadBatch is a run of the merge's events, and what ended the merge
// after them (end, err).
type aheadBatch struct {
	items []mergedItem
	end   bool
	err   error
}

// mergedItem is one event of the merge as Next gives it.
type mergedItem struct {
	ev   *flinklog.Event
	ref  parser.EventRef
	rank int32
}

// aheadLen is how many events the merge hands over at once; aheadDepth
// how many such runs it may be ahead.
const (
	aheadLen   = 512
	aheadDepth = 4
)

// startAhead: an input is read again from this much of the merge's time
// before its first line (clock skew included).
const startAhead = int64(60 * 60e9)

// mergedInput is one input as the merge reads it: its reader, the batch
// at hand and where in it the head is.
type mergedInput struct {
	k      int   // its place in the read's Inputs
	start  int64 // when the merge reads it from (pending)
	r      *parser.InputReader
	batch  []flinklog.Event
	nums   []int // the batch's events' numbers in the input, when it is not all of them
	at     int
	ref    parser.EventRef // the head's ref in the read that kept everything
	base   parser.EventRef // the ref of the input's first event
	offset int64           // the input's skew
	// the kind of the last head and its protocolRank
	kind    flinklog.Kind
	kindSet bool
	rank    int
	ranked  bool
}

// ErrNotMergeable says that the inputs cannot be merged as they are read
// again: one cannot be read again (parser.ErrNotRereadable), or their
// events' times are not all of one kind, which only a read that keeps them
// all can order (Model.order's scan).
var ErrNotMergeable = errors.New("the inputs cannot be merged as they are read again")

// Merge reads every input of res again (opts: the options res was read
// with) and merges them by time, each input's time moved by skew (by
// input number; see Model.Skew). The refs it gives are those a read of the
// same inputs that kept every event gives and folded no slot report into a
// parser.Repeat (a reference read: Options.Reference): a read again hands
// every report over where its line is. With opts.OnlyKinds it merges only
// the events of those kinds, under the same refs.
func Merge(res *parser.Result, opts parser.Options, skew map[int32]int64) (*Merged, error) {
	m := &Merged{res: res, opts: opts}
	base := parser.EventRef(0)
	for k, in := range res.Inputs {
		if in.DuplicateOf != "" || in.EventCount == 0 {
			continue
		}
		// (read later, but refused now: a fold learns at once)
		if err := res.CanReadAgain(k); err != nil {
			if errors.Is(err, parser.ErrNotRereadable) {
				return nil, fmt.Errorf("%w: %w", ErrNotMergeable, err)
			}
			return nil, err
		}
		start := int64(math.MinInt64) // (an input of no time: read at once)
		if in.First.Kind != flinklog.TimeNone {
			start = in.First.N + skew[in.File] - startAhead
		}
		m.inputs = append(m.inputs, mergedInput{k: k, start: start, ref: base, base: base, offset: skew[in.File]})
		m.pending = append(m.pending, len(m.inputs)-1)
		base += parser.EventRef(in.EventCount)
	}
	slices.SortStableFunc(m.pending, func(a, b int) int { return cmp.Compare(m.inputs[a].start, m.inputs[b].start) })
	m.q = newHeadMerge(len(m.inputs))
	return m, nil
}

// startDue reads again the pending inputs whose time has come: before the
// head the merge would give next reaches an hour before their first line
// (or at once, when no input has a head).
func (m *Merged) startDue() error {
	for len(m.pending) > 0 {
		h := m.pending[0]
		if m.live > 0 && m.inputs[h].start > m.q.fresh(&m.q.all).t {
			return nil
		}
		m.pending = m.pending[1:]
		in := &m.inputs[h]
		r, err := m.res.ReadAgain(in.k, m.opts)
		if err != nil {
			if errors.Is(err, parser.ErrNotRereadable) {
				return fmt.Errorf("%w: %w", ErrNotMergeable, err)
			}
			return err
		}
		in.r = r
		m.open++
		m.peak = max(m.peak, m.open)
		more, err := m.fill(h)
		if err != nil {
			return err
		}
		if !more {
			m.open--
			continue
		}
		hd := m.head(h)
		if m.anyTaken && hd.t <= m.taken {
			// read from the start, it would have come earlier in the
			// merge (its times go back an hour before its first line)
			return fmt.Errorf("%w: %s begins before lines already merged", ErrNotMergeable, m.res.Inputs[in.k].Path)
		}
		m.q.add(h, hd)
		m.live++
	}
	return nil
}

// MostOpen is how many of res's inputs a Merge reads again at once at
// most, by their times (Merge's startAhead; skew moves them little).
func MostOpen(res *parser.Result) int {
	type edge struct {
		t    int64
		open int
	}
	var edges []edge
	atOnce := 0
	for _, in := range res.Inputs {
		if in.DuplicateOf != "" || in.EventCount == 0 {
			continue
		}
		if in.First.Kind == flinklog.TimeNone || in.Last.Kind == flinklog.TimeNone {
			atOnce++
			continue
		}
		edges = append(edges, edge{in.First.N - startAhead, 1}, edge{in.Last.N + startAhead, -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(b.open, a.open) // (opened before closed at one time)
	})
	most, n := 0, 0
	for _, e := range edges {
		n += e.open
		most = max(most, n)
	}
	return most + atOnce
}

// Peak is the most inputs the merge has read again at once so far.
func (m *Merged) Peak() int { return m.peak }

// Close stops the merge and every read again.
func (m *Merged) Close() {
	if m.ahead != nil && !m.stopped {
		m.stopped = true
		close(m.quit)
		<-m.done
	}
	m.closeInputs()
}

func (m *Merged) closeInputs() {
	for _, in := range m.inputs {
		if in.r != nil {
			in.r.Close()
		}
	}
}

// fill makes input h's head the event at hand, reading its next batch when
// the last is used up; it reports whether the input has one.
func (m *Merged) fill(h int) (bool, error) {
	in := &m.inputs[h]
	for in.at >= len(in.batch) {
		b, nums, err := in.r.NextNumbered()
		if err != nil {
			if errors.Is(err, parser.ErrNotRereadable) {
				return false, fmt.Errorf("%w: %w", ErrNotMergeable, err)
			}
			return false, err
		}
		if b == nil {
			in.batch, in.nums, in.at = nil, nil, 0
			return false, nil
		}
		in.batch, in.nums, in.at = b, nums, 0
	}
	if in.nums != nil {
		// (a read again of some kinds: the events between are counted,
		// not handed over)
		in.ref = in.base + parser.EventRef(in.nums[in.at])
	}
	ev := &in.batch[in.at]
	if m.kind == flinklog.TimeNone {
		m.kind = ev.Time.Kind
	}
	if ev.Time.Kind == flinklog.TimeNone || ev.Time.Kind != m.kind {
		return false, fmt.Errorf("%w: the events' times are not all of one kind (input %d, line %d)", ErrNotMergeable, ev.Pos.File, ev.Pos.Line)
	}
	return true, nil
}

// head is input h's head as the merge compares it.
func (m *Merged) head(h int) mergeHead {
	in := &m.inputs[h]
	ev := &in.batch[in.at]
	if ev.Kind != in.kind || !in.kindSet {
		// (an input's lines come in runs of a kind or two: the rank is
		// looked up when the kind changes, not for every head)
		in.kind, in.kindSet = ev.Kind, true
		in.rank, in.ranked = protocolRank[ev.Kind]
	}
	return mergeHead{t: ev.Time.N + in.offset, rank: in.rank, ranked: in.ranked}
}

// Next returns the next event in the merged order, its ref and its rank
// (Model.Rank's); the event is the caller's to keep, and not to change. ok is false at
// the end, or when err says what stopped the merge.
//
// The merge runs ahead of the caller on a goroutine of its own, a few
// runs of events ahead: its heap, its inputs' batches and their decoding
// on the other core, while the caller (a fold, the skew's estimate) works
// through what it was given — the caller's work alone was the wall time of
// a fold's pass.
func (m *Merged) Next() (ev *flinklog.Event, ref parser.EventRef, rank int32, ok bool, err error) {
	if m.ahead == nil {
		m.runAhead()
	}
	for m.at >= len(m.cur.items) {
		if m.cur.end {
			return nil, 0, 0, false, m.cur.err
		}
		b, more := <-m.ahead
		if !more {
			m.cur = aheadBatch{end: true, err: errors.New("merge: stopped")}
			continue
		}
		m.cur, m.at = b, 0
	}
	it := &m.cur.items[m.at]
	m.at++
	return it.ev, it.ref, it.rank, true, nil
}

// runAhead starts the goroutine that merges.
func (m *Merged) runAhead() {
	m.ahead, m.quit, m.done = make(chan aheadBatch, aheadDepth), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(m.done)
		defer close(m.ahead)
		for {
			b := aheadBatch{items: make([]mergedItem, 0, aheadLen)}
			for len(b.items) < aheadLen {
				ev, ref, rank, ok, err := m.next()
				if !ok {
					b.end, b.err = true, err
					break
				}
				b.items = append(b.items, mergedItem{ev, ref, rank})
			}
			select {
			case m.ahead <- b:
			case <-m.quit:
				return
			}
			if b.end {
				return
			}
		}
	}()
}

// next is Next, on the merging goroutine.
func (m *Merged) next() (ev *flinklog.Event, ref parser.EventRef, rank int32, ok bool, err error) {
	if m.err != nil {
		return nil, 0, 0, false, m.err
	}
	if !m.started {
		m.started = true
	} else {
		h := m.q.taken
		in := &m.inputs[h]
		in.at++
		in.ref++
		more, err := m.fill(h)
		if err != nil {
			return m.fail(err)
		}
		if more {
			m.q.advance(m.head(h), true)
		} else {
			m.q.advance(mergeHead{}, false)
			m.live--
			m.open--
		}
	}
	if err := m.startDue(); err != nil {
		return m.fail(err)
	}
	if m.live == 0 {
		return nil, 0, 0, false, nil
	}
	h := m.q.next()
	in := &m.inputs[h]
	if t := m.head(h).t; !m.anyTaken || t > m.taken {
		m.taken, m.anyTaken = t, true
	}
	rank = m.rank
	m.rank++
	return &in.batch[in.at], in.ref, rank, true, nil
}

func (m *Merged) fail(err error) (*flinklog.Event, parser.EventRef, int32, bool, error) {
	m.err = err
	m.closeInputs()
	return nil, 0, 0, false, err
}

// SkewKinds are the only kinds estimateSkew reads: a read that keeps only
// these (parser.Options.Keep) gives EstimateSkew what a full read gives.
var SkewKinds = []flinklog.Kind{
	flinklog.KindRMSlotRequest, flinklog.KindRMAllocStart, flinklog.KindJMDeploy, flinklog.KindJMOfferMatched,
	flinklog.KindTMSlotRequest, flinklog.KindTMTaskReceived, flinklog.KindTMActivate,
}

// EstimateSkew is Build's estimate of each input's clock skew (Model.Skew)
// on its own, for a read that keeps only SkewKinds: what Merge needs before
// it starts. The refs in each Skew are res's.
func EstimateSkew(res *parser.Result) map[int32]Skew {
	m := &Model{Result: res, Skew: map[int32]Skew{}}
	m.estimateSkew()
	return m.Skew
}
