package reconstruct

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// TestReplayStreamIsTheReplayWithout: every TaskManager process of every
// bundled log (alone and as the bundled directories), replayed as a stream
// that drops each allocation after the last of its events the process
// logs, is the batch replay of the process without the steps of the
// allocations the stream let go: steps, divergences, conflicts, the
// indexes of the slots left, the final tables and the slot-report checks.
func TestReplayStreamIsTheReplayWithout(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/logs/*")
	for _, every := range []int{compactAt, 1} {
		dropped, kept := 0, 0
		for _, p := range paths {
			t.Run(filepath.Base(p), func(t *testing.T) {
				res, err := parser.Read([]string{p}, parser.Options{})
				if err != nil {
					t.Skip(err)
				}
				d, k := CheckReplayStreams(t, Build(res), every)
				dropped += d
				kept += k
			})
		}
		t.Logf("compacting at %d: %d allocations dropped as the stream went, %d kept", every, dropped, kept)
		if dropped < 50 {
			t.Errorf("only %d allocations dropped", dropped)
		}
	}
}

// CheckReplayStreams replays every TaskManager process of m as a stream
// (compacting at every steps of dropped allocations), and holds each to
// its batch replay (checkReplayStream); it returns how many allocations
// were dropped and kept. (For the simulated incidents' test in
// reconstruct_test.)
func CheckReplayStreams(t *testing.T, m *Model, every int) (dropped, kept int) {
	t.Helper()
	defer func(was int) { compactAt = was }(compactAt)
	compactAt = every
	for _, tm := range m.TaskManagers {
		for _, proc := range tm.Processes {
			for _, late := range reportLags(proc) {
				d, k := checkReplayStream(t, m.Result, proc, late)
				dropped += d
				kept += k
			}
		}
	}
	return dropped, kept
}

// CheckStreamedReports replays every TaskManager process of m that has
// slot reports as a stream taking them late after their time
// (checkReplayStream), and returns how many allocations were dropped and
// kept. (For the simulated session clusters' test in reconstruct_test.)
func CheckStreamedReports(t *testing.T, m *Model, late int64) (dropped, kept int) {
	t.Helper()
	for _, tm := range m.TaskManagers {
		for _, proc := range tm.Processes {
			if proc.Config.Probes != nil && proc.Config.Probes.Len() > 0 {
				d, k := checkReplayStream(t, m.Result, proc, late)
				dropped += d
				kept += k
			}
		}
	}
	return dropped, kept
}

// reportLags are how late after its time each slot report is handed to a
// stream that takes them (ReplayStream.AddReport): as soon as a
// TaskManager line comes after its time, and well into the lines after
// it; -1 hands them over with the process's configuration (Config.Probes,
// compared at the end and letting no allocation go).
func reportLags(proc *Process) []int64 {
	if proc.Config.Probes == nil || proc.Config.Probes.Len() == 0 {
		return []int64{-1}
	}
	return []int64{-1, 0, 3 * int64(time.Second), ReportHorizon - ReportWindow - int64(time.Second)}
}

// checkReplayStream replays proc as a stream, dropping each allocation
// after its last event in the process, and holds the result to the batch
// replay without them; it returns how many were dropped and kept.
//
// With late ≥ 0 the stream takes the process's slot reports as they come
// (TakeReports), each handed over once a TaskManager line is more than
// late after its time, and an allocation it may not drop yet is asked
// again at every line after.
func checkReplayStream(t *testing.T, res *parser.Result, proc *Process, late int64) (dropped, kept int) {
	t.Helper()
	last := map[flinklog.ID]int{}
	for k, i := range proc.Events {
		if id := res.Head(i).Alloc; id.IsSet() {
			last[id] = k
		}
	}
	cfg := proc.Config
	var reports int
	if late >= 0 {
		cfg.Probes = nil
	}
	s := NewReplayStream(cfg)
	if late >= 0 {
		s.TakeReports()
	}
	addReports := func(upTo flinklog.Time) {
		for ; late >= 0 && reports < proc.Config.Probes.Len(); reports++ {
			pr := proc.Config.Probes.Probe(reports)
			if upTo.Kind != flinklog.TimeNone && (upTo.Kind != pr.At.Kind || upTo.N <= pr.At.N+late) {
				return
			}
			s.ReportsPassed(pr.At) // (as a fold does: the stream is past it)
			s.AddReport(proc.SlotReport(reports), pr)
		}
	}
	gone := map[flinklog.ID]bool{}
	var again []flinklog.ID
	for k, i := range proc.Events {
		ev := res.Event(i)
		if ev.Component == flinklog.ComponentTM || ev.Component == flinklog.ComponentUnknown {
			addReports(ev.Time)
		}
		s.Add(i, ev)
		if id := res.Head(i).Alloc; id.IsSet() && last[id] == k {
			again = append(again, id)
		}
		again = slices.DeleteFunc(again, func(id flinklog.ID) bool {
			if s.Drop(id) {
				gone[id] = true
				return true
			}
			return late < 0
		})
	}
	addReports(flinklog.Time{})
	if err := s.Err(); err != nil {
		t.Fatalf("%s (reports %d ns late): %v", res.Files[proc.Input].Path, late, err)
	}
	got, want := s.Finish(), proc.Replay.without(func(st Step) bool { return st.alloc != 0 && gone[proc.Replay.allocs[st.alloc]] })
	if err := s.Err(); err != nil {
		t.Fatalf("%s (reports %d ns late): %v", res.Files[proc.Input].Path, late, err)
	}
	sameReplay(t, fmt.Sprintf("%s (reports %d ns late)", res.Files[proc.Input].Path, late), got, want)
	for id := range last {
		if gone[id] {
			dropped++
		} else if slices.ContainsFunc(want.Steps, func(st Step) bool { return want.AllocOf(st) == id }) {
			kept++
		}
	}
	return dropped, kept
}

// sameReplay holds a stream's replay (got) to the batch replay without
// the allocations it let go (want): steps, the indexes of their slots,
// divergences, conflicts, the final tables and the slot-report checks.
func sameReplay(t *testing.T, where string, got, want *Replay) {
	t.Helper()
	if len(got.Steps) != len(want.Steps) {
		t.Fatalf("%s: %d steps, the batch replay without the dropped has %d", where, len(got.Steps), len(want.Steps))
	}
	for si := range got.Steps {
		g, w := got.Steps[si], want.Steps[si]
		if g.Event != w.Event || g.Op != w.Op || g.Outcomes != w.Outcomes || g.Skipped != w.Skipped || g.Slot != w.Slot || got.AllocOf(g) != want.AllocOf(w) {
			t.Fatalf("%s: step %d is %+v (%s), the batch's %+v (%s)", where, si, g, got.AllocOf(g), w, want.AllocOf(w))
		}
		for _, key := range g.Slot {
			if gi, wi := got.Indexes.At(int(key)), want.Indexes.At(int(key)); key < 0 && gi != wi {
				t.Fatalf("%s: slot %d's index is %+v, the batch's %+v", where, key, gi, wi)
			}
		}
	}
	if !reflect.DeepEqual(got.Divergences, want.Divergences) && len(got.Divergences)+len(want.Divergences) > 0 {
		t.Fatalf("%s: divergences\n%+v\nthe batch's\n%+v", where, got.Divergences, want.Divergences)
	}
	if !reflect.DeepEqual(got.Conflicts, want.Conflicts) {
		t.Fatalf("%s: conflicts %+v, the batch's %+v", where, got.Conflicts, want.Conflicts)
	}
	for _, sem := range []Semantics{Legacy, Fixed} {
		if g, w := got.Tables[sem].Slots(), want.Tables[sem].Slots(); !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: final %s table %+v, the batch's %+v", where, sem, g, w)
		}
	}
	type check struct {
		k   int
		chk SlotReportCheck
	}
	collect := func(r *Replay) []check {
		var out []check
		for k, c := range r.Checks() {
			out = append(out, check{k, *c})
		}
		return out
	}
	if g, w := collect(got), collect(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: slot report checks\n%+v\nthe batch's\n%+v", where, g, w)
	}
}
