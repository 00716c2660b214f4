package reconstruct

// This file holds the periods of occupancy of a TaskManager process's
// slot table: each stretch of time an AllocationID held a slot, as the
// HTML report draws it (a bar), walked from the replay's steps one at a
// time — after a batch replay, or as a fold's replay makes them.

import (
	"fmt"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// Why a period stops where it does.
const (
	PeriodFreed    = "freed"           // the table freed the slot
	PeriodEvidence = "end-of-evidence" // still held when the logs end
	PeriodRestart  = "restart"         // the process was replaced by a restart
	PeriodReplaced = "replaced"        // the legacy table allocated the index again over it
)

// Period is one stretch of time during which an AllocationID held a slot
// in one table. Times are aligned nanoseconds on the chart's clock.
type Period struct {
	Key        int // the replay's slot key
	Alloc, Job flinklog.ID
	Start, End int64
	// Active are the stretches in which the slot was ACTIVE.
	Active    [][2]int64
	Zombie    bool
	Prior     bool // held before the log begins
	EndReason string
	Index     IndexInfo
	// IndexSet: Index was given as a fold let the period go (its key
	// went with it); else it is the process's replay's, once it has ended
	IndexSet bool
	// Evidence are the lines that made it; Lines, those of a period a
	// fold let go (whose lines the model no longer holds).
	Evidence []parser.EventRef
	Lines    []FoldedEvent
	activeAt int64 // while walked: ACTIVE since (0: not active)
}

// PeriodMark is a table's refusal of an allocation, at a time, on the row
// of the slot key it was refused at.
type PeriodMark struct {
	Key   int
	At    int64
	Alloc flinklog.ID
	Says  string
}

// PeriodLine is what a step's line says that a period reads: its time on
// the chart's clock (Timed false: none, or on another clock), the job it
// prints, and whether it shows the slot ACTIVE.
type PeriodLine struct {
	T      int64
	Timed  bool
	Job    flinklog.ID
	Active bool
}

// PeriodWalk follows one process's replay steps under one table into
// periods.
type PeriodWalk struct {
	Sem Semantics
	// Start is the process's first line's time (0: untimed): a slot held
	// before the log began is held from it.
	Start   int64
	Periods []*Period
	Marks   []PeriodMark
	Untimed int // periods that could not be placed: their lines carry no time
	open    map[int]*Period
	// the table's AllocationID map: what MarkInactive goes through (a
	// zombie is not touched: the legacy table cannot reach it)
	mapped map[flinklog.ID]int
}

// NewPeriodWalk starts the walk of a process under sem whose first line
// is at start.
func NewPeriodWalk(sem Semantics, start int64) *PeriodWalk {
	return &PeriodWalk{Sem: sem, Start: start, open: map[int]*Period{}, mapped: map[flinklog.ID]int{}}
}

// Open reports whether the walk holds a period of key open.
func (w *PeriodWalk) Open(key int) bool { return w.open[key] != nil }

func (w *PeriodWalk) close(p *Period, t int64, why string) {
	p.End, p.EndReason = max(t, p.Start), why
	if p.activeAt != 0 {
		p.Active = append(p.Active, [2]int64{p.activeAt, p.End})
		p.activeAt = 0
	}
	delete(w.open, p.Key)
}

// Step takes the process's next step, about alloc, made by a line that
// says l.
func (w *PeriodWalk) Step(st Step, alloc flinklog.ID, l PeriodLine) {
	sem := w.Sem
	if st.Skipped[sem] {
		return
	}
	t, timed := l.T, l.Timed
	key := int(st.Slot[sem])
	switch st.Op {
	case OpPrior, OpAllocate:
		switch st.Outcomes[sem] {
		case Accepted, Overwritten:
		case Refused:
			if timed {
				w.Marks = append(w.Marks, PeriodMark{Key: key, At: t, Alloc: alloc,
					Says: fmt.Sprintf("the %s table refuses %s: it already holds another slot", sem, alloc)})
			}
			return
		default:
			if st.Op != OpPrior {
				return
			}
		}
		if !timed {
			w.Untimed++
			return
		}
		if st.Op == OpPrior {
			t = w.Start // held before the first line
		}
		if old := w.open[key]; old != nil {
			w.close(old, t, PeriodReplaced)
		}
		p := &Period{Key: key, Alloc: alloc, Job: l.Job, Start: t, Prior: st.Op == OpPrior, Evidence: []parser.EventRef{st.Event}}
		if st.Op == OpPrior && l.Active {
			p.activeAt = t
		}
		w.open[key] = p
		w.mapped[alloc] = key
		w.Periods = append(w.Periods, p)
	case OpActivate, OpSubmit:
		// a task submitted into a slot marks it active too
		if st.Outcomes[sem] != Accepted {
			return
		}
		if p := w.open[key]; p != nil && timed && p.activeAt == 0 {
			p.activeAt = max(t, p.Start)
			p.Evidence = append(p.Evidence, st.Event)
		}
	case OpInactive:
		for _, p := range w.open {
			if k, ok := w.mapped[p.Alloc]; ok && k == p.Key && p.Job == l.Job && p.activeAt != 0 && timed {
				p.Active = append(p.Active, [2]int64{p.activeAt, max(t, p.activeAt)})
				p.activeAt = 0
			}
		}
	case OpFree:
		if st.Outcomes[sem] != Accepted {
			return
		}
		delete(w.mapped, alloc)
		if p := w.open[key]; p != nil && timed {
			p.Evidence = append(p.Evidence, st.Event)
			w.close(p, t, PeriodFreed)
		}
	}
}

// End closes what is still held when the process ends, at stop, for why
// (PeriodEvidence: a slot zombie names is a zombie), in key order.
func (w *PeriodWalk) End(stop int64, why string, zombie map[int]bool) {
	keys := make([]int, 0, len(w.open))
	for k := range w.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := w.open[k]
		p.Zombie = zombie[k] && why == PeriodEvidence
		w.close(p, stop, why)
	}
}

// ZombieKeys are the keys of the slots the process's table under sem
// left as zombies.
func (r *Replay) ZombieKeys(sem Semantics) map[int]bool {
	zombie := map[int]bool{}
	for _, z := range r.Tables[sem].Zombies() {
		zombie[z.Index] = true
	}
	return zombie
}

// IndexOfKey is what the replay knows of slot key's index as a chart
// shows it: a key of a static slot is its index, unless a line printed
// another.
func (r *Replay) IndexOfKey(key int) IndexInfo {
	if key >= 0 {
		if info, ok := r.Indexes.Get(key); ok && info.Index >= 0 {
			return info
		}
		return IndexInfo{Index: key, Source: IndexObserved}
	}
	return r.Indexes.At(key)
}

// ChartBarsDrawn is the most periods a chart draws one by one: past it,
// the quiet ones (not a zombie, in no finding) are drawn in aggregate —
// and a fold keeps of each period it lets go only where it lies (Bar).
const ChartBarsDrawn = 400

// Chart is one TaskManager's periods of occupancy under one table, as a
// fold walked them while its replays ran (Model.Charts): the HTML report
// lays it out as it lays out the walks of a batch model's replays.
type Chart struct {
	Sem Semantics
	// Kind and From: the clock of the TaskManager's first timed line, and
	// its time (Kind TimeNone: no line is timed)
	Kind      flinklog.TimeKind
	From      int64
	Processes []ChartProcess
}

// ChartProcess is one process's part of a chart: its walk (its marks and
// untimed periods; its periods are Bars), where its log moved to another
// file, and its periods in the order the walk made them.
type ChartProcess struct {
	Walk *PeriodWalk
	// StartTimed: Walk.Start is its first line's time (else it has none
	// on the chart's clock)
	StartTimed bool
	Rotations  []ChartRotation
	Bars       []Bar
}

// ChartRotation is where a process's log continues in another input.
type ChartRotation struct {
	At   int64
	File int32
}

// Bar is a period of a chart: whole (Period), or, for one a fold let go
// on a chart of more than ChartBarsDrawn periods, only where it lies.
type Bar struct {
	Period     *Period
	Start, End int64
	Index      int32
	Dynamic    bool
}

// ChartSemantics are the tables a TaskManager's charts show: each one its
// processes ran, and for a legacy one the fixed table too (what it would
// have done with the same lines), in Semantics order.
func (tm *TaskManager) ChartSemantics() []Semantics {
	var sems []Semantics
	for _, p := range tm.Processes {
		if !slices.Contains(sems, p.Runs) {
			sems = append(sems, p.Runs)
		}
		if p.Runs == Legacy && !slices.Contains(sems, Fixed) {
			sems = append(sems, Fixed)
		}
	}
	slices.Sort(sems)
	return sems
}
