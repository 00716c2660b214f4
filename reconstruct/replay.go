package reconstruct

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// IndexSource says how the replay knows a slot's index.
type IndexSource uint8

// Index sources, from "no idea" to "a line printed it".
const (
	IndexUnknown  IndexSource = iota
	IndexInferred             // it follows from other lines and the table's rules
	IndexObserved             // a line printed it for this very slot
)

func (s IndexSource) String() string {
	return [...]string{"unknown", "inferred", "observed"}[s]
}

// IndexInfo says what index a slot has and how that became known.
type IndexInfo struct {
	Index  int         // the real index, or -1 while unknown
	Source IndexSource // observed, inferred, or unknown
	How    string      // which kind of evidence: "free", "refusal", "occupant", "slot report", "dynamic index counter", "only index left"
	// Pos is the line that printed it; for an inference, the last line it
	// hangs on (for "only index left", the one that settled the last other
	// index). Zero when unknown.
	Pos flinklog.Pos
}

// Op is what a replay step does to the slot table. It prints as the word
// the JSON outputs and the stories use.
type Op uint8

// The replay operations.
const (
	OpAllocate Op = iota + 1 // a slot allocated for an AllocationID
	OpFree                   // the slot the map leads to is freed
	OpActivate               // the slot is marked active
	OpSubmit                 // a task is submitted into the slot
	OpInactive               // the job's slots are marked inactive (JobManager connection closed)
	OpPrior                  // a slot held before the log begins is put in the table
)

var opNames = [...]string{OpAllocate: "allocate", OpFree: "free", OpActivate: "activate", OpSubmit: "submit", OpInactive: "inactive", OpPrior: "prior"}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Step is one observed TaskManager event applied to both models.
type Step struct {
	Event    parser.EventRef // the event (while the replay runs: its place among the replayed events)
	Op       Op              // what the TaskManager did
	Outcomes [2]Outcome      // [Legacy, Fixed]
	Skipped  [2]bool         // the model would never have seen this step (it follows from a refused allocation)
	// Slot is the slot key touched in each model (negative: a
	// placeholder, see Replay.Indexes); 32 bits keep a step small: a busy
	// TaskManager's replay holds millions.
	Slot [2]int32
	// alloc is the AllocationID the op is about, a number into the
	// replay's allocs (see Replay.AllocOf): 17 bytes of it made a step 36
	// bytes, and a process's steps name each of its allocations five
	// times or so.
	alloc int32
}

// AllocOf returns the AllocationID step st of the replay is about (the
// zero ID for a step about none, such as OpInactive).
func (r *Replay) AllocOf(st Step) flinklog.ID {
	if st.alloc == 0 {
		return flinklog.ID{}
	}
	return r.allocs[st.alloc]
}

// allocNo returns the number of id in the replay's allocs, adding it.
func (r *Replay) allocNo(id flinklog.ID) int32 {
	if !id.IsSet() {
		return 0
	}
	if n, ok := r.allocAt[id]; ok {
		return n
	}
	if len(r.allocs) == 0 {
		r.allocs = append(r.allocs, flinklog.ID{})
	}
	if r.allocAt == nil {
		r.allocAt = map[flinklog.ID]int32{}
	}
	n := int32(len(r.allocs))
	r.allocs = append(r.allocs, id)
	r.allocAt[id] = n
	return n
}

// Divergence is a step whose outcome differs between the models.
type Divergence struct {
	Step   int // index into Replay.Steps
	Legacy Outcome
	Fixed  Outcome
	// What the fixed table would have done instead, in a sentence.
	FixedWould string
}

// Config is what a replay knows about the TaskManager process besides its
// events.
type Config struct {
	// Slots is taskmanager.numberOfTaskSlots, 0 when not logged.
	Slots int
	// StaticOnly: every slot index lies in [0, Slots) (Flink ≤ 1.12, where
	// dynamic slots are unused by default).
	StaticOnly bool
	// DynamicCounter: the version may hand out dynamic indexes Slots, Slots+1,
	// … from a counter bumped on every slot request (Flink ≥ 1.13). The
	// replay only relies on it when printed indexes confirm it.
	DynamicCounter bool
	// FromStart: the events begin with the process's start, so nothing was
	// allocated before them. Otherwise an id freed or used without an
	// allocation in view held a slot before the log begins.
	FromStart bool
	// Probes are slot reports to compare with the table, in time order
	// (nil: none).
	Probes Probes
}

// Probes are the slot reports a replay compares with its tables, in time
// order. A DEBUG log holds one per heartbeat: a model keeps them as runs
// of the same report and makes each Probe when it is asked for.
type Probes interface {
	Len() int
	Probe(k int) Probe
}

// ProbeList is Probes held one by one.
type ProbeList []Probe

// Len returns the number of probes.
func (l ProbeList) Len() int { return len(l) }

// Probe returns probe k.
func (l ProbeList) Probe(k int) Probe { return l[k] }

// Probe is a slot report (as the ResourceManager logged it) to compare with
// the replayed table at a time of the TaskManager's own clock.
type Probe struct {
	At     flinklog.Time         // the report's time, moved to the TaskManager's clock
	Window int64                 // how far before At the TaskManager may have built it (ns); see also ReportLead
	Slots  []flinklog.SlotStatus // the report's entries for this TaskManager
	Pos    flinklog.Pos          // the report's line
}

// Replay is one TaskManager process replayed under both models from the
// same observed events. Every allocation gets a placeholder slot key below
// zero (the TaskManager does not print the index when it allocates);
// Indexes maps each key to what later lines revealed or imply.
type Replay struct {
	lastKept [2]keptCompare // see compareKept
	Tables   [2]*Table
	// tables: the last copy of the Tables (tablesNow), as of their gens
	tables      [2][]Slot
	tablesGen   [2]uint64
	tablesSet   bool
	Steps       []Step
	Divergences []Divergence
	Indexes     IndexTable // placeholder key → index and its provenance
	// allocs are the AllocationIDs the steps name (allocs[0] is none);
	// allocAt finds one's number while the replay runs
	allocs  []flinklog.ID
	allocAt map[flinklog.ID]int32
	// Conflicts are lines that named another index for a slot whose index
	// an earlier line had already settled; the first one is kept.
	Conflicts []IndexConflict
	// checks are the probes compared with the table, in probe order; a
	// check stands for the run of probes that came out the same (see
	// Checks).
	checks []SlotReportCheck

	cfg     Config
	events  eventSource // the events, of which idx picks this process's
	idx     []parser.EventRef
	next    int                         // next placeholder key (-1, -2, …)
	jobOf   map[flinklog.ID]flinklog.ID // AllocationID → JobID from its slot request
	refused map[int]bool                // legacy placeholders the fixed table refused to create
	seen    map[flinklog.ID]bool        // AllocationIDs allocated (or found held) in this process
	dupAck  map[flinklog.ID]bool        // an accepted duplicate was announced; its "Allocated slot" creates nothing
	life    map[int][2]int              // key → [step born, step freed) in the legacy table; freed -1 while held
	request map[int]int                 // key → ordinal of the slot request that created it
	reqs    int                         // slot requests that reached the table
	lastReq map[flinklog.ID]int         // AllocationID → ordinal of its latest slot request
	// The table states inside the probes' windows (see takeSnapshots):
	// states[s] is shared by the probes [probe when it was taken,
	// stateHi[s]); probe p holds those of states[first[p]:last[p]+1].
	states      []snapshot
	stateHi     []int32
	first, last []int32
	probe       int // first probe whose window has not closed
	// removed counts the steps a ReplayStream let go, and folded is what
	// the inferences at the end need of them (nil in a batch replay)
	removed int
	folded  *foldedFacts
	// counterApplied: inferDynamicCounter gave the slots of unknown index
	// theirs, on counterWitness's evidence (DynamicCounter)
	counterApplied bool
	counterWitness flinklog.Pos
	// provisional are the slots whose index a stream's slot report
	// settled before a line that may print it (see streamreports.go);
	// streamErr is why such a stream cannot give the batch's replay
	provisional map[int]bool
	streamErr   *StreamError
}

// snapshot is both tables as they stood after event After (-1: before any).
type snapshot struct {
	After int
	Until flinklog.Time // the time of the next event: the state held until then (zero: end of log)
	Slots [2][]Slot
}

// eventSource gives events by ref: a read's (parser.Result), or a slice's.
type eventSource interface {
	Event(parser.EventRef) *flinklog.Event
}

// sliceEvents is a slice of events, ref k naming the k-th.
type sliceEvents []flinklog.Event

func (s sliceEvents) Event(ref parser.EventRef) *flinklog.Event { return &s[ref] }

// ReplayTM replays the events of one TaskManager process (in log order)
// under both semantics. Events of other components are ignored. The
// replay's refs name the events by their place in events.
func ReplayTM(events []flinklog.Event, cfg Config) *Replay {
	idx := make([]parser.EventRef, len(events))
	for i := range idx {
		idx[i] = parser.EventRef(i)
	}
	return replayIndexed(sliceEvents(events), idx, cfg)
}

// replayIndexed replays the events idx names, in that order, without
// copying them: a model's processes are views into one read. While it
// runs, steps and snapshots count places in idx; when it returns, the
// steps and the report checks name their events by ref.
func replayIndexed(events eventSource, idx []parser.EventRef, cfg Config) *Replay {
	r := newReplay(events, idx, cfg)
	// every event of the process is read once: into one Event, when the
	// source can (apply keeps none of them)
	reader, _ := events.(interface {
		ReadEvent(parser.EventRef, *flinklog.Event) *flinklog.Event
	})
	var scratch flinklog.Event
	for i := range idx {
		var ev *flinklog.Event
		if reader != nil {
			ev = reader.ReadEvent(idx[i], &scratch)
		} else {
			ev = events.Event(idx[i])
		}
		if ev.Component != flinklog.ComponentTM && ev.Component != flinklog.ComponentUnknown {
			continue
		}
		r.takeSnapshots(ev.Time, i-1)
		r.apply(i, ev)
	}
	r.takeSnapshots(flinklog.Time{}, len(idx)-1)
	r.resolveFromReports()
	r.inferDynamicCounter()
	r.inferOnlyIndexLeft()
	r.compareReports()
	// The states inside the reports' windows were only for the steps
	// above.
	r.states, r.stateHi, r.first, r.last = nil, nil, nil, nil
	for s := range r.Steps {
		r.Steps[s].Event = idx[r.Steps[s].Event]
	}
	for c := range r.checks {
		for k, a := range r.checks[c].After {
			if a >= 0 {
				r.checks[c].After[k] = idx[a]
			}
		}
	}
	return r
}

// settle drops what the replay looked up by AllocationID and slot key as
// it went, once nothing will be replayed on top of it: a few maps with an
// entry per allocation, a tenth of an allocation-dense audit's peak (which
// comes at the end, when the rules run). The jobs of the slots held before
// the log begins stay (ReplayAt holds them again).
func (r *Replay) settle() {
	var prior map[flinklog.ID]flinklog.ID
	for _, st := range r.Steps {
		if st.Op == OpPrior {
			if prior == nil {
				prior = map[flinklog.ID]flinklog.ID{}
			}
			prior[r.AllocOf(st)] = r.jobOf[r.AllocOf(st)]
		}
	}
	r.jobOf = prior
	r.Indexes.fit()
	r.refused, r.seen, r.dupAck, r.life, r.request, r.lastReq = nil, nil, nil, nil, nil, nil
	r.allocAt = nil
	r.allocs = slices.Clip(r.allocs)
	// Steps was made for every event (newReplay); a process whose events
	// are mostly not steps gives the rest back
	if len(r.Steps) < cap(r.Steps)*3/4 {
		r.Steps = slices.Clone(r.Steps)
	}
}

// newReplay is a replay of the events idx names that has not begun.
func newReplay(events eventSource, idx []parser.EventRef, cfg Config) *Replay {
	r := &Replay{
		Tables: [2]*Table{NewTable(Legacy), NewTable(Fixed)},
		// about a step an event: grown instead, the steps of a busy
		// TaskManager were copied over and again
		Steps: make([]Step, 0, len(idx)),
		cfg:   cfg, events: events, idx: idx, next: -1,
		jobOf: map[flinklog.ID]flinklog.ID{}, refused: map[int]bool{}, seen: map[flinklog.ID]bool{},
		dupAck: map[flinklog.ID]bool{}, life: map[int][2]int{}, request: map[int]int{}, lastReq: map[flinklog.ID]int{},
	}
	if r.cfg.Probes == nil {
		r.cfg.Probes = ProbeList(nil)
	}
	r.first, r.last = make([]int32, r.cfg.Probes.Len()), make([]int32, r.cfg.Probes.Len())
	for p := range r.first {
		r.first[p], r.last[p] = -1, -1
	}
	return r
}

// event is the replay's i-th event.
func (r *Replay) event(i int) *flinklog.Event {
	if r.idx == nil {
		return r.events.Event(parser.EventRef(i)) // a stream's: i is the ref
	}
	return r.events.Event(r.idx[i])
}

// takeSnapshots records the tables as they stand after event after, for
// every probe whose window an event at time t enters or leaves; a zero t
// (the end of the log) closes every probe still open. Probes are sorted by
// time, so only those whose window has begun are visited: the probes
// [r.probe, stateHi) of the state taken.
//
// One state serves them all. A TaskManager at rest logs nothing for hours
// while the ResourceManager logs its report every heartbeat: the end of
// its log closed every one of those probes with a copy of the table each.
// after grows from call to call, so a probe takes each state once, and
// those it takes are the states from the first to the last it was
// visited by whose range reaches it (see statesOf).
func (r *Replay) takeSnapshots(t flinklog.Time, after int) {
	end := t.Kind == flinklog.TimeNone
	closed := 0
	s := -1
	for p := r.probe; p < r.cfg.Probes.Len(); p++ {
		pr := r.cfg.Probes.Probe(p)
		if !end && (t.Kind != pr.At.Kind || t.N <= pr.At.N-pr.Window) {
			break
		}
		if s < 0 {
			s = len(r.states)
			r.states = append(r.states, snapshot{After: after, Until: t, Slots: r.tablesNow()})
			r.stateHi = append(r.stateHi, 0)
		}
		if r.first[p] < 0 {
			r.first[p] = int32(s)
		}
		r.last[p] = int32(s)
		r.stateHi[s] = int32(p + 1)
		if end || t.N > pr.At.N+ReportLead {
			// Probes are sorted by time: every earlier one closes too.
			closed = p + 1
		}
	}
	r.probe = max(r.probe, closed)
}

// tablesNow is both tables' Slots, copied once a change of either (the
// copies are shared: a snapshot's slots are only read). A DEBUG log
// takes a snapshot at every TaskManager line in a report's window, most
// of them lines that change no table.
func (r *Replay) tablesNow() [2][]Slot {
	gen := [2]uint64{r.Tables[Legacy].gen, r.Tables[Fixed].gen}
	if !r.tablesSet || gen != r.tablesGen {
		r.tables = [2][]Slot{r.Tables[Legacy].Slots(), r.Tables[Fixed].Slots()}
		r.tablesGen, r.tablesSet = gen, true
	}
	return r.tables
}

// statesOf appends to buf the states probe p took, oldest first: those
// from its first to its last whose probes reach it (a state taken while
// time went backwards may have stopped before it).
func (r *Replay) statesOf(p int, buf []*snapshot) []*snapshot {
	buf = buf[:0]
	if r.first[p] < 0 {
		return buf
	}
	for s := r.first[p]; s <= r.last[p]; s++ {
		if int(r.stateHi[s]) > p {
			buf = append(buf, &r.states[s])
		}
	}
	return buf
}

// stepNo is the number of the next step among every step the replay has
// made: its place in Steps, unless a stream let steps before it go
// (ReplayStream). A slot's life counts steps so.
func (r *Replay) stepNo() int { return len(r.Steps) + r.removed }

func (r *Replay) newKey(step int) int {
	key := r.next
	r.next--
	r.Indexes.Set(key, IndexInfo{Index: -1})
	r.life[key] = [2]int{step, -1}
	return key
}

func (r *Replay) apply(i int, ev *flinklog.Event) {
	switch ev.Kind {
	case flinklog.KindTMSlotRequest:
		r.jobOf[ev.Alloc] = ev.Job
		r.lastReq[ev.Alloc] = r.reqs
		r.reqs++
	case flinklog.KindTMAllocated:
		if r.dupAck[ev.Alloc] {
			// 1.13–1.17 log "Allocated slot for A." after accepting a
			// duplicate request ("Slot with allocationId A already exist …"):
			// nothing new was created.
			delete(r.dupAck, ev.Alloc)
			st := Step{Event: parser.EventRef(i), Op: OpAllocate, alloc: r.allocNo(ev.Alloc), Outcomes: [2]Outcome{Idempotent, Idempotent}}
			for m, t := range r.Tables {
				k, _ := t.Lookup(ev.Alloc)
				st.Slot[m] = int32(k)
			}
			r.Steps = append(r.Steps, st)
			return
		}
		key := r.newKey(r.stepNo())
		if ord, ok := r.lastReq[ev.Alloc]; ok {
			r.request[key] = ord
		}
		r.seen[ev.Alloc] = true
		job := r.jobOf[ev.Alloc]
		st := Step{Event: parser.EventRef(i), Op: OpAllocate, alloc: r.allocNo(ev.Alloc), Slot: [2]int32{int32(key), int32(key)}}
		for m, t := range r.Tables {
			st.Outcomes[m] = t.Allocate(key, job, ev.Alloc)
		}
		if st.Outcomes[Legacy] == Overwritten && st.Outcomes[Fixed] == Refused {
			r.refused[key] = true
			prev, _ := r.Tables[Fixed].Lookup(ev.Alloc)
			st.Slot[Fixed] = int32(prev)
			r.diverge(st, fmt.Sprintf("refuse the request (SlotAllocationException to the ResourceManager): %s already holds a slot, which stays its only one", ev.Alloc))
		}
		r.Steps = append(r.Steps, st)
	case flinklog.KindTMAllocExists:
		// "Slot with allocationId A already exist, … index N. The required
		// index is M." prints the index A holds; an accepted duplicate
		// follows with "Allocated slot for A.", a refused one with "Could
		// not allocate slot for A.".
		r.dupAck[ev.Alloc] = true
		r.resolveHolder(i, ev.Alloc, ev.Job, ev.SlotIndex, ev.Pos, "refusal")
	case flinklog.KindTMAllocRefused:
		delete(r.dupAck, ev.Alloc)
		switch {
		case ev.Alloc.IsSet() && ev.SlotIndex >= 0:
			// 1.10–1.12 "Allocation ID A is already allocated in TaskSlot(index:N …)".
			r.resolveHolder(i, ev.Alloc, ev.Job, ev.SlotIndex, ev.Pos, "refusal")
		case ev.Other.IsSet() && ev.SlotIndex >= 0:
			// "The slot with index N is already assigned to another
			// allocation with id A'" / "Slot with index N already exist, …
			// allocation id A'": the occupant's index.
			r.resolveHolder(i, ev.Other, ev.Job, ev.SlotIndex, ev.Pos, "occupant")
		}
		if ev.Reason == flinklog.ReasonUnknownRMLeader || ev.Reason == flinklog.ReasonNoRM {
			// Refused before the table saw it: no dynamic index was drawn.
			r.reqs--
			delete(r.lastReq, ev.Alloc)
		}
	case flinklog.KindTMFree, flinklog.KindTMFreeUnknown:
		delete(r.dupAck, ev.Alloc)
		if ev.Kind == flinklog.KindTMFree {
			r.priorSlot(i, ev.Alloc, ev.Job, flinklog.Pos{})
		}
		st := Step{Event: parser.EventRef(i), Op: OpFree, alloc: r.allocNo(ev.Alloc)}
		legacyKey, _ := r.Tables[Legacy].Lookup(ev.Alloc)
		for m, t := range r.Tables {
			if m == int(Fixed) && r.refused[legacyKey] {
				// The slot being freed is the one the fixed table never
				// created: this free (of a rejected offer) would not happen.
				st.Skipped[m] = true
				continue
			}
			k, out := t.Free(ev.Alloc)
			st.Slot[m], st.Outcomes[m] = int32(k), out
		}
		if st.Outcomes[Legacy] == Accepted {
			if l, ok := r.life[int(st.Slot[Legacy])]; ok {
				r.life[int(st.Slot[Legacy])] = [2]int{l[0], r.stepNo()}
			}
			if ev.Kind == flinklog.KindTMFree && ev.SlotIndex >= 0 {
				r.resolve(int(st.Slot[Legacy]), ev.SlotIndex, IndexObserved, "free", ev.Pos)
			}
		}
		r.step(st)
	case flinklog.KindTMActivate:
		r.priorSlot(i, ev.Alloc, r.jobOf[ev.Alloc], flinklog.Pos{})
		st := Step{Event: parser.EventRef(i), Op: OpActivate, alloc: r.allocNo(ev.Alloc)}
		for m, t := range r.Tables {
			k, out := t.MarkActive(ev.Alloc)
			st.Slot[m], st.Outcomes[m] = int32(k), out
		}
		r.step(st)
	case flinklog.KindTMTaskReceived, flinklog.KindTaskNoSlot:
		if !ev.Alloc.IsSet() {
			return // ≤ 1.11 prints no AllocationID: nothing to look up
		}
		if ev.Kind == flinklog.KindTaskNoSlot && len(r.Steps) > 0 {
			if last := r.Steps[len(r.Steps)-1]; last.Op == OpSubmit && r.AllocOf(last) == ev.Alloc && r.event(int(last.Event)).Kind == flinklog.KindTMTaskReceived {
				return // the refusal of the submission just replayed
			}
		}
		r.priorSlot(i, ev.Alloc, r.jobOf[ev.Alloc], flinklog.Pos{})
		st := Step{Event: parser.EventRef(i), Op: OpSubmit, alloc: r.allocNo(ev.Alloc)}
		for m, t := range r.Tables {
			k, out := t.SubmitTask(r.jobOf[ev.Alloc], ev.Alloc)
			st.Slot[m], st.Outcomes[m] = int32(k), out
		}
		r.step(st)
	case flinklog.KindTMJMClose:
		for _, t := range r.Tables {
			t.MarkInactive(ev.Job)
		}
		r.Steps = append(r.Steps, Step{Event: parser.EventRef(i), Op: OpInactive})
	}
}

// priorSlot: in a log that begins after the process started, an
// AllocationID that is freed, activated or used before any allocation of it
// is in view held a slot before the log begins. It is put in both tables
// (a "prior" step) so the operation finds it, instead of reporting a
// failure the TaskManager never had.
func (r *Replay) priorSlot(i int, alloc, job flinklog.ID, pos flinklog.Pos) int {
	if r.cfg.FromStart || !alloc.IsSet() || r.seen[alloc] {
		return 0
	}
	r.seen[alloc] = true
	if !job.IsSet() {
		job = r.event(i).Job
	}
	key := r.newKey(r.stepNo())
	r.life[key] = [2]int{-1, -1} // held since before the log
	for _, t := range r.Tables {
		t.Allocate(key, job, alloc)
	}
	r.jobOf[alloc] = job
	r.Steps = append(r.Steps, Step{Event: parser.EventRef(i), Op: OpPrior, alloc: r.allocNo(alloc), Slot: [2]int32{int32(key), int32(key)}})
	return key
}

// holdPrior puts in the tables a slot the full replay found held before
// the log began, though the line that shows it comes after this (prefix)
// replay ends: at any time of the log it was already held. key is the full
// replay's placeholder; event is the first line that shows it, and active
// says whether that line shows it ACTIVE.
func (r *Replay) holdPrior(key int, alloc, job flinklog.ID, event parser.EventRef, active bool) {
	if r.seen[alloc] {
		return
	}
	r.seen[alloc] = true
	r.Indexes.Set(key, IndexInfo{Index: -1})
	r.life[key] = [2]int{-1, -1}
	for _, t := range r.Tables {
		t.Allocate(key, job, alloc)
		if active {
			t.MarkActive(alloc)
		}
	}
	r.jobOf[alloc] = job
	r.Steps = append(r.Steps, Step{Event: event, Op: OpPrior, alloc: r.allocNo(alloc), Slot: [2]int32{int32(key), int32(key)}})
}

// resolveHolder records that alloc holds index idx (a refusal printed it);
// an id never seen allocated in a mid-story log held it before the log.
func (r *Replay) resolveHolder(i int, alloc, job flinklog.ID, idx int, pos flinklog.Pos, how string) {
	if !alloc.IsSet() || idx < 0 {
		return
	}
	r.priorSlot(i, alloc, job, pos)
	if key, ok := r.Tables[Legacy].Lookup(alloc); ok {
		r.resolve(key, idx, IndexObserved, how, pos)
	}
}

// resolve records that placeholder key is index idx. An observation
// overrides an inference; a contradiction between observations keeps the
// first and is recorded.
func (r *Replay) resolve(key, idx int, src IndexSource, how string, pos flinklog.Pos) {
	if key >= 0 {
		return
	}
	info := r.Indexes.At(key)
	if r.provisional[key] && how != "slot report" {
		// a stream's report settled it before this line: the batch has
		// this line's (and no report settles a known index)
		delete(r.provisional, key)
		if src == IndexObserved && info.Index == idx {
			r.Indexes.Set(key, IndexInfo{Index: idx, Source: src, How: how, Pos: pos})
			return
		}
		r.failStream("a line prints another index for a slot than a slot report settled before it", pos)
	}
	switch {
	case info.Index < 0 || info.Source < src:
		r.Indexes.Set(key, IndexInfo{Index: idx, Source: src, How: how, Pos: pos})
	case info.Index != idx:
		r.Conflicts = append(r.Conflicts, IndexConflict{Key: key, Index: idx, How: how, Pos: pos, Settled: info})
	}
}

// IndexConflict is a line that names another index for a slot whose index
// an earlier line settled: a slot keeps its index for life, so lines are
// missing, two processes share a log, or the table broke its own rules.
type IndexConflict struct {
	Key     int          // the slot's placeholder key
	Index   int          // the index this line names
	How     string       // what kind of line it is ("free", "slot report", …)
	Pos     flinklog.Pos // the line
	Settled IndexInfo    // what the earlier line settled
}

// step records a free, activation or submission, and a divergence when
// the models' outcomes differ: after an overwrite the legacy map has lost
// an AllocationID that the fixed table still holds.
func (r *Replay) step(st Step) {
	if st.Outcomes[Legacy] != st.Outcomes[Fixed] && !st.Skipped[Legacy] && !st.Skipped[Fixed] {
		var would string
		switch {
		case st.Outcomes[Fixed] != Accepted && st.Outcomes[Fixed] != Idempotent:
			would = fmt.Sprintf("%s %s: %s", st.Op, r.AllocOf(st), st.Outcomes[Fixed])
		case st.Op == OpFree:
			would = fmt.Sprintf("free %s's slot: its map still leads there, so no slot is left behind", r.AllocOf(st))
		case st.Op == OpActivate:
			would = fmt.Sprintf("activate %s's slot: its map still leads there", r.AllocOf(st))
		case st.Op == OpSubmit:
			would = fmt.Sprintf("accept the task into %s's slot instead of failing it with \"No task slot allocated\"", r.AllocOf(st))
		default:
			would = fmt.Sprintf("%s %s: %s", st.Op, r.AllocOf(st), st.Outcomes[Fixed])
		}
		r.diverge(st, would)
	}
	r.Steps = append(r.Steps, st)
}

func (r *Replay) diverge(st Step, fixedWould string) {
	r.Divergences = append(r.Divergences, Divergence{Step: len(r.Steps), Legacy: st.Outcomes[Legacy], Fixed: st.Outcomes[Fixed], FixedWould: fixedWould})
}

// IndexOf returns the real index of a slot key: itself when it is already an
// index, what later lines revealed or imply for a placeholder, or -1.
func (r *Replay) IndexOf(key int) int {
	if key >= 0 {
		return key
	}
	if info, ok := r.Indexes.Get(key); ok {
		return info.Index
	}
	return -1
}

// overlaps reports whether two placeholder slots were held at the same time
// in the legacy table (then their indexes differ).
func (r *Replay) overlaps(a, b int) bool {
	la, lb := r.life[a], r.life[b]
	end := func(l [2]int) int {
		if l[1] < 0 {
			return r.stepNo() + 1
		}
		return l[1]
	}
	return la[0] < end(lb) && lb[0] < end(la)
}

// inferDynamicCounter: from 1.13 a dynamic slot request gets index
// Slots + k, k counting every request that reached the table. The rule is
// only used when at least one printed index confirms it and none
// contradicts it.
func (r *Replay) inferDynamicCounter() {
	if !r.cfg.DynamicCounter || !r.cfg.FromStart || r.cfg.Slots <= 0 {
		return
	}
	var witness flinklog.Pos
	if f := r.folded; f != nil {
		// the slots of the allocations a stream let go
		if f.counterContradicted {
			return
		}
		witness = f.counterWitness
	}
	for key, ord := range r.request {
		info := r.Indexes.At(key)
		if info.Source != IndexObserved {
			continue
		}
		if info.Index != r.cfg.Slots+ord {
			return
		}
		if witness.Line == 0 || info.Pos.Less(witness) {
			witness = info.Pos
		}
	}
	if witness.Line == 0 {
		return
	}
	r.counterApplied, r.counterWitness = true, witness
	for key, ord := range r.request {
		if r.Indexes.At(key).Source == IndexUnknown {
			r.Indexes.Set(key, IndexInfo{Index: r.cfg.Slots + ord, Source: IndexInferred, How: "dynamic index counter", Pos: witness})
		}
	}
}

// inferOnlyIndexLeft: with static slots only, a slot whose index is
// unknown must hold one of [0, Slots) that no slot held at the same time
// has; when exactly one is left, that is its index. Repeated until nothing
// changes, since each inference can settle another.
func (r *Replay) inferOnlyIndexLeft() {
	if !r.cfg.StaticOnly || r.cfg.Slots <= 0 {
		return
	}
	for _, info := range r.Indexes.All() {
		if info.Index >= r.cfg.Slots {
			return // a printed index outside the static range: the premise is wrong
		}
	}
	if f := r.folded; f != nil && f.outsideStatic {
		return
	}
	keys := r.Indexes.Keys()
	if !slices.ContainsFunc(keys, func(k int) bool { return r.Indexes.At(k).Index < 0 }) {
		return // every index is known (the usual case from 1.10 on: frees print them)
	}
	near := r.heldMeanwhile(keys)
	for changed := true; changed; {
		changed = false
		for _, k := range keys {
			if r.Indexes.At(k).Index >= 0 {
				continue
			}
			taken := map[int]bool{}
			var last flinklog.Pos // the latest line that settled a taken index
			for _, o := range near(k) {
				if info := r.Indexes.At(o); o != k && info.Index >= 0 && r.overlaps(k, o) {
					taken[info.Index] = true
					if last.Less(info.Pos) {
						last = info.Pos
					}
				}
			}
			if len(taken) != r.cfg.Slots-1 {
				continue
			}
			for idx := 0; idx < r.cfg.Slots; idx++ {
				if !taken[idx] {
					r.Indexes.Set(k, IndexInfo{Index: idx, Source: IndexInferred, How: "only index left", Pos: last})
					changed = true
				}
			}
		}
	}
}

// heldMeanwhile returns, for a slot key, keys among which are all those
// whose slots overlap it (see overlaps): those held when it was created,
// and those created while it was held. Looking at every key for every
// unknown one was quadratic in a TaskManager's allocations (a month of a
// session cluster: hours); these are about as many as the slots a
// TaskManager holds at once.
func (r *Replay) heldMeanwhile(keys []int) func(k int) []int {
	born := func(k int) int { return r.life[k][0] }
	end := func(k int) int {
		if l := r.life[k]; l[1] >= 0 {
			return l[1]
		}
		return r.stepNo() + 1
	}
	byBirth := slices.Clone(keys)
	slices.SortStableFunc(byBirth, func(a, b int) int { return cmp.Compare(born(a), born(b)) })
	before := make(map[int][]int, len(keys)) // held when the key was created, created before it
	var held []int
	for i := 0; i < len(byBirth); {
		b := born(byBirth[i])
		held = slices.DeleteFunc(held, func(o int) bool { return end(o) <= b })
		j := i
		for ; j < len(byBirth) && born(byBirth[j]) == b; j++ {
			before[byBirth[j]] = slices.Clone(held)
		}
		held = append(held, byBirth[i:j]...)
		i = j
	}
	return func(k int) []int {
		lo, _ := slices.BinarySearchFunc(byBirth, born(k), func(o, b int) int { return cmp.Compare(born(o), b) })
		hi, _ := slices.BinarySearchFunc(byBirth, end(k), func(o, b int) int { return cmp.Compare(born(o), b) })
		return append(slices.Clip(before[k]), byBirth[lo:max(lo, hi)]...)
	}
}

// without returns a copy of r without the steps drop names (see
// Model.Reduced).
func (r *Replay) without(drop func(Step) bool) *Replay {
	w := *r
	w.Steps = make([]Step, 0, len(r.Steps))
	moved := make([]int, len(r.Steps))
	for si, st := range r.Steps {
		moved[si] = -1
		if drop(st) {
			continue
		}
		moved[si] = len(w.Steps)
		w.Steps = append(w.Steps, st)
	}
	w.Divergences = nil
	for _, d := range r.Divergences {
		if moved[d.Step] >= 0 {
			d.Step = moved[d.Step]
			w.Divergences = append(w.Divergences, d)
		}
	}
	return &w
}
