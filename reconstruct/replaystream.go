package reconstruct

import (
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// The replay of a streaming audit (docs/folding-plan.md, step 4): one
// TaskManager process's events are applied as the merged stream hands them
// over, and the allocations whose stories a fold drops let go of their
// steps, slots' indexes and lookups, keeping only what the inferences at
// the end of the process read of them (foldedFacts). What Finish returns
// is the batch replay of the same events without the dropped allocations'
// steps (Replay.without, which the rules are held to by Model.Reduced).

// ReplayStream replays one TaskManager process as its events come.
type ReplayStream struct {
	r   *Replay
	src *recentEvents
	// prev is the ref of the last TaskManager event applied (-1: none),
	// after which a snapshot of the tables is taken
	prev parser.EventRef
	// prevAt is where prev's line is (what a report's check names)
	prevAt flinklog.Pos
	// gone are the allocations dropped whose steps are still in Steps
	gone map[flinklog.ID]bool
	// goneSteps counts those steps; a compaction runs when they are a
	// quarter of Steps
	goneSteps int
	stepsOf   map[flinklog.ID]int   // steps of each allocation still in Steps
	keys      map[flinklog.ID][]int // the placeholder keys those steps touch
	// goneEvents are events whose steps of no allocation go at the next
	// compaction (DropEvent)
	goneEvents map[parser.EventRef]bool
	added      int // where the steps the last Add made begin in Steps
	// rep are the slot reports taken as they come (TakeReports), and
	// lastStep the number of each allocation's last step (Replay.stepNo),
	// for a report's states that may still hold its slots
	rep      *streamReports
	lastStep map[flinklog.ID]int
}

// compactAt is the least number of dropped allocations' steps a compaction
// takes out (a test compacts at every drop).
var compactAt = 64

// foldedFacts is what the inferences at the end of a process (Replay's
// inferDynamicCounter and inferOnlyIndexLeft) read of the slots a stream
// let go.
type foldedFacts struct {
	// a printed index of a dropped slot that contradicts the dynamic
	// counter, and the earliest line of one that confirms it
	counterContradicted bool
	counterWitness      flinklog.Pos
	// a dropped slot's index lies outside [0, Slots)
	outsideStatic bool
	// ghosts are dropped slots of a static-only table that a slot still
	// of unknown index was held beside: inferOnlyIndexLeft counts their
	// indexes as taken. Ordered by when they were freed.
	ghosts []ghostSlot
}

// ghostSlot is a dropped slot as inferOnlyIndexLeft reads it.
type ghostSlot struct {
	key  int
	info IndexInfo
	life [2]int
}

// recentEvents is a replay's event source in a stream: the event being
// applied, and that of the last step, the only one apply looks back at
// (it was a map of one entry, cleared and set at every step).
type recentEvents struct {
	cur parser.EventRef
	// ev is the caller's event while it is applied, nil between Adds
	// (held past its Add, it would hold its whole batch of events, in
	// every process); at is where the last one applied lies
	ev      *flinklog.Event
	at      flinklog.Pos
	lastRef parser.EventRef // -1: none yet
	last    flinklog.Event
}

// Event returns the event ref names, a copy for any but the current (a
// zero event for one the stream no longer holds).
func (s *recentEvents) Event(ref parser.EventRef) *flinklog.Event {
	if ref == s.cur && s.ev != nil {
		return s.ev
	}
	var ev flinklog.Event
	if ref == s.lastRef {
		ev = s.last
	}
	return &ev
}

// NewReplayStream starts the replay of a process under cfg. Slot reports
// (cfg.Probes) are compared as in a batch replay; a process with some lets
// no allocation go (Drop says so).
func NewReplayStream(cfg Config) *ReplayStream {
	src := &recentEvents{cur: -1, lastRef: -1}
	r := newReplay(src, nil, cfg)
	r.Steps = nil
	r.Indexes.sparse = true
	r.folded = &foldedFacts{}
	return &ReplayStream{r: r, src: src, prev: -1, gone: map[flinklog.ID]bool{}, stepsOf: map[flinklog.ID]int{}, keys: map[flinklog.ID][]int{}, goneEvents: map[parser.EventRef]bool{}}
}

// Add applies the process's next event, ref naming it in the read.
func (s *ReplayStream) Add(ref parser.EventRef, ev *flinklog.Event) {
	if ev.Component != flinklog.ComponentTM && ev.Component != flinklog.ComponentUnknown {
		s.prev, s.prevAt = ref, ev.Pos // (a snapshot is taken after the event before, whatever it is)
		s.added = len(s.r.Steps)
		return
	}
	r := s.r
	if s.rep != nil {
		s.reportLine(ev.Time, s.prev, s.prevAt)
	} else {
		r.takeSnapshots(ev.Time, int(s.prev))
	}
	// (the event is not copied: apply reads it, and only it and the
	// last step's, while it is applied)
	s.src.cur, s.src.ev, s.src.at = ref, ev, ev.Pos
	n := len(r.Steps)
	s.added = n
	r.apply(int(ref), ev)
	s.src.ev = nil
	s.prev, s.prevAt = ref, ev.Pos
	// the last step's event is the only one apply looks back at
	if len(r.Steps) > n {
		s.src.lastRef, s.src.last = ref, *ev
		for j, st := range r.Steps[n:] {
			if st.alloc == 0 {
				continue
			}
			id := r.allocs[st.alloc]
			s.stepsOf[id]++
			if s.rep != nil {
				s.lastStep[id] = r.removed + n + j
			}
			for _, k := range st.Slot {
				if k < 0 && !slices.Contains(s.keys[id], int(k)) {
					s.keys[id] = append(s.keys[id], int(k))
				}
			}
		}
	}
}

// Added returns the steps the last Add made, with the AllocationID each is
// about: valid until the next Add or Drop.
func (s *ReplayStream) Added() ([]Step, func(Step) flinklog.ID) {
	return s.r.Steps[s.added:], s.r.AllocOf
}

// Conflicts returns the index conflicts so far (Replay.Conflicts).
func (s *ReplayStream) Conflicts() []IndexConflict { return s.r.Conflicts }

// Live reports whether slot key is one the replay still knows: not a
// dropped allocation's.
func (s *ReplayStream) Live(key int) bool {
	_, ok := s.r.Indexes.Get(key)
	return key >= 0 || ok
}

// DropEvent lets go of the step of no allocation that event ref made, if
// it made one (a JobManager's connection closed): the fold keeps the
// event only inside a kept story's window, and its step with it.
func (s *ReplayStream) DropEvent(ref parser.EventRef) {
	s.goneEvents[ref] = true
}

// Drop lets go of allocation id's steps and of what the replay looks up
// by it: its story closed and nothing will name it again (the caller's
// to know). It reports false, and keeps everything, where the replay may
// still need it: slot reports to compare, a slot of id still held, an
// index not known yet in a static-only table (the inference at the end
// may settle it, and count it as taken), or a conflict over its index.
func (s *ReplayStream) Drop(id flinklog.ID) bool {
	if !s.CanDrop(id) {
		return false
	}
	s.gone[id] = true
	s.goneSteps += s.stepsOf[id]
	s.maybeCompact()
	return true
}

// maybeCompact compacts once the steps to let go are many enough.
func (s *ReplayStream) maybeCompact() {
	if n := s.goneSteps + len(s.goneEvents); n >= compactAt && 4*n >= len(s.r.Steps) {
		s.compact()
	}
}

// CanDrop reports whether Drop(id) would let id go.
func (s *ReplayStream) CanDrop(id flinklog.ID) bool {
	if s.rep != nil && s.keepsSlotsOf(id, s.lastStep[id]) {
		return false
	}
	return s.canDropBut(id)
}

// CanDropLater reports whether Drop(id) would let id go once the slot
// reports the stream takes no longer need its slots (no state a report
// may still be compared with holds them): true where CanDrop is, too.
func (s *ReplayStream) CanDropLater(id flinklog.ID) bool { return s.canDropBut(id) }

// canDropBut is CanDrop but for the reports a stream takes.
func (s *ReplayStream) canDropBut(id flinklog.ID) bool {
	r := s.r
	if r.cfg.Probes.Len() > 0 || s.gone[id] {
		return false
	}
	for _, t := range r.Tables {
		if _, held := t.Lookup(id); held {
			return false
		}
		for _, sl := range t.slots {
			if sl.Alloc == id {
				return false
			}
		}
	}
	for _, key := range s.keysOf(id) {
		if info := r.Indexes.At(key); info.Index < 0 && r.cfg.StaticOnly {
			return false
		}
		for _, c := range r.Conflicts {
			if c.Key == key {
				return false
			}
		}
	}
	return true
}

// keysOf returns the placeholder keys of id's slots, from its steps.
func (s *ReplayStream) keysOf(id flinklog.ID) []int { return s.keys[id] }

// compact takes the dropped allocations' steps out of Steps, and their
// slots and lookups out of the replay, keeping foldedFacts of them.
func (s *ReplayStream) compact() {
	r := s.r
	if len(s.gone) == 0 && len(s.goneEvents) == 0 {
		return
	}
	f := r.folded
	goneKeys := map[int]bool{}
	moved := make([]int, len(r.Steps))
	kept := r.Steps[:0]
	live := []flinklog.ID{{}}
	liveNo := map[int32]int32{0: 0}
	keptKeys := map[int]bool{}
	for si, st := range r.Steps {
		if st.alloc == 0 && s.goneEvents[st.Event] {
			moved[si] = -1
			continue
		}
		if st.alloc != 0 && s.gone[r.allocs[st.alloc]] {
			moved[si] = -1
			for _, k := range st.Slot {
				if k < 0 {
					goneKeys[int(k)] = true
				}
			}
			continue
		}
		for _, k := range st.Slot {
			keptKeys[int(k)] = true
		}
		if _, ok := liveNo[st.alloc]; !ok {
			liveNo[st.alloc] = int32(len(live))
			live = append(live, r.allocs[st.alloc])
		}
		st.alloc = liveNo[st.alloc]
		moved[si] = len(kept)
		kept = append(kept, st)
	}
	r.removed += len(r.Steps) - len(kept)
	clear(r.Steps[len(kept):])
	r.Steps = kept
	divs := r.Divergences[:0]
	for _, d := range r.Divergences {
		if moved[d.Step] >= 0 {
			d.Step = moved[d.Step]
			divs = append(divs, d)
		}
	}
	r.Divergences = divs
	// (a slot a dropped allocation's step touched may be another's: the
	// legacy map overwritten leads a free to another slot)
	for key := range keptKeys {
		delete(goneKeys, key)
	}
	for _, t := range r.Tables {
		for key := range t.slots {
			delete(goneKeys, key)
		}
	}
	for key := range goneKeys {
		info := r.Indexes.At(key)
		if ord, ok := r.request[key]; ok && info.Source == IndexObserved {
			if info.Index != r.cfg.Slots+ord {
				f.counterContradicted = true
			}
			if f.counterWitness.Line == 0 || info.Pos.Less(f.counterWitness) {
				f.counterWitness = info.Pos
			}
		}
		if info.Index >= r.cfg.Slots {
			f.outsideStatic = true
		}
		if r.cfg.StaticOnly {
			f.ghosts = append(f.ghosts, ghostSlot{key: key, info: info, life: r.life[key]})
		}
		r.Indexes.Delete(key)
		delete(r.provisional, key)
		s.letGoOfSlot(key)
		delete(r.life, key)
		delete(r.request, key)
		delete(r.refused, key)
	}
	for id := range s.gone {
		delete(r.jobOf, id)
		delete(r.seen, id)
		delete(r.dupAck, id)
		delete(r.lastReq, id)
		delete(s.stepsOf, id)
		delete(s.keys, id)
		delete(s.lastStep, id)
	}
	r.allocs = live
	r.allocAt = make(map[flinklog.ID]int32, len(live))
	for n, id := range live[1:] {
		r.allocAt[id] = int32(n + 1)
	}
	clear(s.gone)
	clear(s.goneEvents)
	s.goneSteps = 0
	s.trimGhosts()
}

// trimGhosts lets go of the ghosts that no slot of unknown index was held
// beside: every such slot now held was created after they were freed, and
// so will every later one be.
func (s *ReplayStream) trimGhosts() {
	r, f := s.r, s.r.folded
	if len(f.ghosts) == 0 {
		return
	}
	born := r.stepNo() + 1
	for key, info := range r.Indexes.All() {
		if info.Index < 0 {
			born = min(born, r.life[key][0])
		}
	}
	slices.SortStableFunc(f.ghosts, func(a, b ghostSlot) int { return a.life[1] - b.life[1] })
	k := 0
	for k < len(f.ghosts) && f.ghosts[k].life[1] >= 0 && f.ghosts[k].life[1] <= born {
		k++
	}
	f.ghosts = slices.Delete(f.ghosts, 0, k)
}

// Finish ends the replay: the allocations dropped are let go, the
// inferences over the whole process run, and the replay is what a batch
// replay of the same events gives without the dropped allocations' steps.
func (s *ReplayStream) Finish() *Replay {
	r := s.r
	if s.rep != nil {
		s.finishReports(s.prev)
	} else {
		r.takeSnapshots(flinklog.Time{}, int(s.prev))
	}
	s.compact()
	// the ghosts stand beside the slots still held, for the only-index-left
	// inference
	for _, g := range r.folded.ghosts {
		r.Indexes.Set(g.key, g.info)
		r.life[g.key] = g.life
	}
	r.resolveFromReports()
	r.inferDynamicCounter()
	r.inferOnlyIndexLeft()
	r.compareReports()
	if s.rep != nil {
		s.compareRest()
	}
	for _, g := range r.folded.ghosts {
		r.Indexes.Delete(g.key)
		delete(r.life, g.key)
	}
	r.states, r.stateHi, r.first, r.last = nil, nil, nil, nil
	r.events = nil
	r.settle()
	return r
}

// Renumber gives the replay's events the refs to names: the refs of the
// read the fold keeps, once its events are numbered (steps and slot-report
// checks name events by ref).
func (r *Replay) Renumber(to func(parser.EventRef) parser.EventRef) {
	for s := range r.Steps {
		r.Steps[s].Event = to(r.Steps[s].Event)
	}
	for c := range r.checks {
		for k, a := range r.checks[c].After {
			if a >= 0 {
				r.checks[c].After[k] = to(a)
			}
		}
	}
}

// Without returns r without the steps drop names (a copy; r is unchanged).
func (r *Replay) Without(drop func(Step) bool) *Replay { return r.without(drop) }

// Settle is what Build does to a replay once it has run (settle): it lets
// go of the lookups the replay made as it went.
func (r *Replay) Settle() { r.settle() }
