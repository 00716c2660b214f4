package parser

import (
	"maps"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
)

// eventBlockLen is how many events a block holds (32 KB of their records).
const eventBlockLen = 1024

// eventBlocks is a stream's events, packed (packed.go), in blocks of up
// to eventBlockLen: appending never copies the events already there,
// joining a piece of a file takes its blocks as they are, and a Result
// keeps them (eventStore). A DEBUG JobManager log holds nearly all of a
// run's events in one stream; as one slice, growing it held the old
// array beside the new, and joining pieces or handing the events over
// held two copies at once.
//
// Only the last block is ever appended to; the others may be less than
// full (a joined piece's last).
type eventBlocks struct {
	blocks []*eventBlock
	n      int
	// away: the stream's input can be read again by position (see
	// Result.Text), so its events let their text go as they are added
	away bool
	// emit, when set, is handed each block as it fills (and closes), which
	// the stream then lets go: a read again (Result.ReadAgain) holds a
	// block at a time, not the input's events; limit, when set, is how
	// many events such a block holds (Options.LeanReadAgain)
	emit  func(*eventBlock)
	limit int
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
	if k < 0 || b.blocks[k].full() || b.limit > 0 && len(b.blocks[k].evs) >= b.limit {
		c := eventBlockLen
		if k < 0 && b.emit == nil {
			c = 16
		}
		if b.limit > 0 {
			c = b.limit
		}
		if k >= 0 {
			b.blocks[k].close()
			if b.emit != nil {
				b.emit(b.blocks[k])
				b.blocks[k] = nil
				b.blocks, k = b.blocks[:0], -1
			}
		}
		b.blocks = append(b.blocks, newEventBlock(c))
		k++
	}
	b.blocks[k].push(&ev)
	b.n++
}

// adopt appends o's events without copying them and leaves o empty. The
// block b was filling is cut to its length first, so that what it would
// have held is not kept empty for the rest of the run.
func (b *eventBlocks) adopt(o *eventBlocks) {
	if k := len(b.blocks) - 1; k >= 0 {
		blk := b.blocks[k]
		if len(blk.evs) < cap(blk.evs) {
			blk.evs = slices.Clone(blk.evs)
		}
		blk.close()
	}
	b.blocks = append(b.blocks, o.blocks...)
	b.n += o.n
	*o = eventBlocks{away: o.away}
}

// len returns the number of events.
func (b *eventBlocks) len() int { return b.n }

// all yields the events in order, written out into one Event reused for
// each: what it points to is valid until the next, and read only.
func (b *eventBlocks) all(yield func(*flinklog.Event) bool) {
	var ev flinklog.Event
	for _, blk := range b.blocks {
		for i := range blk.evs {
			blk.unpack(&blk.evs[i], &ev)
			ev.SetRepeatSpan(blk.span(i))
			if !yield(&ev) {
				return
			}
		}
	}
}

// walk yields every event where it lies, packed, in order: for a walk
// that decides by a field or two (kind, resource), without writing each
// event out.
func (b *eventBlocks) walk(yield func(*eventBlock, *packedEvent) bool) {
	for _, blk := range b.blocks {
		for i := range blk.evs {
			if !yield(blk, &blk.evs[i]) {
				return
			}
		}
	}
}

// walkBackward is walk, last first.
func (b *eventBlocks) walkBackward(yield func(*eventBlock, *packedEvent) bool) {
	for k := len(b.blocks) - 1; k >= 0; k-- {
		blk := b.blocks[k]
		for i := len(blk.evs) - 1; i >= 0; i-- {
			if !yield(blk, &blk.evs[i]) {
				return
			}
		}
	}
}

// backward yields the events last first, as all does.
func (b *eventBlocks) backward(yield func(*flinklog.Event) bool) {
	var ev flinklog.Event
	for k := len(b.blocks) - 1; k >= 0; k-- {
		blk := b.blocks[k]
		for i := len(blk.evs) - 1; i >= 0; i-- {
			blk.unpack(&blk.evs[i], &ev)
			ev.SetRepeatSpan(blk.span(i))
			if !yield(&ev) {
				return
			}
		}
	}
}

// shiftLines moves every event's lines by offset.
func (b *eventBlocks) shiftLines(offset int64) {
	for _, blk := range b.blocks {
		blk.shiftLines(offset)
	}
}

// drain calls take with each block in order and drops b's hold on it
// after; b is empty at the end. A block shared with another stream (a
// follow's: see share) must be copied by take, not changed.
func (b *eventBlocks) drain(take func(*eventBlock)) {
	for k := range b.blocks {
		b.blocks[k].close()
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
	c := eventBlocks{blocks: append([]*eventBlock(nil), b.blocks...), n: b.n, away: b.away}
	if k := len(c.blocks) - 1; k >= 0 {
		o := c.blocks[k]
		ix := blockIndexes.Get().(*blockIndex)
		cp := &eventBlock{evs: append(make([]packedEvent, 0, cap(o.evs)), o.evs...), strs: slices.Clone(o.strs),
			words: slices.Clone(o.words), slotLists: slices.Clone(o.slotLists), spans: maps.Clone(o.spans),
			shapes: slices.Clone(o.shapes), files: slices.Clone(o.files), lastShape: o.lastShape,
			ids: slices.Clone(o.ids), ix: ix, gen: ix.open(), baseTime: o.baseTime, hasBase: o.hasBase}
		c.blocks[k] = cp
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
// (on a 225,000-allocation cluster, a quarter of the CPU: copying 448-byte
// events with pointers in them runs the collector's write barriers on
// every word), and for that moment held them twice. Blocks of any length
// are indexed by look, a block per window of 1<<storeShift events, and a
// short walk.
type eventStore struct {
	blocks []*eventBlock
	starts []int   // starts[k]: the index of blocks[k]'s first event; one more entry: n
	look   []int32 // look[w]: the block that holds event w<<storeShift
	n      int
	small  *eventBlock // the store's own block that short blocks are copied into
	// A follow's blocks are shared with its streams, which go on to the
	// next poll: they are never changed here. What handing them over
	// sets is kept beside them: shared[k] for block k (nil for a block of
	// the store's own, changed in place), and an event's repeat span or
	// ResourceID set after it was taken. Copying them instead held every
	// event of a follow twice.
	shared    []*blockOverlay
	spans     map[int32][2]int32
	resources map[int32]string
}

// blockOverlay is what handing a shared block over set: its events' file
// is base more, and a TaskManager event of it that names no ResourceID
// names that of the fill in effect (fills: from is relative to the block).
type blockOverlay struct {
	base  int32
	fills []resourceFill
}

// handover completes a stream's events as a store takes them: its inputs'
// number in the read (base, added to each event's file), the ResourceIDs
// settled by finish (fill, and the fills it applies), the marks of the
// events with repeats (mark: the repeat span's first, when event i has
// repeats), each called with the event's index in the stream.
type handover struct {
	base  int32
	fills []resourceFill
	fill  func(b *eventBlock, p *packedEvent, i int)
	mark  func(i int) (rep int32, ok bool)
	next  int // the stream's index of the next event taken
}

// fix completes event j of b, the stream's event i (its file is
// completed with the block's: see take).
func (h *handover) fix(b *eventBlock, j, i int) {
	p := &b.evs[j]
	h.fill(b, p, i)
	if rep, ok := h.mark(i); ok {
		b.setSpan(j, rep, 0)
	}
}

// take appends blk's events, completing them (h). keep: blk is the
// caller's to give, and is changed in place; a follow's (!keep) is shared
// with its stream, and what h sets is kept beside it.
func (s *eventStore) take(blk *eventBlock, keep bool, h *handover) {
	at := h.next
	h.next += len(blk.evs)
	if len(blk.evs) >= minKept && 4*len(blk.evs) >= 3*cap(blk.evs) {
		s.closeSmall()
		if keep {
			for f := range blk.files {
				blk.files[f] += h.base
			}
			for j := range blk.evs {
				h.fix(blk, j, at+j)
			}
			s.push(blk)
			return
		}
		for j := range blk.evs {
			if rep, ok := h.mark(at + j); ok {
				if s.spans == nil {
					s.spans = map[int32][2]int32{}
				}
				s.spans[int32(s.n+j)] = [2]int32{rep, 0}
			}
		}
		for len(s.shared) < len(s.blocks) {
			s.shared = append(s.shared, nil)
		}
		s.shared = append(s.shared, &blockOverlay{base: h.base, fills: fillsOf(h.fills, at, len(blk.evs))})
		s.push(blk)
		return
	}
	for j := range blk.evs {
		if s.small == nil || s.small.full() {
			s.closeSmall()
			s.small = newEventBlock(eventBlockLen)
		}
		h.fix(s.small, s.small.copyFrom(blk, j, h.base), at+j)
	}
}

func (s *eventStore) closeSmall() {
	if s.small != nil && len(s.small.evs) > 0 {
		s.small.close()
		s.push(s.small)
	}
	s.small = nil
}

func (s *eventStore) push(blk *eventBlock) {
	s.blocks = append(s.blocks, blk)
	s.starts = append(s.starts, s.n)
	s.n += len(blk.evs)
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
	var blk *eventBlock
	for i := range evs {
		if blk == nil || blk.full() {
			if blk != nil {
				blk.close()
				s.push(blk)
			}
			blk = newEventBlock(min(eventBlockLen, len(evs)-i))
		}
		blk.push(&evs[i])
	}
	if blk != nil {
		blk.close()
		s.push(blk)
	}
	s.seal()
	return s
}

// len returns the number of events.
func (s *eventStore) len() int { return s.n }

// locate returns the block of event i and its place there.
func (s *eventStore) locate(i int) (k, j int) {
	k = int(s.look[i>>storeShift])
	for s.starts[k+1] <= i {
		k++
	}
	return k, i - s.starts[k]
}

// at returns event i packed, and its block: as it lies in the block,
// without what a shared block's overlay adds (file, ResourceID, repeat
// span). Read those through pos, resourceAt and span.
func (s *eventStore) at(i int) (*eventBlock, *packedEvent) {
	k, j := s.locate(i)
	b := s.blocks[k]
	return b, &b.evs[j]
}

// overlay returns block k's overlay, nil for a block of the store's own.
func (s *eventStore) overlay(k int) *blockOverlay {
	if k < len(s.shared) {
		return s.shared[k]
	}
	return nil
}

// baseOf returns what block k's events' file is short of.
func (s *eventStore) baseOf(k int) int32 {
	if ov := s.overlay(k); ov != nil {
		return ov.base
	}
	return 0
}

// resourceAt returns the ResourceID of event i, the j-th of block k.
func (s *eventStore) resourceAt(i, k, j int) string {
	b := s.blocks[k]
	p := &b.evs[j]
	ov := s.overlay(k)
	if ov == nil {
		return b.strs[p.resource]
	}
	if r, ok := s.resources[int32(i)]; ok {
		return r
	}
	for f := len(ov.fills) - 1; f >= 0; f-- {
		if ov.fills[f].from <= j {
			if fillsIn(b, p, ov.fills[f].resource) {
				return ov.fills[f].resource
			}
			break
		}
	}
	return b.strs[p.resource]
}

// span returns event i's repeat span (see flinklog.Event.RepeatSpan).
func (s *eventStore) span(i int) (rep, nrep int32) {
	k, j := s.locate(i)
	if s.overlay(k) != nil {
		sp := s.spans[int32(i)]
		return sp[0], sp[1]
	}
	return s.blocks[k].span(j)
}

// setSpan sets event i's repeat span.
func (s *eventStore) setSpan(i int, rep, nrep int32) {
	k, j := s.locate(i)
	if s.overlay(k) != nil {
		if s.spans == nil {
			s.spans = map[int32][2]int32{}
		}
		s.spans[int32(i)] = [2]int32{rep, nrep}
		return
	}
	s.blocks[k].setSpan(j, rep, nrep)
}

// brief returns what a walk of every event decides by: event i's kind,
// component, ResourceID and input, without writing it out.
func (s *eventStore) brief(i int) (kind flinklog.Kind, comp flinklog.Component, resource string, file int32) {
	k, j := s.locate(i)
	b := s.blocks[k]
	p := &b.evs[j]
	return b.kindOf(p), b.componentOf(p), s.resourceAt(i, k, j), b.files[p.file] + s.baseOf(k)
}

// event returns event i written out (a copy).
func (s *eventStore) event(i int) *flinklog.Event {
	return s.read(i, new(flinklog.Event))
}

// read writes event i out into ev and returns it: for a walk of every
// event that keeps none of them.
func (s *eventStore) read(i int, ev *flinklog.Event) *flinklog.Event {
	k, j := s.locate(i)
	b := s.blocks[k]
	b.unpack(&b.evs[j], ev)
	ev.SetRepeatSpan(b.span(j))
	if ov := s.overlay(k); ov != nil {
		ev.Pos.File += ov.base
		ev.Resource = s.resourceAt(i, k, j)
		sp := s.spans[int32(i)]
		ev.SetRepeatSpan(sp[0], sp[1])
	}
	return ev
}

// pos returns event i's position.
func (s *eventStore) pos(i int) flinklog.Pos {
	k, j := s.locate(i)
	b := s.blocks[k]
	at := b.pos(&b.evs[j])
	at.File += s.baseOf(k)
	return at
}

// setResource names the TaskManager of event i.
func (s *eventStore) setResource(i int, r string) {
	k, j := s.locate(i)
	if s.overlay(k) != nil {
		if s.resources == nil {
			s.resources = map[int32]string{}
		}
		s.resources[int32(i)] = r
		return
	}
	b := s.blocks[k]
	b.evs[j].resource = b.str16(r)
}

// list returns the events written out, in order: for sorting and for
// tests.
func (s *eventStore) list() []flinklog.Event {
	out := make([]flinklog.Event, s.n)
	for i := range out {
		s.read(i, &out[i])
	}
	return out
}
