package reconstruct

import (
	"fmt"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// Slot reports compared as a stream hands them over (docs/folding-plan.md,
// "DEBUG slot reports on the fold"). A batch replay compares every report
// once the process has ended: it settles indexes from every report first,
// then infers the rest, then compares each report with the states of its
// window. A stream cannot wait for the end, so it compares a report as
// soon as nothing that comes later can change what the batch compares:
//
//   - The states of a report's window are those the batch takes
//     (takeSnapshots): a report comes in the merged stream about where the
//     TaskManager lines of its time do, after the lines of its window's
//     start, so the tables at each TaskManager line of the last
//     ReportHorizon are kept (a ring) for the report to take its states
//     from.
//   - An index a report settles (resolveHolding) is settled when the window
//     closes. The batch settles it after every line has been read: a line
//     that prints the slot's index later (its free) settles it first, and
//     the report settles nothing. So the stream's settlement of a slot whose
//     index a line may still print is provisional: a line that prints the
//     same index takes its place (as the batch has it), one that prints
//     another makes the stream fail (Err). A report that shows an
//     AllocationID in slots of which more than one has no index waits, with
//     the later reports of that AllocationID, until no line can print them.
//   - A report is compared once every slot of its window's states has an
//     index: nothing settles a known index again (a line that contradicts
//     one is a conflict, not a change); the rest are compared at the end,
//     after the inferences, as the batch compares them.

// ReportHorizon is how long, on a TaskManager's clock, a stream keeps the
// tables for a slot report that has not come yet: the window before the
// report's time, and how much later than the lines of its time a report
// may come in the merged stream (times that go back a little in a log).
// A report later than that makes the stream fail.
const ReportHorizon = ReportWindow + 10*int64(time.Second)

// streamReports is a ReplayStream's slot reports as they come.
type streamReports struct {
	// ring is the tables at every TaskManager line of the last
	// ReportHorizon, oldest first; floor is the time of the newest state
	// let go of it (floorSet: one was)
	ring     []*heldState
	floor    flinklog.Time
	floorSet bool
	// open are the reports whose window has not closed, waiting those
	// closed but not yet compared (both in report order, open after
	// waiting)
	open, waiting []*streamProbe
	n             int // reports so far
	last          flinklog.Time
	// pending are reports' holdings of an AllocationID that wait for its
	// slots' indexes (see settleHoldings), in report order
	pending map[flinklog.ID][]reportHolding
	rows    *[2][]SlotReportRow // the last check's (compareProbe)
	// blockedOn is a slot of unknown index in the first waiting report's
	// states: nothing is compared before it has one
	blockedOn int
}

// heldState is a state of the tables and the number of steps made before
// it (Replay.stepNo): it holds a slot whose last step is before that.
type heldState struct {
	snapshot
	step int
}

// streamProbe is a report and the states of its window taken so far.
type streamProbe struct {
	k      int
	ref    parser.EventRef
	pr     Probe
	states []*heldState
}

// TakeReports makes the stream compare slot reports (AddReport) with its
// tables as they come. It is called before the first Add: from then on
// the stream keeps the tables of the last ReportHorizon.
func (s *ReplayStream) TakeReports() {
	if s.rep == nil {
		s.rep = &streamReports{pending: map[flinklog.ID][]reportHolding{}}
		s.r.provisional = map[int]bool{}
		s.lastStep = map[flinklog.ID]int{}
	}
}

// Err says why the stream cannot give what a batch replay of the same
// events and reports gives (a report too late for the tables kept, a
// provisional index a later line contradicts), or nil.
func (s *ReplayStream) Err() error {
	if s.r.streamErr == nil {
		return nil // (not a nil *StreamError in an error)
	}
	return s.r.streamErr
}

// StreamError is why a stream cannot give the batch's replay, and the line
// where it saw so.
type StreamError struct {
	Why string
	Pos flinklog.Pos
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("%s (input %d, line %d)", e.Why, e.Pos.File, e.Pos.Line)
}

// failStream records the first reason the stream cannot go on.
func (r *Replay) failStream(why string, pos flinklog.Pos) {
	if r.streamErr == nil {
		r.streamErr = &StreamError{why, pos}
	}
}

// AddReport hands the stream a slot report for this process: pr as a
// batch replay's Config.Probes holds it (its time on the process's clock,
// its entries for the process), ref naming its line. Reports come in
// time order, about where the TaskManager lines of their time come.
func (s *ReplayStream) AddReport(ref parser.EventRef, pr Probe) {
	rp, r := s.rep, s.r
	if rp == nil {
		r.failStream("a slot report for a stream that takes none", pr.Pos)
		return
	}
	switch {
	case pr.At.Kind == flinklog.TimeNone:
		r.failStream("a slot report without a time", pr.Pos)
		return
	case rp.n > 0 && (pr.At.Kind != rp.last.Kind || pr.At.N < rp.last.N):
		r.failStream("a slot report before the one before it", pr.Pos)
		return
	case rp.floorSet && rp.floor.Kind == pr.At.Kind && rp.floor.N > pr.At.N-pr.Window:
		r.failStream("a slot report later than the tables kept for it", pr.Pos)
		return
	}
	rp.last = pr.At
	p := &streamProbe{k: rp.n, ref: ref, pr: pr}
	rp.n++
	// the states its window took already: as takeSnapshots would have
	// visited it at each TaskManager line of the ring
	for _, st := range rp.ring {
		if st.Until.Kind != pr.At.Kind || st.Until.N <= pr.At.N-pr.Window {
			continue
		}
		p.states = append(p.states, st)
		if st.Until.N > pr.At.N+ReportLead {
			s.closeReport(p)
			s.compareSettled()
			return
		}
	}
	rp.open = append(rp.open, p)
}

// reportLine is takeSnapshots for a stream taking reports: the tables as
// they stand after event after, before a TaskManager line at t (zero: the
// end) is applied, go to every open report whose window it is in, and to
// the ring.
func (s *ReplayStream) reportLine(t flinklog.Time, after parser.EventRef) {
	rp, r := s.rep, s.r
	end := t.Kind == flinklog.TimeNone
	st := &heldState{snapshot{After: int(after), Until: t, Slots: [2][]Slot{r.Tables[Legacy].Slots(), r.Tables[Fixed].Slots()}}, r.stepNo()}
	closed := 0
	for i, p := range rp.open {
		if !end && (t.Kind != p.pr.At.Kind || t.N <= p.pr.At.N-p.pr.Window) {
			break
		}
		p.states = append(p.states, st)
		if end || t.N > p.pr.At.N+ReportLead {
			closed = i + 1 // (in time order: every one before it closes too)
		}
	}
	for _, p := range rp.open[:closed] {
		s.closeReport(p)
	}
	if closed > 0 {
		n := copy(rp.open, rp.open[closed:])
		clear(rp.open[n:])
		rp.open = rp.open[:n]
	}
	if !end {
		rp.ring = append(rp.ring, st)
		k := 0
		for k < len(rp.ring) && (rp.ring[k].Until.Kind != t.Kind || rp.ring[k].Until.N <= t.N-ReportHorizon) {
			if old := rp.ring[k].Until; old.Kind == t.Kind && (!rp.floorSet || old.Kind != rp.floor.Kind || old.N > rp.floor.N) {
				rp.floor, rp.floorSet = old, true
			}
			k++
		}
		if k > 0 {
			n := copy(rp.ring, rp.ring[k:])
			clear(rp.ring[n:])
			rp.ring = rp.ring[:n]
		}
	}
	s.settleHoldings(false)
	s.compareSettled()
}

// closeReport: report p's window has closed. The indexes it shows are
// settled (resolveHolding) where nothing later can change how; the rest
// wait (settleHoldings). It then waits to be compared.
func (s *ReplayStream) closeReport(p *streamProbe) {
	rp, r := s.rep, s.r
	snaps := make([]*snapshot, len(p.states))
	for i, st := range p.states {
		snaps[i] = &st.snapshot
	}
	for _, h := range r.reportedHolders(p.pr, func() []*snapshot { return snaps }) {
		if len(rp.pending[h.alloc]) > 0 || s.unknownPrintable(h) > 1 {
			rp.pending[h.alloc] = append(rp.pending[h.alloc], h)
			continue
		}
		s.settle(h)
	}
	rp.waiting = append(rp.waiting, p)
}

// unknownPrintable counts h's slots of unknown index when a line may still
// print one of them, else 0 (their indexes are final but for the
// inferences at the end, which come after every report's as in a batch).
func (s *ReplayStream) unknownPrintable(h reportHolding) int {
	n, printable := 0, false
	for _, key := range h.keys {
		if s.r.IndexOf(key) < 0 {
			n++
			printable = printable || s.printable(h.alloc, key)
		}
	}
	if !printable {
		return 0
	}
	return n
}

// printable reports whether a later line may print slot key's index: the
// AllocationID map still leads alloc there (a free or a refusal finds it
// so; a slot freed or overwritten is never found again).
func (s *ReplayStream) printable(alloc flinklog.ID, key int) bool {
	k, ok := s.r.Tables[Legacy].Lookup(alloc)
	return ok && k == key
}

// settle settles h now; an index it settles that a later line may print
// is provisional (Replay.resolve).
func (s *ReplayStream) settle(h reportHolding) {
	r := s.r
	var open int
	for _, key := range h.keys {
		if r.IndexOf(key) < 0 {
			open = key
		}
	}
	r.resolveHolding(h)
	if open != 0 && r.IndexOf(open) >= 0 && s.printable(h.alloc, open) {
		r.provisional[open] = true
	}
}

// settleHoldings settles the holdings that waited, each AllocationID's in
// report order, once no line can print their slots' indexes (all: at the
// end).
func (s *ReplayStream) settleHoldings(all bool) {
	rp := s.rep
	if len(rp.pending) == 0 {
		return
	}
	for id, hs := range rp.pending {
		k := 0
		for k < len(hs) && (all || s.unknownPrintable(hs[k]) <= 1) {
			s.settle(hs[k])
			k++
		}
		if k == len(hs) {
			delete(rp.pending, id)
		} else {
			rp.pending[id] = hs[k:]
		}
	}
}

// compareSettled compares the reports waiting, in order, while every slot
// of the first one's states has an index.
func (s *ReplayStream) compareSettled() {
	rp, r := s.rep, s.r
	for len(rp.waiting) > 0 {
		if rp.blockedOn != 0 && r.IndexOf(rp.blockedOn) < 0 {
			return
		}
		rp.blockedOn = 0
		p := rp.waiting[0]
		for _, st := range p.states {
			for m := range st.Slots {
				for _, sl := range st.Slots[m] {
					if r.IndexOf(sl.Index) < 0 {
						rp.blockedOn = sl.Index
						return
					}
				}
			}
		}
		s.compare(p)
	}
}

// compare compares the first waiting report and lets it go.
func (s *ReplayStream) compare(p *streamProbe) {
	rp, r := s.rep, s.r
	snaps := make([]*snapshot, len(p.states))
	for i, st := range p.states {
		snaps[i] = &st.snapshot
	}
	r.compareProbe(p.k, p.pr, snaps, &rp.rows)
	rp.waiting[0] = nil
	rp.waiting = rp.waiting[1:]
}

// finishReports closes every report at the end of the process: the
// holdings that waited are settled; what is still waiting is compared
// after the inferences (compareRest).
func (s *ReplayStream) finishReports(after parser.EventRef) {
	s.reportLine(flinklog.Time{}, after)
	s.settleHoldings(true)
}

// compareRest compares every report still waiting, in order.
func (s *ReplayStream) compareRest() {
	for len(s.rep.waiting) > 0 {
		s.compare(s.rep.waiting[0])
	}
	s.rep.ring = nil
}

// keepsSlotsOf reports whether a state the stream holds for a report, or
// a holding waiting, may still name id's slots (whose last step is last).
func (s *ReplayStream) keepsSlotsOf(id flinklog.ID, last int) bool {
	rp := s.rep
	if len(rp.pending[id]) > 0 {
		return true
	}
	held := func(st *heldState) bool { return st.step <= last }
	if len(rp.ring) > 0 && held(rp.ring[0]) {
		return true
	}
	for _, list := range [2][]*streamProbe{rp.waiting, rp.open} {
		for _, p := range list {
			if len(p.states) > 0 && held(p.states[0]) {
				return true
			}
		}
	}
	return false
}
