package reconstruct

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// FuzzReplay drives both slot tables with arbitrary sequences of
// TaskManager events (each byte pair an operation on one of four
// AllocationIDs, with indexes and slot reports mixed in). The replay must
// not panic, the fixed table must never hold an AllocationID twice or lose
// it from its map, and every index it settles must lie in the printed range.
func FuzzReplay(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 3, 2, 2, 1, 4, 1}, uint8(3), true)
	f.Add([]byte{0, 0, 0, 0, 1, 0, 5, 0, 6, 2, 7, 1}, uint8(0), false)
	f.Fuzz(func(t *testing.T, ops []byte, slots uint8, fromStart bool) {
		if len(ops) > 400 {
			ops = ops[:400]
		}
		evs, probes := fuzzedProcess(ops)
		r := ReplayTM(evs, Config{Slots: int(slots % 9), StaticOnly: slots%2 == 0, DynamicCounter: slots%3 == 0, FromStart: fromStart, Probes: ProbeList(probes)})
		fixed := r.Tables[Fixed]
		seen := map[flinklog.ID]bool{}
		for _, s := range fixed.Slots() {
			if seen[s.Alloc] {
				t.Fatalf("fixed table holds %s twice: %s", s.Alloc, fixed)
			}
			seen[s.Alloc] = true
			if key, ok := fixed.Lookup(s.Alloc); !ok || key != s.Index {
				t.Fatalf("fixed table lost %s from its map: %s", s.Alloc, fixed)
			}
		}
		if z := fixed.Zombies(); len(z) != 0 {
			t.Fatalf("fixed table has zombies %v", z)
		}
		// An index is printed (0-7 here) or follows from the static range or
		// the dynamic counter (slots + one per request).
		for key, info := range r.Indexes.All() {
			if info.Index < -1 || info.Index > 8+len(evs) {
				t.Fatalf("slot %d settled at index %d", key, info.Index)
			}
			if info.Source == IndexInferred && info.How == "only index left" && info.Index >= int(slots%9) {
				t.Fatalf("slot %d inferred as index %d outside the static range of %d slots", key, info.Index, slots%9)
			}
		}
	})
}

// fuzzedProcess makes a TaskManager process's events of ops, each byte
// pair an operation on one of four AllocationIDs, and slot reports (Config.Probes)
// among them, a second apart.
func fuzzedProcess(ops []byte) ([]flinklog.Event, []Probe) {
	ids := []string{"8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2f", "4d281fc2b655ae175b84d7592d68df69", "96d6a9d2c1ebb6a838c37a83a6372c1b", "3efcec47613ad2bb7f461d431324a64a"}
	job, _ := flinklog.ParseID("f9743e6b86a8c4a8dfb0bfa20b9a86ad")
	var evs []flinklog.Event
	var probes []Probe
	for k := 0; k+1 < len(ops); k += 2 {
		a, _ := flinklog.ParseID(ids[ops[k+1]%4])
		idx := int(ops[k+1]/4) % 8
		ev := flinklog.Event{Pos: flinklog.Pos{Line: int64(len(evs) + 1)}, Time: flinklog.Time{Kind: flinklog.TimeLocal, N: int64(len(evs)) * 1e9},
			Component: flinklog.ComponentTM, Alloc: a, Job: job, SlotIndex: -1, RequestedIndex: -1}
		switch ops[k] % 9 {
		case 0:
			ev.Kind = flinklog.KindTMSlotRequest
		case 1:
			ev.Kind = flinklog.KindTMAllocated
		case 2:
			ev.Kind, ev.SlotIndex, ev.SlotState = flinklog.KindTMFree, idx, "ALLOCATED"
		case 3:
			ev.Kind = flinklog.KindTMActivate
		case 4:
			ev.Kind = flinklog.KindTaskNoSlot
		case 5:
			ev.Kind, ev.SlotIndex, ev.Reason = flinklog.KindTMAllocRefused, idx, "allocation id already allocated in another slot"
		case 6:
			ev.Kind, ev.SlotIndex, ev.RequestedIndex = flinklog.KindTMAllocExists, idx, (idx+1)%8
		case 7:
			ev.Kind = flinklog.KindTMFreeUnknown
		case 8:
			ev.Kind, ev.Alloc = flinklog.KindTMJMClose, flinklog.ID{}
			probes = append(probes, Probe{At: ev.Time, Window: ReportWindow, Pos: ev.Pos,
				Slots: []flinklog.SlotStatus{{Index: idx, Alloc: a, Job: job}}})
		}
		evs = append(evs, ev)
	}
	return evs, probes
}

// FuzzStreamedReports: a stream that takes the slot reports as they come
// (ReplayStream.TakeReports), each handed over late after its time, and
// lets go of every allocation once it can after its last event, either
// says why it cannot give the batch replay (Err) or gives it: the batch
// replay of the same events and reports without the steps of the
// allocations it let go, with the same checks, indexes and conflicts.
func FuzzStreamedReports(f *testing.F) {
	f.Add([]byte{0, 1, 1, 1, 8, 1, 3, 1, 8, 1, 2, 1, 8, 1}, uint8(4), true, uint8(0))
	f.Add([]byte{0, 1, 1, 1, 0, 2, 1, 2, 8, 2, 2, 1, 8, 2, 2, 2, 8, 1}, uint8(3), false, uint8(3))
	// an AllocationID sent to two slots, reported before and after one is freed
	f.Add([]byte{0, 1, 1, 1, 1, 1, 8, 1, 8, 5, 2, 9, 8, 1, 8, 5}, uint8(4), true, uint8(1))
	f.Fuzz(checkStreamedReports)
}

// checkStreamedReports is FuzzStreamedReports's check of one process.
func checkStreamedReports(t *testing.T, ops []byte, slots uint8, fromStart bool, lateBy uint8) {
	{
		if len(ops) > 400 {
			ops = ops[:400]
		}
		evs, probes := fuzzedProcess(ops)
		// lines 0.1 to 1.2 s apart, the reports at their lines' times: a
		// report's window (2 s before it, 250 ms after) holds several
		// lines, or none
		at := int64(0)
		for k := range evs {
			at += int64(1+int(ops[2*k])%12) * int64(100*time.Millisecond)
			evs[k].Time.N = at
		}
		for k := range probes {
			probes[k].At = evs[probes[k].Pos.Line-1].Time
		}
		cfg := Config{Slots: int(slots % 9), StaticOnly: slots%2 == 0, DynamicCounter: slots%3 == 0, FromStart: fromStart, Probes: ProbeList(probes)}
		batch := ReplayTM(evs, cfg)
		last := map[flinklog.ID]int{}
		for k, ev := range evs {
			if ev.Alloc.IsSet() {
				last[ev.Alloc] = k
			}
		}
		late := int64(lateBy%16) * int64(time.Second) / 2
		cfg.Probes = nil
		s := NewReplayStream(cfg)
		s.TakeReports()
		next := 0
		addReports := func(upTo flinklog.Time) {
			for ; next < len(probes); next++ {
				if upTo.Kind != flinklog.TimeNone && upTo.N <= probes[next].At.N+late {
					return
				}
				s.ReportsPassed(probes[next].At)
				s.AddReport(parser.EventRef(-1-next), probes[next])
			}
		}
		gone := map[flinklog.ID]bool{}
		var again []flinklog.ID
		for k := range evs {
			addReports(evs[k].Time)
			s.Add(parser.EventRef(k), &evs[k])
			if id := evs[k].Alloc; id.IsSet() && last[id] == k {
				again = append(again, id)
			}
			again = slices.DeleteFunc(again, func(id flinklog.ID) bool {
				gone[id] = s.Drop(id)
				return gone[id]
			})
		}
		addReports(flinklog.Time{})
		got := s.Finish()
		if err := s.Err(); err != nil {
			return // (said why; the fold then builds the batch model)
		}
		want := batch.without(func(st Step) bool { return st.alloc != 0 && gone[batch.allocs[st.alloc]] })
		sameReplay(t, fmt.Sprintf("reports %v late", time.Duration(late)), got, want)
	}
}

// TestReportsPassedIsChecked: a report closed before its window ended, on
// the word of ReportsPassed, is compared with the tables as they stood —
// the batch's check where no line of the process comes inside its window
// after all; where one does, the stream fails instead of answering.
func TestReportsPassedIsChecked(t *testing.T) {
	a, _ := flinklog.ParseID("4d281fc2b655ae175b84d7592d68df69")
	job, _ := flinklog.ParseID("f9743e6b86a8c4a8dfb0bfa20b9a86ad")
	at := func(ms int64) flinklog.Time {
		return flinklog.Time{Kind: flinklog.TimeLocal, N: ms * int64(time.Millisecond)}
	}
	line := func(n int, ms int64, kind flinklog.Kind) flinklog.Event {
		return flinklog.Event{Pos: flinklog.Pos{Line: int64(n)}, Time: at(ms), Component: flinklog.ComponentTM, Kind: kind, Alloc: a, Job: job, SlotIndex: -1, RequestedIndex: -1}
	}
	report := Probe{At: at(1000), Window: ReportWindow, Pos: flinklog.Pos{File: 1, Line: 9},
		Slots: []flinklog.SlotStatus{{Index: 0, Alloc: a, Job: job}, {Index: 1}}}
	for _, c := range []struct {
		name   string
		lastMs int64 // the process's last line (activating the slot)
		fails  bool
	}{
		{"the next line after the window", 1400, false},
		{"a line inside the window after all", 1100, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := []flinklog.Event{line(1, 0, flinklog.KindTMSlotRequest), line(2, 100, flinklog.KindTMAllocated), line(3, c.lastMs, flinklog.KindTMActivate)}
			cfg := Config{Slots: 2, StaticOnly: true, FromStart: true}
			s := NewReplayStream(cfg)
			s.TakeReports()
			s.Add(0, &evs[0])
			s.Add(1, &evs[1])
			s.AddReport(-1, report)
			s.ReportsPassed(at(1300)) // (a caller's word)
			s.Add(2, &evs[2])
			got := s.Finish()
			if (s.Err() != nil) != c.fails {
				t.Fatalf("stream error %v, want one: %v", s.Err(), c.fails)
			}
			if c.fails {
				return
			}
			cfg.Probes = ProbeList{report}
			sameReplay(t, c.name, got, ReplayTM(evs, cfg))
		})
	}
}
