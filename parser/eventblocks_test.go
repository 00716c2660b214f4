package parser

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestEventBlocks: events come back in order from all, backward and
// drain, across the first block's growth, full blocks and adopted ones; a
// shared copy and its source each take more events without the other
// seeing them, draining the copy leaves the source whole, and drain leaves
// nothing behind.
func TestEventBlocks(t *testing.T) {
	lines := func(b *eventBlocks) []int64 {
		var got []int64
		for ev := range b.all {
			got = append(got, ev.Pos.Line)
		}
		if len(got) != b.len() {
			panic("len and all disagree")
		}
		var back []int64
		for ev := range b.backward {
			back = append(back, ev.Pos.Line)
		}
		slices.Reverse(back)
		if !slices.Equal(back, got) {
			panic("backward is not all reversed")
		}
		return got
	}
	add := func(b *eventBlocks, from, to int) {
		for i := from; i < to; i++ {
			ev := flinklog.NewEvent(flinklog.KindTMFree)
			ev.Pos.Line = int64(i + 1)
			b.add(ev)
		}
	}
	seq := func(from, to int) []int64 {
		var s []int64
		for i := from; i < to; i++ {
			s = append(s, int64(i+1))
		}
		return s
	}
	for _, n := range []int{0, 1, 16, 17, eventBlockLen - 1, eventBlockLen, eventBlockLen + 1, 3*eventBlockLen + 5} {
		var b eventBlocks
		add(&b, 0, n)
		if b.len() != n || !slices.Equal(lines(&b), seq(0, n)) {
			t.Fatalf("n=%d: at gives %d events, not 1..n in order", n, b.len())
		}

		// adopt a piece (its own partial first block, then full ones)
		var piece eventBlocks
		add(&piece, n, n+eventBlockLen+7)
		b.adopt(&piece)
		if piece.len() != 0 || !slices.Equal(lines(&b), seq(0, n+eventBlockLen+7)) {
			t.Fatalf("n=%d: adopting a piece gave %d events, not 1..n+piece in order", n, b.len())
		}
		add(&b, n+eventBlockLen+7, n+eventBlockLen+9) // and go on adding
		n += eventBlockLen + 9
		if !slices.Equal(lines(&b), seq(0, n)) {
			t.Fatalf("n=%d: adding after adopting lost order", n)
		}

		c := b.share()
		add(&c, n, n+eventBlockLen+3) // the copy goes on one way
		add(&b, 10_000, 10_000+2)     // the source another
		if !slices.Equal(lines(&c), seq(0, n+eventBlockLen+3)) {
			t.Fatalf("n=%d: the shared copy saw the source's new events or lost its own", n)
		}
		if !slices.Equal(lines(&b), append(seq(0, n), seq(10_000, 10_002)...)) {
			t.Fatalf("n=%d: the source saw the shared copy's new events or lost its own", n)
		}

		var got []int64
		c.drain(func(blk *eventBlock) {
			for j := range blk.evs {
				got = append(got, blk.lineOf(&blk.evs[j]))
			}
		})
		if !slices.Equal(got, seq(0, n+eventBlockLen+3)) {
			t.Fatalf("n=%d: drain gave %d events, not the copy's in order", n, len(got))
		}
		if c.len() != 0 || len(c.blocks) != 0 {
			t.Fatalf("n=%d: drained blocks hold %d events in %d blocks", n, c.len(), len(c.blocks))
		}
		if !slices.Equal(lines(&b), append(seq(0, n), seq(10_000, 10_002)...)) {
			t.Fatalf("n=%d: draining the shared copy took the source's blocks", n)
		}
	}
}

// TestEventStoreIndexes: blocks of every length, kept or copied, give
// back every event at its index, in order, fixed once, with the strings
// and extras of the block it was packed in.
func TestEventStoreIndexes(t *testing.T) {
	cases := []struct {
		name string
		lens []int
		keep bool
	}{
		{"none", nil, true},
		{"one short", []int{3}, true},
		{"full blocks", []int{1024, 1024, 1024}, true},
		{"short between long", []int{1024, 5, 700, 1, 1, 300, 1024, 17}, true},
		{"many short", []int{1, 2, 3, 200, 255, 256, 1000, 9, 9, 9, 9, 9, 1024, 513}, true},
		{"a follow shares", []int{1024, 5, 700, 1024}, false},
		{"a follow, short between long", []int{1024, 5, 700, 1, 1, 300, 1024, 17, 1024}, false},
	}
	const base = 2
	fills := []resourceFill{{0, ""}, {40, "tm-a"}, {1500, "tm-b"}, {1501, "tm-c"}, {3000, ""}}
	fillAt := func(i int) string {
		r := ""
		for _, f := range fills {
			if f.from <= i {
				r = f.resource
			}
		}
		return r
	}
	// every 7th event names its TaskManager itself; every 97th has repeats
	ownResource := func(i int) string {
		if i%7 == 0 {
			return fmt.Sprintf("own-%d", i)
		}
		return ""
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s eventStore
			h := &handover{base: base, fills: fills}
			var sf stream
			sf.fills = fills
			h.fill = sf.resourceFiller()
			h.mark = func(i int) (int32, bool) {
				return int32(i + 1), i%97 == 0
			}
			i := 0
			kept := 0
			type raw struct {
				blk  *eventBlock
				evs  []packedEvent
				strs int
			}
			var shared []raw
			for _, n := range c.lens {
				blk := newEventBlock(n)
				for range n {
					ev := flinklog.NewEvent(flinklog.KindTMFree)
					ev.Component = flinklog.ComponentTM
					ev.Pos.Line = int64(i + 1)
					ev.Resource = ownResource(i)
					if i%3 == 0 {
						ev.Reason = fmt.Sprintf("reason %d", i)
					}
					blk.push(&ev)
					i++
				}
				blk.close()
				before := raw{blk, slices.Clone(blk.evs), len(blk.strs)}
				s.take(blk, c.keep, h)
				if n > 0 && len(s.blocks) > 0 && s.blocks[len(s.blocks)-1] == blk {
					kept++
					if !c.keep {
						shared = append(shared, before)
					}
				}
			}
			s.seal()
			if s.len() != i {
				t.Fatalf("%d events, want %d", s.len(), i)
			}
			// a ResourceID and a repeat span set after the handover
			if s.len() > 1500 {
				s.setResource(1500, "joined")
				s.setSpan(1501, 9, 3)
			}
			for i := 0; i < s.len(); i++ {
				ev := s.event(i)
				reason := ""
				if i%3 == 0 {
					reason = fmt.Sprintf("reason %d", i)
				}
				resource := ownResource(i)
				if resource == "" {
					resource = fillAt(i)
				}
				var rep, nrep int32
				if i%97 == 0 {
					rep = int32(i + 1)
				}
				switch i {
				case 1500:
					resource = "joined"
				case 1501:
					rep, nrep = 9, 3
				}
				gotRep, gotN := ev.RepeatSpan()
				if ev.Pos.Line != int64(i+1) || ev.Pos.File != base || ev.Kind != flinklog.KindTMFree || ev.Resource != resource ||
					ev.Reason != reason || ev.SlotIndex != -1 || gotRep != rep || gotN != nrep {
					t.Fatalf("event %d: %+v (span %d,%d), want resource %q, span %d,%d", i, ev, gotRep, gotN, resource, rep, nrep)
				}
				if p := s.pos(i); p != ev.Pos {
					t.Fatalf("event %d: pos %v, written out at %v", i, p, ev.Pos)
				}
				if k, j := s.locate(i); s.resourceAt(i, k, j) != resource {
					t.Fatalf("event %d: resourceAt %q, want %q", i, s.resourceAt(i, k, j), resource)
				}
				if r, n := s.span(i); r != rep || n != nrep {
					t.Fatalf("event %d: span %d,%d, want %d,%d", i, r, n, rep, nrep)
				}
			}
			if slices.Max(append([]int{0}, c.lens...)) >= minKept && kept == 0 {
				t.Fatalf("no block kept")
			}
			// what a follow shares is as its stream left it
			for _, r := range shared {
				if !slices.Equal(r.blk.evs, r.evs) || len(r.blk.strs) != r.strs {
					t.Fatalf("a shared block of %d events was changed", len(r.evs))
				}
			}
		})
	}
}

// edgeEvents are events whose every field, and every way a block packs
// it, a round trip must keep (TestPackedEventRoundTrip, the spill's).
type edgeEvents struct {
	all                                     []flinklog.Event
	hexAttempt, upperAttempt, longAttempt   flinklog.Event
	first, near, far, odd, epoch, noneWithN flinklog.Event
}

func newEdgeEvents() edgeEvents {
	alloc, _ := flinklog.ParseID("0123456789abcdef0123456789abcdef")
	job, _ := flinklog.ParseID("fedcba9876543210fedcba9876543210")
	full := flinklog.Event{Pos: flinklog.Pos{File: 3, Rec: 2, Line: 1 << 40}, EndLine: 1<<40 + 5,
		Time: flinklog.Time{Kind: flinklog.TimeUTC, N: 1234567890123}, Level: "WARN", Component: flinklog.ComponentRM,
		Kind: flinklog.KindRMSlotReport, Alloc: alloc, Job: job, Other: alloc, Instance: job, Resource: "tm-1", SlotID: "tm-1_3",
		SlotIndex: 1 << 35, RequestedIndex: -7, SlotState: "ACTIVE", Dynamic: true, Request: "r", Task: "t", Attempt: "a",
		From: "f", To: "o", Reason: "why", Version: "1.9.3", Count: 4, CauseLine: 99, CauseText: "Caused by: x",
		Slots: []flinklog.SlotStatus{{SlotID: "tm-1_0", Resource: "tm-1", Index: 0, Alloc: alloc, Job: job}}}
	full.SetText("head ", "tail")
	full.SetRepeatSpan(5, 6)
	away := flinklog.NewEvent(flinklog.KindTMActivate)
	away.LetTextGo(77)
	edges := flinklog.NewEvent(flinklog.KindTMFree)
	edges.SlotIndex, edges.RequestedIndex = math.MinInt32, math.MaxInt32
	other := flinklog.NewEvent(flinklog.KindTMAllocRefused)
	other.Other = alloc
	cause := flinklog.NewEvent(flinklog.KindJMTaskFailed)
	cause.Task, cause.CauseLine, cause.Other = "Map (1/2)", 12, job
	// an end line that is the line, a requested index 0, an ID of zero
	// bytes that was read (not absent)
	same := flinklog.NewEvent(flinklog.KindTMAllocated)
	same.Pos.Line, same.EndLine, same.RequestedIndex = 9, 9, 0
	same.Alloc, same.Job = flinklog.IDFromBytes([16]byte{}), alloc
	// attempt IDs: 32 lower-case hex digits are kept as an ID, any other
	// attempt (upper case, Flink 1.15's longer form) as its string
	hexAttempt := flinklog.NewEvent(flinklog.KindJMDeploy)
	hexAttempt.Attempt, hexAttempt.Task = "ba796d6204bda9af2071561fc5c7ecc9", "Map (1/2)"
	upperAttempt := flinklog.NewEvent(flinklog.KindTMTaskReceived)
	upperAttempt.Attempt = "BA796D6204BDA9AF2071561FC5C7ECC9"
	longAttempt := flinklog.NewEvent(flinklog.KindTMTaskReceived)
	longAttempt.Attempt = "ba796d6204bda9af2071561fc5c7ecc9_0a448493b4782967b150582570326227_1_0"
	// times: whole milliseconds near the block's first (in the record),
	// 30 days on, no whole millisecond, an instant of 0, a TimeNone that
	// has an N (in the extras); a line just below 2^32 (in the record)
	const ms = int64(time.Millisecond)
	first := flinklog.NewEvent(flinklog.KindTMActivate)
	first.Time = flinklog.Time{Kind: flinklog.TimeLocal, N: 1615712400123 * ms}
	near := first
	near.Time.N -= 5 * ms
	near.Pos.Line = math.MaxUint32 - 5
	far := first
	far.Time.N += 30 * 24 * int64(time.Hour)
	odd := first
	odd.Time.N += 7
	epoch := first
	epoch.Time = flinklog.Time{Kind: flinklog.TimeUTC}
	noneWithN := first
	noneWithN.Time = flinklog.Time{Kind: flinklog.TimeNone, N: first.Time.N}
	all := []flinklog.Event{flinklog.NewEvent(flinklog.KindJMRelease), full, away, edges, other, cause, same, hexAttempt, upperAttempt, longAttempt,
		first, near, far, odd, epoch, noneWithN}
	return edgeEvents{all: all, hexAttempt: hexAttempt, upperAttempt: upperAttempt, longAttempt: longAttempt,
		first: first, near: near, far: far, odd: odd, epoch: epoch, noneWithN: noneWithN}
}

// TestPackedEventRoundTrip: every field of an event comes back from its
// block as it went in.
func TestPackedEventRoundTrip(t *testing.T) {
	e := newEdgeEvents()
	evs, hexAttempt, upperAttempt, longAttempt := e.all, e.hexAttempt, e.upperAttempt, e.longAttempt
	first, near, far, odd, epoch, noneWithN := e.first, e.near, e.far, e.odd, e.epoch, e.noneWithN
	for _, ev := range evs {
		b := newEventBlock(1)
		b.push(&ev)
		asString := map[string]bool{hexAttempt.Attempt: false, upperAttempt.Attempt: true, longAttempt.Attempt: true}
		if want, ok := asString[ev.Attempt]; ok && slices.Contains(b.strs, ev.Attempt) != want {
			t.Errorf("attempt %q: kept as a string: %v, want %v", ev.Attempt, !want, want)
		}
		if got := b.event(0); !reflect.DeepEqual(*got, ev) {
			t.Errorf("packed and written out:\n got  %+v\n want %+v", *got, ev)
		}
	}
	// one block holding them all (each event's extras found among the
	// others'), copied into another, then moved by some lines
	one, two := newEventBlock(1), newEventBlock(1)
	for i := range evs {
		one.push(&evs[i])
	}
	for i := range one.evs {
		two.copyFrom(one, i, 0)
	}
	two.shiftLines(10)
	three := newEventBlock(1)
	for i := range two.evs {
		three.copyFrom(two, i, 0)
	}
	three.shiftLines(1 << 32) // every line past 2^32, into the extras
	for i, ev := range evs {
		if got := one.event(i); !reflect.DeepEqual(*got, ev) {
			t.Errorf("event %d of a shared block:\n got  %+v\n want %+v", i, *got, ev)
		}
		if got := one.otherOf(&one.evs[i]); got != ev.Other {
			t.Errorf("event %d: other %v, want %v", i, got, ev.Other)
		}
		want := ev
		want.Pos.Line += 10
		if want.EndLine > 0 {
			want.EndLine += 10
		}
		if want.CauseLine > 0 {
			want.CauseLine += 10
		}
		if got := two.event(i); !reflect.DeepEqual(*got, want) {
			t.Errorf("event %d copied and shifted:\n got  %+v\n want %+v", i, *got, want)
		}
		want.Pos.Line += 1 << 32
		if want.EndLine > 0 {
			want.EndLine += 1 << 32
		}
		if want.CauseLine > 0 {
			want.CauseLine += 1 << 32
		}
		if got := three.event(i); !reflect.DeepEqual(*got, want) {
			t.Errorf("event %d copied and shifted past 2^32:\n got  %+v\n want %+v", i, *got, want)
		}
	}
	// which times the record holds, in a block whose first time is first's
	times := newEventBlock(1)
	var big []int
	for i, ev := range []flinklog.Event{flinklog.NewEvent(flinklog.KindJMRelease), first, near, far, odd, epoch, noneWithN} {
		times.push(&ev)
		if times.evs[i].flags&pBigTime != 0 {
			big = append(big, i)
		}
		if got := times.event(i); !reflect.DeepEqual(*got, ev) {
			t.Errorf("time %d:\n got  %+v\n want %+v", i, *got, ev)
		}
	}
	// far (past 2^31 ms), odd, epoch (50 years back), noneWithN
	if want := []int{3, 4, 5, 6}; !slices.Equal(big, want) {
		t.Errorf("times in the extras: %v, want %v", big, want)
	}
}

// TestAllOfIsAllFiltered: the walk of a few kinds (AllOf) or components
// (AllWhere) gives what All gives filtered to them, in the same order, and
// AllAt what All and Pos give, on every bundled log read at once
// (DEBUG slot reports and their repeats among them); and Attempt reads
// what the event written out says.
func TestAllOfIsAllFiltered(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "logs", "*"))
	if err != nil || len(paths) < 20 {
		t.Fatalf("bundled logs: %v, %d", err, len(paths))
	}
	res, err := Read(paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	attempts := 0
	for i := range res.All() {
		if got, want := res.Attempt(i), res.Event(i).Attempt; got != want {
			t.Fatalf("event %d: Attempt %q, written out %q", i, got, want)
		} else if want != "" {
			attempts++
		}
	}
	if attempts < 10 {
		t.Errorf("only %d events with an attempt in the bundled logs", attempts)
	}
	for _, kinds := range [][]flinklog.Kind{
		{flinklog.KindTMActivate},
		{flinklog.KindRMSlotRequest, flinklog.KindRMAllocStart, flinklog.KindJMDeploy, flinklog.KindJMOfferMatched},
		{flinklog.KindRMSlotReport},
		{flinklog.KindRMSlotReport, flinklog.KindTMFree},
		{"no.such.kind"},
	} {
		var want, got []EventRef
		for i := range res.All() {
			if slices.Contains(kinds, res.Kind(i)) {
				want = append(want, i)
			}
		}
		for i := range res.AllOf(kinds...) {
			got = append(got, i)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: %d refs, want %d:\n got  %v\n want %v", kinds, len(got), len(want), got[:min(20, len(got))], want[:min(20, len(want))])
		}
		if len(want) == 0 && kinds[0] != "no.such.kind" {
			t.Errorf("%v: no event of these kinds in the bundled logs", kinds)
		}
	}
	for _, comps := range [][]flinklog.Component{
		{flinklog.ComponentTM},
		{flinklog.ComponentRM, flinklog.ComponentJM}, // slot reports, repeats
		{flinklog.ComponentJM},
	} {
		keep := func(_ flinklog.Kind, c flinklog.Component) bool { return slices.Contains(comps, c) }
		var want, got []EventRef
		for i := range res.All() {
			if slices.Contains(comps, res.Head(i).Component) {
				want = append(want, i)
			}
		}
		for i := range res.AllWhere(keep) {
			got = append(got, i)
		}
		if !slices.Equal(got, want) || len(want) == 0 {
			t.Errorf("%v: %d refs, want %d (and some)", comps, len(got), len(want))
		}
	}
	if len(res.repeats) == 0 {
		t.Fatal("no repeats in the bundled logs: AllAt's repeats go untested")
	}
	var all []EventRef
	for i := range res.All() {
		all = append(all, i)
	}
	k := 0
	for i, at := range res.AllAt() {
		if k >= len(all) || i != all[k] || at != res.Pos(i) {
			t.Fatalf("AllAt's %dth: %d at %+v; All gives %v, Pos %+v", k, i, at, all[min(k, len(all)-1)], res.Pos(i))
		}
		k++
	}
	if k != len(all) {
		t.Errorf("AllAt yields %d, All %d", k, len(all))
	}
}

// TestBlocksFindStringsThroughIndexes fills blocks through the indexes
// closed blocks pass on, with more distinct strings and IDs than an index
// has entries, each met again in later blocks: every event reads back as
// it was added, and a block numbers a string or an ID only once while it
// has its entry.
func TestBlocksFindStringsThroughIndexes(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 5))
	var want []flinklog.Event
	var b eventBlocks
	for i := range 5 * eventBlockLen {
		ev := flinklog.NewEvent(flinklog.KindTMAllocated)
		ev.Pos.Line = int64(i + 1)
		ev.Component = flinklog.ComponentTM
		ev.Request = fmt.Sprintf("req-%d", rng.IntN(3*indexLen))
		ev.Task = fmt.Sprintf("Map (%d/8)", rng.IntN(8)+1)
		var raw [16]byte
		raw[rng.IntN(16)] = byte(rng.IntN(256))
		ev.Alloc = flinklog.IDFromBytes(raw)
		want = append(want, ev)
		b.add(ev)
	}
	var got []flinklog.Event
	for ev := range b.all {
		got = append(got, *ev)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("events read back differ from those added")
	}
	// two task names that share an entry of the index (the seed is the
	// process's: about one run in seventy) take it from each other at
	// every turn, and are numbered again each time: a cache's price, not
	// a fault; the others are counted
	slotOf := map[string]uint64{}
	shared := map[uint64]int{}
	for n := 1; n <= 8; n++ {
		name := fmt.Sprintf("Map (%d/8)", n)
		slotOf[name] = maphash.String(indexSeed, name) & (indexLen - 1)
		shared[slotOf[name]]++
	}
	alone := 0
	for _, slot := range slotOf {
		if shared[slot] == 1 {
			alone++
		}
	}
	for k, blk := range b.blocks {
		tasks := 0
		for _, s := range blk.strs {
			if strings.HasPrefix(s, "Map (") && shared[slotOf[s]] == 1 {
				tasks++
			}
		}
		// a block that lost an entry to a collision with a request may
		// number a task name again, never each event's anew
		if tasks > 4*alone {
			t.Errorf("block %d numbers %d task names for %d distinct ones alone in their entries", k, tasks, alone)
		}
	}
}

// TestPackedEventSize: a packed event is 32 bytes. Every byte more is
// millions of bytes of fresh memory on an allocation-dense read; a field
// added goes to the extras unless most events say it.
func TestPackedEventSize(t *testing.T) {
	if n := unsafe.Sizeof(packedEvent{}); n != 32 {
		t.Errorf("packedEvent is %d bytes, want 32", n)
	}
}

// TestBlocksTakeManyFilesAndShapes: a block numbers its events' files and
// shapes (kind, level, component) in 8 bits, and takes no event past 255
// of either: a stream of more shapes, and the store's block that copies
// the short streams of 600 inputs (a directory of small TaskManager
// logs), give every event back with its own.
func TestBlocksTakeManyFilesAndShapes(t *testing.T) {
	kinds := []flinklog.Kind{flinklog.KindTMFree, flinklog.KindTMAllocated, flinklog.KindRMSlotRequest}
	shapeOf := func(i int) (flinklog.Kind, flinklog.Level, flinklog.Component) {
		return kinds[i%3], flinklog.Level(fmt.Sprintf("L%d", i%700)), flinklog.Component([]string{"tm", "jm", "rm", ""}[i%4])
	}
	var s eventStore
	noFill := func(*eventBlock, *packedEvent, int) {}
	noMark := func(int) (int32, bool) { return 0, false }
	// one long stream of 2,100 shapes, as pushed
	var long eventBlocks
	for i := range 2100 {
		ev := flinklog.NewEvent("")
		ev.Kind, ev.Level, ev.Component = shapeOf(i)
		ev.Pos.Line = int64(i + 1)
		long.add(ev)
	}
	for _, b := range long.blocks {
		if len(b.shapes) > 255 || len(b.files) > 255 {
			t.Fatalf("a block of %d shapes and %d files", len(b.shapes), len(b.files))
		}
	}
	h := &handover{fill: noFill, mark: noMark}
	long.drain(func(b *eventBlock) { s.take(b, true, h) })
	// 600 short streams, each its own input (base), copied into the
	// store's own blocks
	for f := range 600 {
		blk := newEventBlock(2)
		for k := range 2 {
			ev := flinklog.NewEvent("")
			ev.Kind, ev.Level, ev.Component = shapeOf(2100 + 2*f + k)
			ev.Pos.Line = int64(k + 1)
			blk.push(&ev)
		}
		blk.close()
		s.take(blk, true, &handover{base: int32(1 + f), fill: noFill, mark: noMark})
	}
	s.seal()
	if s.len() != 3300 {
		t.Fatalf("%d events, want 3300", s.len())
	}
	for i := range s.len() {
		ev := s.event(i)
		kind, level, comp := shapeOf(i)
		file, line := int32(0), int64(i+1)
		if i >= 2100 {
			file, line = int32(1+(i-2100)/2), int64(1+(i-2100)%2)
		}
		if ev.Kind != kind || ev.Level != level || ev.Component != comp || ev.Pos.File != file || ev.Pos.Line != line {
			t.Fatalf("event %d: %s %s %s at %d:%d, want %s %s %s at %d:%d", i,
				ev.Kind, ev.Level, ev.Component, ev.Pos.File, ev.Pos.Line, kind, level, comp, file, line)
		}
		if k, _, _, f := s.brief(i); k != kind || f != file {
			t.Fatalf("event %d: brief says %s in %d, want %s in %d", i, k, f, kind, file)
		}
	}
	for _, b := range s.blocks {
		if len(b.shapes) > 255 || len(b.files) > 255 {
			t.Fatalf("a block of %d shapes and %d files", len(b.shapes), len(b.files))
		}
	}
}

// TestAttemptOf: an event's attempt comes back as an ID when the block
// kept it as one (32 lower-case hex digits) and as its text otherwise
// (upper case, 1.15's long form), so that two events' (ID, text) pairs are
// equal exactly when their attempts are, and zero for an event without.
func TestAttemptOf(t *testing.T) {
	attempts := []string{"", "ba796d6204bda9af2071561fc5c7ecc9", "BA796D6204BDA9AF2071561FC5C7ECC9",
		"ba796d6204bda9af2071561fc5c7ecc9_0a448493b4782967b150582570326227_1_0", "0a448493b4782967b150582570326227"}
	var evs []flinklog.Event
	for i := range 40 {
		ev := flinklog.NewEvent(flinklog.KindJMDeploy)
		ev.Pos = flinklog.Pos{Line: int64(i + 1)}
		ev.Attempt = attempts[i*7%len(attempts)]
		evs = append(evs, ev)
	}
	r := NewResult(nil, evs)
	type pair struct {
		id   flinklog.ID
		text string
	}
	for i := range evs {
		id, text := r.AttemptOf(EventRef(i))
		_, hex := attemptID(evs[i].Attempt)
		switch {
		case evs[i].Attempt == "" && (id.IsSet() || text != ""):
			t.Errorf("event %d names no attempt, AttemptOf says %s %q", i, id, text)
		case hex && (id.String() != evs[i].Attempt || text != ""):
			t.Errorf("event %d: attempt %q came back as %s %q, want the ID", i, evs[i].Attempt, id, text)
		case !hex && evs[i].Attempt != "" && (id.IsSet() || text != evs[i].Attempt):
			t.Errorf("event %d: attempt %q came back as %s %q, want the text", i, evs[i].Attempt, id, text)
		}
		for j := range evs {
			jd, jt := r.AttemptOf(EventRef(j))
			if (pair{id, text} == pair{jd, jt}) != (evs[i].Attempt == evs[j].Attempt) {
				t.Fatalf("events %d and %d (%q, %q): pairs equal %v", i, j, evs[i].Attempt, evs[j].Attempt, pair{id, text} == pair{jd, jt})
			}
		}
	}
}
