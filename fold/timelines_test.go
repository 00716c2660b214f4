package fold

import (
	"errors"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
)

func idOf(b byte) flinklog.ID {
	var raw [16]byte
	for i := range raw {
		raw[i] = b + byte(i)
	}
	return flinklog.IDFromBytes(raw)
}

// spillCases are timelines as a fold lets them go: out of their first
// line's order, with texts kept and let go, a slot of an index printed,
// one of an index the dynamic counter settles at its process's end, one
// whose process's counter was contradicted, and one of none.
func spillCases() ([]reconstruct.FoldedAllocation, [][]pendingIndex) {
	at := func(file int32, line int64) flinklog.Pos { return flinklog.Pos{File: file, Line: line} }
	ev := func(rank int32, line int64, kind flinklog.Kind, text string) reconstruct.FoldedEvent {
		e := reconstruct.FoldedEvent{Rank: rank, Pos: at(1, line), Time: flinklog.Time{Kind: flinklog.TimeLocal, N: int64(line) * 1e9},
			Component: flinklog.ComponentTM, Kind: kind, SlotIndex: -1, Own: true, Text: text}
		if text == "" {
			e.TextAway, e.TextSum = true, uint32(line)*7
		}
		return e
	}
	folded := []reconstruct.FoldedAllocation{
		{ID: idOf(1), Job: idOf(50), Resource: "tm-1",
			Events: []reconstruct.FoldedEvent{ev(40, 4, flinklog.KindTMSlotRequest, "Receive slot request"), ev(41, 5, flinklog.KindTMFree, "")},
			Held: []reconstruct.FoldedHeld{{Resource: "tm-1", Index: reconstruct.IndexInfo{Index: 3, Source: reconstruct.IndexObserved, How: "free", Pos: at(1, 5)},
				Allocated: at(1, 4), Freed: at(1, 5)}}},
		{ID: idOf(2), Resource: "",
			Events: []reconstruct.FoldedEvent{ev(10, 1, flinklog.KindRMSlotRequest, "Request slot"), {Rank: 12, Pos: flinklog.Pos{File: 0, Line: 9, Rec: 2},
				Component: flinklog.ComponentRM, Kind: flinklog.KindRMAllocStart, SlotIndex: 2, Text: "a line\tof \x1b[31mlog\x1b[0m, untrusted"}}},
		{ID: idOf(3), Job: idOf(60), Resource: "tm-2",
			Events: []reconstruct.FoldedEvent{ev(20, 2, flinklog.KindTMSlotRequest, "")},
			Held: []reconstruct.FoldedHeld{{Resource: "tm-2", Index: reconstruct.IndexInfo{Index: -1}, Allocated: at(1, 2), Freed: at(1, 3)},
				{Resource: "tm-2", Index: reconstruct.IndexInfo{Index: -1}, Allocated: at(1, 6), Freed: at(1, 8)},
				{Resource: "tm-2", Index: reconstruct.IndexInfo{Index: -1}, Allocated: at(1, 9), Freed: at(1, 10)}}},
	}
	pending := [][]pendingIndex{{{}}, nil, {{proc: 1, ord: 4}, {proc: 2, ord: 1}, {}}}
	return folded, pending
}

// TestSpillGivesTheCountersIndex: the timelines a spill holds come back
// in the order of their first line's rank, as they were written, in
// memory and past it in a file; a slot let go with its index unknown gets
// the index the dynamic counter gave its process's slots at the end
// (Slots + its request's ordinal, on the counter's witness), or stays
// unknown where the counter was contradicted or there is none.
func TestSpillGivesTheCountersIndex(t *testing.T) {
	for _, inMemory := range []int{1 << 20, 0, 150} {
		was := spillInMemory
		spillInMemory = inMemory
		folded, pending := spillCases()
		sp := &spill{}
		for k := range folded {
			sp.pending = pending[k]
			fa := folded[k]
			sp.add(&fa)
		}
		witness := flinklog.Pos{File: 1, Line: 77}
		if err := sp.seal([]counterFate{{applied: true, witness: witness, slots: 4}, {applied: false, slots: 4}}); err != nil {
			t.Fatal(err)
		}
		if inMemory == 0 && sp.file == nil || inMemory == 1<<20 && sp.file != nil {
			t.Errorf("a spill of %d bytes in memory: in a file %v", inMemory, sp.file != nil)
		}
		want := []reconstruct.FoldedAllocation{folded[1], folded[2], folded[0]}
		want[1].Held = append([]reconstruct.FoldedHeld(nil), want[1].Held...)
		want[1].Held[0].Index = reconstruct.IndexInfo{Index: 8, Source: reconstruct.IndexInferred, How: "dynamic index counter", Pos: witness}
		var got []reconstruct.FoldedAllocation
		err := sp.Each(func(fa *reconstruct.FoldedAllocation) error {
			c := *fa
			c.Events = append([]reconstruct.FoldedEvent(nil), fa.Events...)
			c.Held = append([]reconstruct.FoldedHeld(nil), fa.Held...)
			if len(c.Held) == 0 {
				c.Held = nil
			}
			got = append(got, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("in memory up to %d bytes: read back\n%+v\nwant\n%+v", inMemory, got, want)
		}
		if sp.Len() != 3 {
			t.Errorf("Len %d, want 3", sp.Len())
		}
		stop := errors.New("stop")
		if err := sp.Each(func(*reconstruct.FoldedAllocation) error { return stop }); err != stop {
			t.Errorf("Each's yield's error: %v", err)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		spillInMemory = was
	}
}

// TestDecodeFoldedRefusesDamage: a timeline cut anywhere, or with a byte
// changed that makes it not fit, is an error, never a panic or a timeline
// made up.
func TestDecodeFoldedRefusesDamage(t *testing.T) {
	folded, pending := spillCases()
	for k := range folded {
		b := encodeFolded(nil, &folded[k], pending[k])
		var fa reconstruct.FoldedAllocation
		if _, err := decodeFolded(b, &fa, nil); err != nil {
			t.Fatalf("case %d whole: %v", k, err)
		}
		for n := 0; n < len(b); n++ {
			if _, err := decodeFolded(b[:n], &fa, nil); err == nil {
				t.Errorf("case %d cut at %d of %d bytes: no error", k, n, len(b))
			}
		}
		if _, err := decodeFolded(append(b, 0), &fa, nil); err == nil {
			t.Errorf("case %d with a byte after it: no error", k)
		}
	}
}

// FuzzDecodeFolded: whatever the spill's bytes, decodeFolded returns a
// timeline or an error; a timeline it returns encodes back to the same
// bytes.
func FuzzDecodeFolded(f *testing.F) {
	folded, pending := spillCases()
	for k := range folded {
		f.Add(encodeFolded(nil, &folded[k], pending[k]))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fa reconstruct.FoldedAllocation
		p, err := decodeFolded(b, &fa, nil)
		if err != nil {
			return
		}
		again := encodeFolded(nil, &fa, p)
		var fb reconstruct.FoldedAllocation
		q, err := decodeFolded(again, &fb, nil)
		if err != nil || !reflect.DeepEqual(fa, fb) || !reflect.DeepEqual(p, q) {
			t.Fatalf("decoded %+v (%v), encoded again and decoded %+v (%v): %v", fa, p, fb, q, err)
		}
	})
}
