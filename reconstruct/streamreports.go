package reconstruct

import (
	"fmt"
	"slices"
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
	// lean: only the checks the rules read are kept (LeanReports)
	lean *leanChecks
	// passed: the latest end of a window closed before a line came
	// (ReportsPassed), which every later line must be past
	passed    flinklog.Time
	passedSet bool
}

// heldState is a state of the tables and the number of steps made before
// it (Replay.stepNo): it holds a slot whose last step is before that.
type heldState struct {
	snapshot
	step int
	// afterAt is where the line After names is
	afterAt flinklog.Pos
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
func (s *ReplayStream) reportLine(t flinklog.Time, after parser.EventRef, afterAt flinklog.Pos) {
	rp, r := s.rep, s.r
	end := t.Kind == flinklog.TimeNone
	if !end && rp.passedSet && t.Kind == rp.passed.Kind && t.N <= rp.passed.N {
		r.failStream("a TaskManager line inside the window of a slot report compared before it came", s.src.at)
	}
	st := &heldState{snapshot{After: int(after), Until: t, Slots: s.r.tablesNow()}, r.stepNo(), afterAt}
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

// ReportsPassed tells the stream that no line of its process earlier than
// t (on its clock) is still to come: the merged stream has passed t. The
// reports whose window ends before t are closed with the tables as they
// stand, the state their window takes at the process's next line (a
// TaskManager with no slot to serve logs nothing for hours, while the
// ResourceManager logs its report every heartbeat: they waited for the
// end). A line that comes inside such a window after all fails the
// stream.
func (s *ReplayStream) ReportsPassed(t flinklog.Time) {
	rp, r := s.rep, s.r
	if rp == nil || len(rp.open) == 0 {
		return
	}
	closed := 0
	for i, p := range rp.open {
		if t.Kind != p.pr.At.Kind || t.N <= p.pr.At.N+ReportLead {
			break
		}
		closed = i + 1
	}
	if closed == 0 {
		return
	}
	// (its time, the next line's, is only read as later than the
	// reports': an end's is)
	st := &heldState{snapshot{After: int(s.prev), Slots: s.r.tablesNow()}, r.stepNo(), s.prevAt}
	for _, p := range rp.open[:closed] {
		p.states = append(p.states, st)
		if end := p.pr.At.N + ReportLead; !rp.passedSet || end > rp.passed.N {
			rp.passed, rp.passedSet = flinklog.Time{Kind: t.Kind, N: end}, true
		}
		s.closeReport(p)
	}
	n := copy(rp.open, rp.open[closed:])
	clear(rp.open[n:])
	rp.open = rp.open[:n]
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
		h.ref = p.ref
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
	if open == 0 || r.IndexOf(open) < 0 {
		return
	}
	if s.printable(h.alloc, open) {
		r.provisional[open] = true
	}
	if l := s.rep.lean; l != nil {
		// the line the slot's index rests on, while the slot is kept (a
		// chart's bar shows it)
		l.resolvedBy[open] = h.ref
		l.hooks.Hold(h.ref, +1)
	}
}

// letGoOfSlot: slot key is let go (its allocation dropped); a report its
// index rested on is no longer held for it.
func (s *ReplayStream) letGoOfSlot(key int) {
	if s.rep == nil || s.rep.lean == nil {
		return
	}
	l := s.rep.lean
	if ref, ok := l.resolvedBy[key]; ok {
		delete(l.resolvedBy, key)
		l.hooks.Hold(ref, -1)
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
	n := len(r.checks)
	r.compareProbe(p.k, p.pr, snaps, &rp.rows)
	if l := rp.lean; l != nil {
		rc := ReportChecked{Ref: p.ref, Probe: p.k}
		if len(r.checks) > 0 && (len(r.checks) > n || r.checks[n-1].Probe+r.checks[n-1].N == int32(p.k+1)) {
			c := &r.checks[len(r.checks)-1]
			rc.Joined = len(r.checks) == n
			for m, a := range c.After {
				if a < 0 {
					continue
				}
				i := slices.IndexFunc(p.states, func(st *heldState) bool { return st.After == int(a) })
				if i < 0 {
					r.failStream("a slot report's check names a line of no state of its window", p.pr.Pos)
					continue
				}
				rc.After[m] = p.states[i].afterAt
			}
			s.kept(p, rc)
		} else if l.hooks.Checked != nil {
			l.hooks.Checked(rc) // (no state to compare it with)
		}
	}
	rp.waiting[0] = nil
	rp.waiting = rp.waiting[1:]
}

// finishReports closes every report at the end of the process: the
// holdings that waited are settled; what is still waiting is compared
// after the inferences (compareRest).
func (s *ReplayStream) finishReports(after parser.EventRef) {
	s.reportLine(flinklog.Time{}, after, s.prevAt)
	s.settleHoldings(true)
}

// compareRest compares every report still waiting, in order.
func (s *ReplayStream) compareRest() {
	for len(s.rep.waiting) > 0 {
		s.compare(s.rep.waiting[0])
	}
	s.rep.ring = nil
	if s.rep.lean != nil {
		s.leanFinish()
	}
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

// ReportHooks is what a stream that keeps only the checks the rules read
// (LeanReports) tells its caller, which holds the lines those checks name.
type ReportHooks struct {
	// Checked is told of each report once it is compared, in report
	// order.
	Checked func(ReportChecked)
	// Hold is told of each line the checks kept will name (+1) and of
	// each they no longer will (-1): reports, the TaskManager line after
	// which a check that disagrees compared the table, and the report
	// that settled the index of a slot still kept.
	Hold func(ref parser.EventRef, delta int)
}

// ReportChecked is a report a stream compared (ReportHooks.Checked).
type ReportChecked struct {
	Ref   parser.EventRef
	Probe int // its number among the process's reports
	// Check is the check it came out as (read only; a check stands for a
	// run of reports that came out the same, and may grow), nil where no
	// state of the table was there to compare it with.
	Check *SlotReportCheck
	// Joined: it came out as the report before it did (the same Check)
	Joined bool
	// After is where the lines Check.After names are (zero: none)
	After [2]flinklog.Pos
}

// leanChecks is what a lean stream keeps of its checks. The rules read a
// process's checks twice: every report that disagrees with the table the
// process ran (slot-report-mismatch: a disagreement that persists is one
// finding, citing its first report and six more at most), and, backward,
// the latest report showing a zombie slot's index held by its
// AllocationID (zombie-slot). So a run of reports that disagrees keeps its
// first mismatchCited, and for each index and AllocationID that a report
// shows held while a table still holds that AllocationID, the latest
// report showing it is kept; every other check is let go as it is
// passed.
type leanChecks struct {
	hooks ReportHooks
	// held counts the reasons each report kept (by probe number) is kept
	held map[int]int
	refs map[int]parser.EventRef
	// latest is the latest report showing each index held by an
	// AllocationID, by model
	latest map[shownHeld]int
	// heldAfter are the lines named by the kept checks that disagree
	heldAfter map[parser.EventRef]int
	probes    map[int]Probe
	// resolvedBy are the reports that settled the indexes of the slots
	// still kept, by slot
	resolvedBy map[int]parser.EventRef
	// sweepAt: past this many checks, those no report is kept of are let
	// go (a check passed long ago may lose its last kept report)
	sweepAt int
}

// shownHeld is an index a report shows held by an AllocationID, as lined
// up with one model's table.
type shownHeld struct {
	model Semantics
	index int
	alloc flinklog.ID
}

// mismatchCited is how many reports of a run that disagrees a stream
// keeps: slot-report-mismatch cites a disagreement's first report and the
// next six that disagree the same way.
const mismatchCited = 8

// LeanReports makes a stream that takes reports (TakeReports) keep only
// the checks the rules read (leanChecks), telling hooks what it keeps.
func (s *ReplayStream) LeanReports(hooks ReportHooks) {
	s.TakeReports()
	s.rep.lean = &leanChecks{hooks: hooks, held: map[int]int{}, refs: map[int]parser.EventRef{},
		latest: map[shownHeld]int{}, heldAfter: map[parser.EventRef]int{}, probes: map[int]Probe{}, resolvedBy: map[int]parser.EventRef{}}
}

// kept notes report p compared into the last check (rc: as the hook
// is told of it).
func (s *ReplayStream) kept(p *streamProbe, rc ReportChecked) {
	r, l := s.r, s.rep.lean
	c := &r.checks[len(r.checks)-1]
	// (what it holds first: the caller may let go of a report checked
	// that nothing holds)
	defer func() {
		if l.hooks.Checked != nil {
			rc.Check = &r.checks[len(r.checks)-1]
			l.hooks.Checked(rc)
		}
	}()
	hold := func(k int, ref parser.EventRef, pr Probe) {
		if l.held[k]++; l.held[k] == 1 {
			l.refs[k], l.probes[k] = ref, pr
			l.hooks.Hold(ref, +1)
		}
	}
	if (!c.Agrees[Legacy] || !c.Agrees[Fixed]) && p.k-int(c.Probe) < mismatchCited {
		if p.k == int(c.Probe) {
			for m, a := range c.After {
				if !c.Agrees[m] && a >= 0 {
					if l.heldAfter[a]++; l.heldAfter[a] == 1 {
						l.hooks.Hold(a, +1)
					}
				}
			}
		}
		hold(p.k, p.ref, p.pr)
	}
	for m := range r.Tables {
		for _, row := range c.Rows(Semantics(m)) {
			if !row.Reported.IsSet() || row.Index < 0 || !s.holds(row.Reported) {
				continue
			}
			key := shownHeld{Semantics(m), row.Index, row.Reported}
			if was, ok := l.latest[key]; ok {
				if was == p.k {
					continue
				}
				s.release(was)
			}
			l.latest[key] = p.k
			hold(p.k, p.ref, p.pr)
		}
	}
	// an index shown held by an AllocationID no table holds any more: no
	// zombie-slot finding reads its report
	for key, k := range l.latest {
		if !s.holds(key.alloc) {
			delete(l.latest, key)
			s.release(k)
		}
	}
	// the check before this one is passed: let go unless kept
	if n := len(r.checks); n > 1 && int(r.checks[n-1].Probe) == p.k {
		prev := &r.checks[n-2]
		keep := false
		for k := int(prev.Probe); k < int(prev.Probe+prev.N); k++ {
			keep = keep || l.held[k] > 0
		}
		if !keep {
			r.checks[n-2] = r.checks[n-1]
			r.checks = r.checks[:n-1]
		}
	}
	if len(r.checks) > l.sweepAt {
		last := r.checks[len(r.checks)-1].Probe // (which a report may still join)
		r.checks = slices.DeleteFunc(r.checks, func(c SlotReportCheck) bool {
			if c.Probe == last {
				return false
			}
			for k := int(c.Probe); k < int(c.Probe+c.N); k++ {
				if l.held[k] > 0 {
					return false
				}
			}
			return true
		})
		l.sweepAt = 2*len(r.checks) + 64
	}
}

// holds reports whether a table holds a slot of alloc.
func (s *ReplayStream) holds(alloc flinklog.ID) bool {
	for _, t := range s.r.Tables {
		if _, ok := t.Lookup(alloc); ok {
			return true
		}
		for _, sl := range t.slots {
			if sl.Alloc == alloc {
				return true
			}
		}
	}
	return false
}

// release drops one reason to keep report k.
func (s *ReplayStream) release(k int) {
	l := s.rep.lean
	if l.held[k]--; l.held[k] > 0 {
		return
	}
	l.hooks.Hold(l.refs[k], -1)
	delete(l.held, k)
	delete(l.refs, k)
	delete(l.probes, k)
}

// leanFinish keeps, of the checks left, the reports kept: a check's run
// is cut into the runs of its reports kept, and what no rule reads of a
// check that agrees is let go (After: the line after which a table that
// agrees was compared). The process's reports (Process.SetReports) are
// the kept ones.
func (s *ReplayStream) leanFinish() {
	r, l := s.r, s.rep.lean
	var out []SlotReportCheck
	for _, c := range r.checks {
		for m, a := range c.Agrees {
			if a {
				c.After[m] = -1
			}
		}
		start := -1
		for k := int(c.Probe); k <= int(c.Probe+c.N); k++ {
			in := k < int(c.Probe+c.N) && l.held[k] > 0
			switch {
			case in && start < 0:
				start = k
			case !in && start >= 0:
				part := c
				part.Probe, part.N = int32(start), int32(k-start)
				out = append(out, part)
				start = -1
			}
		}
	}
	r.checks = out
}

// KeptReports returns the reports a lean stream kept, by probe number:
// each one's ref and probe.
func (s *ReplayStream) KeptReports() (map[int]parser.EventRef, map[int]Probe) {
	if s.rep == nil || s.rep.lean == nil {
		return nil, nil
	}
	return s.rep.lean.refs, s.rep.lean.probes
}

// ReportCount is how many reports the stream took.
func (s *ReplayStream) ReportCount() int {
	if s.rep == nil {
		return 0
	}
	return s.rep.n
}
