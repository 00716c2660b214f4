package reconstruct

import (
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

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
	// Rank is every event's place in the merged order of all inputs,
	// indexed like Result.At: events, then repeated slot reports.
	Rank []int
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
	Config Config
	// the slot reports compared with its table, in Config.Probes order
	// (see Report)
	reports *reportProbes
	// Runs is the slot table the TaskManager really ran; RunsWhy says how
	// that is known ("refusal line", "version 1.6.2", "assumed: …").
	Runs    Semantics
	RunsWhy string
	RunsPos parser.Pos // the line that shows it, when one does
}

// Report returns the slot report that the process's probe k is (an
// index for Result.At: a report may be a repeat).
func (p *Process) Report(k int) int { return p.reports.Report(k) }

// Allocation is one AllocationID's timeline across TaskManager,
// ResourceManager and JobManager.
type Allocation struct {
	ID       parser.ID
	Job      parser.ID
	Resource string // the TaskManager that held it, when known
	Events   []int  // indexes into Result.Events, ordered (see Build)
	// Held are the slots it occupied on TaskManagers whose log is in the
	// input, in the table each process ran, oldest first.
	Held []Held
}

// Held is one slot an AllocationID occupied in a TaskManager process's
// table. Under the legacy table one AllocationID can hold several at once.
type Held struct {
	Resource string // the TaskManager's ResourceID
	Process  *Process
	Key      int // the slot's key in the process's replayed tables (see Replay.Indexes)
	// Allocated is the event that created the slot (index into
	// Result.Events); for a slot held before a mid-story log begins, the
	// first line that shows it.
	Allocated int
	Prior     bool // held before the log begins
	// Freed is the event that freed it, -1 while it is held at the end of
	// the log.
	Freed  int
	Index  IndexInfo
	Zombie bool // held at the end, but the AllocationID map no longer leads to it
	// Replaced is the first event of the next process of the same
	// TaskManager when the slot was still held as this one ended (the
	// restart dropped it), else -1.
	Replaced int
}

// ReportWindow is how long before the ResourceManager logged a slot report
// the TaskManager may have built it: the heartbeat's round trip plus the
// error of a skew estimate that is only a lower bound.
const ReportWindow = 2 * int64(time.Second)

// ReportLead is how far after a slot report's (skew-corrected) time a
// TaskManager line may still describe the state the report shows: the skew
// estimate of a TaskManager whose clock runs ahead is only as good as the
// network latency and the noise floor below which it is not applied.
const ReportLead = 250 * int64(time.Millisecond)

// minNegativeSkew: a TaskManager clock that runs ahead of the
// ResourceManager's is corrected only beyond this (smaller leads are
// indistinguishable from network latency).
const minNegativeSkew = 50 * int64(time.Millisecond)

// Build reconstructs the model from a read.
func Build(res *parser.Result) *Model {
	m := &Model{Result: res, Skew: map[int32]Skew{}}
	m.joinRotatedIdentities()
	m.groupProcesses()
	m.estimateSkew()
	m.order()
	m.replayProcesses()
	m.buildAllocations()
	m.collectHeld()
	return m
}

func (m *Model) groupProcesses() {
	evs := m.Result.Events
	byInput := map[int32][]int{}
	var inputs []int32
	for i := range evs {
		if evs[i].Component != parser.ComponentTM {
			continue
		}
		f := evs[i].Pos.File
		if _, ok := byInput[f]; !ok {
			inputs = append(inputs, f)
		}
		byInput[f] = append(byInput[f], i)
	}
	resourceOf := func(ev *parser.Event) string {
		if ev.Resource != "" {
			return ev.Resource
		}
		return "?" + m.Result.Files[ev.Pos.File].Name()
	}
	// Inputs in time order, so a rotated file (taskmanager.log.1) comes
	// before the current one whatever their names — even when the older
	// file's first process is another ResourceID than the one the newer
	// file continues (a restart just before the rotation).
	sort.SliceStable(inputs, func(a, b int) bool {
		ea, eb := &evs[byInput[inputs[a]][0]], &evs[byInput[inputs[b]][0]]
		if ea.Time.Kind != eb.Time.Kind {
			return ea.Time.Kind < eb.Time.Kind
		}
		if ea.Time.N != eb.Time.N {
			return ea.Time.N < eb.Time.N
		}
		return inputs[a] < inputs[b]
	})
	byRes := map[string]*TaskManager{}
	for _, f := range inputs {
		var cur *Process
		for k, i := range byInput[f] {
			ev := &evs[i]
			// A banner starts a new process; a new input continues the
			// TaskManager's latest process when it picks up where that one
			// stopped (log rotation), else it starts one mid-story.
			restart := ev.Kind == parser.KindMetaVersion
			if cur == nil || restart {
				res := resourceOf(ev)
				tm := byRes[res]
				if tm == nil {
					tm = &TaskManager{Resource: res}
					byRes[res] = tm
					m.TaskManagers = append(m.TaskManagers, tm)
				}
				if k == 0 && !restart && m.continues(tm, ev) {
					cur = tm.Processes[len(tm.Processes)-1]
				} else {
					cur = &Process{Input: f, Config: Config{FromStart: restart}}
					tm.Processes = append(tm.Processes, cur)
				}
			}
			cur.Events = append(cur.Events, i)
		}
	}
	sort.Slice(m.TaskManagers, func(i, j int) bool { return m.TaskManagers[i].Resource < m.TaskManagers[j].Resource })
}

// continues reports whether ev, the first event of an input, carries on the
// TaskManager's latest process from another input: that process's last
// event is no later than ev (a rotated log), not a copy of the same lines.
func (m *Model) continues(tm *TaskManager, ev *parser.Event) bool {
	if len(tm.Processes) == 0 {
		return false
	}
	last := tm.Processes[len(tm.Processes)-1]
	prev := &m.Result.Events[last.Events[len(last.Events)-1]]
	return prev.Pos.File != ev.Pos.File && prev.Time.Kind == ev.Time.Kind && prev.Time.Kind != parser.TimeNone && prev.Time.N <= ev.Time.N
}

// replayProcesses configures and replays every process, with the slot
// reports that name it.
func (m *Model) replayProcesses() {
	m.assignReports()
	evs := m.Result.Events
	var procs []*Process
	for _, tm := range m.TaskManagers {
		procs = append(procs, tm.Processes...)
	}
	// Processes replay independently (each reads the shared events and
	// writes only its own fields): one worker per CPU, the result the same
	// whatever finishes first.
	work := make(chan *Process)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(procs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				m.configure(p)
				p.Replay = replayIndexed(evs, p.Events, p.Config)
				// Replay steps and report checks index the process's events; map them back.
				for s := range p.Replay.Steps {
					p.Replay.Steps[s].Event = p.Events[p.Replay.Steps[s].Event]
				}
				for c := range p.Replay.checks {
					for k, a := range p.Replay.checks[c].After {
						if a >= 0 {
							p.Replay.checks[c].After[k] = int32(p.Events[a])
						}
					}
				}
			}
		}()
	}
	// the biggest first, so one large TaskManager does not run alone at the end
	order := append([]*Process(nil), procs...)
	sort.SliceStable(order, func(i, j int) bool { return len(order[i].Events) > len(order[j].Events) })
	for _, p := range order {
		work <- p
	}
	close(work)
	wg.Wait()
}

// configure fills in what the replay of p needs besides its events: the
// slot count and version of its input, and which table it ran.
func (m *Model) configure(p *Process) {
	in := m.inputOf(p.Input)
	evs := m.Result.Events
	cfg := &p.Config
	cfg.Slots = in.Slots
	lo, hi := in.VersionMin, in.VersionMax
	verText := in.FlinkVersion
	for _, i := range p.Events {
		ev := &evs[i]
		switch ev.Kind {
		case parser.KindMetaVersion:
			// A banner names this process's version (an input may hold
			// several processes), unless --flink-version overrides it.
			if v, ok := parser.ParseVersion(ev.Version); ok && in.VersionSource != "flag" {
				lo, hi, verText = v, v, ev.Version
			}
		case parser.KindMetaSlots:
			cfg.Slots = ev.Count
		}
	}
	cfg.StaticOnly = !hi.IsZero() && hi.Less(parser.Version{Major: 1, Minor: 13})
	cfg.DynamicCounter = !lo.IsZero() && !lo.Less(parser.Version{Major: 1, Minor: 13})

	p.Runs, p.RunsWhy = Legacy, "assumed: the version is unknown and no refusal line shows the fixed table"
	for _, i := range p.Events {
		ev := &evs[i]
		if ev.Kind == parser.KindTMAllocExists || ev.Kind == parser.KindTMAllocRefused &&
			(ev.Reason == parser.ReasonAllocatedElsewhere || ev.Reason == parser.ReasonIndexTaken) {
			p.Runs, p.RunsWhy, p.RunsPos = Fixed, "refusal line of the fixed table", ev.Pos
			return
		}
	}
	switch {
	case !lo.IsZero() && !lo.Less(parser.Version{Major: 1, Minor: 10}):
		p.Runs, p.RunsWhy = Fixed, "version "+verText
	case !hi.IsZero() && hi.Less(parser.Version{Major: 1, Minor: 8}):
		p.Runs, p.RunsWhy = Legacy, "version "+verText
	case !hi.IsZero() && hi.Less(parser.Version{Major: 1, Minor: 10}):
		p.Runs, p.RunsWhy = Legacy, "assumed from version "+verText+" (a backport of the fix is possible)"
	}
}

func (m *Model) inputOf(file int32) parser.InputSummary {
	for _, in := range m.Result.Inputs {
		if in.File == file {
			return in
		}
	}
	return parser.InputSummary{}
}

// assignReports gives every slot report's entries to the TaskManager
// process they describe: by the ResourceID in their SlotIDs, then by time
// on the TaskManager's clock (the report's time moved by both inputs'
// skew). A report that no process's clock can place is left out. Each
// process gets its reports in time order, kept as runs (see
// reportProbes).
func (m *Model) assignReports() {
	res := m.Result
	evs := res.Events
	byRes := map[string]*TaskManager{}
	for _, tm := range m.TaskManagers {
		byRes[tm.Resource] = tm
	}
	type placed struct {
		at    int64 // on the process's clock
		v     int32 // the report, for Result.At
		slots int32 // its entries for the process: index into slotSets
	}
	got := map[*Process][]placed{}
	var slotSets [][]parser.SlotStatus
	// a report's entries for one TaskManager, the same slice for the
	// repeats of one report
	type setKey struct {
		ev  *parser.Event
		res string
	}
	setOf := map[setKey]int32{}
	for i := range res.All() {
		ev := res.Base(i)
		if ev.Kind != parser.KindRMSlotReport || len(ev.Slots) == 0 {
			continue
		}
		pos, when := res.PosAt(i), res.TimeAt(i)
		var resources []string
		if oneResource(ev.Slots) {
			resources = []string{ev.Slots[0].Resource}
		} else {
			for _, st := range ev.Slots {
				if !slices.Contains(resources, st.Resource) {
					resources = append(resources, st.Resource)
				}
			}
		}
		for _, tmRes := range resources {
			tm := byRes[tmRes]
			if tm == nil {
				continue
			}
			var target *Process
			var at parser.Time
			for _, p := range tm.Processes {
				first := &evs[p.Events[0]]
				if first.Time.Kind != when.Kind || when.Kind == parser.TimeNone {
					continue
				}
				t := parser.Time{Kind: when.Kind, N: when.N + m.Skew[pos.File].Offset - m.Skew[p.Input].Offset}
				if first.Time.N <= t.N {
					target, at = p, t
				}
			}
			if target == nil {
				continue
			}
			k, ok := setOf[setKey{ev, tmRes}]
			if !ok {
				k = int32(len(slotSets))
				setOf[setKey{ev, tmRes}] = k
				if len(resources) == 1 {
					// A TaskManager's report names only itself: its
					// probes read the event's slots (read-only).
					slotSets = append(slotSets, ev.Slots)
				} else {
					var mine []parser.SlotStatus
					for _, st := range ev.Slots {
						if st.Resource == tmRes {
							mine = append(mine, st)
						}
					}
					slotSets = append(slotSets, mine)
				}
			}
			got[target] = append(got[target], placed{at.N, int32(i), k})
		}
	}
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			reps := got[p]
			// in time order (reports from several ResourceManager inputs)
			sort.SliceStable(reps, func(a, b int) bool { return reps[a].at < reps[b].at })
			probes := &reportProbes{res: res}
			for _, r := range reps {
				shift := r.at - res.TimeAt(int(r.v)).N
				if n := len(probes.runs); n > 0 {
					last := &probes.runs[n-1]
					if last.v+last.n == r.v && last.slots == r.slots && last.shift == shift {
						last.n++
						probes.n++
						continue
					}
				}
				probes.runs = append(probes.runs, reportRun{v: r.v, n: 1, shift: shift, slots: r.slots, start: int32(probes.n)})
				probes.n++
			}
			probes.sets = slotSets
			p.Config.Probes, p.reports = probes, probes
			delete(got, p)
		}
	}
}

// reportProbes is a process's slot reports as probes, in time order. A
// TaskManager at rest is sent the same report every heartbeat, which a
// read keeps as repeats of one event (parser.Repeat) whose indexes for
// Result.At follow one another: such reports are one run here, and each
// Probe is made when the replay asks for it (a probe each was 64 bytes a
// heartbeat).
type reportProbes struct {
	res  *parser.Result
	runs []reportRun
	sets [][]parser.SlotStatus
	n    int
}

// reportRun is the reports v, v+1, … v+n-1 (indexes for Result.At), the
// probes start, start+1, …: their times moved by shift, their entries
// sets[slots].
type reportRun struct {
	v, n, start, slots int32
	shift              int64
}

// Len returns the number of probes.
func (p *reportProbes) Len() int { return p.n }

// run returns the run probe k is in.
func (p *reportProbes) run(k int) *reportRun {
	r := sort.Search(len(p.runs), func(r int) bool { return int(p.runs[r].start) > k }) - 1
	return &p.runs[r]
}

// Report returns probe k's report (an index for Result.At).
func (p *reportProbes) Report(k int) int {
	r := p.run(k)
	return int(r.v) + k - int(r.start)
}

// Probe returns probe k.
func (p *reportProbes) Probe(k int) Probe {
	r := p.run(k)
	v := int(r.v) + k - int(r.start)
	t := p.res.TimeAt(v)
	return Probe{At: parser.Time{Kind: t.Kind, N: t.N + r.shift}, Window: ReportWindow, Slots: p.sets[r.slots], Pos: p.res.PosAt(v)}
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
	// A job-state line whose cause quotes "No task slot allocated …" repeats
	// the failure of a task line above it: one row per failure is enough,
	// unless the job's line is the only one that shows it.
	jobState := map[parser.Pos]bool{}
	for i := range evs {
		if evs[i].Kind == parser.KindJMJobState {
			jobState[evs[i].Pos] = true
		}
	}
	type inputAlloc struct {
		file  int32
		alloc parser.ID
	}
	noSlotShown := map[inputAlloc]bool{}
	add := func(id parser.ID, i int) *Allocation {
		a := byID[id]
		if a == nil {
			a = &Allocation{ID: id}
			byID[id] = a
			m.Allocations = append(m.Allocations, a)
		}
		a.Events = append(a.Events, i)
		return a
	}
	// The slot request a TaskManager input is handling: a refusal line that
	// names only the occupant of the index ("The slot with index N is
	// already assigned to another allocation with id A'") belongs to it.
	handling := map[int32]parser.ID{}
	for i := range evs {
		ev := &evs[i]
		if ev.Kind == parser.KindTMSlotRequest {
			handling[ev.Pos.File] = ev.Alloc
		}
		if !ev.Alloc.IsSet() {
			if ev.Component == parser.ComponentTM && ev.Other.IsSet() && (ev.Kind == parser.KindTMAllocRefused || ev.Kind == parser.KindTMSlotOccupied) {
				if req := handling[ev.Pos.File]; req.IsSet() {
					add(req, i)
				}
				add(ev.Other, i) // the line shows the occupant's index
			}
			continue
		}
		if ev.Kind == parser.KindTaskNoSlot {
			k := inputAlloc{ev.Pos.File, ev.Alloc}
			if jobState[ev.Pos] && noSlotShown[k] {
				continue
			}
			noSlotShown[k] = true
		}
		a := add(ev.Alloc, i)
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
		sort.Slice(a.Events, func(x, y int) bool { return m.Rank[a.Events[x]] < m.Rank[a.Events[y]] })
	}
	sort.Slice(m.Allocations, func(i, j int) bool {
		return m.Rank[m.Allocations[i].Events[0]] < m.Rank[m.Allocations[j].Events[0]]
	})
}

// oneResource reports whether every status names the same TaskManager.
func oneResource(slots []parser.SlotStatus) bool {
	for _, st := range slots[1:] {
		if st.Resource != slots[0].Resource {
			return false
		}
	}
	return true
}

// order merges the inputs into one sequence (Rank): each input keeps its
// line order (timestamps within a file can go backwards with thread
// interleaving), and at every step the earliest of the inputs' next events
// by before is taken. Comparing only the inputs' heads keeps the result a
// total order that is the same whatever the file order or core count.
func (m *Model) order() {
	res := m.Result
	evs := res.Events
	m.Rank = make([]int, res.Len())
	var heads [][]int // per input: its events' indexes (see Result.At), in line order
	where := map[int32]int{}
	for i := range res.All() {
		f := res.PosAt(i).File
		h, ok := where[f]
		if !ok {
			h = len(heads)
			where[f] = h
			heads = append(heads, nil)
		}
		heads[h] = append(heads[h], i)
	}
	if sameTimeKind(evs) {
		m.orderByTime(heads)
		return
	}
	m.orderByScan(heads)
}

// orderByScan is the definition of the merge: at every step the heads are
// scanned in input order and a head replaces the best so far when it is
// before it. It costs events × inputs comparisons.
func (m *Model) orderByScan(heads [][]int) {
	for n := range m.Rank {
		best := -1
		for h := range heads {
			if len(heads[h]) == 0 {
				continue
			}
			if best < 0 || m.before(heads[h][0], heads[best][0]) {
				best = h
			}
		}
		m.Rank[heads[best][0]] = n
		heads[best] = heads[best][1:]
	}
}

// orderByTime gives orderByScan's result in events × log(inputs) when every
// event's time is of one kind (the usual case: hundreds of TaskManager
// files made the scan the slowest step after parsing). Then before decides
// between heads of different adjusted times by time alone, so the scan
// ends on a head of the least time: the first such head in input order
// replaces any best of a later time, and heads of a later time never
// replace it. Only among heads tied at the least time do protocol rank and
// position decide, and before is not transitive there (rank for some pairs,
// position for others), so those few are scanned in input order exactly as
// orderByScan would.
func (m *Model) orderByTime(heads [][]int) {
	res := m.Result
	offset := make([]int64, len(heads))
	for h := range heads {
		offset[h] = m.Skew[res.PosAt(heads[h][0]).File].Offset
	}
	q := make(headQueue, 0, len(heads))
	for h := range heads {
		q.push(headAt{res.TimeAt(heads[h][0]).N + offset[h], h})
	}
	var tied []headAt
	for n := range m.Rank {
		tied = append(tied[:0], q.pop())
		for len(q) > 0 && q[0].t == tied[0].t {
			tied = append(tied, q.pop()) // in input order: the queue breaks ties by h
		}
		best := 0
		for k := 1; k < len(tied); k++ {
			if m.before(heads[tied[k].h][0], heads[tied[best].h][0]) {
				best = k
			}
		}
		h := tied[best].h
		m.Rank[heads[h][0]] = n
		heads[h] = heads[h][1:]
		for k, x := range tied {
			switch {
			case k != best:
				q.push(x)
			case len(heads[h]) > 0:
				q.push(headAt{res.TimeAt(heads[h][0]).N + offset[h], h})
			}
		}
	}
}

// sameTimeKind reports whether every event carries a time, all of one
// kind (a repeat's is its event's).
func sameTimeKind(evs []parser.Event) bool {
	for i := range evs {
		if evs[i].Time.Kind == parser.TimeNone || evs[i].Time.Kind != evs[0].Time.Kind {
			return false
		}
	}
	return true
}

// headAt is an input's next event's adjusted time and the input.
type headAt struct {
	t int64
	h int
}

// headQueue is a binary min-heap of heads by time, then input order.
type headQueue []headAt

func (q headQueue) less(i, j int) bool {
	return q[i].t < q[j].t || q[i].t == q[j].t && q[i].h < q[j].h
}

func (q *headQueue) push(x headAt) {
	*q = append(*q, x)
	s := *q
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (q *headQueue) pop() headAt {
	s := *q
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, small) {
			small = l
		}
		if r < len(s) && s.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		s[i], s[small] = s[small], s[i]
		i = small
	}
	*q = s
	return top
}

// before orders two events: within one input by line (timestamps within a
// file can go backwards with thread interleaving); across inputs by time
// when both times are of the same kind, then by protocol order, then by
// position. Times are shifted by the estimated skew of their input.
func (m *Model) before(i, j int) bool {
	res := m.Result
	pa, pb := res.PosAt(i), res.PosAt(j)
	if pa.File == pb.File {
		return pa.Less(pb)
	}
	if a, b := res.TimeAt(i), res.TimeAt(j); a.Kind == b.Kind && a.Kind != parser.TimeNone {
		ta, tb := a.N+m.Skew[pa.File].Offset, b.N+m.Skew[pb.File].Offset
		if ta != tb {
			return ta < tb
		}
	}
	ra, oka := protocolRank[res.Base(i).Kind]
	rb, okb := protocolRank[res.Base(j).Kind]
	if oka && okb && ra != rb {
		return ra < rb
	}
	return pa.Less(pb)
}

// estimateSkew finds, per TaskManager input, the smallest clock offset that
// makes every TaskManager line that answers a message come after the line
// that sent it (the protocol's causality): "Receive slot request A" after
// the RM's "Request slot … with allocation id A" (legacy) or "Starting
// allocation of slot A from R" (fine-grained), "Received task T (X)"
// after the JobMaster's "Deploying T … with attempt id X", and the first
// "Activate slot A" after the declarative pool's "Matched slot offer A"
// (an accepted offer is what activates a slot; a task sent into it comes
// later still): the largest lag seen. A clock behind the sender's is always corrected; one ahead of it
// only when the lead exceeds minNegativeSkew. Times of different kinds
// (local wall clock vs UTC, time of day) are not compared.
func (m *Model) estimateSkew() {
	evs := m.Result.Events
	sentAlloc := map[parser.ID]int{}
	sentTask := map[string]int{}
	matched := map[parser.ID]int{}
	for i := range evs {
		ev := &evs[i]
		switch {
		case ev.Kind == parser.KindRMSlotRequest, ev.Kind == parser.KindRMAllocStart && ev.Alloc.IsSet():
			if _, ok := sentAlloc[ev.Alloc]; !ok {
				sentAlloc[ev.Alloc] = i
			}
		case ev.Kind == parser.KindJMDeploy && ev.Attempt != "":
			if _, ok := sentTask[ev.Attempt]; !ok {
				sentTask[ev.Attempt] = i
			}
		case ev.Kind == parser.KindJMOfferMatched && ev.Alloc.IsSet():
			if _, ok := matched[ev.Alloc]; !ok {
				matched[ev.Alloc] = i
			}
		}
	}
	type fileAlloc struct {
		file  int32
		alloc parser.ID
	}
	activated := map[fileAlloc]bool{}
	best := map[int32]Skew{}
	for i := range evs {
		tm := &evs[i]
		var j int
		var ok bool
		switch {
		case tm.Kind == parser.KindTMSlotRequest:
			j, ok = sentAlloc[tm.Alloc]
		case tm.Kind == parser.KindTMTaskReceived && tm.Attempt != "":
			j, ok = sentTask[tm.Attempt]
		case tm.Kind == parser.KindTMActivate && tm.Alloc.IsSet() && !activated[fileAlloc{tm.Pos.File, tm.Alloc}]:
			activated[fileAlloc{tm.Pos.File, tm.Alloc}] = true
			j, ok = matched[tm.Alloc]
		}
		if !ok {
			continue
		}
		rm := &evs[j]
		if rm.Pos.File == tm.Pos.File || rm.Time.Kind != tm.Time.Kind || rm.Time.Kind == parser.TimeNone {
			continue
		}
		lag := rm.Time.N - tm.Time.N
		if b, seen := best[tm.Pos.File]; !seen || lag > b.Offset {
			best[tm.Pos.File] = Skew{Offset: lag, Because: i, Relative: j}
		}
	}
	for file, sk := range best {
		if sk.Offset > 0 || sk.Offset < -minNegativeSkew {
			m.Skew[file] = sk
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
	var idx []int
	for _, i := range p.Events {
		ev := &m.Result.Events[i]
		if ev.Time.Kind == at.Kind && ev.Time.N > at.N {
			break
		}
		idx = append(idx, i)
	}
	cfg := p.Config
	cfg.Probes = nil // a prefix replay compares no report
	r := replayIndexed(m.Result.Events, idx, cfg)
	for s := range r.Steps {
		r.Steps[s].Event = idx[r.Steps[s].Event]
	}
	// What the log shows held from before its first line (a slot first seen
	// when it is freed, after at) was held at at too.
	for _, st := range p.Replay.Steps {
		if st.Op != OpPrior {
			continue
		}
		ev := &m.Result.Events[st.Event]
		if ev.Time.Kind == at.Kind && ev.Time.N <= at.N {
			continue // in the prefix: replayed above
		}
		r.holdPrior(st.Slot[0], st.Alloc, p.Replay.jobOf[st.Alloc], st.Event, ev.SlotState == "ACTIVE")
	}
	// Placeholders are numbered in event order, so a prefix replay has the
	// same keys as the full one: indexes printed later still apply.
	for key, info := range p.Replay.Indexes {
		if cur, ok := r.Indexes[key]; ok && info.Source != IndexUnknown && info.Source >= cur.Source {
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

// ProcessAt returns the process of tm that was running at time at (on the
// TaskManager's clock): the last one whose first event is not later than
// at. Processes whose times cannot be compared with at are passed over;
// nil when none can be.
func (m *Model) ProcessAt(tm *TaskManager, at parser.Time) *Process {
	var found *Process
	for _, p := range tm.Processes {
		first := m.Result.Events[p.Events[0]].Time
		if first.Kind != at.Kind {
			continue
		}
		if found == nil || first.N <= at.N {
			found = p
		}
	}
	return found
}

// collectHeld gives every allocation the slots it held, from the replay of
// the table each TaskManager process ran, oldest first.
func (m *Model) collectHeld() {
	byID := map[parser.ID]*Allocation{}
	for _, a := range m.Allocations {
		byID[a.ID] = a
	}
	for _, tm := range m.TaskManagers {
		for pi, p := range tm.Processes {
			r, model := p.Replay, p.Runs
			open := map[int]*Held{} // slot key → the slot while held
			var held []*Held
			var ids []parser.ID
			for _, st := range r.Steps {
				switch {
				case st.Op == OpPrior || st.Op == OpAllocate && !st.Skipped[model] &&
					(st.Results[model] == Accepted || st.Results[model] == Overwritten):
					key := st.Slot[model]
					h := &Held{Resource: tm.Resource, Process: p, Key: key, Allocated: st.Event, Prior: st.Op == OpPrior, Freed: -1, Index: r.Indexes[key], Replaced: -1}
					open[key] = h
					held = append(held, h)
					ids = append(ids, st.Alloc)
				case st.Op == OpFree && !st.Skipped[model] && st.Results[model] == Accepted:
					if h := open[st.Slot[model]]; h != nil {
						h.Freed = st.Event
						delete(open, st.Slot[model])
					}
				}
			}
			for _, z := range r.Tables[model].Zombies() {
				if h := open[z.Index]; h != nil {
					h.Zombie = true
				}
			}
			if pi+1 < len(tm.Processes) {
				for _, h := range open {
					h.Replaced = tm.Processes[pi+1].Events[0]
				}
			}
			for k, h := range held {
				if a := byID[ids[k]]; a != nil {
					a.Held = append(a.Held, *h)
				}
			}
		}
	}
	for _, a := range m.Allocations {
		sort.SliceStable(a.Held, func(i, j int) bool { return m.Rank[a.Held[i].Allocated] < m.Rank[a.Held[j].Allocated] })
	}
}

// rotationBase strips what log rotation adds to a file name: ".gz", then a
// ".N" index or a ".YYYY-MM-DD…" date (log4j's RollingFileAppender).
func rotationBase(path string) string {
	// what a follow read of a file before it was rotated away
	p := strings.TrimSuffix(parser.UnrotatedName(path), ".gz")
	if i := strings.LastIndexByte(p, '.'); i > 0 {
		suffix := p[i+1:]
		if suffix != "" && strings.Trim(suffix, "0123456789-_:T") == "" {
			return p[:i]
		}
	}
	return p
}

// joinRotatedIdentities: a rotated TaskManager log names its ResourceID only
// in the file that holds the process's start (taskmanager.log.1); the lines
// of the newer file (taskmanager.log) up to its own first banner, if any,
// belong to that process. They take the ResourceID of the latest sibling
// file (same name up to the rotation suffix) that starts before it and
// names one.
func (m *Model) joinRotatedIdentities() {
	evs := m.Result.Events
	type info struct {
		file  int32
		first parser.Time
		named string // the ResourceID its last process announced, "" if none
	}
	var tmInputs []info
	seen := map[int32]bool{}
	for i := range evs {
		ev := &evs[i]
		if ev.Component != parser.ComponentTM || seen[ev.Pos.File] {
			continue
		}
		seen[ev.Pos.File] = true
		tmInputs = append(tmInputs, info{file: ev.Pos.File, first: ev.Time})
	}
	for k := range tmInputs {
		in := m.inputOf(tmInputs[k].file)
		if in.ResourceIDSource != "file name" {
			tmInputs[k].named = in.ResourceID
		}
	}
	for _, a := range tmInputs {
		if a.first.Kind == parser.TimeNone {
			continue
		}
		fa := m.Result.Files[a.file]
		var best *info
		for k := range tmInputs {
			b := &tmInputs[k]
			fb := m.Result.Files[b.file]
			if b.file == a.file || b.named == "" || fb.Stream != fa.Stream || rotationBase(fb.Path) != rotationBase(fa.Path) ||
				b.first.Kind != a.first.Kind || b.first.N > a.first.N {
				continue
			}
			if best == nil || b.first.N > best.first.N {
				best = b
			}
		}
		if best == nil {
			continue
		}
		// The lines before the input's first banner continue the
		// predecessor's process.
		for i := range evs {
			ev := &evs[i]
			if ev.Pos.File != a.file {
				continue
			}
			if ev.Kind == parser.KindMetaVersion || ev.Kind == parser.KindMetaTMID {
				break
			}
			if ev.Component == parser.ComponentTM {
				ev.Resource = best.named
			}
		}
	}
}
