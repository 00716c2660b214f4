// Package fold owns folding: deciding, allocation by allocation, when a
// story is closed and whether a streaming audit can drop it there
// (docs/folding-plan.md), and the fold itself — the audit's model made
// while the logs are read again, holding what is open (Build, FromFirst).
// Plan says over the batch model what a fold of those logs does — how
// many stories close healthy, how many it must keep, how many it would
// see named again after their close, and how many it holds at once —
// using, for each allocation, only what the merged stream has shown up to
// its close; Lean is the model it keeps. The rules' findings are their
// oracle: no finding may name or cite an allocation a fold drops, and the
// rules find the same in what it keeps (the property tests here and in
// sim hold them to that), and an audit of Build's model is the batch
// audit's, byte for byte.
package fold

import (
	"cmp"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// Verdict is what a fold does with an allocation's story.
type Verdict uint8

const (
	// Open: the story never closed in the logs given (held at their end,
	// or a component's last step is missing); a fold keeps it to the end.
	Open Verdict = iota
	// Healthy: closed with nothing any rule could take up; a fold drops
	// it at its close, leaving a count (audit) or a fixed-size record.
	Healthy
	// Kept: closed, but a rule's trigger holds for it (Story.Why says
	// which); a fold keeps its events to the end.
	Kept
)

// String names the verdict.
func (v Verdict) String() string {
	return [...]string{"open", "healthy", "kept"}[v]
}

// Story is one allocation's fold: where it closes and what becomes of it.
type Story struct {
	Alloc   *reconstruct.Allocation
	Verdict Verdict
	// Close is the event at which the story closed (the last of the
	// components' last steps), -1 while Open.
	Close parser.EventRef
	// Why says what keeps it (Kept): the first trigger met.
	Why string
	// Reopened: something named the allocation after its close (an
	// event of its own, a slot allocated for it, a slot report that
	// lists it, an index conflict on its slot). A fold that had dropped it
	// could not take that up: a streaming audit must then give way to
	// the batch one.
	Reopened bool
}

// Summary is a plan in numbers.
type Summary struct {
	Allocations, Healthy, Kept, Open int
	// Reopened counts the healthy stories named again after their close:
	// each would make a streaming audit give way to the batch one (a
	// kept story keeps its events, and takes what comes later in).
	Reopened int
	// Peak is the most stories a fold would hold at once, walking the
	// merged order: a story is held from its first event, a healthy one
	// until its close, the others to the end.
	Peak int
	// KeptBy counts the kept stories by what kept them.
	KeptBy map[string]int
}

// triggers are the kinds of an allocation's own lines that some rule
// takes up (folding-inventory.md §2), and the reason a story holding one
// is kept.
var triggers = map[flinklog.Kind]string{
	flinklog.KindTaskNoSlot:          "a task found no slot",
	flinklog.KindRMAllocFailed:       "the ResourceManager's allocation failed",
	flinklog.KindTMAllocRefused:      "the TaskManager refused an allocation",
	flinklog.KindTMAllocExists:       "the TaskManager found it allocated already",
	flinklog.KindTMFreeUnknown:       "a free found no slot",
	flinklog.KindTMSlotOccupied:      "its slot was occupied",
	flinklog.KindRMSlotOccupied:      "its slot was occupied",
	flinklog.KindJMRepeatedOffer:     "a repeated offer",
	flinklog.KindJMOfferUnmatched:    "an offer no requirement matched",
	flinklog.KindJMCannotFailSlot:    "the JobManager could not fail the slot",
	flinklog.KindRMFreeMismatch:      "a free named another allocation",
	flinklog.KindRMFreeUnknown:       "the ResourceManager freed an unknown slot",
	flinklog.KindTMMarkActiveFailed:  "the slot could not be marked active",
	flinklog.KindTMNotAllocatedByJob: "the slot was not allocated by the job",
	flinklog.KindJMRequestTimeout:    "the JobManager's request timed out",
	flinklog.KindRMRequestTimeout:    "the ResourceManager's request timed out",
}

// rmLogsFrees: from this version on, the ResourceManager logs the free of
// every slot ("Freeing slot …"), and a story is not closed before it.
var rmLogsFrees = flinklog.Version{Major: 1, Minor: 18}

// Plan says what a fold of m's logs would do with every allocation, in
// m.Allocations' order.
func Plan(m *reconstruct.Model) ([]Story, Summary) {
	res := m.Result
	version := map[int32]flinklog.Version{} // each input's least version
	jmGiven := false
	for _, in := range res.Inputs {
		version[in.File] = in.VersionMin
		jmGiven = jmGiven || in.DuplicateOf == "" && slices.Contains(in.Components, flinklog.ComponentJM)
	}
	steps := stepsByAlloc(m)
	stories := make([]Story, len(m.Allocations))
	for k, a := range m.Allocations {
		stories[k] = planOne(m, a, version, jmGiven, steps[a.ID])
	}
	reportsAfterClose(m, stories)
	conflictsAfterClose(m, stories, steps)
	return stories, summarize(m, stories)
}

// allocSteps are the replay steps of one allocation, in its processes'
// order, with whether each left both tables agreeing and satisfied.
type allocSteps struct {
	clean []stepAt
	keys  map[[2]int]bool // (process number, slot key) it was created on
}

type stepAt struct {
	event parser.EventRef
	ok    bool
}

// stepsByAlloc walks every process's steps once.
func stepsByAlloc(m *reconstruct.Model) map[flinklog.ID]*allocSteps {
	out := map[flinklog.ID]*allocSteps{}
	pn := 0
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			pn++
			if p.Replay == nil {
				continue
			}
			for _, st := range p.Replay.Steps {
				id := p.Replay.AllocOf(st)
				if !id.IsSet() {
					continue
				}
				s := out[id]
				if s == nil {
					s = &allocSteps{}
					out[id] = s
				}
				ok := !st.Skipped[0] && !st.Skipped[1] && st.Outcomes[0] == st.Outcomes[1] &&
					(st.Outcomes[0] == reconstruct.Accepted || st.Outcomes[0] == reconstruct.Idempotent)
				s.clean = append(s.clean, stepAt{st.Event, ok})
				if st.Op == reconstruct.OpAllocate || st.Op == reconstruct.OpPrior {
					if s.keys == nil {
						s.keys = map[[2]int]bool{}
					}
					s.keys[[2]int{pn, int(st.Slot[reconstruct.Legacy])}] = true
				}
			}
		}
	}
	return out
}

// planOne decides one allocation from its events up to its close.
// A JobManager's log given, its release closes the story even when no
// line of it named the allocation before: an old JobManager names it only
// once it is fulfilled, and a TaskManager's free can come first.
func planOne(m *reconstruct.Model, a *reconstruct.Allocation, version map[int32]flinklog.Version, jmGiven bool, steps *allocSteps) Story {
	res := m.Result
	s := Story{Alloc: a, Close: -1}
	var c closing
	for _, i := range a.Events {
		h := res.Head(i)
		c.note(h.Kind, h.Component, version[res.Pos(i).File])
		if c.closes(jmGiven) {
			s.Close = i
			break
		}
	}
	why, sawTM, activated := c.why, c.sawTM, c.activated
	if s.Close < 0 {
		return s
	}
	closeRank := m.Rank[s.Close]
	// Named again after the close: a later event of its own.
	for _, i := range a.Events {
		if m.Rank[i] > closeRank {
			s.Reopened = true
		}
	}
	// Its TaskManager slots up to the close: one, allocated in view,
	// freed before the close. (A slot held at the end, a second slot for
	// one AllocationID, a slot held before the log: the zombie, overwrite,
	// duplicate-offer and timeout rules read those.)
	held := 0
	for _, h := range a.Held {
		if m.Rank[h.Allocated] > closeRank {
			s.Reopened = true
			continue
		}
		held++
		switch {
		case h.Prior:
			why = first(why, "held before the log began")
		case h.Freed < 0 || m.Rank[h.Freed] > closeRank:
			why = first(why, "its slot was not freed by the close")
		case h.Replaced >= 0:
			why = first(why, "its process ended while it held the slot")
		}
	}
	switch {
	case sawTM && held != 1:
		why = first(why, "it held other than one slot")
	case sawTM && !activated:
		why = first(why, "its slot was never activated")
	}
	if steps != nil {
		for _, st := range steps.clean {
			if m.Rank[st.event] <= closeRank && !st.ok {
				why = first(why, "a replay step left the tables disagreeing or unsatisfied")
				break
			}
		}
	}
	if why != "" {
		s.Verdict, s.Why = Kept, why
	} else {
		s.Verdict = Healthy
	}
	return s
}

// closing follows one story's lines, in the merged order, to its close:
// which components named it, whether their last steps came, whether its
// slot was activated, and the first trigger among them (Plan over the
// batch model, the fold as the lines come).
type closing struct {
	sawTM, sawJM, sawRM, freed, released, rmFreed, activated, needRMFree bool
	why                                                                  string
}

// note takes one line of the story: its kind, its component and the
// least version of its input.
func (c *closing) note(kind flinklog.Kind, comp flinklog.Component, version flinklog.Version) {
	switch comp {
	case flinklog.ComponentTM:
		c.sawTM = true
	case flinklog.ComponentJM:
		c.sawJM = true
	case flinklog.ComponentRM:
		if !c.sawRM {
			c.needRMFree = !version.IsZero() && !version.Less(rmLogsFrees)
		}
		c.sawRM = true
	}
	switch kind {
	case flinklog.KindTMFree:
		c.freed = true
	case flinklog.KindJMRelease:
		c.released = true
	case flinklog.KindRMFree:
		c.rmFreed = true
	case flinklog.KindTMActivate, flinklog.KindTMTaskReceived:
		// (a task received into the slot counts as its activation,
		// as for the timeout rules' activated)
		c.activated = true
	case flinklog.KindTMFreeReason:
		// a cause before any activation is the slot timeout's kind
		// of free (allocation-timeout, slot-timeout)
		if !c.activated && c.why == "" {
			c.why = "freed with a cause before it was activated"
		}
	}
	if t, ok := triggers[kind]; ok && c.why == "" {
		c.why = t
	}
}

// closes reports whether the story has closed with the lines noted: each
// component whose log is given has logged its last step of it (the
// TaskManager's free, the JobManager's release when a JobManager's log is
// given, the ResourceManager's free from 1.18).
func (c *closing) closes(jmGiven bool) bool {
	return (c.freed || !c.sawTM) && (c.released || !c.sawJM && !jmGiven) && (c.rmFreed || !c.sawRM || !c.needRMFree) && (c.sawTM || c.sawJM)
}

func first(why, reason string) string {
	if why != "" {
		return why
	}
	return reason
}

// reportsAfterClose marks the closed stories that a slot report lists
// after their close, when the report disagrees with a table: the
// ResourceManager's view lags the TaskManager's, so a report that agrees
// (within its window) may still list a slot freed a moment ago, and
// nothing reads that row; one that disagrees is read by
// slot-report-mismatch, which may name the allocation of any row.
func reportsAfterClose(m *reconstruct.Model, stories []Story) {
	res := m.Result
	if res.CountOf(flinklog.KindRMSlotReport) == 0 {
		return
	}
	closeOf := map[flinklog.ID]int32{}
	for k := range stories {
		if s := &stories[k]; s.Close >= 0 {
			closeOf[s.Alloc.ID] = int32(k)
		}
	}
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			if p.Replay == nil {
				continue
			}
			for k, chk := range p.Replay.Checks() {
				if chk.Agrees[reconstruct.Legacy] && chk.Agrees[reconstruct.Fixed] {
					continue
				}
				ref := p.SlotReport(k)
				for _, st := range res.Base(ref).Slots {
					if at, ok := closeOf[st.Alloc]; ok && st.Alloc.IsSet() && m.Rank[ref] > m.Rank[stories[at].Close] {
						stories[at].Reopened = true
					}
				}
			}
		}
	}
}

// conflictsAfterClose: an index conflict on a closed story's slot is
// taken up by slot-index-conflict, which names the allocation.
func conflictsAfterClose(m *reconstruct.Model, stories []Story, steps map[flinklog.ID]*allocSteps) {
	type keyAt [2]int
	conflicts := map[keyAt][]flinklog.Pos{}
	pn := 0
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			pn++
			if p.Replay != nil {
				for _, c := range p.Replay.Conflicts {
					conflicts[keyAt{pn, c.Key}] = append(conflicts[keyAt{pn, c.Key}], c.Pos)
				}
			}
		}
	}
	if len(conflicts) == 0 {
		return
	}
	rankAt := map[flinklog.Pos]int32{}
	for _, ps := range conflicts {
		for _, p := range ps {
			rankAt[p] = -1
		}
	}
	for i, pos := range m.Result.AllAt() {
		if r, ok := rankAt[pos]; ok && (r < 0 || m.Rank[i] < r) {
			rankAt[pos] = m.Rank[i]
		}
	}
	for k := range stories {
		s := &stories[k]
		st := steps[s.Alloc.ID]
		if s.Close < 0 || st == nil {
			continue
		}
		for key := range st.keys {
			for _, p := range conflicts[key] {
				if r := rankAt[p]; r > m.Rank[s.Close] {
					s.Reopened = true
				} else if r >= 0 && s.Verdict == Healthy {
					s.Verdict, s.Why = Kept, "two lines placed its slot at different indexes"
				}
			}
		}
	}
}

// summarize counts the stories and walks the merged order for the peak.
func summarize(m *reconstruct.Model, stories []Story) Summary {
	sum := Summary{Allocations: len(stories), KeptBy: map[string]int{}}
	type change struct {
		rank  int32
		delta int
	}
	changes := make([]change, 0, 2*len(stories))
	for k := range stories {
		s := &stories[k]
		switch s.Verdict {
		case Healthy:
			sum.Healthy++
		case Kept:
			sum.Kept++
			sum.KeptBy[s.Why]++
		default:
			sum.Open++
		}
		if s.Reopened && s.Verdict == Healthy {
			sum.Reopened++
		}
		if len(s.Alloc.Events) == 0 {
			continue
		}
		// (an allocation's events are in the merged order: its first is
		// where the fold first holds it)
		changes = append(changes, change{m.Rank[s.Alloc.Events[0]], 1})
		if s.Verdict == Healthy {
			changes = append(changes, change{m.Rank[s.Close], -1})
		}
	}
	// a story closed at an event is dropped after it: at one rank, the
	// openings count before the closes
	slices.SortFunc(changes, func(x, y change) int {
		if c := cmp.Compare(x.rank, y.rank); c != 0 {
			return c
		}
		return cmp.Compare(y.delta, x.delta)
	})
	held := 0
	for _, c := range changes {
		held += c.delta
		sum.Peak = max(sum.Peak, held)
	}
	return sum
}

// Contradiction is a finding that takes up a story the plan dropped at its
// close (healthy, not named again): what must never happen.
type Contradiction struct {
	Story   *Story
	Finding string       // the finding's ID
	Cites   flinklog.Pos // the story's line it cites; zero when it names the allocation
}

// Contradictions holds the plan to the rules' findings: every finding that
// names a story the plan calls healthy and not reopened, or cites one of its
// lines. The tests require none; --log-level debug counts them on the logs
// at hand.
func Contradictions(m *reconstruct.Model, stories []Story, findings []rules.Finding) []Contradiction {
	named := map[flinklog.ID]string{}
	cited := map[flinklog.Pos]string{}
	for _, f := range findings {
		if f.Alloc.IsSet() {
			named[f.Alloc] = f.ID
		}
		for _, e := range f.Evidence {
			cited[e.Pos] = f.ID
		}
	}
	var out []Contradiction
	for k := range stories {
		s := &stories[k]
		if s.Verdict != Healthy || s.Reopened {
			continue
		}
		if f, ok := named[s.Alloc.ID]; ok {
			out = append(out, Contradiction{Story: s, Finding: f})
		}
		for _, i := range s.Alloc.Events {
			if f, ok := cited[m.Result.Pos(i)]; ok {
				out = append(out, Contradiction{Story: s, Finding: f, Cites: m.Result.Pos(i)})
			}
		}
	}
	return out
}

// Dropped reports whether the plan drops a story at its close: healthy,
// and not named again after it.
func Dropped(s Story) bool { return s.Verdict == Healthy && !s.Reopened }

// Lean is what a fold that followed the plan would keep of m: the model
// without the dropped stories (reconstruct.Model.Reduced), and how many of
// the read's events it still looks at — the kept stories' events, the
// TaskManager processes' events inside the kept stories' windows (and each
// process's first, last and stopping lines), and the kinds the rules walk
// whole (globalKinds). The rules find the same in it as in m (the tests in
// this package and in sim hold them to it), so those events are what a
// streaming audit must hold, besides each input's facts.
func Lean(m *reconstruct.Model, stories []Story) (*reconstruct.Model, int) {
	dropped := make(map[*reconstruct.Allocation]bool, len(stories))
	for _, s := range stories {
		if Dropped(s) {
			dropped[s.Alloc] = true
		}
	}
	lean := m.Reduced(func(a *reconstruct.Allocation) bool { return dropped[a] })
	res := m.Result
	looked := make([]bool, res.Len())
	n := 0
	look := func(i parser.EventRef) {
		if !looked[i] {
			looked[i] = true
			n++
		}
	}
	for _, a := range lean.Allocations {
		for _, i := range a.Events {
			look(i)
		}
	}
	for _, tm := range lean.TaskManagers {
		for _, p := range tm.Processes {
			for _, i := range p.Events {
				look(i)
			}
		}
	}
	for i := range res.AllOf(globalKinds...) {
		look(i)
	}
	return lean, n
}

// globalKinds are the kinds some rule walks over the whole read, whatever
// allocation they belong to (folding-inventory.md §1).
var globalKinds = []flinklog.Kind{
	flinklog.KindJMNoResource, flinklog.KindJMTaskFailed, flinklog.KindRMTMRegister,
	flinklog.KindHeartbeatTimeout, flinklog.KindRMRequirements, flinklog.KindRMNotFulfillable,
	flinklog.KindRMTMClose, flinklog.KindJMTMDisconnect, flinklog.KindRMTMUnregister,
}
