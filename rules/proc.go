package rules

import (
	"fmt"
	"strings"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// proc is one TaskManager process, judged by the table it ran.
type proc struct {
	m     *reconstruct.Model
	tm    *reconstruct.TaskManager
	p     *reconstruct.Process
	r     *reconstruct.Replay
	model reconstruct.Semantics
}

func processes(m *reconstruct.Model) []proc {
	var out []proc
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			out = append(out, proc{m: m, tm: tm, p: p, r: p.Replay, model: p.Runs})
		}
	}
	return out
}

func procFor(m *reconstruct.Model, p *reconstruct.Process) proc {
	for _, tm := range m.TaskManagers {
		for _, q := range tm.Processes {
			if q == p {
				return proc{m: m, tm: tm, p: p, r: p.Replay, model: p.Runs}
			}
		}
	}
	return proc{m: m, p: p, r: p.Replay, model: p.Runs}
}

// creates reports whether step st created a slot in the model's table.
func creates(st reconstruct.Step, model reconstruct.Semantics) bool {
	if st.Skipped[model] {
		return false
	}
	return st.Op == "prior" || st.Op == "allocate" && (st.Results[model] == reconstruct.Accepted || st.Results[model] == reconstruct.Overwritten)
}

// frees reports whether step st freed a slot in the model's table.
func frees(st reconstruct.Step, model reconstruct.Semantics) bool {
	return st.Op == "free" && !st.Skipped[model] && st.Results[model] == reconstruct.Accepted
}

// heldBefore returns the slot keys holding alloc in the model's table just
// before step si, oldest first.
func (pr proc) heldBefore(si int, alloc parser.ID, model reconstruct.Semantics) []int {
	var keys []int
	for _, st := range pr.r.Steps[:si] {
		if st.Alloc != alloc {
			continue
		}
		switch {
		case creates(st, model):
			keys = append(keys, st.Slot[model])
		case frees(st, model):
			for k, key := range keys {
				if key == st.Slot[model] {
					keys = append(keys[:k], keys[k+1:]...)
					break
				}
			}
		}
	}
	return keys
}

// createdAt returns the step that created slot key.
func (pr proc) createdAt(key int) int {
	for si, st := range pr.r.Steps {
		if (st.Op == "allocate" || st.Op == "prior") && (st.Slot[reconstruct.Legacy] == key || st.Slot[reconstruct.Fixed] == key) {
			return si
		}
	}
	return -1
}

// index says what index slot key has and how that is known.
func (pr proc) index(key int) (int, string) {
	if key >= 0 {
		return key, "printed"
	}
	info := pr.r.Indexes[key]
	if info.Index < 0 {
		return -1, "unknown: the TaskManager prints no index when it allocates, and no later free, refusal or slot report names this slot"
	}
	where := ""
	if info.Pos.Line > 0 {
		where = " at " + pr.m.Result.Files.Position(info.Pos)
	}
	return info.Index, fmt.Sprintf("%s from the %s%s", info.Source, info.How, where)
}

// slotName renders slot key for a sentence: "index 2" or "a slot whose index
// no line printed".
func (pr proc) slotName(key int) string {
	if idx, _ := pr.index(key); idx >= 0 {
		return fmt.Sprintf("index %d", idx)
	}
	return "a slot whose index no line printed"
}

// procEvents returns the process's events (indexes into Result.Events)
// between two events (exclusive), in log order.
func (pr proc) between(from, to int) []int {
	var out []int
	in := false
	for _, i := range pr.p.Events {
		if i == to {
			break
		}
		if in {
			out = append(out, i)
		}
		if i == from {
			in = true
		}
	}
	return out
}

// lastEvent is the last event of the process.
func (pr proc) lastEvent() int { return pr.p.Events[len(pr.p.Events)-1] }

// aligned is an event's time moved by its input's clock skew.
func aligned(m *reconstruct.Model, i int) parser.Time {
	ev := &m.Result.Events[i]
	if ev.Time.Kind == parser.TimeNone {
		return ev.Time
	}
	return parser.Time{Kind: ev.Time.Kind, N: ev.Time.N + m.Skew[ev.Pos.File].Offset}
}

// seconds between two times of the same kind; ok false when incomparable.
func seconds(a, b parser.Time) (float64, bool) {
	if a.Kind != b.Kind || a.Kind == parser.TimeNone {
		return 0, false
	}
	return float64(b.N-a.N) / 1e9, true
}

// fixedWould is what the replay says the fixed table would have done at
// step si, if that step diverged.
func (pr proc) fixedWould(si int) string {
	for _, d := range pr.r.Divergences {
		if d.Step == si {
			return d.FixedWould
		}
	}
	return ""
}

// runsNote says which table the process ran, for messages on fixed versions.
func (pr proc) runsNote() string {
	return strings.TrimSpace(pr.p.RunsWhy)
}
