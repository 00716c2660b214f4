package parser

// eventBlockLen is how many events a block holds (400 KB of them).
const eventBlockLen = 1024

// eventBlocks is a stream's events in blocks of eventBlockLen: appending
// never copies the events already there, and whoever takes them drops
// each block once it is copied. A DEBUG JobManager log holds nearly all of
// a run's events in one stream; as one slice, growing it held the old
// array beside the new, and joining pieces or handing the events over
// held two copies at once.
//
// Every block but the last is full, so an event's index says where it is.
type eventBlocks struct {
	blocks [][]Event
	n      int
}

// add appends ev. The first block grows from small (most streams hold few
// events); later blocks are made full-sized.
func (b *eventBlocks) add(ev Event) {
	k := len(b.blocks) - 1
	if k < 0 || len(b.blocks[k]) == eventBlockLen {
		c := eventBlockLen
		if k < 0 {
			c = 16
		}
		b.blocks = append(b.blocks, make([]Event, 0, c))
		k++
	}
	b.blocks[k] = append(b.blocks[k], ev)
	b.n++
}

// len returns the number of events.
func (b *eventBlocks) len() int { return b.n }

// at returns the i-th event.
func (b *eventBlocks) at(i int) *Event {
	return &b.blocks[i/eventBlockLen][i%eventBlockLen]
}

// drain calls take with each block's events in order and drops b's hold
// on the block after (a block shared with another stream stays its);
// b is empty at the end. take must copy what it keeps and must not change
// the block.
func (b *eventBlocks) drain(take func([]Event)) {
	for k := range b.blocks {
		take(b.blocks[k])
		b.blocks[k] = nil
	}
	*b = eventBlocks{}
}

// share returns blocks holding the same events that can be appended to
// without touching b: the full blocks are shared (events are not changed
// once added: see stream.fills), the last, still open, is copied. A
// follow takes one per poll of a growing file, and copying every event
// each time held them twice.
func (b *eventBlocks) share() eventBlocks {
	c := eventBlocks{blocks: append([][]Event(nil), b.blocks...), n: b.n}
	if k := len(c.blocks) - 1; k >= 0 && len(c.blocks[k]) < eventBlockLen {
		c.blocks[k] = append(make([]Event, 0, cap(c.blocks[k])), c.blocks[k]...)
	}
	return c
}
