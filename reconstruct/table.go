package reconstruct

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/slotaudit/slotaudit/flinklog"
)

// Semantics selects the slot-table behaviour a replay follows (the
// --model flag of `slotaudit slots`).
type Semantics uint8

// The two models of the design (catalogue §7).
const (
	// Legacy is Flink ≤ 1.9's TaskSlotTable: the AllocationID map is written
	// with a plain put, so a second allocation of the same AllocationID on
	// another index overwrites the map entry (FLINK-14589).
	Legacy Semantics = iota
	// Fixed is Flink ≥ 1.10's TaskSlotTableImpl: an AllocationID that already
	// holds a slot is refused on any other index.
	Fixed
)

func (m Semantics) String() string {
	if m == Legacy {
		return "legacy"
	}
	return "fixed"
}

// SlotState is a TaskSlot's state. A free slot is absent from the table.
type SlotState uint8

// Slot states as Flink names them.
const (
	Free SlotState = iota
	Allocated
	Active
	Releasing
)

func (s SlotState) String() string {
	return [...]string{"FREE", "ALLOCATED", "ACTIVE", "RELEASING"}[s]
}

// Slot is one index of a TaskManager's slot table.
type Slot struct {
	Index int
	State SlotState
	Alloc flinklog.ID
	Job   flinklog.ID
}

// Outcome says what one table operation did.
type Outcome uint8

// Operation results. The names say what a TaskManager log would show.
const (
	Accepted    Outcome = iota // the table changed as asked
	Idempotent                 // the request was already satisfied; nothing changed
	Overwritten                // legacy only: accepted, and the AllocationID map entry of another index was overwritten
	Refused                    // fixed: the AllocationID already holds another slot
	Occupied                   // the index holds another allocation
	Unknown                    // the AllocationID is not in the map (free is a no-op; activation or task submission fails)
)

func (r Outcome) String() string {
	return [...]string{"accepted", "idempotent", "overwritten", "refused", "occupied", "unknown"}[r]
}

// Table is one TaskManager's slot table: index → slot, and the AllocationID
// map that frees, activations and task submissions go through.
type Table struct {
	sem     Semantics
	slots   map[int]*Slot
	byAlloc map[flinklog.ID]int
	// gen counts the changes: a stream taking slot reports copies the
	// table at every line, and reuses the copy while it has not changed
	gen uint64
}

// NewTable returns an empty table following model.
func NewTable(sem Semantics) *Table {
	return &Table{sem: sem, slots: map[int]*Slot{}, byAlloc: map[flinklog.ID]int{}}
}

// Semantics returns the table's behaviour.
func (t *Table) Semantics() Semantics { return t.sem }

// Allocate replays allocate(index, job, alloc) as TaskExecutor.requestSlot
// and the table do it (catalogue §7.2): an index holding another allocation
// is occupied; an index already holding (job, alloc) is idempotent; an
// AllocationID already on another index overwrites the map (legacy) or is
// refused (fixed).
func (t *Table) Allocate(index int, job, alloc flinklog.ID) Outcome {
	if s, ok := t.slots[index]; ok && s.State != Free {
		if s.Alloc == alloc && s.Job == job {
			return Idempotent
		}
		return Occupied
	}
	if prev, ok := t.byAlloc[alloc]; ok && prev != index {
		if t.sem == Fixed {
			return Refused
		}
		t.slots[index] = &Slot{Index: index, State: Allocated, Alloc: alloc, Job: job}
		t.byAlloc[alloc] = index // the plain put: prev still holds alloc, unreachable
		t.gen++
		return Overwritten
	}
	t.slots[index] = &Slot{Index: index, State: Allocated, Alloc: alloc, Job: job}
	t.byAlloc[alloc] = index
	t.gen++
	return Accepted
}

// Free replays freeSlot(alloc): the slot the map points at becomes free; an
// AllocationID the map does not know is a no-op. It returns the index freed.
func (t *Table) Free(alloc flinklog.ID) (int, Outcome) {
	idx, ok := t.byAlloc[alloc]
	if !ok {
		return -1, Unknown
	}
	delete(t.byAlloc, alloc)
	delete(t.slots, idx)
	t.gen++
	return idx, Accepted
}

// MarkActive replays markSlotActive(alloc) (offer accepted) through the map.
func (t *Table) MarkActive(alloc flinklog.ID) (int, Outcome) {
	idx, ok := t.byAlloc[alloc]
	if !ok {
		return -1, Unknown
	}
	s := t.slots[idx]
	if s.State == Active {
		return idx, Idempotent
	}
	s.State = Active
	t.gen++
	return idx, Accepted
}

// SubmitTask replays tryMarkSlotActive(job, alloc) on task submission: the
// map must lead to a slot of that job, else "No task slot allocated for job
// ID … and allocation ID …".
func (t *Table) SubmitTask(job, alloc flinklog.ID) (int, Outcome) {
	idx, ok := t.byAlloc[alloc]
	if !ok || (job.IsSet() && t.slots[idx].Job != job) {
		return -1, Unknown
	}
	t.slots[idx].State = Active
	t.gen++
	return idx, Accepted
}

// MarkInactive replays the JobManager connection loss: active slots of the
// job fall back to ALLOCATED (through the map, so a zombie is not touched).
func (t *Table) MarkInactive(job flinklog.ID) {
	for a, idx := range t.byAlloc {
		if s := t.slots[idx]; s.Job == job && s.State == Active && s.Alloc == a {
			s.State = Allocated
			t.gen++
		}
	}
}

// Slots returns the occupied slots in index order.
func (t *Table) Slots() []Slot {
	out := make([]Slot, 0, len(t.slots))
	for _, s := range t.slots {
		out = append(out, *s)
	}
	// (taken at every slot report of a DEBUG log: sort.Slice's reflection
	// was a third of it)
	slices.SortFunc(out, func(a, b Slot) int { return cmp.Compare(a.Index, b.Index) })
	return out
}

// Lookup returns the index the AllocationID map holds for alloc.
func (t *Table) Lookup(alloc flinklog.ID) (int, bool) {
	idx, ok := t.byAlloc[alloc]
	return idx, ok
}

// Zombies returns the slots that hold an AllocationID the map no longer
// leads to: they can never be freed, activated or used by a task.
func (t *Table) Zombies() []Slot {
	var out []Slot
	for _, s := range t.Slots() {
		if idx, ok := t.byAlloc[s.Alloc]; !ok || idx != s.Index {
			out = append(out, s)
		}
	}
	return out
}

// String renders the table for tests and debugging: "0:ACTIVE(A…) 2:ALLOCATED(A…) map{A…:0}".
func (t *Table) String() string {
	s := ""
	for _, sl := range t.Slots() {
		s += fmt.Sprintf("%d:%s(%.8s) ", sl.Index, sl.State, sl.Alloc)
	}
	keys := make([]string, 0, len(t.byAlloc))
	for a, i := range t.byAlloc {
		keys = append(keys, fmt.Sprintf("%.8s:%d", a, i))
	}
	sort.Strings(keys)
	return s + fmt.Sprint("map", keys)
}
