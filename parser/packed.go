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
	"math"
	"math/bits"

	"github.com/slotaudit/slotaudit/flinklog"
)

// packedEvent is a flinklog.Event in an eventBlock.
type packedEvent struct {
	line, endLine int64
	timeN         int64
	file, rec     int32
	rep, nrep     int32
	// slot indexes; bigIndex when the extras hold it (past int32)
	slotIndex, requestedIndex int32
	textSum                   uint32
	// numbers into the block's strs (0 is "")
	resource, slotID, level, component, kind uint32
	extra                                    uint32 // 1 + its place in the block's extras, 0 for none
	alloc, job                               flinklog.ID
	timeKind                                 flinklog.TimeKind
	dynamic, textAway                        bool
}

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
	slotIndex, requestedIndex                                    int // when the event's are bigIndex
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
	set(xRequestedIndex, x.requestedIndex != 0)
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
		x.requestedIndex = int(get64(w))
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
	n += 2 * bits.OnesCount32(below&(xCount|xCauseLine|xSlotIndex|xRequestedIndex))
	n += bits.OnesCount32(below & xSlots)
	n += 4 * bits.OnesCount32(below&(xOther|xInstance))
	return n
}

// eventBlock is up to eventBlockLen packed events and the strings and
// extras they name. Only the last block of a stream is added to; strIx
// finds a string while it is.
type eventBlock struct {
	evs   []packedEvent
	strs  []string
	strIx map[string]uint32
	// the events' extras, encoded (putExtra), and the slot lists they hold
	words     []uint32
	slotLists [][]flinklog.SlotStatus
}

func newEventBlock(c int) *eventBlock {
	return &eventBlock{evs: make([]packedEvent, 0, c), strs: []string{""}, strIx: map[string]uint32{}}
}

// str returns the number of s in the block's strings, adding it.
func (b *eventBlock) str(s string) uint32 {
	if s == "" {
		return 0
	}
	if b.strIx == nil {
		// a closed block, changed where it is handed over (a ResourceID
		// filled in): few strings, looked through
		for i, x := range b.strs {
			if x == s {
				return uint32(i)
			}
		}
		b.strs = append(b.strs, s)
		return uint32(len(b.strs) - 1)
	}
	if i, ok := b.strIx[s]; ok {
		return i
	}
	b.strs = append(b.strs, s)
	i := uint32(len(b.strs) - 1)
	b.strIx[s] = i
	return i
}

// close drops what only adding needs.
func (b *eventBlock) close() { b.strIx = nil }

// push packs ev at the end of the block.
func (b *eventBlock) push(ev *flinklog.Event) {
	p := packedEvent{
		line: ev.Pos.Line, endLine: ev.EndLine, timeN: ev.Time.N, timeKind: ev.Time.Kind,
		file: ev.Pos.File, rec: ev.Pos.Rec,
		resource: b.str(ev.Resource), slotID: b.str(ev.SlotID), level: b.str(string(ev.Level)),
		component: b.str(string(ev.Component)), kind: b.str(string(ev.Kind)),
		alloc: ev.Alloc, job: ev.Job, dynamic: ev.Dynamic,
	}
	p.rep, p.nrep = ev.RepeatSpan()
	p.textSum, p.textAway = ev.TextAway()
	x := eventExtra{slotState: b.str(ev.SlotState), request: b.str(ev.Request), task: b.str(ev.Task),
		attempt: b.str(ev.Attempt), from: b.str(ev.From), to: b.str(ev.To), reason: b.str(ev.Reason),
		version: b.str(ev.Version), causeText: b.str(ev.CauseText), count: ev.Count, causeLine: ev.CauseLine, slots: ev.Slots,
		other: ev.Other, instance: ev.Instance}
	var big bool
	if p.slotIndex, big = packIndex(ev.SlotIndex); big {
		x.slotIndex = ev.SlotIndex
	}
	if p.requestedIndex, big = packIndex(ev.RequestedIndex); big {
		x.requestedIndex = ev.RequestedIndex
	}
	head, tail := ev.TextParts()
	x.textHead, x.textTail = b.str(head), b.str(tail)
	p.extra = b.putExtra(&x)
	b.evs = append(b.evs, p)
}

// copyFrom appends src's event p (src may be another block).
func (b *eventBlock) copyFrom(src *eventBlock, p *packedEvent) *packedEvent {
	q := *p
	q.resource, q.slotID = b.str(src.strs[p.resource]), b.str(src.strs[p.slotID])
	q.level, q.component, q.kind = b.str(src.strs[p.level]), b.str(src.strs[p.component]), b.str(src.strs[p.kind])
	if p.extra > 0 {
		var x eventExtra
		src.extra(p, &x)
		for _, f := range x.strFields() {
			*f = b.str(src.strs[*f])
		}
		q.extra = b.putExtra(&x)
	}
	b.evs = append(b.evs, q)
	return &b.evs[len(b.evs)-1]
}

// unpack writes event p of the block out into ev.
func (b *eventBlock) unpack(p *packedEvent, ev *flinklog.Event) {
	*ev = flinklog.Event{
		Pos:     flinklog.Pos{File: p.file, Rec: p.rec, Line: p.line},
		EndLine: p.endLine, Time: flinklog.Time{Kind: p.timeKind, N: p.timeN},
		Level: flinklog.Level(b.strs[p.level]), Component: flinklog.Component(b.strs[p.component]),
		Kind:  flinklog.Kind(b.strs[p.kind]),
		Alloc: p.alloc, Job: p.job,
		Resource: b.strs[p.resource], SlotID: b.strs[p.slotID],
		SlotIndex: int(p.slotIndex), RequestedIndex: int(p.requestedIndex), Dynamic: p.dynamic,
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
		if p.requestedIndex == bigIndex {
			ev.RequestedIndex = x.requestedIndex
		}
		ev.SetText(s[x.textHead], s[x.textTail])
	}
	if p.textAway {
		ev.LetTextGo(p.textSum)
	}
	ev.SetRepeatSpan(p.rep, p.nrep)
}

// event returns event p of the block written out.
func (b *eventBlock) event(p *packedEvent) *flinklog.Event {
	ev := new(flinklog.Event)
	b.unpack(p, ev)
	return ev
}

// shiftLines moves every event's lines by offset (a piece joined after
// the lines before it).
func (b *eventBlock) shiftLines(offset int64) {
	for i := range b.evs {
		p := &b.evs[i]
		p.line += offset
		if p.endLine > 0 {
			p.endLine += offset
		}
		if p.extra > 0 {
			if w := b.words[p.extra-1:]; w[0]&xCauseLine != 0 {
				at := w[1+wordsBefore(w[0], xCauseLine):]
				if n := get64(at); n > 0 {
					put64(at[:0], n+offset)
				}
			}
		}
	}
}
