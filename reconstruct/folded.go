package reconstruct

// This file holds the timelines of the allocations a fold let go: an
// output that lists every allocation (a timeline of all of them) reads
// them beside the model's, which holds only the stories kept.

import (
	"github.com/slotaudit/slotaudit/flinklog"
)

// FoldedAllocation is the timeline of an allocation whose story a fold
// closed healthy and let go, made as it was let go: what NewAllocationJSON
// reads of an Allocation and the events it names, for one the model no
// longer holds.
type FoldedAllocation struct {
	ID, Job  flinklog.ID
	Resource string // as Allocation.Learn learns it
	// Events are its lines in the merged order.
	Events []FoldedEvent
	// Held are the slots it occupied, oldest first (Allocation.Held); a
	// story let go was never held before its log began, left as a
	// zombie or dropped by a restart.
	Held []FoldedHeld
}

// FoldedEvent is one line of a folded allocation's timeline.
type FoldedEvent struct {
	Rank      int32 // its place in the merged order (Model.Rank)
	Pos       flinklog.Pos
	Time      flinklog.Time
	Component flinklog.Component
	Kind      flinklog.Kind
	SlotIndex int
	// Own: the line names it as its allocation, not as the occupant of
	// an index another's request was refused (Event.Other)
	Own bool
	// Text is the line's text, or, where the read let it go (TextAway),
	// empty: the output reads it back by position (parser.Result.TextAt)
	// and checks it against TextSum.
	Text     string
	TextSum  uint32
	TextAway bool
}

// FoldedHeld is one slot a folded allocation occupied (Held).
type FoldedHeld struct {
	Resource  string
	Index     IndexInfo
	Allocated flinklog.Pos
	Freed     flinklog.Pos // Line 0: held at the end (never, for a story let go)
}

// FoldedTimelines are the timelines of the allocations a fold let go
// (Model.FoldedTimelines).
type FoldedTimelines interface {
	// Len is how many there are.
	Len() int
	// Each yields them in the order of their first line's rank (the order
	// of Model.Allocations), each valid until the next.
	Each(yield func(*FoldedAllocation) error) error
	// Close lets go of what holds them (a file).
	Close() error
}

// DynamicCounter reports whether the end of the replay gave the slots of
// unknown index their index by the dynamic index counter (Slots + the
// slot request's ordinal), and the line that witnessed the counter: what a
// slot let go with its index unknown is given at the end.
func (r *Replay) DynamicCounter() (witness flinklog.Pos, applied bool) {
	return r.counterWitness, r.counterApplied
}

// IndexOf is what the replay knows so far of slot key's index.
func (s *ReplayStream) IndexOf(key int) IndexInfo { return s.r.Indexes.At(key) }

// CounterOrdinal is the ordinal of the slot request that created slot key
// in a table whose unknown indexes the dynamic counter may settle at the
// end (Replay.DynamicCounter), and whether there is one.
func (s *ReplayStream) CounterOrdinal(key int) (int, bool) {
	cfg := s.r.cfg
	if !cfg.DynamicCounter || !cfg.FromStart || cfg.Slots <= 0 {
		return 0, false
	}
	ord, ok := s.r.request[key]
	return ord, ok
}

// Slots is the number of static slots of the process's configuration.
func (s *ReplayStream) Slots() int { return s.r.cfg.Slots }

// IndexOfKey is Replay.IndexOfKey of what the replay knows so far.
func (s *ReplayStream) IndexOfKey(key int) IndexInfo { return s.r.IndexOfKey(key) }

// IndexRestsOn reports whether what the replay knows of the index of a
// slot it still holds rests on the line at pos (IndexInfo.Pos): a line of
// a story let go can be another slot's evidence (a static slot's index,
// printed last by the free of the allocation before; a legacy free that
// the overwritten map led to that slot).
func (s *ReplayStream) IndexRestsOn(pos flinklog.Pos) bool {
	for _, info := range s.r.Indexes.All() {
		if info.Pos == pos {
			return true
		}
	}
	return false
}

// IndexLines calls yield with every line what the replay knows of the
// indexes of the slots it still holds rests on.
func (s *ReplayStream) IndexLines(yield func(pos flinklog.Pos)) {
	for _, info := range s.r.Indexes.All() {
		if info.Pos.Line > 0 {
			yield(info.Pos)
		}
	}
}
