package fold

import (
	"slices"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// The ResourceManager's DEBUG slot reports in a fold: each is handed, as
// the merged stream brings it, to the replay of the TaskManager process it
// describes (reconstruct's assignReports, one report at a time), which
// compares it with its tables once nothing later can change how
// (ReplayStream.TakeReports) and keeps only the checks the rules read
// (LeanReports). The fold holds each report until it is compared, and the
// lines of the checks kept to the end. A story closed healthy is let go
// only once no report can still be compared with a state that holds its
// slots (waitDrop), and a report that disagrees with a table and lists an
// AllocationID after its story closed keeps that story, as Plan's
// reportsAfterClose does (one already let go makes the fold give way).

// recentFor is how long, on a TaskManager's clock, a fold holds on to a
// process's lines for a report's check to name one: a report is compared
// once the indexes of its window's slots are known, which a later report
// or the slots' frees settle.
const recentFor = 2 * int64(time.Minute)

// heldLine is a line the fold holds for the reports: a report not
// compared yet by waiting processes, or named by held checks.
type heldLine struct {
	k       keptEvent
	waiting int
	held    int
	slots   []flinklog.SlotStatus // a report's entries
}

// reportState is a fold's slot reports.
type reportState struct {
	lines map[parser.EventRef]*heldLine
	byRes map[string][]*procState
	// firstAt is each process's first line's time (assignReports places a
	// report in the last process begun by its time)
	firstAt map[*procState]flinklog.Time
	// waitDrop are the stories closed healthy that a report may still
	// list or be compared with, in the order they closed (waitToDrop)
	waitDrop []*story
	// now is the latest aligned time of the merged stream, of kind nowKind
	now     int64
	nowKind flinklog.TimeKind
	err     error
}

// dropGrace is how long, on the merged stream's aligned clock, a story
// closed healthy waits before it is let go in logs with slot reports: the
// ResourceManager's view lags the TaskManager's, and a report that lists
// a slot freed a moment ago and disagrees with a table for another slot
// keeps the story (reportChecked); one let go made the fold give way.
const dropGrace = 2 * reconstruct.ReportHorizon

// noteTime takes the aligned time of a line of the merged stream.
func (rs *reportState) noteTime(kind flinklog.TimeKind, n int64) {
	if kind != rs.nowKind {
		rs.now, rs.nowKind = n, kind
		return
	}
	rs.now = max(rs.now, n)
}

// takeReports makes every process's replay take the slot reports as they
// come; firstAt is each process's first line's time.
func (f *folder) takeReports(firstAt map[*reconstruct.Process]flinklog.Time) {
	rs := &reportState{lines: map[parser.EventRef]*heldLine{}, byRes: map[string][]*procState{}, firstAt: map[*procState]flinklog.Time{}}
	f.reports = rs
	for _, ps := range f.procs {
		rs.byRes[ps.resource] = append(rs.byRes[ps.resource], ps)
		if t, ok := firstAt[ps.p]; ok {
			rs.firstAt[ps] = t
		}
		ps.stream.LeanReports(reconstruct.ReportHooks{
			Checked: func(rc reconstruct.ReportChecked) { f.reportChecked(ps, rc) },
			Hold:    func(ref parser.EventRef, delta int) { f.holdLine(ps, ref, delta) },
		})
	}
}

// report hands a slot report to the replays of the processes it
// describes.
func (f *folder) report(ev *flinklog.Event, k keptEvent) error {
	rs := f.reports
	when := ev.Time
	if len(ev.Slots) == 0 || when.Kind == flinklog.TimeNone {
		return nil
	}
	var resources []string
	for _, st := range ev.Slots {
		if !slices.Contains(resources, st.Resource) {
			resources = append(resources, st.Resource)
		}
	}
	h := &heldLine{k: k.owned(), slots: ev.Slots}
	rs.lines[k.ref] = h
	for _, res := range resources {
		var target *procState
		var at flinklog.Time
		for _, ps := range rs.byRes[res] {
			first, ok := rs.firstAt[ps]
			if !ok || first.Kind != when.Kind {
				continue
			}
			t := flinklog.Time{Kind: when.Kind, N: when.N + f.offsets[ev.Pos.File] - f.offsets[ps.p.Input]}
			if first.N <= t.N {
				target, at = ps, t
			}
		}
		if target == nil {
			continue
		}
		slots := ev.Slots
		if len(resources) > 1 {
			slots = nil
			for _, st := range ev.Slots {
				if st.Resource == res {
					slots = append(slots, st)
				}
			}
		}
		h.waiting++
		// (the merged stream is at the report's time: the reports before
		// it whose windows have ended are compared, lines or not)
		target.stream.ReportsPassed(at)
		target.stream.AddReport(k.ref, reconstruct.Probe{At: at, Window: reconstruct.ReportWindow, Slots: slots, Pos: ev.Pos})
		if err := f.reportsFailed(target); err != nil {
			return err
		}
	}
	f.letGo(k.ref, h)
	return nil
}

// reportsFailed is the error that a process's stream (or the fold's
// handling of what it said) met, if any.
func (f *folder) reportsFailed(ps *procState) error {
	if f.reports.err != nil {
		return f.reports.err
	}
	if err := ps.stream.Err(); err != nil {
		var pos flinklog.Pos
		why := err.Error()
		if se, ok := err.(*reconstruct.StreamError); ok {
			pos, why = se.Pos, se.Why
		}
		return notFoldable("slot reports: %s (%s)", why, f.first.Files.Position(pos))
	}
	return nil
}

// reportChecked: a process compared report ref. A report that disagrees
// with a table and lists an AllocationID after its story closed keeps the
// story (Plan's reportsAfterClose); if it was let go, the fold gives way.
func (f *folder) reportChecked(ps *procState, rc reconstruct.ReportChecked) {
	rs := f.reports
	ref, chk := rc.Ref, rc.Check
	h := rs.lines[ref]
	if ps.compared != nil && chk != nil {
		if h == nil {
			rs.fail(notFoldable("a slot report compared was not held (internal: %d)", ref))
			return
		}
		ps.compared.add(h.k.ev, rc)
	}
	if h == nil {
		return
	}
	h.waiting--
	if chk != nil && (!chk.Agrees[reconstruct.Legacy] || !chk.Agrees[reconstruct.Fixed]) {
		for _, st := range h.slots {
			if !st.Alloc.IsSet() {
				continue
			}
			if f.dropped.has(st.Alloc) {
				rs.fail(notFoldable("a slot report that disagrees with a table lists %s after its story was let go (%s)", st.Alloc, f.first.Files.Position(h.k.ev.Pos)))
				continue
			}
			if s := f.stories[st.Alloc]; s != nil && s.closed && h.k.rank > s.closeRank {
				if s.deferred {
					rs.fail(notFoldable("a slot report that disagrees with a table lists %s after its story was let go for the rules (%s)", st.Alloc, f.first.Files.Position(h.k.ev.Pos)))
				}
				s.why = first(s.why, "a slot report lists it after its close")
			}
		}
	}
	f.letGo(ref, h)
}

func (rs *reportState) fail(err error) {
	if rs.err == nil {
		rs.err = err
	}
}

// holdLine: a process's checks name line ref (+1), or no longer (-1): a
// report, or a TaskManager line of the process, which it holds for a
// while (recent) for this.
func (f *folder) holdLine(ps *procState, ref parser.EventRef, delta int) {
	rs := f.reports
	h := rs.lines[ref]
	if h == nil {
		if delta < 0 {
			return
		}
		i := slices.IndexFunc(ps.recent, func(k keptEvent) bool { return k.ref == ref })
		if i < 0 {
			rs.fail(notFoldable("a line a slot report's check names was not held (internal: %d)", ref))
			return
		}
		h = &heldLine{k: ps.recent[i].owned()}
		rs.lines[ref] = h
	}
	h.held += delta
	f.letGo(ref, h)
}

// letGo forgets line ref once nothing waits for it or names it.
func (f *folder) letGo(ref parser.EventRef, h *heldLine) {
	if h.waiting <= 0 && h.held <= 0 {
		delete(f.reports.lines, ref)
	}
}

// noteRecent holds a process's TaskManager line for a while (holdLine).
func (ps *procState) noteRecent(k keptEvent) {
	ps.recent = append(ps.recent, k)
	t := k.ev.Time
	n := 0
	for n < len(ps.recent)-1 {
		old := ps.recent[n].ev.Time
		if old.Kind == t.Kind && old.N > t.N-recentFor {
			break
		}
		n++
	}
	if n > 0 {
		m := copy(ps.recent, ps.recent[n:])
		clear(ps.recent[m:])
		ps.recent = ps.recent[:m]
	}
}

// waitToDrop: story s closed healthy in logs with slot reports. It is
// let go (retryDrops) once the merged stream is dropGrace past its close
// and its replays let go of it; where only a slot report that may come
// (or is not compared yet) holds its slots, that is later still; where
// its replays keep it, it is kept.
func (f *folder) waitToDrop(s *story) {
	rs := f.reports
	s.graceKind, s.graceUntil = rs.nowKind, rs.now+dropGrace
	rs.waitDrop = append(rs.waitDrop, s)
}

// mayDropLater reports whether only slot reports hold story s in its
// replays (ReplayStream.CanDropLater).
func (f *folder) mayDropLater(s *story) bool {
	for _, ps := range s.procs {
		if !ps.stream.CanDropLater(s.id) || ps.atStream != nil && !ps.atStream.CanDrop(s.id) {
			return false
		}
	}
	return true
}

// retryDrops lets go of the stories that waited for the reports, where
// nothing holds them any more.
func (f *folder) retryDrops() {
	rs := f.reports
	n := 0
	for _, s := range rs.waitDrop {
		switch {
		case s.why != "":
			// kept since (a report listed it after its close, or a line
			// named it)
		case s.graceKind == rs.nowKind && rs.now <= s.graceUntil:
			rs.waitDrop[n] = s
			n++
		case f.canDrop(s):
			f.dropOrDefer(s)
		case f.mayDropLater(s):
			rs.waitDrop[n] = s
			n++
		default:
			// its replays keep it
		}
	}
	clear(rs.waitDrop[n:])
	rs.waitDrop = rs.waitDrop[:n]
}

// heldReportLines are the lines the checks kept name, for the model.
func (f *folder) heldReportLines() []keptEvent {
	if f.reports == nil {
		return nil
	}
	var out []keptEvent
	for _, h := range f.reports.lines {
		if h.held > 0 {
			out = append(out, h.k)
		}
	}
	return out
}
