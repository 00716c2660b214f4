package sim

import (
	"sort"
	"strings"
)

// Truth is what really happened in a simulated incident: the configuration
// that reproduces it, the findings a correct audit reports, each TaskManager
// process's final slot table and every allocation's slots.
type Truth struct {
	Seed         uint64            `json:"seed"`
	Flink        string            `json:"flink_version"`
	TMFlink      string            `json:"taskmanager_flink_version,omitempty"`
	Injected     []string          `json:"injected"`
	Debug        bool              `json:"debug"`
	Format       string            `json:"format"`
	Layout       string            `json:"layout"`
	TaskManagers int               `json:"taskmanagers"`
	Slots        int               `json:"slots"`
	Jobs         int               `json:"jobs"`
	Failovers    int               `json:"failovers"`
	Minutes      int               `json:"minutes,omitempty"`
	Findings     []TruthFinding    `json:"findings"`
	Processes    []TruthProcess    `json:"processes"`
	Allocations  []TruthAllocation `json:"allocations"`
	// StdoutLines counts the lines of user-code output per file: stray
	// lines a reader must account for without taking them for records.
	StdoutLines map[string]int `json:"stdout_lines,omitempty"`
}

// TruthFinding is one finding a correct audit reports.
type TruthFinding struct {
	Rule         string `json:"rule"`
	Severity     string `json:"severity"`
	AllocationID string `json:"allocation_id,omitempty"`
	TaskManager  string `json:"resource_id,omitempty"`
}

// TruthProcess is one TaskManager process and its table when it ended.
type TruthProcess struct {
	ResourceID string      `json:"resource_id"`
	File       string      `json:"file"`
	Process    int         `json:"process"` // 1 for the first process of the host
	Slots      []TruthSlot `json:"slots"`
}

// TruthSlot is one held index of a final table.
type TruthSlot struct {
	Index        int    `json:"index"`
	AllocationID string `json:"allocation_id"`
	JobID        string `json:"job_id"`
	State        string `json:"state"`
	Zombie       bool   `json:"zombie,omitempty"`
}

// TruthAllocation is where one AllocationID was held.
type TruthAllocation struct {
	AllocationID string `json:"allocation_id"`
	JobID        string `json:"job_id"`
	ResourceID   string `json:"resource_id"`
	Indexes      []int  `json:"indexes"`
}

type truthBuilder struct {
	s        *sim
	findings []TruthFinding
	at       []int64 // true time of each finding, to fold repeats as audit does
	procs    []TruthProcess
	allocs   *allocStore
	active   map[activeKey]bool
	stdouts  map[string]int
}

type activeKey struct {
	t       *taskManager
	process int
	index   int
	alloc   string
}

func newTruth(s *sim) *truthBuilder {
	return &truthBuilder{s: s, allocs: newAllocStore(s.cfg.CreateTruth != nil, s.cfg.CreateTemp), active: map[activeKey]bool{}, stdouts: map[string]int{}}
}

// sameFailure folds repeats of one failure within this window, as audit does.
const sameFailure = 5000

// expect records a finding a correct audit must report.
func (b *truthBuilder) expect(rule, severity, alloc string, t *taskManager) {
	res := ""
	if t != nil {
		res = t.res
	}
	f := TruthFinding{Rule: rule, Severity: severity, AllocationID: alloc, TaskManager: res}
	if rule == "task-without-slot" || rule == "no-resource-available" {
		for k := len(b.findings) - 1; k >= 0; k-- {
			if b.findings[k].Rule == rule && b.findings[k].AllocationID == alloc && b.s.now-b.at[k] <= sameFailure {
				b.at[k] = b.s.now
				return
			}
		}
	}
	b.findings = append(b.findings, f)
	b.at = append(b.at, b.s.now)
}

// retag turns an expected finding about alloc into another rule's.
func (b *truthBuilder) retag(alloc, from, to, severity string) {
	for k := range b.findings {
		if f := &b.findings[k]; f.Rule == from && f.AllocationID == alloc {
			f.Rule, f.Severity = to, severity
		}
	}
}

// allocated records that t allocated index i to alloc for job. An
// AllocationID allocated again (a retried request, the legacy overwrite)
// keeps the job and TaskManager of its first allocation and gains an index.
func (b *truthBuilder) allocated(t *taskManager, i int, alloc, job string) {
	b.allocs.add(alloc, job, t.res, i)
}

func (b *truthBuilder) stdout(file string) { b.stdouts[file]++ }

func (b *truthBuilder) activated(t *taskManager, i int) {
	b.active[activeKey{t, t.process, i, t.slots.get(i).alloc}] = true
}

// freed forgets that slot i of t was active once it is freed, so that
// what is remembered is what is held, not every allocation of a long run.
func (b *truthBuilder) freed(t *taskManager, i int) {
	delete(b.active, activeKey{t, t.process, i, t.slots.get(i).alloc})
}

func (b *truthBuilder) wasActive(t *taskManager, i int) bool {
	return b.active[activeKey{t, t.process, i, t.slots.get(i).alloc}]
}

// zombies are the slots of t's table the map no longer leads to.
func zombies(t *taskManager) []int {
	var out []int
	t.slots.each(func(i int, sl *tmSlot) {
		if sl.state != "" && t.byAlloc[sl.alloc] != i {
			out = append(out, i)
		}
	})
	return out
}

// noResource: a job could not get its slots; an error when zombies hold
// slots at that moment, else a warning.
func (b *truthBuilder) noResource() {
	sev := "warning"
	for _, t := range b.s.tms {
		if t.alive && len(zombies(t)) > 0 {
			sev = "error"
		}
	}
	b.expect("no-resource-available", sev, "", nil)
}

// processEnded records a process's final table and its zombies.
func (b *truthBuilder) processEnded(t *taskManager) {
	p := TruthProcess{ResourceID: t.res, File: t.file.Name, Process: t.process, Slots: []TruthSlot{}}
	z := map[int]bool{}
	for _, i := range zombies(t) {
		z[i] = true
		b.expect("zombie-slot", "error", t.slots.get(i).alloc, t)
	}
	t.slots.each(func(i int, sl *tmSlot) {
		if sl.state != "" {
			p.Slots = append(p.Slots, TruthSlot{Index: i, AllocationID: sl.alloc, JobID: sl.job, State: sl.state, Zombie: z[i]})
		}
	})
	b.procs = append(b.procs, p)
}

// build returns the truth; its allocations only when they are not to be
// streamed into the truth's file (Config.CreateTruth).
func (b *truthBuilder) build() (Truth, error) {
	s := b.s
	for _, t := range s.tms {
		if t.alive {
			b.processEnded(t)
		}
	}
	tr := Truth{Seed: s.cfg.Seed, Flink: s.cfg.Flink, TMFlink: s.cfg.TMFlink, Injected: append([]string{}, s.cfg.Inject...), Debug: s.cfg.Debug, Format: s.cfg.Format,
		Layout: s.cfg.Layout, TaskManagers: s.cfg.TaskManagers, Slots: s.cfg.Slots, Jobs: s.cfg.Jobs, Failovers: s.cfg.Failovers, Minutes: s.cfg.Minutes,
		Findings: []TruthFinding{}, Processes: b.procs, Allocations: []TruthAllocation{}, StdoutLines: map[string]int{}}
	for file, n := range b.stdouts {
		if s.cfg.Format == "json" {
			file = strings.TrimSuffix(file, ".log") + ".json"
		}
		tr.StdoutLines[file] = n
	}
	for _, f := range b.findings {
		if f.Rule == "allocation-timeout" && !s.cfg.Debug && f.Severity == "warning" {
			f.Severity = "info" // the cause is logged only at DEBUG
		}
		tr.Findings = append(tr.Findings, f)
	}
	if s.cfg.CreateTruth == nil {
		err := b.allocs.each(func(a TruthAllocation) error {
			tr.Allocations = append(tr.Allocations, a)
			return nil
		})
		if err != nil {
			return tr, err
		}
	}
	sort.SliceStable(tr.Processes, func(i, j int) bool {
		if tr.Processes[i].File != tr.Processes[j].File {
			return tr.Processes[i].File < tr.Processes[j].File
		}
		return tr.Processes[i].Process < tr.Processes[j].Process
	})
	return tr, nil
}
