package reconstruct

import (
	"slices"
	"sort"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
)

// Unlogged is a TaskManager that the ResourceManager's or JobManager's
// lines name and whose log is not among the inputs: its slot table cannot
// be replayed.
type Unlogged struct {
	Resource string       // as the first line that names it spells it
	First    flinklog.Pos // the first line, in read order, that names it
	Events   int          // the ResourceManager and JobManager events that name it
	By       []string     // the components that name it ("jm", "rm"), sorted
}

// UnloggedTaskManagers returns the TaskManagers named without a log, by
// ResourceID: counted from the events, or as a fold counted them while
// the events went by (its model does not keep them).
func (m *Model) UnloggedTaskManagers() []Unlogged {
	if m.Folded > 0 || m.unlogged != nil {
		return m.unlogged
	}
	res := m.Result
	c := NewUnloggedCounter(m)
	// (the events of a JobManager's log name a few TaskManagers many
	// times over: the last one's answer is kept)
	lastResource, lastHave := "", true
	for i := range res.AllWhere(func(_ flinklog.Kind, c flinklog.Component) bool {
		return c == flinklog.ComponentRM || c == flinklog.ComponentJM
	}) {
		b := res.Head(i)
		if b.Resource == "" {
			continue
		}
		if b.Resource != lastResource {
			lastResource, lastHave = b.Resource, c.have[strings.ToLower(b.Resource)]
		}
		if lastHave {
			continue
		}
		c.Note(res.Event(i))
	}
	return c.List()
}

// UnloggedCounter counts the lines that name TaskManagers without a log,
// event by event (UnloggedTaskManagers; a fold counts with one as the
// events go by).
type UnloggedCounter struct {
	have  map[string]bool
	named map[string]*Unlogged
}

// NewUnloggedCounter is a counter for the inputs and TaskManagers of m (a
// fold's skeleton will do: the same inputs, the same TaskManagers).
func NewUnloggedCounter(m *Model) *UnloggedCounter {
	c := &UnloggedCounter{have: map[string]bool{}, named: map[string]*Unlogged{}}
	for _, in := range m.Result.Inputs {
		if in.ResourceID != "" {
			c.have[strings.ToLower(in.ResourceID)] = true
		}
	}
	for _, tm := range m.TaskManagers {
		c.have[strings.ToLower(tm.Resource)] = true
	}
	return c
}

// Note counts ev if it is a ResourceManager's or JobManager's line that
// names a TaskManager without a log. Events may come in any order.
func (c *UnloggedCounter) Note(ev *flinklog.Event) {
	if ev.Resource == "" || ev.Component != flinklog.ComponentRM && ev.Component != flinklog.ComponentJM || c.have[strings.ToLower(ev.Resource)] {
		return
	}
	u := c.named[ev.Resource]
	if u == nil {
		u = &Unlogged{Resource: ev.Resource, First: ev.Pos}
		c.named[ev.Resource] = u
	}
	if ev.Pos.Less(u.First) {
		u.First = ev.Pos
	}
	u.Events++
	if comp := string(ev.Component); !slices.Contains(u.By, comp) {
		u.By = append(u.By, comp)
		sort.Strings(u.By)
	}
}

// List returns what was counted, by ResourceID.
func (c *UnloggedCounter) List() []Unlogged {
	out := make([]Unlogged, 0, len(c.named))
	for _, u := range c.named {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return out
}
