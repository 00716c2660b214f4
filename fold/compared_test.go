package fold

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// comparedCases is a log of three reports written as comparedLog.add
// writes them: a check whose models' rows differ, a report that came out
// the same (joined), and one after a report compared with no state (probe
// 3), whose fixed check is the legacy one's.
func comparedCases() (chunk []byte, want [2][]reconstruct.ComparedReport) {
	rowsL := []reconstruct.SlotReportRow{
		{Index: 0, Reported: idOf(1), Job: idOf(9), Replayed: reconstruct.Slot{Index: 0, State: reconstruct.Active, Alloc: idOf(1), Job: idOf(9)}, Agrees: true},
		{Index: 1, Reported: idOf(2), Job: idOf(9), Replayed: reconstruct.Slot{Index: -3, State: reconstruct.Allocated, Alloc: idOf(4)}},
		{Index: -1, Replayed: reconstruct.Slot{Index: 2}, Agrees: true},
	}
	rowsF := append([]reconstruct.SlotReportRow(nil), rowsL...)
	rowsF[1].Agrees, rowsF[1].Replayed = true, reconstruct.Slot{Index: 1, State: reconstruct.Active, Alloc: idOf(2), Job: idOf(9)}
	after := flinklog.Pos{File: 2, Line: 40}
	rec := func(b []byte, flags byte, skip int, pos flinklog.Pos, t flinklog.Time) []byte {
		b = append(b, flags)
		b = binary.AppendUvarint(b, uint64(skip))
		b = appendPos(b, pos)
		b = append(b, byte(t.Kind))
		return binary.AppendVarint(b, t.N)
	}
	t0 := flinklog.Time{Kind: flinklog.TimeLocal, N: 1e12}
	at := func(line int64, s int64) (flinklog.Pos, flinklog.Time) {
		return flinklog.Pos{File: 0, Line: line}, flinklog.Time{Kind: t0.Kind, N: t0.N + s*1e9}
	}
	p0, t0 := at(10, 0)
	chunk = rec(chunk, recNewCheck, 0, p0, t0)
	chunk = appendCheck(chunk, false, after, rowsL)
	chunk = appendCheck(chunk, true, flinklog.Pos{}, rowsF)
	p1, t1 := at(20, 10)
	chunk = rec(chunk, 0, 0, p1, t1)
	p3, t3 := at(40, 30)
	chunk = rec(chunk, recNewCheck|recSameInFixed, 1, p3, t3)
	chunk = appendCheck(chunk, true, after, rowsF[:1])
	for m, rows := range [2][]reconstruct.SlotReportRow{rowsL, rowsF} {
		agrees, aft := m == 1, after
		if m == 1 {
			aft = flinklog.Pos{}
		}
		want[m] = []reconstruct.ComparedReport{
			{Probe: 0, Pos: p0, Time: t0, Agrees: agrees, After: aft, Rows: rows},
			{Probe: 1, Pos: p1, Time: t1, Agrees: agrees, After: aft, Rows: rows},
			{Probe: 3, Pos: p3, Time: t3, Agrees: true, After: after, Rows: rowsF[:1]},
		}
	}
	return chunk, want
}

// TestComparedLogReadsBack: a log's reports come back in order under
// each model, from memory and from a file, in one chunk or cut in two;
// a chunk cut or damaged anywhere is an error, never a panic or a
// report made up.
func TestComparedLogReadsBack(t *testing.T) {
	chunk, want := comparedCases()
	for _, inMemory := range []int{1 << 20, 0} {
		was := spillInMemory
		spillInMemory = inMemory
		sf := &spillFile{}
		sf.write([]byte("another process's chunk"), "slotaudit-test-*")
		l := &comparedLog{out: sf, n: 3}
		l.buf = append(l.buf, chunk...)
		l.flush()
		if err := sf.finish(); err != nil {
			t.Fatal(err)
		}
		for m := range want {
			var got []reconstruct.ComparedReport
			err := l.Each(reconstruct.Semantics(m), func(cr *reconstruct.ComparedReport) error {
				c := *cr
				c.Rows = append([]reconstruct.SlotReportRow(nil), cr.Rows...)
				got = append(got, c)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want[m]) {
				t.Errorf("in memory up to %d, model %d: read back\n%+v\nwant\n%+v", inMemory, m, got, want[m])
			}
		}
		for cut := range len(chunk) {
			l.chunks = l.chunks[:1]
			l.chunks[0].n = uint32(cut)
			if err := l.Each(reconstruct.Legacy, func(*reconstruct.ComparedReport) error { return nil }); err == nil {
				t.Errorf("in memory up to %d: a chunk cut at %d of %d read back", inMemory, cut, len(chunk))
			}
		}
		if err := sf.Close(); err != nil {
			t.Fatal(err)
		}
		spillInMemory = was
	}
}
