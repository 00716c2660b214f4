package parser

// This file holds how a read keeps its events: packed. A flinklog.Event is
// 448 bytes with seventeen pointers in it (strings, the slot list), made
// for reading one event at a time; a busy cluster's read holds millions.
// Kept as they were, they were most of an allocation-dense audit's memory,
// the collector marked every pointer in them on each cycle, and writing
// them into fresh memory cost more CPU than classifying the records (page
// faults). A packedEvent is 120 bytes without a pointer: strings are
// numbers into the table of the block it is in, and what few events say
// beyond an AllocationID, a JobID, a slot and a resource (a task, a
// reason, a slot list, a second ID, a text kept) is in the block's
// extras.

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"sync"

	"github.com/slotaudit/slotaudit/flinklog"
)

// packedEvent is a flinklog.Event in an eventBlock, in 32 bytes: writing
// events into fresh memory is most of what keeping them costs (page
// faults), so what most events do not say is in the extras (a record's
// number on its line, which only exports' lines have; a line past 2^32; a
// time that is no whole millisecond or more than 24 days from the block's
// first) or beside them (a slot report's repeat span: eventBlock.spans),
// and IDs and strings are numbers into the block's tables.
type packedEvent struct {
	line      uint32 // the line, unless pBigLine
	timeMS    int32  // milliseconds since the block's baseTime, unless pBigTime or a TimeNone of 0
	slotIndex int32  // bigIndex when the extras hold it (past int32)
	textSum   uint32
	extra     uint32 // 1 + where its extras start in the block's words, 0 for none
	// numbers into the block's ids (0 is none) and strs (0 is ""), set
	// once but resource, changed after (SetResource). Sixteen bits are
	// enough for every string: a push adds at most 16 to the table of a
	// block of 1,024 events, and a ResourceID filled in after, one a fill.
	alloc, job       uint16
	resource, slotID uint16
	// shape and file: numbers into the block's shapes (kind, level and
	// component: a block holds a few dozen of them) and files (nearly
	// always one). A block takes no event past 255 of either (full).
	shape, file uint8
	timeKind    flinklog.TimeKind
	flags       uint8
}

// eventShape is what many events of a block share: their kind, level and
// component. Numbered in 16 bits each among the block's strings, they
// were 6 of an event's 40 bytes; numbered together in 8 bits, 1.
type eventShape struct {
	kind      flinklog.Kind
	level     flinklog.Level
	component flinklog.Component
}

// packedEvent.flags
const (
	pDynamic  = 1 << iota
	pTextAway // the text went: textSum holds its sum
	pEndLine  // EndLine is the line (else the extras hold it, or it is 0)
	pRec      // the extras hold the record's number on its line (Pos.Rec)
	pSpan     // the block's spans hold a repeat span
	pBigLine  // the extras hold the line
	pBigTime  // the extras hold the time's N
)

// maxTable is how many strings or IDs a block's table may hold: an
// event's fields are numbered in 16 bits. A block is full before a push
// could go past it (see full).
const maxTable = math.MaxUint16

// bigIndex marks a slot index the extras hold.
const bigIndex = math.MinInt32

// packIndex returns n as packed, and whether the extras must hold it.
func packIndex(n int) (int32, bool) {
	if n > math.MaxInt32 || n <= bigIndex {
		return bigIndex, true
	}
	return int32(n), false
}

// eventExtra is what an event says that most do not; its strings are
// numbers into the block's strs, as a packedEvent's are (a task's name,
// a state, a reason repeat from event to event). A block keeps it encoded
// in its words (putExtra): a bit mask of the fields set, then theirs. As a
// struct of every field, at 136 bytes, the extras of an allocation-dense
// read (a JobManager's task transitions all have some) were a quarter of
// its memory; encoded, a transition's take 20.
type eventExtra struct {
	slotState, request, task, attempt, from, to, reason, version uint32
	causeText, textHead, textTail                                uint32
	count                                                        int
	causeLine                                                    int64
	slots                                                        []flinklog.SlotStatus
	other, instance                                              flinklog.ID
	slotIndex                                                    int // when the event's is bigIndex
	// the requested index, when requested; an end line other than the
	// event's line, when not 0
	requestedIndex int
	requested      bool
	endLine        int64
	rec            int32
	// attemptID: the attempt (when it is 32 lower-case hex digits, as
	// Flink prints an ExecutionAttemptID up to 1.14) as a number into the
	// block's IDs, and attempt 0: 17 bytes shared by the block's events
	// instead of a string of 48 each. A task's deployment, its transitions
	// and its receipt all name it.
	attemptID uint32
	// line and timeN, when the packed event cannot hold them (pBigLine,
	// bigTime and pBigTime)
	line, timeN int64
	bigTime     bool
}

// The fields of an encoded eventExtra, in the order their words follow
// its mask.
const (
	xSlotState = 1 << iota
	xRequest
	xTask
	xAttempt
	xFrom
	xTo
	xReason
	xVersion
	xCauseText
	xTextHead
	xTextTail
	xCount          // two words
	xCauseLine      // two words
	xSlots          // one: the list's place in the block's slotLists
	xOther          // four
	xInstance       // four
	xSlotIndex      // two
	xRequestedIndex // two
	xEndLine        // two
	xRec            // one
	xAttemptID      // one: an attempt ID of 32 lower-case hex digits, a number into the block's ids
	xLine           // two
	xTime           // two
)

// strFields lists the string fields of x in the order of their bits.
func (x *eventExtra) strFields() [11]*uint32 {
	return [11]*uint32{&x.slotState, &x.request, &x.task, &x.attempt, &x.from, &x.to, &x.reason, &x.version,
		&x.causeText, &x.textHead, &x.textTail}
}

func putID(w []uint32, x flinklog.ID) []uint32 {
	id := x.Bytes()
	return append(w, binary.LittleEndian.Uint32(id[0:]), binary.LittleEndian.Uint32(id[4:]),
		binary.LittleEndian.Uint32(id[8:]), binary.LittleEndian.Uint32(id[12:]))
}

func getID(w []uint32) flinklog.ID {
	var id [16]byte
	binary.LittleEndian.PutUint32(id[0:], w[0])
	binary.LittleEndian.PutUint32(id[4:], w[1])
	binary.LittleEndian.PutUint32(id[8:], w[2])
	binary.LittleEndian.PutUint32(id[12:], w[3])
	return flinklog.IDFromBytes(id)
}

func put64(w []uint32, n int64) []uint32 { return append(w, uint32(n), uint32(uint64(n)>>32)) }

func get64(w []uint32) int64 { return int64(uint64(w[0]) | uint64(w[1])<<32) }

// putExtra encodes x at the end of the block's words and returns 1 + where
// it starts, or 0 when x holds nothing.
func (b *eventBlock) putExtra(x *eventExtra) uint32 {
	var mask uint32
	for i, f := range x.strFields() {
		if *f != 0 {
			mask |= 1 << i
		}
	}
	set := func(bit uint32, on bool) {
		if on {
			mask |= bit
		}
	}
	set(xCount, x.count != 0)
	set(xCauseLine, x.causeLine != 0)
	set(xSlots, x.slots != nil)
	set(xOther, x.other != flinklog.ID{})
	set(xInstance, x.instance != flinklog.ID{})
	set(xSlotIndex, x.slotIndex != 0)
	set(xRequestedIndex, x.requested)
	set(xEndLine, x.endLine != 0)
	set(xRec, x.rec != 0)
	set(xAttemptID, x.attemptID != 0)
	set(xLine, x.line != 0)
	set(xTime, x.bigTime)
	if mask == 0 {
		return 0
	}
	at := len(b.words)
	w := append(b.words, mask)
	for i, f := range x.strFields() {
		if mask&(1<<i) != 0 {
			w = append(w, *f)
		}
	}
	if mask&xCount != 0 {
		w = put64(w, int64(x.count))
	}
	if mask&xCauseLine != 0 {
		w = put64(w, x.causeLine)
	}
	if mask&xSlots != 0 {
		b.slotLists = append(b.slotLists, x.slots)
		w = append(w, uint32(len(b.slotLists)-1))
	}
	if mask&xOther != 0 {
		w = putID(w, x.other)
	}
	if mask&xInstance != 0 {
		w = putID(w, x.instance)
	}
	if mask&xSlotIndex != 0 {
		w = put64(w, int64(x.slotIndex))
	}
	if mask&xRequestedIndex != 0 {
		w = put64(w, int64(x.requestedIndex))
	}
	if mask&xEndLine != 0 {
		w = put64(w, x.endLine)
	}
	if mask&xRec != 0 {
		w = append(w, uint32(x.rec))
	}
	if mask&xAttemptID != 0 {
		w = append(w, x.attemptID)
	}
	if mask&xLine != 0 {
		w = put64(w, x.line)
	}
	if mask&xTime != 0 {
		w = put64(w, x.timeN)
	}
	b.words = w
	return uint32(at + 1)
}

// extra decodes the extras of p into x (all zero when it has none).
func (b *eventBlock) extra(p *packedEvent, x *eventExtra) {
	*x = eventExtra{}
	if p.extra == 0 {
		return
	}
	w := b.words[p.extra-1:]
	mask := w[0]
	w = w[1:]
	for i, f := range x.strFields() {
		if mask&(1<<i) != 0 {
			*f, w = w[0], w[1:]
		}
	}
	if mask&xCount != 0 {
		x.count, w = int(get64(w)), w[2:]
	}
	if mask&xCauseLine != 0 {
		x.causeLine, w = get64(w), w[2:]
	}
	if mask&xSlots != 0 {
		x.slots, w = b.slotLists[w[0]], w[1:]
	}
	if mask&xOther != 0 {
		x.other, w = getID(w), w[4:]
	}
	if mask&xInstance != 0 {
		x.instance, w = getID(w), w[4:]
	}
	if mask&xSlotIndex != 0 {
		x.slotIndex, w = int(get64(w)), w[2:]
	}
	if mask&xRequestedIndex != 0 {
		x.requestedIndex, x.requested, w = int(get64(w)), true, w[2:]
	}
	if mask&xEndLine != 0 {
		x.endLine, w = get64(w), w[2:]
	}
	if mask&xRec != 0 {
		x.rec, w = int32(w[0]), w[1:]
	}
	if mask&xAttemptID != 0 {
		x.attemptID, w = w[0], w[1:]
	}
	if mask&xLine != 0 {
		x.line, w = get64(w), w[2:]
	}
	if mask&xTime != 0 {
		x.timeN, x.bigTime = get64(w), true
	}
}

// otherOf returns p's second ID without decoding the rest of its extras.
func (b *eventBlock) otherOf(p *packedEvent) flinklog.ID {
	if p.extra == 0 {
		return flinklog.ID{}
	}
	w := b.words[p.extra-1:]
	mask := w[0]
	if mask&xOther == 0 {
		return flinklog.ID{}
	}
	return getID(w[1+wordsBefore(mask, xOther):])
}

// wordsBefore returns how many words the fields of mask below bit take.
func wordsBefore(mask, bit uint32) int {
	below := mask & (bit - 1)
	n := bits.OnesCount32(below & (xCount - 1))
	n += 2 * bits.OnesCount32(below&(xCount|xCauseLine|xSlotIndex|xRequestedIndex|xEndLine))
	n += bits.OnesCount32(below & xSlots)
	n += 4 * bits.OnesCount32(below&(xOther|xInstance))
	n += bits.OnesCount32(below & (xRec | xAttemptID))
	n += 2 * bits.OnesCount32(below&(xLine|xTime))
	return n
}

// lineOf returns p's line.
func (b *eventBlock) lineOf(p *packedEvent) int64 {
	if p.flags&pBigLine == 0 {
		return int64(p.line)
	}
	w := b.words[p.extra-1:]
	return get64(w[1+wordsBefore(w[0], xLine):])
}

// timeOf returns p's time.
func (b *eventBlock) timeOf(p *packedEvent) flinklog.Time {
	switch {
	case p.flags&pBigTime != 0:
		w := b.words[p.extra-1:]
		return flinklog.Time{Kind: p.timeKind, N: get64(w[1+wordsBefore(w[0], xTime):])}
	case p.timeKind == flinklog.TimeNone && p.timeMS == 0:
		return flinklog.Time{}
	}
	return flinklog.Time{Kind: p.timeKind, N: b.baseTime + int64(p.timeMS)*1e6}
}

// placeLineAndTime sets p's line and time, in p when it can hold them (a
// line below 2^32; a time a whole number of milliseconds within 24 days
// of the block's first, or a TimeNone of 0), else in x, its extras.
func (b *eventBlock) placeLineAndTime(p *packedEvent, x *eventExtra, line int64, t flinklog.Time) {
	p.flags &^= pBigLine | pBigTime
	x.line, x.timeN, x.bigTime = 0, 0, false
	if line >= 0 && line <= math.MaxUint32 {
		p.line = uint32(line)
	} else {
		p.line, x.line = 0, line
		p.flags |= pBigLine
	}
	p.timeKind, p.timeMS = t.Kind, 0
	if t.Kind == flinklog.TimeNone && t.N == 0 {
		return
	}
	if !b.hasBase {
		b.baseTime, b.hasBase = t.N-t.N%1e6, true // a whole millisecond
	}
	d := t.N - b.baseTime
	// a TimeNone at 0 ms from the base would read back as one of 0
	if d%1e6 == 0 && d/1e6 >= math.MinInt32 && d/1e6 <= math.MaxInt32 && (t.Kind != flinklog.TimeNone || d != 0) {
		p.timeMS = int32(d / 1e6)
		return
	}
	x.timeN, x.bigTime = t.N, true
	p.flags |= pBigTime
}

// recOf returns p's record number on its line (Pos.Rec) without decoding
// the rest of its extras.
func (b *eventBlock) recOf(p *packedEvent) int32 {
	if p.flags&pRec == 0 {
		return 0
	}
	w := b.words[p.extra-1:]
	return int32(w[1+wordsBefore(w[0], xRec)])
}

// pos returns p's position, its file as the block numbers it.
func (b *eventBlock) pos(p *packedEvent) flinklog.Pos {
	return flinklog.Pos{File: b.files[p.file], Rec: b.recOf(p), Line: b.lineOf(p)}
}

// kindOf returns p's kind.
func (b *eventBlock) kindOf(p *packedEvent) flinklog.Kind { return b.shapes[p.shape].kind }

// componentOf returns p's component.
func (b *eventBlock) componentOf(p *packedEvent) flinklog.Component {
	return b.shapes[p.shape].component
}

// shapeNo returns the number of sh in the block's shapes, adding it (see
// full). The last one found is looked at first: events of a kind come in
// runs.
func (b *eventBlock) shapeNo(sh eventShape) uint8 {
	if n := len(b.shapes); n > 0 && b.shapes[b.lastShape] == sh {
		return b.lastShape
	}
	for i, x := range b.shapes {
		if x == sh {
			b.lastShape = uint8(i)
			return uint8(i)
		}
	}
	b.shapes = append(b.shapes, sh)
	b.lastShape = uint8(len(b.shapes) - 1)
	return b.lastShape
}

// fileNo returns the number of file f in the block's files, adding it (see
// full).
func (b *eventBlock) fileNo(f int32) uint8 {
	for i, x := range b.files {
		if x == f {
			return uint8(i)
		}
	}
	b.files = append(b.files, f)
	return uint8(len(b.files) - 1)
}

// span returns event j's repeat span (flinklog.Event.RepeatSpan).
func (b *eventBlock) span(j int) (rep, nrep int32) {
	if b.evs[j].flags&pSpan == 0 {
		return 0, 0
	}
	sp := b.spans[uint16(j)]
	return sp[0], sp[1]
}

// setSpan sets event j's repeat span.
func (b *eventBlock) setSpan(j int, rep, nrep int32) {
	p := &b.evs[j]
	if rep == 0 && nrep == 0 {
		if p.flags&pSpan != 0 {
			delete(b.spans, uint16(j))
			p.flags &^= pSpan
		}
		return
	}
	if b.spans == nil {
		b.spans = map[uint16][2]int32{}
	}
	b.spans[uint16(j)] = [2]int32{rep, nrep}
	p.flags |= pSpan
}

// eventBlock is up to eventBlockLen packed events and the strings and
// extras they name. Only the last block of a stream is added to; strIx
// finds a string while it is.
type eventBlock struct {
	evs    []packedEvent
	strs   []string
	ids    []flinklog.ID
	shapes []eventShape
	files  []int32 // the inputs the events are of, as the block numbers them (see eventStore.baseOf)
	// lastShape: the shape shapeNo found last
	lastShape uint8
	// ix finds a string or an ID in strs and ids while the block is
	// filled (nil once it is closed); gen: the block's entries in it
	ix  *blockIndex
	gen uint32
	// the events' extras, encoded (putExtra), and the slot lists they hold
	words     []uint32
	slotLists [][]flinklog.SlotStatus
	// spans: the repeat spans of the events flagged pSpan, by their place
	// in evs (a slot report's, set as a read is handed over)
	spans map[uint16][2]int32
	// baseTime: what the events' timeMS count from (the first time pushed
	// that is no TimeNone of 0)
	baseTime int64
	hasBase  bool
}

// newEventBlock returns an empty block for c events.
func newEventBlock(c int) *eventBlock {
	ix := blockIndexes.Get().(*blockIndex)
	return &eventBlock{evs: make([]packedEvent, 0, c), strs: append(ix.strsBuf, ""), ids: append(ix.idsBuf, flinklog.ID{}),
		words: ix.wordsBuf, slotLists: ix.listsBuf, ix: ix, gen: ix.open()}
}

// blockIndexes: the indexes of closed blocks, for the next blocks to
// open. A piece of a file read on its own opens a block; an index of
// its own for each (100 KB) was fresh memory the kernel faulted in (page
// faults in eventBlock.id showed under perf on the 1 GB chatty corpus).
var blockIndexes = sync.Pool{New: func() any { return new(blockIndex) }}

// blockIndex finds the strings and IDs of the block being filled in its
// tables. One serves the blocks that are filled in turn, its entries
// tagged with the block they number in (gen): a pair of maps made for
// every block of 1,024 events and grown from empty were a sixth of the
// read of an allocation-dense log, and one map kept for the stream grew
// as long with its unique strings (attempt and request IDs) and cost as
// much. It is a cache of a fixed size, an entry per hash: a string or an
// ID whose entry another took is added to the table again, which costs
// a table entry, never a wrong number. A string met again in a later
// block is the one kept before, so blocks share its bytes.
type blockIndex struct {
	gen  uint32
	strs [indexLen]strEntry
	ids  [indexLen]idEntry
	// the tables of the block being filled, emptied: a block's tables
	// grown from nothing by appending were copied ten times over (230 MB
	// of garbage in a 300k session cluster's read); they are filled here
	// and copied out at their size when the block is closed
	strsBuf  []string
	idsBuf   []flinklog.ID
	wordsBuf []uint32
	listsBuf [][]flinklog.SlotStatus
}

type strEntry struct {
	s      string
	gen, i uint32
}

type idEntry struct {
	id     flinklog.ID
	gen, i uint32
}

// indexLen is how many entries a blockIndex has of each: a block names a
// few hundred strings and IDs.
const (
	indexBits = 11
	indexLen  = 1 << indexBits
)

var indexSeed = maphash.MakeSeed()

// open starts the entries of a new block and returns its gen.
func (x *blockIndex) open() uint32 {
	x.gen++
	return x.gen
}

// full reports whether the block takes no more events: it holds
// eventBlockLen, or one more could number a string or an ID past 16 bits
// (an event adds at most 16 strings and 3 IDs).
func (b *eventBlock) full() bool {
	return len(b.evs) >= eventBlockLen || len(b.strs) > maxTable-16 || len(b.ids) > maxTable-3 ||
		len(b.shapes) >= math.MaxUint8 || len(b.files) >= math.MaxUint8
}

// attemptID returns the attempt a as an ID when it is 32 lower-case hex
// digits, which an ID prints back the same.
func attemptID(a string) (flinklog.ID, bool) {
	if len(a) != 32 {
		return flinklog.ID{}, false
	}
	for i := 0; i < len(a); i++ {
		if c := a[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return flinklog.ID{}, false
		}
	}
	return flinklog.ParseID(a)
}

// str16 returns the number of s in the block's strings for a field of 16
// bits, adding it (see full).
func (b *eventBlock) str16(s string) uint16 { return uint16(b.str(s)) }

// id returns the number of x in the block's IDs, adding it (see full).
func (b *eventBlock) id(x flinklog.ID) uint16 {
	if x == (flinklog.ID{}) {
		return 0
	}
	if b.ix == nil {
		return uint16(lookThrough(&b.ids, x))
	}
	e := &b.ix.ids[idSlot(x)]
	if e.gen == b.gen && e.id == x {
		return uint16(e.i)
	}
	b.ids = append(b.ids, x)
	i := uint32(len(b.ids) - 1)
	*e = idEntry{id: x, gen: b.gen, i: i}
	return uint16(i)
}

// lookThrough returns the number of x in the table of a closed block,
// adding it: such a block is changed only where it is handed over (a
// ResourceID filled in, once per block), and has no index left.
func lookThrough[T comparable](table *[]T, x T) uint32 {
	for i, y := range *table {
		if y == x {
			return uint32(i)
		}
	}
	*table = append(*table, x)
	return uint32(len(*table) - 1)
}

// idSlot is x's entry in a blockIndex. IDs are random but for tests'
// and hand-made ones, whose bytes may differ in a few places only.
func idSlot(x flinklog.ID) uint32 {
	b := x.Bytes()
	lo, hi := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	return uint32(((lo ^ hi*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9) >> (64 - indexBits))
}

// str returns the number of s in the block's strings, adding it.
func (b *eventBlock) str(s string) uint32 {
	if s == "" {
		return 0
	}
	if b.ix == nil {
		return lookThrough(&b.strs, s)
	}
	e := &b.ix.strs[maphash.String(indexSeed, s)&(indexLen-1)]
	if e.s == s {
		if e.gen == b.gen {
			return e.i
		}
		s = e.s
	}
	b.strs = append(b.strs, s)
	i := uint32(len(b.strs) - 1)
	*e = strEntry{s: s, gen: b.gen, i: i}
	return i
}

// close drops what only adding needs, and the room its tables grew for
// and did not fill: appended to, a table of 700 strings kept room for 1,024.
func (b *eventBlock) close() {
	if b.ix == nil {
		b.strs, b.ids, b.words, b.slotLists = fit(b.strs), fit(b.ids), fit(b.words), fit(b.slotLists)
		return
	}
	ix := b.ix
	strs, ids, words, lists := b.strs, b.ids, b.words, b.slotLists
	b.strs, b.ids, b.words, b.slotLists = slices.Clone(strs), slices.Clone(ids), slices.Clone(words), slices.Clone(lists)
	// (what the buffers hold is the block's now: they let go of it)
	clear(strs)
	clear(lists)
	ix.strsBuf, ix.idsBuf, ix.wordsBuf, ix.listsBuf = strs[:0], ids[:0], words[:0], lists[:0]
	blockIndexes.Put(ix)
	b.ix, b.gen = nil, 0
}

// fit returns s without more than an eighth of room to grow.
func fit[T any](s []T) []T {
	if cap(s)-len(s) > len(s)/8+8 {
		return slices.Clone(s)
	}
	return s
}

// push packs ev at the end of the block.
func (b *eventBlock) push(ev *flinklog.Event) {
	p := packedEvent{
		file:     b.fileNo(ev.Pos.File),
		resource: b.str16(ev.Resource), slotID: b.str16(ev.SlotID),
		shape: b.shapeNo(eventShape{kind: ev.Kind, level: ev.Level, component: ev.Component}),
		alloc: b.id(ev.Alloc), job: b.id(ev.Job),
	}
	sum, away := ev.TextAway()
	p.textSum = sum
	if away {
		p.flags |= pTextAway
	}
	if ev.Dynamic {
		p.flags |= pDynamic
	}
	x := eventExtra{slotState: b.str(ev.SlotState), request: b.str(ev.Request), task: b.str(ev.Task),
		from: b.str(ev.From), to: b.str(ev.To), reason: b.str(ev.Reason),
		version: b.str(ev.Version), causeText: b.str(ev.CauseText), count: ev.Count, causeLine: ev.CauseLine, slots: ev.Slots,
		other: ev.Other, instance: ev.Instance}
	if ev.EndLine == ev.Pos.Line && ev.EndLine > 0 {
		p.flags |= pEndLine
	} else {
		x.endLine = ev.EndLine
	}
	var big bool
	if p.slotIndex, big = packIndex(ev.SlotIndex); big {
		x.slotIndex = ev.SlotIndex
	}
	if ev.RequestedIndex != -1 {
		x.requestedIndex, x.requested = ev.RequestedIndex, true
	}
	if id, ok := attemptID(ev.Attempt); ok {
		x.attemptID = uint32(b.id(id))
	} else {
		x.attempt = b.str(ev.Attempt)
	}
	head, tail := ev.TextParts()
	x.textHead, x.textTail = b.str(head), b.str(tail)
	if ev.Pos.Rec != 0 {
		x.rec = ev.Pos.Rec
		p.flags |= pRec
	}
	b.placeLineAndTime(&p, &x, ev.Pos.Line, ev.Time)
	p.extra = b.putExtra(&x)
	b.evs = append(b.evs, p)
	rep, nrep := ev.RepeatSpan()
	b.setSpan(len(b.evs)-1, rep, nrep)
}

// copyFrom appends src's event j (src may be another block), its file
// fileBase more, and returns its place in b.
func (b *eventBlock) copyFrom(src *eventBlock, j int, fileBase int32) int {
	p := &src.evs[j]
	q := *p
	q.flags &^= pSpan
	q.resource, q.slotID = b.str16(src.strs[p.resource]), b.str16(src.strs[p.slotID])
	q.shape, q.file = b.shapeNo(src.shapes[p.shape]), b.fileNo(src.files[p.file]+fileBase)
	q.alloc, q.job = b.id(src.ids[p.alloc]), b.id(src.ids[p.job])
	var x eventExtra
	src.extra(p, &x)
	for _, f := range x.strFields() {
		*f = b.str(src.strs[*f])
	}
	if x.attemptID != 0 {
		x.attemptID = uint32(b.id(src.ids[x.attemptID]))
	}
	// the time counts from this block's base, not src's
	b.placeLineAndTime(&q, &x, src.lineOf(p), src.timeOf(p))
	q.extra = b.putExtra(&x)
	b.evs = append(b.evs, q)
	rep, nrep := src.span(j)
	b.setSpan(len(b.evs)-1, rep, nrep)
	return len(b.evs) - 1
}

// unpack writes event p of the block out into ev, all but its repeat
// span (see event).
func (b *eventBlock) unpack(p *packedEvent, ev *flinklog.Event) {
	*ev = flinklog.Event{
		Pos:   flinklog.Pos{File: b.files[p.file], Line: b.lineOf(p)},
		Time:  b.timeOf(p),
		Level: b.shapes[p.shape].level, Component: b.shapes[p.shape].component,
		Kind:  b.shapes[p.shape].kind,
		Alloc: b.ids[p.alloc], Job: b.ids[p.job],
		Resource: b.strs[p.resource], SlotID: b.strs[p.slotID],
		SlotIndex: int(p.slotIndex), RequestedIndex: -1, Dynamic: p.flags&pDynamic != 0,
	}
	if p.flags&pEndLine != 0 {
		ev.EndLine = ev.Pos.Line
	}
	if p.extra > 0 {
		var x eventExtra
		b.extra(p, &x)
		s := b.strs
		ev.SlotState, ev.Request, ev.Task, ev.Attempt = s[x.slotState], s[x.request], s[x.task], s[x.attempt]
		ev.From, ev.To, ev.Reason, ev.Version, ev.CauseText = s[x.from], s[x.to], s[x.reason], s[x.version], s[x.causeText]
		ev.Count, ev.CauseLine, ev.Slots = x.count, x.causeLine, x.slots
		ev.Other, ev.Instance = x.other, x.instance
		if p.slotIndex == bigIndex {
			ev.SlotIndex = x.slotIndex
		}
		if x.requested {
			ev.RequestedIndex = x.requestedIndex
		}
		if x.endLine != 0 {
			ev.EndLine = x.endLine
		}
		ev.Pos.Rec = x.rec
		if x.attemptID != 0 {
			ev.Attempt = b.ids[x.attemptID].String()
		}
		ev.SetText(s[x.textHead], s[x.textTail])
	}
	if p.flags&pTextAway != 0 {
		ev.LetTextGo(p.textSum)
	}
}

// event returns event j of the block written out, with its repeat span.
func (b *eventBlock) event(j int) *flinklog.Event {
	ev := new(flinklog.Event)
	b.unpack(&b.evs[j], ev)
	ev.SetRepeatSpan(b.span(j))
	return ev
}

// shiftLines moves every event's lines by offset (a piece joined after
// the lines before it).
func (b *eventBlock) shiftLines(offset int64) {
	for i := range b.evs {
		p := &b.evs[i]
		line := b.lineOf(p) + offset // an end line that is the line moves with it
		if p.extra > 0 {
			w := b.words[p.extra-1:]
			for _, f := range [...]uint32{xCauseLine, xEndLine} {
				if w[0]&f != 0 {
					at := w[1+wordsBefore(w[0], f):]
					if n := get64(at); n > 0 {
						put64(at[:0], n+offset)
					}
				}
			}
		}
		if p.flags&pBigLine == 0 && line >= 0 && line <= math.MaxUint32 {
			p.line = uint32(line)
			continue
		}
		// into or out of the extras: written anew (the old words stay,
		// unused, as a line past 2^32 is rare beyond measure)
		var x eventExtra
		b.extra(p, &x)
		b.placeLineAndTime(p, &x, line, b.timeOf(p))
		p.extra = b.putExtra(&x)
	}
}
