package reconstruct

import (
	"sort"

	"github.com/slotaudit/slotaudit/parser"
)

// Model is everything reconstructed from one read: per-TaskManager replays
// and per-AllocationID timelines. Event indexes refer to Result.Events.
type Model struct {
	Result       *parser.Result
	TaskManagers []*TaskManager
	Allocations  []*Allocation
	// Skew is the clock offset (nanoseconds) added to an input's times
	// when ordering it against other inputs, with the pair that forced it.
	Skew map[int32]Skew
}

// Skew is an estimated clock offset of one input against the
// ResourceManager's: the smallest shift that puts every TaskManager receipt
// of a slot request after the ResourceManager's request of it.
type Skew struct {
	Offset   int64
	Because  int // the TM event (index into Result.Events) that was early
	Relative int // the RM event it had to follow
}

// TaskManager is one TaskManager (by ResourceID) and its processes: a
// restart (a new banner in the same input) starts a new, empty slot table.
type TaskManager struct {
	Resource  string
	Processes []*Process
}

// Process is one TaskManager JVM's events and their replay.
type Process struct {
	Input  int32 // the input (Files index) its events come from
	Events []int // indexes into Result.Events, in log order
	Replay *Replay
}

// Allocation is one AllocationID's timeline across TaskManager,
// ResourceManager and JobManager.
type Allocation struct {
	ID       parser.ID
	Job      parser.ID
	Resource string // the TaskManager that held it, when known
	Events   []int  // indexes into Result.Events, ordered (see Build)
}

// Build reconstructs the model from a read.
func Build(res *parser.Result) *Model {
	m := &Model{Result: res, Skew: map[int32]Skew{}}
	m.buildTaskManagers()
	m.estimateSkew()
	m.buildAllocations()
	return m
}

func (m *Model) buildTaskManagers() {
	evs := m.Result.Events
	byRes := map[string]*TaskManager{}
	var cur *Process
	for i := range evs {
		ev := &evs[i]
		if ev.Component != parser.ComponentTM {
			continue
		}
		// A banner starts a new process; so does a new input.
		restart := ev.Kind == parser.KindMetaVersion
		if cur == nil || cur.Input != ev.Pos.File || restart {
			res := ev.Resource
			if res == "" {
				res = "?" + m.Result.Files[ev.Pos.File].Name()
			}
			tm := byRes[res]
			if tm == nil {
				tm = &TaskManager{Resource: res}
				byRes[res] = tm
				m.TaskManagers = append(m.TaskManagers, tm)
			}
			cur = &Process{Input: ev.Pos.File}
			tm.Processes = append(tm.Processes, cur)
		}
		cur.Events = append(cur.Events, i)
	}
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			sub := make([]parser.Event, len(p.Events))
			for k, i := range p.Events {
				sub[k] = evs[i]
			}
			p.Replay = ReplayTM(sub)
			// Replay steps index the process's events; map them back.
			for s := range p.Replay.Steps {
				p.Replay.Steps[s].Event = p.Events[p.Replay.Steps[s].Event]
			}
		}
	}
	sort.Slice(m.TaskManagers, func(i, j int) bool { return m.TaskManagers[i].Resource < m.TaskManagers[j].Resource })
}

// protocolRank orders events of one allocation that carry equal or
// incomparable times by the protocol: the JM asks, the RM forwards, the TM
// receives and allocates, offers, activates, tasks are deployed, the slot is
// released and freed.
var protocolRank = map[parser.Kind]int{
	parser.KindJMSlotRequest: 0, parser.KindRMSlotRequest: 1, parser.KindRMAllocStart: 2,
	parser.KindTMSlotRequest: 3, parser.KindTMAllocated: 4, parser.KindTMAllocRefused: 4, parser.KindTMAllocExists: 4,
	parser.KindRMAllocFailed: 5, parser.KindJMFulfilled: 6, parser.KindJMOfferMatched: 6, parser.KindTMActivate: 7,
	parser.KindJMDeploy: 8, parser.KindTMTaskReceived: 9, parser.KindTaskNoSlot: 10, parser.KindJMRelease: 11,
	parser.KindTMFreeReason: 12, parser.KindTMFree: 13, parser.KindTMFreeUnknown: 13, parser.KindRMFree: 14,
}

func (m *Model) buildAllocations() {
	evs := m.Result.Events
	byID := map[parser.ID]*Allocation{}
	for i := range evs {
		ev := &evs[i]
		if !ev.Alloc.IsSet() {
			continue
		}
		a := byID[ev.Alloc]
		if a == nil {
			a = &Allocation{ID: ev.Alloc}
			byID[ev.Alloc] = a
			m.Allocations = append(m.Allocations, a)
		}
		a.Events = append(a.Events, i)
		if !a.Job.IsSet() && ev.Job.IsSet() {
			a.Job = ev.Job
		}
		if ev.Component == parser.ComponentTM && ev.Resource != "" {
			a.Resource = ev.Resource
		} else if a.Resource == "" && ev.Resource != "" && (ev.Kind == parser.KindJMDeploy || ev.Kind == parser.KindRMAllocStart) {
			a.Resource = ev.Resource
		}
	}
	for _, a := range m.Allocations {
		sort.SliceStable(a.Events, func(x, y int) bool { return m.before(a.Events[x], a.Events[y]) })
	}
	sort.Slice(m.Allocations, func(i, j int) bool {
		return m.before(m.Allocations[i].Events[0], m.Allocations[j].Events[0]) ||
			!m.before(m.Allocations[j].Events[0], m.Allocations[i].Events[0]) && m.Allocations[i].ID.String() < m.Allocations[j].ID.String()
	})
}

// before orders two events: within one input by line (timestamps within a
// file can go backwards with thread interleaving); across inputs by time
// when both times are of the same kind, then by protocol order, then by
// position. Times are shifted by the estimated skew of their input.
func (m *Model) before(i, j int) bool {
	a, b := &m.Result.Events[i], &m.Result.Events[j]
	if a.Pos.File == b.Pos.File {
		return a.Pos.Less(b.Pos)
	}
	if a.Time.Kind == b.Time.Kind && a.Time.Kind != parser.TimeNone {
		ta, tb := a.Time.N+m.Skew[a.Pos.File].Offset, b.Time.N+m.Skew[b.Pos.File].Offset
		if ta != tb {
			return ta < tb
		}
	}
	ra, oka := protocolRank[a.Kind]
	rb, okb := protocolRank[b.Kind]
	if oka && okb && ra != rb {
		return ra < rb
	}
	return a.Pos.Less(b.Pos)
}

// estimateSkew finds, per TaskManager input, the smallest clock offset that
// makes every "Receive slot request A" come after the RM's "Request slot …
// with allocation id A" (the protocol's causality). Times of different kinds
// (local wall clock vs UTC, time of day) are not compared.
func (m *Model) estimateSkew() {
	evs := m.Result.Events
	rmReq := map[parser.ID]int{}
	for i := range evs {
		if evs[i].Kind == parser.KindRMSlotRequest {
			if _, ok := rmReq[evs[i].Alloc]; !ok {
				rmReq[evs[i].Alloc] = i
			}
		}
	}
	for i := range evs {
		tm := &evs[i]
		if tm.Kind != parser.KindTMSlotRequest {
			continue
		}
		j, ok := rmReq[tm.Alloc]
		if !ok {
			continue
		}
		rm := &evs[j]
		if rm.Pos.File == tm.Pos.File || rm.Time.Kind != tm.Time.Kind || rm.Time.Kind == parser.TimeNone {
			continue
		}
		if lag := rm.Time.N - tm.Time.N; lag > m.Skew[tm.Pos.File].Offset {
			m.Skew[tm.Pos.File] = Skew{Offset: lag, Because: i, Relative: j}
		}
	}
}

// ReplayAt replays a process's events up to time at (on the TaskManager's
// own clock): the table as it stood then. Events whose time cannot be
// compared with at (another time kind, no time) are kept in log order. It
// returns nil when no event's time can be compared with at: the answer
// would be the end state mislabelled as a point in time.
func (m *Model) ReplayAt(p *Process, at parser.Time) *Replay {
	comparable := false
	for _, i := range p.Events {
		if m.Result.Events[i].Time.Kind == at.Kind {
			comparable = true
			break
		}
	}
	if !comparable {
		return nil
	}
	var sub []parser.Event
	var idx []int
	for _, i := range p.Events {
		ev := m.Result.Events[i]
		if ev.Time.Kind == at.Kind && ev.Time.N > at.N {
			break
		}
		sub = append(sub, ev)
		idx = append(idx, i)
	}
	r := ReplayTM(sub)
	for s := range r.Steps {
		r.Steps[s].Event = idx[r.Steps[s].Event]
	}
	// Placeholders are numbered in event order, so a prefix replay has the
	// same keys as the full one: indexes printed later still apply.
	for key, info := range p.Replay.Indexes {
		if cur, ok := r.Indexes[key]; ok && cur.Index < 0 {
			r.Indexes[key] = info
		}
	}
	return r
}

// Allocation returns the timeline of id, or nil.
func (m *Model) Allocation(id parser.ID) *Allocation {
	for _, a := range m.Allocations {
		if a.ID == id {
			return a
		}
	}
	return nil
}
