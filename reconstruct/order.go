package reconstruct

// This file holds causal order: events of all inputs in one order the
// protocol allows, and the clock skew that order forces.

import (
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// minNegativeSkew: a TaskManager clock that runs ahead of the
// ResourceManager's is corrected only beyond this (smaller leads are
// indistinguishable from network latency).
const minNegativeSkew = 50 * int64(time.Millisecond)

// protocolRank orders events of one allocation that carry equal or
// incomparable times by the protocol: the JM asks, the RM forwards, the TM
// receives and allocates, offers, activates, tasks are deployed, the slot is
// released and freed.
var protocolRank = map[flinklog.Kind]int{
	flinklog.KindJMSlotRequest: 0, flinklog.KindRMSlotRequest: 1, flinklog.KindRMAllocStart: 2,
	flinklog.KindTMSlotRequest: 3, flinklog.KindTMAllocated: 4, flinklog.KindTMAllocRefused: 4, flinklog.KindTMAllocExists: 4,
	flinklog.KindRMAllocFailed: 5, flinklog.KindJMFulfilled: 6, flinklog.KindJMOfferMatched: 6, flinklog.KindTMActivate: 7,
	flinklog.KindJMDeploy: 8, flinklog.KindTMTaskReceived: 9, flinklog.KindTaskNoSlot: 10, flinklog.KindJMRelease: 11,
	flinklog.KindTMFreeReason: 12, flinklog.KindTMFree: 13, flinklog.KindTMFreeUnknown: 13, flinklog.KindRMFree: 14,
}

// order merges the inputs into one sequence (Rank): each input keeps its
// line order (timestamps within a file can go backwards with thread
// interleaving), and at every step the earliest of the inputs' next events
// by before is taken. Comparing only the inputs' heads keeps the result a
// total order that is the same whatever the file order or core count.
func (m *Model) order() {
	res := m.Result
	m.Rank = make([]int32, res.Len())
	var heads [][]parser.EventRef // per input: its events, in line order
	where := map[int32]int{}
	// counted first: grown by appending, the inputs' lists were copied
	// over and over (a JobManager's holds a third of a busy read's events)
	// (All walks an input's events together: its number is looked up
	// when the input changes)
	var sizes []int
	last, h := int32(-1), 0
	for _, at := range res.AllAt() {
		if f := at.File; f != last {
			var ok bool
			if h, ok = where[f]; !ok {
				h = len(sizes)
				where[f] = h
				sizes = append(sizes, 0)
			}
			last = f
		}
		sizes[h]++
	}
	heads = make([][]parser.EventRef, len(sizes))
	for h, n := range sizes {
		heads[h] = make([]parser.EventRef, 0, n)
	}
	last = -1
	for i, at := range res.AllAt() {
		if f := at.File; f != last {
			h, last = where[f], f
		}
		heads[h] = append(heads[h], i)
	}
	if sameTimeKind(res) {
		m.orderByTime(heads)
		return
	}
	m.orderByScan(heads)
}

// orderByScan is the definition of the merge: at every step the heads are
// scanned in input order and a head replaces the best so far when it is
// before it. It costs events × inputs comparisons.
func (m *Model) orderByScan(heads [][]parser.EventRef) {
	for n := range m.Rank {
		best := -1
		for h := range heads {
			if len(heads[h]) == 0 {
				continue
			}
			if best < 0 || m.before(heads[h][0], heads[best][0]) {
				best = h
			}
		}
		m.Rank[heads[best][0]] = int32(n)
		heads[best] = heads[best][1:]
	}
}

// orderByTime gives orderByScan's result in events × log(inputs) when every
// event's time is of one kind (the usual case: hundreds of TaskManager
// files made the scan the slowest step after parsing). Then before decides
// between heads of different adjusted times by time alone, so the scan
// ends on a head of the least time. Among the heads tied at the least
// time, in input order (which is file order, as positions compare), a
// later head is before an earlier one only when both have a protocol rank
// and its rank is lower: so the scan keeps the first tied head if it has
// no rank, and otherwise ends on the first head of the lowest rank among
// the ranked ones. Two heaps find those: every head by (time, input), the
// ranked heads by (time, rank, input). Taking every tied head off one heap
// and scanning them, as this did before, cost events × ties: a thousand
// clusters logging at the same milliseconds made ordering quadratic.
func (m *Model) orderByTime(heads [][]parser.EventRef) {
	res := m.Result
	offset := make([]int64, len(heads))
	for h := range heads {
		offset[h] = m.Skew[res.Pos(heads[h][0]).File].Offset
	}
	headOf := func(h int) mergeHead {
		ref := heads[h][0]
		rank, ranked := protocolRank[res.Kind(ref)]
		return mergeHead{t: res.Time(ref).N + offset[h], rank: rank, ranked: ranked}
	}
	q := newHeadMerge(len(heads))
	for h := range heads {
		q.add(h, headOf(h))
	}
	for n := range m.Rank {
		h := q.next()
		m.Rank[heads[h][0]] = int32(n)
		if heads[h] = heads[h][1:]; len(heads[h]) > 0 {
			q.advance(headOf(h), true)
		} else {
			q.advance(mergeHead{}, false)
		}
	}
}

// mergeHead is an input's next event as the merge compares it: its time
// on the merged clock (skew added) and its protocol rank, if it has one.
type mergeHead struct {
	t      int64
	rank   int
	ranked bool
}

// headMerge is orderByTime's merge, told each input's head as the input
// gives it: next says whose head comes next, and advance gives that
// input's following head. It never looks past a head, so the inputs can
// be read as the merge goes (a fold reads them block by block,
// docs/folding-plan.md).
type headMerge struct {
	all, ranked headQueue
	// seq[h] counts the heads input h has given: an entry of an older
	// head is stale, and dropped when it comes to the top
	seq []int32
	// the last next: the input taken, and whether the head of the least
	// time was a ranked one (then the taken input's entry is on top of
	// the ranked heap)
	taken       int
	firstRanked bool
}

func newHeadMerge(inputs int) *headMerge {
	return &headMerge{all: make(headQueue, 0, inputs), ranked: make(headQueue, 0, inputs), seq: make([]int32, inputs)}
}

// entries returns x as input h's entry in each heap.
func (q *headMerge) entries(h int, x mergeHead) (a, r headAt) {
	return headAt{t: x.t, h: h, seq: q.seq[h], ranked: x.ranked}, headAt{t: x.t, rank: x.rank, h: h, seq: q.seq[h]}
}

// add gives input h its first head.
func (q *headMerge) add(h int, x mergeHead) {
	a, r := q.entries(h, x)
	q.all.push(a)
	if x.ranked {
		q.ranked.push(r)
	}
}

// fresh drops the stale entries on top of hq and returns the top.
func (q *headMerge) fresh(hq *headQueue) headAt {
	for (*hq)[0].seq != q.seq[(*hq)[0].h] {
		hq.pop()
	}
	return (*hq)[0]
}

// next returns the input whose head comes next; advance must follow.
func (q *headMerge) next() int {
	first := q.fresh(&q.all)
	q.taken, q.firstRanked = first.h, first.ranked
	if first.ranked {
		// first is ranked, so ranked holds a head of its time
		q.taken = q.fresh(&q.ranked).h
	}
	return q.taken
}

// advance gives the input next returned its following head x, or says it
// has none (more false).
//
// The taken head's entries on top of their heaps are replaced by the
// input's next head in place (or dropped), not left stale under a new
// one: half the heaps' work. Entries elsewhere go stale as before. Only
// fresh entries decide, so the order is the same.
func (q *headMerge) advance(x mergeHead, more bool) {
	h := q.taken
	q.seq[h]++
	a, r := q.entries(h, x)
	q.all.settle(q.all[0].h == h, more, a)
	q.ranked.settle(q.firstRanked, more && x.ranked, r)
}

// settle puts e, the taken input's next entry, into the heap: in place of
// the taken head's entry when that is on top, else among the others; when
// there is none (keep false) it drops the entry on top, or leaves the
// heap be.
func (hq *headQueue) settle(onTop, keep bool, e headAt) {
	switch {
	case !onTop:
		if keep {
			hq.push(e)
		}
	case keep:
		hq.replaceTop(e)
	default:
		hq.pop()
	}
}

// sameTimeKind reports whether every event carries a time, all of one
// kind (a repeat's is its event's).
func sameTimeKind(res *parser.Result) bool {
	for i := range parser.EventRef(res.Len()) {
		if k := res.Time(i).Kind; k == flinklog.TimeNone || k != res.Time(0).Kind {
			return false
		}
	}
	return true
}

// headAt is an input's next event's adjusted time, its protocol rank
// (0 in a heap of every head), the input, and which of the input's heads
// it is.
type headAt struct {
	t    int64
	rank int
	h    int
	seq  int32
	// ranked: the event has a protocol rank (in the heap of every head,
	// where rank is 0, so that it is looked up once an event)
	ranked bool
}

// headQueue is a binary min-heap of heads by time, rank, then input order.
type headQueue []headAt

func (q headQueue) less(i, j int) bool {
	a, b := &q[i], &q[j]
	if a.t != b.t {
		return a.t < b.t
	}
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.h < b.h
}

func (q *headQueue) push(x headAt) {
	*q = append(*q, x)
	s := *q
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (q *headQueue) pop() headAt {
	s := *q
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*q = s[:last]
	q.down()
	return top
}

// replaceTop puts x in place of the least entry.
func (q *headQueue) replaceTop(x headAt) {
	(*q)[0] = x
	q.down()
}

// down moves the entry at the top down to its place.
func (q *headQueue) down() {
	s := *q
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, small) {
			small = l
		}
		if r < len(s) && s.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
}

// before orders two events: within one input by line (timestamps within a
// file can go backwards with thread interleaving); across inputs by time
// when both times are of the same kind, then by protocol order, then by
// position. Times are shifted by the estimated skew of their input.
func (m *Model) before(i, j parser.EventRef) bool {
	res := m.Result
	pa, pb := res.Pos(i), res.Pos(j)
	if pa.File == pb.File {
		return pa.Less(pb)
	}
	if a, b := res.Time(i), res.Time(j); a.Kind == b.Kind && a.Kind != flinklog.TimeNone {
		ta, tb := a.N+m.Skew[pa.File].Offset, b.N+m.Skew[pb.File].Offset
		if ta != tb {
			return ta < tb
		}
	}
	ra, oka := protocolRank[res.Kind(i)]
	rb, okb := protocolRank[res.Kind(j)]
	if oka && okb && ra != rb {
		return ra < rb
	}
	return pa.Less(pb)
}

// estimateSkew finds, per TaskManager input, the smallest clock offset that
// makes every TaskManager line that answers a message come after the line
// that sent it (the protocol's causality): "Receive slot request A" after
// the RM's "Request slot … with allocation id A" (legacy) or "Starting
// allocation of slot A from R" (fine-grained), "Received task T (X)"
// after the JobMaster's "Deploying T … with attempt id X", and the first
// "Activate slot A" after the declarative pool's "Matched slot offer A"
// (an accepted offer is what activates a slot; a task sent into it comes
// later still): the largest lag seen. A clock behind the sender's is always corrected; one ahead of it
// only when the lead exceeds minNegativeSkew. Times of different kinds
// (local wall clock vs UTC, time of day) are not compared.
func (m *Model) estimateSkew() {
	res := m.Result
	// sized by what they will hold at most: grown from empty, maps of a
	// session cluster's every request were rehashed over and again
	sentAlloc := newIDIndex[parser.EventRef](res.CountOf(flinklog.KindRMSlotRequest, flinklog.KindRMAllocStart))
	sentTask := newIDIndex[parser.EventRef](res.CountOf(flinklog.KindJMDeploy))
	sentTaskText := map[string]parser.EventRef{} // attempts that are no ID of 32 digits
	matched := newIDIndex[parser.EventRef](res.CountOf(flinklog.KindJMOfferMatched))
	// (read field by field: every request is looked at)
	for i := range res.AllOf(flinklog.KindRMSlotRequest, flinklog.KindRMAllocStart, flinklog.KindJMDeploy, flinklog.KindJMOfferMatched) {
		switch ev := res.Head(i); {
		case ev.Kind == flinklog.KindRMSlotRequest, ev.Kind == flinklog.KindRMAllocStart && ev.Alloc.IsSet():
			if _, ok := sentAlloc.get(ev.Alloc); !ok {
				sentAlloc.set(ev.Alloc, i)
			}
		case ev.Kind == flinklog.KindJMDeploy:
			if id, text := res.AttemptOf(i); id.IsSet() {
				if _, ok := sentTask.get(id); !ok {
					sentTask.set(id, i)
				}
			} else if _, ok := sentTaskText[text]; !ok && text != "" {
				sentTaskText[text] = i
			}
		case ev.Kind == flinklog.KindJMOfferMatched && ev.Alloc.IsSet():
			if _, ok := matched.get(ev.Alloc); !ok {
				matched.set(ev.Alloc, i)
			}
		}
	}
	type fileAlloc struct {
		file  int32
		alloc flinklog.ID
	}
	activated := make(map[fileAlloc]bool, min(matched.len(), res.CountOf(flinklog.KindTMActivate)))
	best := map[int32]Skew{}
	for i := range res.AllOf(flinklog.KindTMSlotRequest, flinklog.KindTMTaskReceived, flinklog.KindTMActivate) {
		// read field by field: every TaskManager receipt is looked at
		tm := res.Head(i)
		tmPos, tmTime := res.Pos(i), res.Time(i)
		var j parser.EventRef
		var ok bool
		switch {
		case tm.Kind == flinklog.KindTMSlotRequest:
			j, ok = sentAlloc.get(tm.Alloc)
		case tm.Kind == flinklog.KindTMTaskReceived:
			if id, text := res.AttemptOf(i); id.IsSet() {
				j, ok = sentTask.get(id)
			} else if text != "" {
				j, ok = sentTaskText[text]
			}
		case tm.Kind == flinklog.KindTMActivate && tm.Alloc.IsSet() && !activated[fileAlloc{tmPos.File, tm.Alloc}]:
			activated[fileAlloc{tmPos.File, tm.Alloc}] = true
			j, ok = matched.get(tm.Alloc)
		}
		if !ok {
			continue
		}
		rmPos, rmTime := res.Pos(j), res.Time(j)
		if rmPos.File == tmPos.File || rmTime.Kind != tmTime.Kind || rmTime.Kind == flinklog.TimeNone {
			continue
		}
		lag := rmTime.N - tmTime.N
		if b, seen := best[tmPos.File]; !seen || lag > b.Offset {
			best[tmPos.File] = Skew{Offset: lag, Because: i, Relative: j}
		}
	}
	for file, sk := range best {
		if sk.Offset > 0 || sk.Offset < -minNegativeSkew {
			m.Skew[file] = sk
		}
	}
}
