package parser

import "github.com/slotaudit/slotaudit/flinklog"

// TimeBounds is what the times of a read's events span: the latest time of
// each kind, and the earliest time that carries a date (local or UTC). A
// filter's window is placed by them (--since 2h counts back from the
// latest; a time of day falls on the logs' first day), so a model that
// holds only part of the events — a fold's — places it as the read of
// every event does when it carries the bounds of them all
// (Result.SetTimeBounds).
type TimeBounds struct {
	latest [flinklog.TimeRelative + 1]int64
	has    [flinklog.TimeRelative + 1]bool
	first  flinklog.Time
}

// Note takes one event's time.
func (b *TimeBounds) Note(t flinklog.Time) {
	if t.Kind == flinklog.TimeNone || t.Kind > flinklog.TimeRelative {
		return
	}
	if !b.has[t.Kind] || t.N > b.latest[t.Kind] {
		b.latest[t.Kind], b.has[t.Kind] = t.N, true
	}
	if t.Kind == flinklog.TimeLocal || t.Kind == flinklog.TimeUTC {
		// (the earlier kind on a tie: the same answer in any order of
		// the events)
		if b.first.IsZero() || t.N < b.first.N || t.N == b.first.N && t.Kind < b.first.Kind {
			b.first = t
		}
	}
}

// Latest returns the latest time of kind k, ok=false when no event has
// one.
func (b *TimeBounds) Latest(k flinklog.TimeKind) (n int64, ok bool) {
	if k > flinklog.TimeRelative {
		return 0, false
	}
	return b.latest[k], b.has[k]
}

// FirstDated returns the earliest local or UTC time, ok=false when no
// event carries a date.
func (b *TimeBounds) FirstDated() (t flinklog.Time, ok bool) { return b.first, !b.first.IsZero() }

// TimeBounds returns the bounds of the read's events: those set by
// SetTimeBounds, else those of the events it holds.
func (r *Result) TimeBounds() TimeBounds {
	if r.bounds != nil {
		return *r.bounds
	}
	var b TimeBounds
	for i := range EventRef(r.Len()) {
		b.Note(r.Time(i))
	}
	return b
}

// SetTimeBounds makes b the bounds TimeBounds returns: a fold's model holds
// the events of the stories it kept, and carries the bounds of every event
// it read.
func (r *Result) SetTimeBounds(b TimeBounds) { r.bounds = &b }
