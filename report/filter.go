package report

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// Filter narrows what a command shows: findings, allocations and events in
// a time window, of a job, a TaskManager or an AllocationID, of chosen
// rules. Everything is computed on all the evidence first and filtered
// afterwards, so a filter never creates a finding nor hides a cause.
type Filter struct {
	Since, Until Bound
	Job          flinklog.ID
	Alloc        flinklog.ID
	TaskManager  string          // a ResourceID, compared without case
	Only         map[string]bool // rules to keep (empty: all)
	Disable      map[string]bool // rules to drop
}

// Bound is one end of a time window as given on the command line: a time
// in one of the forms events print, or a duration counted back from the
// last time in the logs (logs are read after the fact: "2h" means the last
// two hours of the incident, not of the clock).
type Bound struct {
	Arg  string        // as given ("" for no bound)
	At   flinklog.Time // an absolute or time-of-day bound
	Back time.Duration // a bound counted back from the logs' end (At unset)
}

// ParseBound reads a --since/--until value: 2019-10-30T11:03:11.570 (and
// the other forms of parser.ParseTimeArg), or a duration such as 2h, 90m,
// 1d or 1h30m counted back from the last time in the logs.
func ParseBound(flag, s string) (Bound, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Bound{}, nil
	}
	if d, ok := parseBack(s); ok {
		return Bound{Arg: s, Back: d}, nil
	}
	t, err := parser.ParseTimeArg(s)
	if err != nil {
		return Bound{}, fmt.Errorf("%s %q: want a time as events print it (2006-01-02T15:04:05.000, 15:04:05, +12.345s since JVM start) or a duration back from the logs' end (2h, 90m, 1d)", flag, s)
	}
	return Bound{Arg: s, At: t}, nil
}

// parseBack reads a positive duration with an optional day unit ("1d12h").
func parseBack(s string) (time.Duration, bool) {
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, false
	}
	days := time.Duration(0)
	if i := strings.Index(s, "d"); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 3650 {
			return 0, false
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, days > 0
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false
	}
	return days + d, days+d > 0
}

// Active reports whether the filter narrows anything.
func (f *Filter) Active() bool {
	return f != nil && (f.Since.Arg != "" || f.Until.Arg != "" || f.Job.IsSet() || f.Alloc.IsSet() ||
		f.TaskManager != "" || len(f.Only) > 0 || len(f.Disable) > 0)
}

// String says what the filter keeps, in the flags' words.
func (f *Filter) String() string {
	if !f.Active() {
		return ""
	}
	var parts []string
	add := func(flag, v string) {
		if v != "" {
			parts = append(parts, flag+" "+v)
		}
	}
	add("--since", f.Since.Arg)
	add("--until", f.Until.Arg)
	if f.Job.IsSet() {
		add("--job", f.Job.String())
	}
	if f.Alloc.IsSet() {
		add("--alloc", f.Alloc.String())
	}
	add("--taskmanager", f.TaskManager)
	add("--only", strings.Join(slices.Sorted(maps.Keys(f.Only)), ","))
	add("--disable", strings.Join(slices.Sorted(maps.Keys(f.Disable)), ","))
	return strings.Join(parts, " ")
}

// window is a Filter's time window resolved against one model: bounds in
// the kinds of time its events carry.
type window struct {
	since, until []flinklog.Time // one per time kind the bound can be compared with
	hasSince     bool
	hasUntil     bool
}

// resolve turns the bounds into comparable times: a duration counts back
// from the latest time of each kind in the logs; a time of day is placed
// on the logs' first day (and the days after, "+1d") for dated logs.
func (f *Filter) resolve(res *parser.Result) window {
	bounds := res.TimeBounds()
	return f.windowIn(&bounds)
}

// windowIn is resolve in logs whose times span bounds.
func (f *Filter) windowIn(bounds *parser.TimeBounds) window {
	var w window
	firstDay := int64(-1)
	if first, ok := bounds.FirstDated(); ok {
		firstDay = first.N - first.N%int64(24*time.Hour)
	}
	place := func(b Bound) []flinklog.Time {
		if b.Arg == "" {
			return nil
		}
		if b.Back > 0 {
			var out []flinklog.Time
			for _, k := range []flinklog.TimeKind{flinklog.TimeLocal, flinklog.TimeUTC, flinklog.TimeOfDay, flinklog.TimeRelative} {
				if n, ok := bounds.Latest(k); ok {
					out = append(out, flinklog.Time{Kind: k, N: n - int64(b.Back)})
				}
			}
			return out
		}
		out := []flinklog.Time{b.At}
		switch b.At.Kind {
		case flinklog.TimeLocal:
			out = append(out, flinklog.Time{Kind: flinklog.TimeUTC, N: b.At.N})
		case flinklog.TimeUTC:
			out = append(out, flinklog.Time{Kind: flinklog.TimeLocal, N: b.At.N})
		case flinklog.TimeOfDay:
			if firstDay >= 0 {
				out = append(out, flinklog.Time{Kind: flinklog.TimeLocal, N: firstDay + b.At.N}, flinklog.Time{Kind: flinklog.TimeUTC, N: firstDay + b.At.N})
			}
		}
		return out
	}
	w.since, w.until = place(f.Since), place(f.Until)
	w.hasSince, w.hasUntil = f.Since.Arg != "", f.Until.Arg != ""
	return w
}

// contains reports whether t is in the window; decided is false when t
// cannot be compared with a bound (another kind of time): such a time is
// kept, and the caller says so.
func (w window) contains(t flinklog.Time) (in, decided bool) {
	if !w.hasSince && !w.hasUntil {
		return true, true
	}
	cmp := func(bounds []flinklog.Time) (flinklog.Time, bool) {
		for _, b := range bounds {
			if b.Kind == t.Kind {
				return b, true
			}
		}
		return flinklog.Time{}, false
	}
	if w.hasSince {
		b, ok := cmp(w.since)
		if !ok {
			return true, false
		}
		if t.N < b.N {
			return false, true
		}
	}
	if w.hasUntil {
		b, ok := cmp(w.until)
		if !ok {
			return true, false
		}
		if t.N > b.N {
			return false, true
		}
	}
	return true, true
}

// OnFirstDay puts a time given on the command line in the terms of dated
// logs: a time of day on the logs' first day (its "+Nd" days after), so
// 14:00:12 means that time of the incident's first day; an instant (…Z)
// against logs that print local wall-clock time, or a local time against
// logs that print instants, as the same reading. ok is false when nothing
// needed changing or the logs carry no dates.
func OnFirstDay(res *parser.Result, t flinklog.Time) (flinklog.Time, bool) {
	bounds := res.TimeBounds()
	return OnFirstDayIn(&bounds, t)
}

// OnFirstDayIn is OnFirstDay in logs whose times span bounds.
func OnFirstDayIn(bounds *parser.TimeBounds, t flinklog.Time) (flinklog.Time, bool) {
	firstDated, ok := bounds.FirstDated()
	if !ok {
		return t, false
	}
	first, kind := firstDated.N, firstDated.Kind
	switch t.Kind {
	case flinklog.TimeOfDay:
		first -= first % int64(24*time.Hour)
		return flinklog.Time{Kind: kind, N: first + t.N}, true
	case flinklog.TimeLocal, flinklog.TimeUTC:
		if t.Kind != kind {
			return flinklog.Time{Kind: kind, N: t.N}, true
		}
	}
	return t, false
}

// Narrowed is what a filter kept of a model's findings, allocations and
// events, and what it could not decide.
type Narrowed struct {
	Findings    []rules.Finding
	Hidden      int // findings the filter dropped
	Undecidable int // findings kept because their time cannot be compared with the window
}

// Findings keeps the findings that pass the filter.
func (f *Filter) Findings(m *reconstruct.Model, all []rules.Finding) Narrowed {
	if !f.Active() {
		return Narrowed{Findings: all}
	}
	w := f.resolve(m.Result)
	var n Narrowed
	for _, fd := range all {
		if len(f.Only) > 0 && !f.Only[fd.Rule] || f.Disable[fd.Rule] ||
			f.Job.IsSet() && fd.Job != f.Job ||
			f.Alloc.IsSet() && fd.Alloc != f.Alloc ||
			f.TaskManager != "" && !strings.EqualFold(fd.Resource, f.TaskManager) {
			n.Hidden++
			continue
		}
		in, decided := w.contains(fd.Time)
		if !decided {
			n.Undecidable++
		}
		if !in {
			n.Hidden++
			continue
		}
		n.Findings = append(n.Findings, fd)
	}
	return n
}

// keepAllocation reports whether an allocation passes the filter: of the job,
// held on (or named with) the TaskManager, with an event in the window.
// An allocation whose times cannot be compared with the window is kept.
func (f *Filter) keepAllocation(m *reconstruct.Model, a *reconstruct.Allocation, w window) bool {
	if !f.Active() {
		return true
	}
	if f.Alloc.IsSet() && a.ID != f.Alloc || f.Job.IsSet() && a.Job != f.Job {
		return false
	}
	if f.TaskManager != "" {
		on := strings.EqualFold(a.Resource, f.TaskManager)
		for _, h := range a.Held {
			on = on || strings.EqualFold(h.Resource, f.TaskManager)
		}
		if !on {
			return false
		}
	}
	if !w.hasSince && !w.hasUntil {
		return true
	}
	for _, i := range a.Events {
		if in, _ := w.contains(m.Result.Time(i)); in {
			return true
		}
	}
	return false
}

// Allocations keeps the allocations that pass the filter.
func (f *Filter) Allocations(m *reconstruct.Model, all []*reconstruct.Allocation) []*reconstruct.Allocation {
	if !f.Active() {
		return all
	}
	w := f.resolve(m.Result)
	var out []*reconstruct.Allocation
	for _, a := range all {
		if f.keepAllocation(m, a, w) {
			out = append(out, a)
		}
	}
	return out
}

// EventFilter returns a test for single events: in the window, of the job,
// the AllocationID (as the allocation or the other one it names) and the
// TaskManager. An event that prints no job (or no ResourceID) is kept only
// when the filter does not ask for one.
func (f *Filter) EventFilter(res *parser.Result) func(ev *flinklog.Event) bool {
	if !f.Active() {
		return nil
	}
	bounds := res.TimeBounds()
	return f.EventFilterIn(&bounds)
}

// EventFilterIn is EventFilter in logs whose times span bounds (nil: the
// time window is not looked at).
func (f *Filter) EventFilterIn(bounds *parser.TimeBounds) func(ev *flinklog.Event) bool {
	var w window
	if bounds != nil {
		w = f.windowIn(bounds)
	}
	return func(ev *flinklog.Event) bool {
		if f.Alloc.IsSet() && ev.Alloc != f.Alloc && ev.Other != f.Alloc ||
			f.Job.IsSet() && ev.Job != f.Job ||
			f.TaskManager != "" && !strings.EqualFold(ev.Resource, f.TaskManager) {
			return false
		}
		in, _ := w.contains(ev.Time)
		return in
	}
}

// TaskManagers lists the ResourceIDs a model knows, sorted: for an error
// that says which exist when a --taskmanager matches none.
func TaskManagers(m *reconstruct.Model) []string {
	seen := map[string]bool{}
	for _, tm := range m.TaskManagers {
		seen[tm.Resource] = true
	}
	for _, a := range m.Allocations {
		if a.Resource != "" {
			seen[a.Resource] = true
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// NarrowsAllocations reports whether the filter names allocations by
// something their own lines carry (--alloc, --job, --taskmanager): a model
// that keeps only some stories (a fold's) can keep those it names
// (Pins) and show them as the model of every story does.
func (f *Filter) NarrowsAllocations() bool {
	return f != nil && (f.Alloc.IsSet() || f.Job.IsSet() || f.TaskManager != "")
}

// Pins reports whether a line of allocation id's story may put the
// allocation among those the filter keeps (keepAllocation): the
// AllocationID itself; else a line that prints the job; else one of the
// TaskManager. It asks for more than the filter keeps (any line of the
// job, not the first the allocation learns its job from; --since and
// --until are left to the model), never less: what it pins, the
// filter then narrows.
func (f *Filter) Pins(id flinklog.ID, ev *flinklog.Event) bool {
	switch {
	case f.Alloc.IsSet():
		return id == f.Alloc
	case f.Job.IsSet():
		return ev.Job == f.Job
	case f.TaskManager != "":
		return strings.EqualFold(ev.Resource, f.TaskManager)
	}
	return false
}

// SlotsTaskManagers are the TaskManagers whose slot tables a filter
// keeps: the one it names, or those that held a slot of the allocation
// or the job it names (any, without a filter), in the model's order.
func SlotsTaskManagers(m *reconstruct.Model, f *Filter) []*reconstruct.TaskManager {
	holders := map[string]bool{}
	if f.Job.IsSet() || f.Alloc.IsSet() {
		for _, a := range m.Allocations {
			if f.Alloc.IsSet() && a.ID != f.Alloc || f.Job.IsSet() && a.Job != f.Job {
				continue
			}
			for _, h := range a.Held {
				holders[h.Resource] = true
			}
		}
	}
	var out []*reconstruct.TaskManager
	for _, t := range m.TaskManagers {
		if f.TaskManager != "" && !strings.EqualFold(t.Resource, f.TaskManager) ||
			(f.Job.IsSet() || f.Alloc.IsSet()) && !holders[t.Resource] {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Windowed reports whether the filter has a time window (--since,
// --until).
func (f *Filter) Windowed() bool { return f != nil && (f.Since.Arg != "" || f.Until.Arg != "") }

// Outside returns a test of whether an allocation whose lines carry times
// cannot pass the filter's time window (keepAllocation: a line in it) in
// logs whose times span sofar so far (final: the logs' whole span),
// whatever lines come after: more lines only move a window counted back
// from the logs' end later (--since 2h leaves out more, --until 2h keeps
// more), so a line before --since now stays out, and one after an --until
// counted back may yet come in until the span is final. The IDs the
// filter names are Pins'; a fold lets a story go only once the test says
// so.
func (f *Filter) Outside(sofar *parser.TimeBounds, final bool) func(times []flinklog.Time) bool {
	if !f.Windowed() {
		return func([]flinklog.Time) bool { return false }
	}
	w := f.windowIn(sofar)
	if f.Until.Back > 0 && !final {
		w.hasUntil = false
	}
	return func(times []flinklog.Time) bool {
		for _, t := range times {
			if in, _ := w.contains(t); in {
				return false
			}
		}
		return true
	}
}
