package reconstruct

import (
	"io"
	"sync"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// Model is everything reconstructed from one read: per-TaskManager replays
// and per-AllocationID timelines. Events are named by parser.EventRef.
type Model struct {
	Result       *parser.Result
	TaskManagers []*TaskManager
	Allocations  []*Allocation
	// allocationOf indexes Allocations by ID (see Allocation)
	allocationOf *allocIndex
	// inputAt indexes Result.Inputs by file (see inputOf)
	inputAt map[int32]int
	// Skew is the clock offset (nanoseconds) added to an input's times
	// when ordering it against other inputs, with the pair that forced it.
	Skew map[int32]Skew
	// Rank is every event's place in the merged order of all inputs,
	// indexed by EventRef.
	Rank []int32
	// Stages are Build's steps and how long each took, in the order
	// they ended: for diagnostics (--log-level debug), never an output.
	Stages []Stage
	// Folded counts the allocations a fold dropped at their close
	// (Assemble): counted among the input's allocations, not kept.
	Folded int
	// FoldedTimelines, when a fold was asked for them, are the timelines
	// of the allocations it let go (an output that lists every one).
	FoldedTimelines FoldedTimelines
	// Compared, when a fold was asked for every slot report compared,
	// holds them (Process.SetCompared): the caller closes it.
	Compared io.Closer
	// Charts, when a fold was asked for them, are each TaskManager's
	// periods of occupancy under the tables the HTML report draws, walked
	// as the fold replayed; AlignedEnd, the latest time of every line, on
	// the aligned clock, by clock (the end of the evidence).
	Charts     map[*TaskManager][]*Chart
	AlignedEnd map[flinklog.TimeKind]int64
	// unlogged: a fold's count of the TaskManagers named without a log
	// (UnloggedTaskManagers)
	unlogged []Unlogged
	// lastTM: each input's last TaskManager event's time, where the read
	// kept not every event (SkeletonWith): whether a rotated log's file
	// continues another's process is decided by it
	lastTM map[int32]flinklog.Time
	// rotatedNames: the inputs whose TaskManager lines before their first
	// banner take the ResourceID of a rotated sibling (RotatedNames)
	rotatedNames map[int32]string
}

// Skeleton is what a fold needs of the model of its first read (a read
// that kept little but the meta lines and the lines the tables' choice
// rests on): the TaskManagers, their processes and the config and table
// of each, and the skew, as Build makes them — without the allocations,
// the merged order or the replays, which such a read cannot give.
func Skeleton(res *parser.Result) *Model { return SkeletonWith(res, nil) }

// SkeletonWith is Skeleton where the read kept only some of the
// TaskManager events: lastTM gives each TaskManager input's last event's
// time (a rotated log's newer file continues the older one's process when
// it begins no earlier than that), which the events kept may not hold.
func SkeletonWith(res *parser.Result, lastTM map[int32]flinklog.Time) *Model {
	m := &Model{Result: res, Skew: map[int32]Skew{}, lastTM: lastTM}
	m.indexInputs()
	m.joinRotatedIdentities()
	m.estimateSkew()
	m.groupProcesses()
	m.assignReports()
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			m.configure(p)
		}
	}
	return m
}

// Strip lets go of everything but the TaskManagers' processes — their
// input, config and the table each ran — and the skew, and makes res (a
// read of the same inputs) the model's read: what a fold keeps of the
// model of its first read (its skeleton) while it reads the inputs again.
// (The skew's lines are then no longer in the read: Skew.Because and
// Skew.Relative name nothing.)
func (m *Model) Strip(res *parser.Result) {
	m.Result, m.Rank, m.Allocations, m.allocationOf = res, nil, nil, nil
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			p.Events, p.Replay, p.reports = nil, nil, nil
			p.Config.Probes = nil // (a fold's stream takes them as they come)
		}
	}
}

// AllocationCount is how many allocations the input holds: those of the
// model and those a fold dropped.
func (m *Model) AllocationCount() int { return len(m.Allocations) + m.Folded }

// Assemble puts a model together from what a fold kept (package fold): a
// read of the events kept (parser.Result.WithEvents), their ranks in the
// merged order of every event, the skew, the TaskManagers and their
// processes (events and replays in res's refs), the allocations kept
// (events sorted by rank, in the order of their first), and how many
// allocations were dropped. It gives each allocation the slots it held,
// as Build does. unlogged is the fold's count of the TaskManagers named
// without a log (UnloggedCounter).
func Assemble(res *parser.Result, rank []int32, skew map[int32]Skew, tms []*TaskManager, allocs []*Allocation, folded int, unlogged []Unlogged) *Model {
	m := &Model{Result: res, Rank: rank, Skew: skew, TaskManagers: tms, Allocations: allocs, Folded: folded, unlogged: unlogged}
	if m.unlogged == nil {
		m.unlogged = []Unlogged{}
	}
	m.indexInputs()
	m.allocationOf = newAllocIndex(len(allocs))
	for _, a := range allocs {
		m.allocationOf.add(a)
	}
	m.collectHeld()
	return m
}

// Skew is an estimated clock offset of one input against the
// ResourceManager's: the smallest shift that puts every TaskManager receipt
// of a slot request after the ResourceManager's request of it.
type Skew struct {
	Offset   int64
	Because  parser.EventRef // the TM event that was early
	Relative parser.EventRef // the RM event it had to follow
}

// TaskManager is one TaskManager (by ResourceID) and its processes: a
// restart (a new banner in the same input) starts a new, empty slot table.
type TaskManager struct {
	Resource  string
	Processes []*Process
}

// Process is one TaskManager JVM's events and their replay.
type Process struct {
	Input  int32             // the input (Files index) its events come from
	Events []parser.EventRef // in log order
	Replay *Replay
	Config Config
	// the slot reports compared with its table, in Config.Probes order
	// (see Report)
	reports reportSource
	// compared: every report compared, as a fold wrote them out
	// (SetCompared); nil: the replay's checks are all there
	compared ComparedLog
	// prefix: the table at a time, replayed by a fold (SetPrefix)
	prefix *prefixReplay
	// Runs is the slot table the TaskManager really ran; RunsWhy says how
	// that is known ("refusal line", "version 1.6.2", "assumed: …").
	Runs    Semantics
	RunsWhy string
	RunsPos flinklog.Pos // the line that shows it, when one does
}

// SlotReport returns the slot report that the process's probe k is (it
// may be a repeat).
func (p *Process) SlotReport(k int) parser.EventRef { return p.reports.Report(k) }

// Allocation is one AllocationID's timeline across TaskManager,
// ResourceManager and JobManager.
type Allocation struct {
	ID       flinklog.ID
	Job      flinklog.ID
	Resource string            // the TaskManager that held it, when known
	Events   []parser.EventRef // ordered (see Build)
	// Held are the slots it occupied on TaskManagers whose log is in the
	// input, in the table each process ran, oldest first.
	Held []Held
}

// Held is one slot an AllocationID occupied in a TaskManager process's
// table. Under the legacy table one AllocationID can hold several at once.
//
// (The fields are in the order that packs them tightest: one is kept for
// every allocation of a TaskManager whose log is given.)
type Held struct {
	Resource string // the TaskManager's ResourceID
	Process  *Process
	Index    IndexInfo
	Key      int // the slot's key in the process's replayed tables (see Replay.Indexes)
	// Allocated is the event that created the slot; for a slot held
	// before a mid-story log begins, the first line that shows it.
	Allocated parser.EventRef
	// Freed is the event that freed it, -1 while it is held at the end of
	// the log.
	Freed parser.EventRef
	// Replaced is the first event of the next process of the same
	// TaskManager when the slot was still held as this one ended (the
	// restart dropped it), else -1.
	Replaced parser.EventRef
	Prior    bool // held before the log begins
	Zombie   bool // held at the end, but the AllocationID map no longer leads to it
}

// Build reconstructs the model from a read.
func Build(res *parser.Result) *Model {
	m := &Model{Result: res, Skew: map[int32]Skew{}}
	began := time.Now()
	var mu sync.Mutex
	timed := func(name string, step func()) func() {
		return func() {
			t := time.Now()
			step()
			mu.Lock()
			m.Stages = append(m.Stages, Stage{Name: name, Began: t.Sub(began), Took: time.Since(t)})
			mu.Unlock()
		}
	}
	// The joins that rename events (rotated logs' ResourceIDs) come
	// first. From there on the events are only read, and each step that
	// fills its own fields of the model starts as soon as what it reads
	// is made: on an allocation-dense read each walks millions of events.
	// The replays need the skew (to place slot reports) and the
	// processes, not the merged order; gathering the allocations' events
	// needs neither. Run one after another, they kept a core idle for a
	// third of the model's time.
	timed("identities", func() {
		m.indexInputs()
		m.joinRotatedIdentities()
	})()
	var skewed, collected, ordered sync.WaitGroup
	skewed.Go(timed("skew", m.estimateSkew))                 // Skew
	collected.Go(timed("allocations", m.collectAllocations)) // Allocations, their events in read order
	timed("processes", m.groupProcesses)()                   // TaskManagers and their processes
	skewed.Wait()
	ordered.Go(timed("order", m.order))   // Rank
	timed("replays", m.replayProcesses)() // each process's Config and Replay
	ordered.Wait()
	collected.Wait()
	timed("sort", m.sortAllocations)()
	timed("held", m.collectHeld)()
	return m
}

// Stage is one step of Build and when it ran, from Build's start: steps
// run side by side, so their times add up to more than Build's.
type Stage struct {
	Name        string
	Began, Took time.Duration
}
