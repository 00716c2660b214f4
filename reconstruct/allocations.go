package reconstruct

// This file holds allocations: each AllocationID's timeline across the
// components and the slots it held.

import (
	"cmp"
	"slices"
	"sort"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// collectAllocations gathers each AllocationID's events, in read order:
// it needs neither the skew nor the merged order, so it runs beside
// the steps that make them (Build); sortAllocations orders them after.
func (m *Model) collectAllocations() {
	res := m.Result
	// sized by the kind that names the most allocations: grown from
	// empty, a session cluster's map was rehashed over and again
	most := 0
	for _, k := range []flinklog.Kind{flinklog.KindRMSlotRequest, flinklog.KindTMSlotRequest, flinklog.KindJMSlotRequest, flinklog.KindTMAllocated} {
		most = max(most, res.CountOf(k))
	}
	byID := newAllocIndex(most)
	m.Allocations = make([]*Allocation, 0, most)
	// A job-state line whose cause quotes "No task slot allocated …" repeats
	// the failure of a task line above it: one row per failure is enough,
	// unless the job's line is the only one that shows it.
	// (made only when some task found no slot: a session cluster's job
	// state lines, one an allocation or more, filled it for nothing)
	var jobState map[flinklog.Pos]bool
	if res.CountOf(flinklog.KindTaskNoSlot) > 0 {
		jobState = map[flinklog.Pos]bool{}
		for i := range res.AllOf(flinklog.KindJMJobState) {
			jobState[res.Pos(i)] = true
		}
	}
	type inputAlloc struct {
		file  int32
		alloc flinklog.ID
	}
	noSlotShown := map[inputAlloc]bool{}
	// the allocations found last, by their IDs' low bits: an allocation's
	// events lie close together in a TaskManager's log, and a lookup in
	// an index of every allocation is a cache miss or two
	var recent [256]*Allocation
	add := func(id flinklog.ID, i parser.EventRef) *Allocation {
		slot := &recent[idLow(id)&255]
		a := *slot
		if a == nil || a.ID != id {
			a = byID.get(id)
			*slot = a
		}
		if a == nil {
			a = &Allocation{ID: id}
			byID.add(a)
			m.Allocations = append(m.Allocations, a)
			*slot = a
		}
		a.Events = append(a.Events, i)
		return a
	}
	// The slot request a TaskManager input is handling: a refusal line that
	// names only the occupant of the index ("The slot with index N is
	// already assigned to another allocation with id A'") belongs to it.
	handling := map[int32]flinklog.ID{}
	for i, pos := range res.AllAt() {
		// every event is looked at: read field by field, not written out
		ev := res.Head(i)
		if !ev.Alloc.IsSet() && !ev.Other.IsSet() {
			continue // nothing to add (a slot report, a repeat of one)
		}
		if ev.Kind == flinklog.KindTMSlotRequest {
			handling[pos.File] = ev.Alloc
		}
		if !ev.Alloc.IsSet() {
			if ev.Component == flinklog.ComponentTM && ev.Other.IsSet() && (ev.Kind == flinklog.KindTMAllocRefused || ev.Kind == flinklog.KindTMSlotOccupied) {
				if req := handling[pos.File]; req.IsSet() {
					add(req, i)
				}
				add(ev.Other, i) // the line shows the occupant's index
			}
			continue
		}
		if ev.Kind == flinklog.KindTaskNoSlot {
			k := inputAlloc{pos.File, ev.Alloc}
			if jobState[pos] && noSlotShown[k] {
				continue
			}
			noSlotShown[k] = true
		}
		add(ev.Alloc, i).Learn(ev.Kind, ev.Component, ev.Job, ev.Resource)
	}
	// rules and reports look allocations up by ID once per finding or
	// bar: a scan each time was quadratic in a session cluster's
	// allocations
	m.allocationOf = byID
}

// Learn takes what a line that names the allocation (as its own, not as
// another's occupant) says of its job and its TaskManager: the first job
// named, the TaskManager of its last TaskManager line, else the one the
// first deploy or ResourceManager allocation names. Lines are taken in
// the read's order (Build; a fold at its end).
func (a *Allocation) Learn(kind flinklog.Kind, comp flinklog.Component, job flinklog.ID, resource string) {
	if !a.Job.IsSet() && job.IsSet() {
		a.Job = job
	}
	if comp == flinklog.ComponentTM && resource != "" {
		a.Resource = resource
	} else if a.Resource == "" && resource != "" && (kind == flinklog.KindJMDeploy || kind == flinklog.KindRMAllocStart) {
		a.Resource = resource
	}
}

// sortAllocations puts each allocation's events, and the allocations, in
// the merged order (Rank).
func (m *Model) sortAllocations() {
	for _, a := range m.Allocations {
		// grown by appending, a story of 21 events kept room for 32
		if cap(a.Events)-len(a.Events) > len(a.Events)/4 {
			a.Events = slices.Clone(a.Events)
		}
		// (refs of equal rank are one event: any sort gives one order;
		// sort.Slice's reflection, once an allocation, cost more than
		// sorting)
		slices.SortFunc(a.Events, func(x, y parser.EventRef) int { return cmp.Compare(m.Rank[x], m.Rank[y]) })
	}
	sort.Slice(m.Allocations, func(i, j int) bool {
		return m.Rank[m.Allocations[i].Events[0]] < m.Rank[m.Allocations[j].Events[0]]
	})
}

// oneResource reports whether every status names the same TaskManager.
func oneResource(slots []flinklog.SlotStatus) bool {
	for _, st := range slots[1:] {
		if st.Resource != slots[0].Resource {
			return false
		}
	}
	return true
}

// Allocation returns the timeline of id, or nil.
func (m *Model) Allocation(id flinklog.ID) *Allocation {
	if m.allocationOf != nil {
		return m.allocationOf.get(id)
	}
	for _, a := range m.Allocations { // a model put together by hand
		if a.ID == id {
			return a
		}
	}
	return nil
}

// Without returns m without the allocations drop names, sharing the rest
// with m (the read, the processes and their replays): what a fold that
// dropped those stories keeps of the model (fold.Plan). An allocation
// dropped is not found by ID either.
func (m *Model) Without(drop func(*Allocation) bool) *Model {
	w := *m
	w.Allocations = make([]*Allocation, 0, len(m.Allocations))
	w.allocationOf = newAllocIndex(len(m.Allocations))
	for _, a := range m.Allocations {
		if !drop(a) {
			w.Allocations = append(w.Allocations, a)
			w.allocationOf.add(a)
		}
	}
	return &w
}

// collectHeld gives every allocation the slots it held, from the replay of
// the table each TaskManager process ran, oldest first.
func (m *Model) collectHeld() {
	for _, tm := range m.TaskManagers {
		for pi := range tm.Processes {
			held, ids := heldIn(tm, pi)
			for j, h := range held {
				if a := m.allocationOf.get(ids[j]); a != nil {
					a.Held = append(a.Held, h)
				}
			}
		}
	}
	for _, a := range m.Allocations {
		// (one slot, nearly always: sort.SliceStable's reflection cost
		// more than the rest of collectHeld)
		if len(a.Held) > 1 {
			slices.SortStableFunc(a.Held, func(x, y Held) int { return cmp.Compare(m.Rank[x.Allocated], m.Rank[y.Allocated]) })
		}
	}
}

// heldIn returns the slots process pi of tm held in the table it ran, in
// the order its replay created them, and the AllocationID of each.
func heldIn(tm *TaskManager, pi int) ([]Held, []flinklog.ID) {
	p := tm.Processes[pi]
	r, sem := p.Replay, p.Runs
	// held as values, and open by their place in it: a Held on the heap
	// for every allocation, only to be copied into Allocation.Held, was
	// the model's most garbage
	open := map[int]int{} // slot key → the slot while held, in held
	// counted first: grown by appending, a busy process's lists were
	// copied over and again (the model's most garbage)
	n := 0
	for _, st := range r.Steps {
		if st.Op == OpPrior || st.Op == OpAllocate {
			n++
		}
	}
	held := make([]Held, 0, n)
	ids := make([]flinklog.ID, 0, n)
	for _, st := range r.Steps {
		switch {
		case st.Op == OpPrior || st.Op == OpAllocate && !st.Skipped[sem] &&
			(st.Outcomes[sem] == Accepted || st.Outcomes[sem] == Overwritten):
			key := int(st.Slot[sem])
			open[key] = len(held)
			held = append(held, Held{Resource: tm.Resource, Process: p, Key: key, Allocated: st.Event, Prior: st.Op == OpPrior, Freed: -1, Index: r.Indexes.At(key), Replaced: -1})
			ids = append(ids, r.AllocOf(st))
		case st.Op == OpFree && !st.Skipped[sem] && st.Outcomes[sem] == Accepted:
			if k, ok := open[int(st.Slot[sem])]; ok {
				held[k].Freed = st.Event
				delete(open, int(st.Slot[sem]))
			}
		}
	}
	for _, z := range r.Tables[sem].Zombies() {
		if k, ok := open[z.Index]; ok {
			held[k].Zombie = true
		}
	}
	if pi+1 < len(tm.Processes) {
		for _, k := range open {
			held[k].Replaced = tm.Processes[pi+1].Events[0]
		}
	}
	return held, ids
}

// Reduced returns m without the allocations drop names, their events and
// replay steps in the TaskManager processes, and the processes' events of
// no allocation that lie outside every story left: the model a fold that
// dropped those stories at their close would hand the rules (fold.Lean).
// The read and the merged order are shared with m; what is left of each
// process is copied (m is unchanged).
func (m *Model) Reduced(drop func(*Allocation) bool) *Model {
	w := m.Without(drop)
	gone := map[flinklog.ID]bool{}
	for _, a := range m.Allocations {
		if drop(a) {
			gone[a.ID] = true
		}
	}
	res := m.Result
	moved := map[*Process]*Process{}
	w.TaskManagers = make([]*TaskManager, len(m.TaskManagers))
	for t, tm := range m.TaskManagers {
		ntm := &TaskManager{Resource: tm.Resource, Processes: make([]*Process, len(tm.Processes))}
		for k, p := range tm.Processes {
			np := *p
			np.Events = make([]parser.EventRef, 0, len(p.Events))
			// the events of no allocation inside a kept story's window
			// (from its first event in the process to its last) are what
			// the rules look between two of its events for; the first,
			// last and stopping lines say where the process ends
			window := map[flinklog.ID][2]int{}
			for k, i := range p.Events {
				if id := res.Head(i).Alloc; id.IsSet() && !gone[id] {
					w, ok := window[id]
					if !ok {
						w[0] = k
					}
					w[1] = k
					window[id] = w
				}
			}
			open := make([]int, len(p.Events)+1) // stories whose window opens (+) or closes (-) here
			for _, w := range window {
				open[w[0]]++
				open[w[1]+1]--
			}
			inside := 0
			for k, i := range p.Events {
				inside += open[k]
				id := res.Head(i).Alloc
				switch {
				case k == 0, k == len(p.Events)-1:
					// where the TaskManager's log begins and ends, whatever
					// story the line is of
					np.Events = append(np.Events, i)
				case id.IsSet() && gone[id]:
				case id.IsSet(), inside > 0 && WindowKinds[res.Kind(i)], res.Kind(i) == flinklog.KindTMStopping:
					np.Events = append(np.Events, i)
				}
			}
			// a step of no allocation (a JobManager's connection closed)
			// goes with its event
			kept := make(map[parser.EventRef]bool, len(np.Events))
			for _, i := range np.Events {
				kept[i] = true
			}
			np.Replay = p.Replay.without(func(st Step) bool {
				if st.alloc == 0 {
					return !kept[st.Event]
				}
				return gone[p.Replay.allocs[st.alloc]]
			})
			ntm.Processes[k] = &np
			moved[p] = &np
		}
		w.TaskManagers[t] = ntm
	}
	for k, a := range w.Allocations {
		if len(a.Held) == 0 {
			continue
		}
		na := *a
		na.Held = slices.Clone(a.Held)
		for j := range na.Held {
			na.Held[j].Process = moved[na.Held[j].Process]
		}
		w.Allocations[k] = &na
	}
	w.allocationOf = newAllocIndex(len(w.Allocations))
	for _, a := range w.Allocations {
		w.allocationOf.add(a)
	}
	return w
}

// WindowKinds are the kinds of a process's lines of no allocation that the
// rules look for between two lines of one story (rules' between): a fold
// keeps those inside a kept story's window, and no other.
var WindowKinds = map[flinklog.Kind]bool{
	flinklog.KindTMOffer: true, flinklog.KindTMOfferFailed: true, flinklog.KindTMJMRejected: true,
	flinklog.KindTMFreeInactive: true, flinklog.KindTMStopping: true,
}
