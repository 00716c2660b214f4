package reconstruct

import (
	"fmt"

	"github.com/slotaudit/slotaudit/parser"
)

// IndexInfo says how a slot's index became known.
type IndexInfo struct {
	Index    int        // the real index, or -1 while unknown
	Observed parser.Pos // the line that printed it (zero when unknown)
}

// Step is one observed TaskManager event applied to both models.
type Step struct {
	Event   int       // index into the replayed events
	Op      string    // allocate, free, activate, submit, inactive, reset
	Alloc   parser.ID // the AllocationID the op is about
	Results [2]Result // [Legacy, Fixed]
	Slot    [2]int    // slot key touched in each model (negative: index not yet known)
	Skipped [2]bool   // the model would never have seen this step (it follows from a refused allocation)
}

// Divergence is a step whose outcome differs between the models.
type Divergence struct {
	Step   int // index into Replay.Steps
	Legacy Result
	Fixed  Result
	// What the fixed table would have done instead, in a sentence.
	FixedWould string
}

// Replay is one TaskManager process replayed under both models from the
// same observed events. Slot keys below zero are allocations whose index no
// line has printed yet; Indexes maps them to what later lines revealed.
type Replay struct {
	Tables      [2]*Table
	Steps       []Step
	Divergences []Divergence
	Indexes     map[int]IndexInfo // placeholder key → resolved index
	// Conflicts are lines that named another index for a slot whose index
	// an earlier line had already printed; the first one is kept.
	Conflicts []string

	next    int                     // next placeholder key (-1, -2, …)
	jobOf   map[parser.ID]parser.ID // AllocationID → JobID from its slot request
	refused map[int]bool            // legacy placeholders the fixed table refused to create
}

// ReplayTM replays the events of one TaskManager process (in log order)
// under both models. Events of other components are ignored.
func ReplayTM(events []parser.Event) *Replay {
	r := &Replay{
		Tables:  [2]*Table{NewTable(Legacy), NewTable(Fixed)},
		Indexes: map[int]IndexInfo{},
		next:    -1,
		jobOf:   map[parser.ID]parser.ID{}, refused: map[int]bool{},
	}
	for i := range events {
		ev := &events[i]
		if ev.Component != parser.ComponentTM && ev.Component != parser.ComponentUnknown {
			continue
		}
		r.apply(i, ev)
	}
	return r
}

func (r *Replay) apply(i int, ev *parser.Event) {
	switch ev.Kind {
	case parser.KindTMSlotRequest:
		r.jobOf[ev.Alloc] = ev.Job
	case parser.KindTMAllocated:
		key := r.next
		r.next--
		r.Indexes[key] = IndexInfo{Index: -1}
		job := r.jobOf[ev.Alloc]
		st := Step{Event: i, Op: "allocate", Alloc: ev.Alloc, Slot: [2]int{key, key}}
		for m, t := range r.Tables {
			st.Results[m] = t.Allocate(key, job, ev.Alloc)
		}
		if st.Results[Legacy] == Overwritten && st.Results[Fixed] == Refused {
			r.refused[key] = true
			prev, _ := r.Tables[Fixed].Lookup(ev.Alloc)
			st.Slot[Fixed] = prev
			r.diverge(st, fmt.Sprintf("refuse the request (SlotAllocationException to the ResourceManager): %s already holds a slot, which stays its only one", ev.Alloc))
		}
		r.Steps = append(r.Steps, st)
	case parser.KindTMAllocRefused, parser.KindTMAllocExists:
		// 1.10-1.12 "Allocation ID A is already allocated in TaskSlot(index:N …)"
		// and 1.13+ "Slot with allocationId A already exist, … index N" print
		// the index A really holds; the request itself changes nothing.
		if ev.Alloc.IsSet() && ev.SlotIndex >= 0 {
			if key, ok := r.Tables[Legacy].Lookup(ev.Alloc); ok {
				r.resolve(key, ev.SlotIndex, ev.Pos)
			}
		}
	case parser.KindTMFree, parser.KindTMFreeUnknown:
		st := Step{Event: i, Op: "free", Alloc: ev.Alloc}
		legacyKey, _ := r.Tables[Legacy].Lookup(ev.Alloc)
		for m, t := range r.Tables {
			if m == int(Fixed) && r.refused[legacyKey] {
				// The slot being freed is the one the fixed table never
				// created: this free (of a rejected offer) would not happen.
				st.Skipped[m] = true
				continue
			}
			st.Slot[m], st.Results[m] = t.Free(ev.Alloc)
		}
		if ev.Kind == parser.KindTMFree && ev.SlotIndex >= 0 && st.Results[Legacy] == Accepted {
			r.resolve(st.Slot[Legacy], ev.SlotIndex, ev.Pos)
		}
		r.Steps = append(r.Steps, st)
	case parser.KindTMActivate:
		st := Step{Event: i, Op: "activate", Alloc: ev.Alloc}
		for m, t := range r.Tables {
			st.Slot[m], st.Results[m] = t.MarkActive(ev.Alloc)
		}
		r.Steps = append(r.Steps, st)
	case parser.KindTMTaskReceived:
		if !ev.Alloc.IsSet() {
			return // ≤ 1.11 prints no AllocationID: nothing to look up
		}
		st := Step{Event: i, Op: "submit", Alloc: ev.Alloc}
		for m, t := range r.Tables {
			st.Slot[m], st.Results[m] = t.SubmitTask(r.jobOf[ev.Alloc], ev.Alloc)
		}
		r.Steps = append(r.Steps, st)
	case parser.KindTMJMClose:
		for _, t := range r.Tables {
			t.MarkInactive(ev.Job)
		}
		r.Steps = append(r.Steps, Step{Event: i, Op: "inactive"})
	}
}

// resolve records that placeholder key is index idx, as printed at pos.
func (r *Replay) resolve(key, idx int, pos parser.Pos) {
	if key >= 0 {
		return
	}
	info := r.Indexes[key]
	switch {
	case info.Index < 0:
		r.Indexes[key] = IndexInfo{Index: idx, Observed: pos}
	case info.Index != idx:
		r.Conflicts = append(r.Conflicts, fmt.Sprintf("line %d prints index %d for a slot that line %d printed as index %d", pos.Line, idx, info.Observed.Line, info.Index))
	}
}

func (r *Replay) diverge(st Step, fixedWould string) {
	r.Divergences = append(r.Divergences, Divergence{Step: len(r.Steps), Legacy: st.Results[Legacy], Fixed: st.Results[Fixed], FixedWould: fixedWould})
}

// IndexOf returns the real index of a slot key: itself when it is already an
// index, what a later line revealed for a placeholder, or -1.
func (r *Replay) IndexOf(key int) int {
	if key >= 0 {
		return key
	}
	if info, ok := r.Indexes[key]; ok {
		return info.Index
	}
	return -1
}
