package parser

import (
	"reflect"
	"slices"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestSpillBlockRoundTrip: a block written to the spill and read back
// gives every event as it went in — each field, each way a block packs it
// (big lines and times in the extras, attempts as IDs or strings, a slot
// list) — and so does one moved by some lines after it was written, as a
// piece of a file is once it is joined.
func TestSpillBlockRoundTrip(t *testing.T) {
	evs := newEdgeEvents().all
	blk := newEventBlock(1)
	for i := range evs {
		ev := evs[i]
		ev.SetRepeatSpan(0, 0) // (a repeat's span is the handover's, never spilled)
		blk.push(&ev)
	}
	blk.close()
	enc, err := encodeBlock(nil, blk)
	if err != nil {
		t.Fatal(err)
	}
	// (encodeBlock grows its buffer once, by encodedLen)
	if n := encodedLen(blk); len(enc) != n {
		t.Errorf("a block of %d bytes, encodedLen %d", len(enc), n)
	}
	back, err := decodeBlock(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		want := *blk.event(i)
		if got := back.event(i); !reflect.DeepEqual(*got, want) {
			t.Errorf("event %d read back:\n got  %+v\n want %+v", i, *got, want)
		}
	}
	for _, shift := range []int64{10, 1 << 32} {
		// (a block read back is the bytes it was read from: moved, it
		// changes them)
		moved, err := decodeBlock(slices.Clone(enc))
		if err != nil {
			t.Fatal(err)
		}
		moved.shiftLines(shift)
		for i := range evs {
			want := *blk.event(i)
			want.Pos.Line += shift
			if want.EndLine > 0 {
				want.EndLine += shift
			}
			if want.CauseLine > 0 {
				want.CauseLine += shift
			}
			if got := moved.event(i); !reflect.DeepEqual(*got, want) {
				t.Errorf("event %d read back and moved by %d:\n got  %+v\n want %+v", i, shift, *got, want)
			}
		}
	}
	// what does not read back is said, never half read
	for _, cut := range []int{0, 10, blockHeader, len(enc) / 2, len(enc) - 1} {
		if _, err := decodeBlock(enc[:cut]); err == nil {
			t.Errorf("a block cut at %d of %d bytes read back", cut, len(enc))
		}
	}
	if _, err := decodeBlock(append(enc, 0)); err == nil {
		t.Error("a block with a byte after it read back")
	}
}

// TestSpillLogJoinsPieces: the spills of pieces read apart, joined in
// file order, hand over every event in order with its line in the file;
// a slot report reads back with its entries and text; a log whose spill
// was closed is not read back from it (the file is read again).
func TestSpillLogJoinsPieces(t *testing.T) {
	sp := testSpill(t)
	piece := func(from, n int) *spillLog {
		l := newSpillLog(sp)
		for i := range n {
			ev := flinklog.NewEvent(flinklog.KindTMAllocated)
			ev.Pos.Line = int64(i + 1)
			ev.Resource = "tm-1"
			ev.Task = []string{"Map", "Sink", ""}[(from+i)%3]
			l.add(ev)
		}
		return l
	}
	// pieces of 2,500, 10 and 1,500 events (blocks full and not)
	a, b, c := piece(0, 2500), piece(2500, 10), piece(2510, 1500)
	a.absorb(b, 2500)
	a.absorb(c, 2510)
	l := a.done()
	if l == nil || l.n != 4010 {
		t.Fatalf("joined spill: %+v", l)
	}
	e := &emitter{file: 7, ch: make(chan readBatch, 100)}
	go func() {
		defer close(e.ch)
		if err := l.replay(e); err != nil {
			t.Error(err)
		}
	}()
	line := int64(0)
	for batch := range e.ch {
		for _, ev := range batch.evs {
			line++
			if ev.Pos.Line != line || ev.Pos.File != 7 || ev.Kind != flinklog.KindTMAllocated || ev.Task != []string{"Map", "Sink", ""}[(line-1)%3] {
				t.Fatalf("event %d read back as %+v", line, ev)
			}
		}
	}
	if line != 4010 {
		t.Fatalf("%d events read back, want 4010", line)
	}

	report := newSpillLog(sp)
	report.away = true // (texts let go, but a report's)
	alloc, _ := flinklog.ParseID("4d281fc2b655ae175b84d7592d68df69")
	rep := flinklog.NewEvent(flinklog.KindRMSlotReport)
	rep.Slots = []flinklog.SlotStatus{{SlotID: "tm-1_0", Resource: "tm-1", Index: 0, Alloc: alloc}, {SlotID: "tm-1_1", Resource: "tm-1", Index: 1}}
	rep.SetText("2021-03-14 09:00:01,419 ", "DEBUG SlotManager - Received slot report from instance tm-1: SlotReport{...}.")
	report.add(flinklog.NewEvent(flinklog.KindTMAllocated))
	report.add(rep)
	rl := report.done()
	if rl == nil {
		t.Fatal("a log with a slot report is not read back from the spill")
	}
	e = &emitter{file: 7, texts: true, ch: make(chan readBatch, 100)}
	go func() {
		defer close(e.ch)
		if err := rl.replay(e); err != nil {
			t.Error(err)
		}
	}()
	var back []flinklog.Event
	for batch := range e.ch {
		back = append(back, batch.evs...)
	}
	if len(back) != 2 || back[1].Kind != flinklog.KindRMSlotReport || !slices.Equal(back[1].Slots, rep.Slots) || back[1].Text() != rep.Text() {
		t.Errorf("a slot report read back as %+v", back)
	}
	late := piece(0, 5)
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if late.done() != nil {
		t.Error("a log spilled after the spill was closed is read back from it")
	}
	e = &emitter{file: 7, ch: make(chan readBatch, 100)}
	if err := l.replay(e); err == nil {
		t.Error("a closed spill read back")
	}
}
