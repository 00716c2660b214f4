package parser

import (
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
)

// eventBlockLen is how many events a block holds (400 KB of them).
const eventBlockLen = 1024

// eventBlocks is a stream's events in blocks of up to eventBlockLen:
// appending never copies the events already there, joining a piece of a
// file takes its blocks as they are, and whoever takes the events drops
// each block once it is copied. A DEBUG JobManager log holds nearly all of
// a run's events in one stream; as one slice, growing it held the old
// array beside the new, and joining pieces or handing the events over
// held two copies at once.
//
// Only the last block is ever appended to; the others may be less than
// full (a joined piece's last).
type eventBlocks struct {
	blocks [][]flinklog.Event
	n      int
	// away: the stream's input can be read again by position (see
	// Result.Text), so its events let their text go as they are added
	away bool
}

// add appends ev. The first block grows from small (most streams hold few
// events); later blocks are made full-sized. When b lets texts go, ev's
// goes, but for a slot report that later ones may repeat: a repeat is
// written out with its event's text (Result.Event).
func (b *eventBlocks) add(ev flinklog.Event) {
	if b.away && ev.Kind != flinklog.KindRMSlotReport {
		if _, away := ev.TextAway(); !away {
			ev.LetTextGo(textSum(ev.Text()))
		}
	}
	k := len(b.blocks) - 1
	if k < 0 || len(b.blocks[k]) >= eventBlockLen {
		c := eventBlockLen
		if k < 0 {
			c = 16
		}
		b.blocks = append(b.blocks, make([]flinklog.Event, 0, c))
		k++
	}
	b.blocks[k] = append(b.blocks[k], ev)
	b.n++
}

// adopt appends o's events without copying them and leaves o empty. The
// block b was filling is cut to its length first, so that what it would
// have held is not kept empty for the rest of the run.
func (b *eventBlocks) adopt(o *eventBlocks) {
	if k := len(b.blocks) - 1; k >= 0 && len(b.blocks[k]) < cap(b.blocks[k]) {
		b.blocks[k] = slices.Clone(b.blocks[k])
	}
	b.blocks = append(b.blocks, o.blocks...)
	b.n += o.n
	*o = eventBlocks{away: o.away}
}

// len returns the number of events.
func (b *eventBlocks) len() int { return b.n }

// all yields the events in order, to read or to change in place.
func (b *eventBlocks) all(yield func(*flinklog.Event) bool) {
	for _, blk := range b.blocks {
		for i := range blk {
			if !yield(&blk[i]) {
				return
			}
		}
	}
}

// backward yields the events last first.
func (b *eventBlocks) backward(yield func(*flinklog.Event) bool) {
	for k := len(b.blocks) - 1; k >= 0; k-- {
		blk := b.blocks[k]
		for i := len(blk) - 1; i >= 0; i-- {
			if !yield(&blk[i]) {
				return
			}
		}
	}
}

// drain calls take with each block's events in order and drops b's hold
// on the block after (a block shared with another stream stays its);
// b is empty at the end. take must copy what it keeps and must not change
// the block.
func (b *eventBlocks) drain(take func([]flinklog.Event)) {
	for k := range b.blocks {
		take(b.blocks[k])
		b.blocks[k] = nil
	}
	*b = eventBlocks{away: b.away}
}

// share returns blocks holding the same events that can be appended to
// without touching b: the closed blocks are shared (events are not
// changed once added: see stream.fills), the last, still open, is copied.
// A follow takes one per poll of a growing file, and copying every event
// each time held them twice.
func (b *eventBlocks) share() eventBlocks {
	c := eventBlocks{blocks: append([][]flinklog.Event(nil), b.blocks...), n: b.n, away: b.away}
	if k := len(c.blocks) - 1; k >= 0 && len(c.blocks[k]) < cap(c.blocks[k]) {
		c.blocks[k] = append(make([]flinklog.Event, 0, cap(c.blocks[k])), c.blocks[k]...)
	}
	return c
}

// storeShift: eventStore.look has an entry per 1<<storeShift events.
const storeShift = 10

// minKept: a stream's block of at least this many events, three quarters
// full or more, joins the store as it is; smaller ones are copied into a
// block of the store's own. The blocks that start within one look window
// are then few, and a kept block wastes at most a quarter of itself.
const minKept = 256

// eventStore is a read's events, in the blocks the streams filled: handing
// events over to a Result used to copy every one of them into one array
// (1.5 GB, and a quarter of the CPU of an allocation-dense read: copying
// 448-byte events with pointers in them runs the collector's write
// barriers on every word), and for that moment held them twice. Blocks of
// any length are indexed by look, a block per window of 1<<storeShift
// events, and a short walk.
type eventStore struct {
	blocks [][]flinklog.Event
	starts []int   // starts[k]: the index of blocks[k]'s first event; one more entry: n
	look   []int32 // look[w]: the block that holds event w<<storeShift
	n      int
	small  []flinklog.Event // the store's own block that short blocks are copied into
}

// take appends blk's events, calling fix on each where it is kept. keep:
// blk is the caller's to give (a follow's blocks are shared with its
// streams, and are always copied).
func (s *eventStore) take(blk []flinklog.Event, keep bool, fix func(*flinklog.Event)) {
	if keep && len(blk) >= minKept && 4*len(blk) >= 3*cap(blk) {
		s.closeSmall()
		for i := range blk {
			fix(&blk[i])
		}
		s.push(blk)
		return
	}
	for _, ev := range blk {
		if len(s.small) == cap(s.small) {
			s.closeSmall()
			s.small = make([]flinklog.Event, 0, eventBlockLen)
		}
		s.small = append(s.small, ev)
		fix(&s.small[len(s.small)-1])
	}
}

func (s *eventStore) closeSmall() {
	if len(s.small) > 0 {
		s.push(s.small)
	}
	s.small = nil
}

func (s *eventStore) push(blk []flinklog.Event) {
	s.blocks = append(s.blocks, blk)
	s.starts = append(s.starts, s.n)
	s.n += len(blk)
}

// seal ends the taking and indexes the blocks.
func (s *eventStore) seal() {
	s.closeSmall()
	s.starts = append(s.starts[:len(s.blocks)], s.n)
	s.look = make([]int32, 0, s.n>>storeShift+1)
	k := 0
	for w := 0; w<<storeShift < s.n; w++ {
		for s.starts[k+1] <= w<<storeShift {
			k++
		}
		s.look = append(s.look, int32(k))
	}
}

// storeOf returns a sealed store of evs.
func storeOf(evs []flinklog.Event) eventStore {
	s := eventStore{}
	if len(evs) > 0 {
		s.push(evs)
	}
	s.seal()
	return s
}

// len returns the number of events.
func (s *eventStore) len() int { return s.n }

// at returns event i, to read or to change in place.
func (s *eventStore) at(i int) *flinklog.Event {
	k := int(s.look[i>>storeShift])
	for s.starts[k+1] <= i {
		k++
	}
	return &s.blocks[k][i-s.starts[k]]
}

// list returns the events as one slice (a copy, unless there is one
// block): for sorting and for tests.
func (s *eventStore) list() []flinklog.Event {
	if len(s.blocks) == 1 {
		return s.blocks[0]
	}
	out := make([]flinklog.Event, 0, s.n)
	for _, b := range s.blocks {
		out = append(out, b...)
	}
	return out
}
