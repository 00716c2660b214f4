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
	"math"

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
// a state, a reason repeat from event to event).
type eventExtra struct {
	slotState, request, task, attempt, from, to, reason, version uint32
	causeText, textHead, textTail                                uint32
	count                                                        int
	causeLine                                                    int64
	slots                                                        []flinklog.SlotStatus
	other, instance                                              flinklog.ID
	slotIndex, requestedIndex                                    int // when the event's are bigIndex
}

func (x *eventExtra) zero() bool {
	return x.slotState|x.request|x.task|x.attempt|x.from|x.to|x.reason|x.version|x.causeText|x.textHead|x.textTail == 0 &&
		x.count == 0 && x.causeLine == 0 && x.slots == nil && x.other == flinklog.ID{} && x.instance == flinklog.ID{} &&
		x.slotIndex == 0 && x.requestedIndex == 0
}

// eventBlock is up to eventBlockLen packed events and the strings and
// extras they name. Only the last block of a stream is added to; strIx
// finds a string while it is.
type eventBlock struct {
	evs    []packedEvent
	strs   []string
	strIx  map[string]uint32
	extras []eventExtra
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
	if !x.zero() {
		b.extras = append(b.extras, x)
		p.extra = uint32(len(b.extras))
	}
	b.evs = append(b.evs, p)
}

// copyFrom appends src's event p (src may be another block).
func (b *eventBlock) copyFrom(src *eventBlock, p *packedEvent) *packedEvent {
	q := *p
	q.resource, q.slotID = b.str(src.strs[p.resource]), b.str(src.strs[p.slotID])
	q.level, q.component, q.kind = b.str(src.strs[p.level]), b.str(src.strs[p.component]), b.str(src.strs[p.kind])
	if p.extra > 0 {
		x := src.extras[p.extra-1]
		for _, f := range []*uint32{&x.slotState, &x.request, &x.task, &x.attempt, &x.from, &x.to, &x.reason, &x.version, &x.causeText, &x.textHead, &x.textTail} {
			*f = b.str(src.strs[*f])
		}
		b.extras = append(b.extras, x)
		q.extra = uint32(len(b.extras))
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
		x, s := &b.extras[p.extra-1], b.strs
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
			if x := &b.extras[p.extra-1]; x.causeLine > 0 {
				x.causeLine += offset
			}
		}
	}
}
