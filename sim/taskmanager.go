package sim

import (
	"fmt"
	"sort"
)

// tmSlot is one index of a TaskManager's slot table.
type tmSlot struct {
	state string // "" (free), ALLOCATED, ACTIVE
	at    int64  // when it was allocated
	alloc string
	job   string
	tasks int
}

// taskManager is one TaskManager host: its log file and its current process.
type taskManager struct {
	s        *sim
	f        *flavor // the version this TaskManager runs (a rolling upgrade mixes them)
	n        int
	res      string
	instance string
	file     *logFile
	skew     int64 // host clock minus true time, ms
	alive    bool
	process  int
	slots    slotTable
	byAlloc  map[string]int    // the AllocationID map: under the legacy table a plain put
	tickets  map[string]int    // allocation → slot-timeout ticket
	jobs     map[string]bool   // job → JobManager connection established
	joining  map[string]bool   // job → registration at the JobManager under way
	jmLost   map[string]bool   // job → its JobManager is unreachable from here
	attempts map[string]string // execution attempt → allocation, for running tasks
	dynamic  int               // the next dynamic slot index (>= numberOfTaskSlots, never reused)
	pods     int               // pods this host has run (Kubernetes names a replacement anew)
	oldFiles []*logFile        // the logs of pods this one replaced
}

func newTaskManager(s *sim, n int) *taskManager {
	t := &taskManager{s: s, f: s.tmFlavor, n: n}
	t.skew = int64(s.rng.IntN(3001)) - 1500 // hosts' clocks differ by up to ±1.5 s
	t.file = s.logFile(fmt.Sprintf("taskmanager-%d.log", n), true, t.skew)
	return t
}

func (t *taskManager) log(level, logger, msg string, thrown ...string) {
	t.file.add(record{at: t.s.now + t.skew, level: level, logger: logger, thread: t.f.thread(2 + t.s.rng.IntN(20)), msg: msg, thrown: thrown})
}

func (t *taskManager) slotID(i int) string { return fmt.Sprintf("%s_%d", t.res, i) }

// start runs a new process: banner, identity, registration at the RM.
func (t *taskManager) start() {
	s := t.s
	t.process++
	switch {
	case t.f.Legacy:
		t.res = s.hex() // a standalone ResourceID is random per process
	case t.f.Declarative && s.kubernetes():
		// native Kubernetes: a replacement pod gets the next number, and
		// its log is the pod's own (kubectl logs POD)
		t.pods++
		t.res = fmt.Sprintf("flink-taskmanager-1-%d", t.n+1+(t.pods-1)*s.cfg.TaskManagers)
		if !t.file.empty() {
			t.oldFiles = append(t.oldFiles, t.file)
		}
		t.file = s.logFile(t.res+".log", true, t.skew)
	case t.f.Declarative:
		// standalone >= 1.12: rpc address and port, and six hex digits per process
		t.res = fmt.Sprintf("10.0.%d.%d:%d-%s", 1+t.n/200, 10+t.n%200, 36000+t.n, s.hex()[:6])
	default:
		t.res = fmt.Sprintf("flink-taskmanager-1-%d", t.n) // a Kubernetes pod keeps its name across container restarts
	}
	t.instance = s.hex()
	t.slots = newSlotTable(s.cfg.Slots)
	t.dynamic = s.cfg.Slots
	t.byAlloc, t.tickets = map[string]int{}, map[string]int{}
	t.jobs, t.joining, t.jmLost, t.attempts = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]string{}
	t.alive = true
	lg := "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
	t.log("INFO", lg, "--------------------------------------------------------------------------------")
	t.log("INFO", lg, t.f.banner("TaskManager"))
	t.log("INFO", "org.apache.flink.configuration.GlobalConfiguration", fmt.Sprintf("Loading configuration property: taskmanager.numberOfTaskSlots, %d", s.cfg.Slots))
	// A rotated or cut log loses only what its file began with: a process
	// that starts later in the same file still names itself.
	if !s.cfg.CutBanners || t.n%2 == 0 || t.process > 1 {
		t.log("INFO", lg, "Starting TaskManager with ResourceID: "+t.res)
	}
	s.after(200+s.rng.Int64N(300), func() {
		t.log("INFO", pkgTE+"TaskExecutorToResourceManagerConnection", fmt.Sprintf("Successful registration at resource manager %s under registration id %s.", s.rmAddress(), t.instance))
		s.rm.register(t)
	})
}

// requestSlot is the RM's requestSlot RPC for index i.
func (t *taskManager) requestSlot(i int, alloc, job string, reply func(ok bool, occupant string, why []string)) {
	s, f := t.s, t.f
	if !t.alive {
		return // the RPC is lost with the process
	}
	t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Receive slot request %s for job %s from resource manager with leader id 00000000000000000000000000000000.", f.alloc(alloc), job))
	if f.Declarative {
		t.requestSlotDeclarative(i, alloc, job, reply)
		return
	}
	sl := t.slots.ptr(i)
	if sl.state != "" {
		if sl.alloc == alloc && sl.job == job {
			s.after(s.rpc(), func() { reply(true, "", nil) }) // same index, same allocation: silent success
			return
		}
		t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("The slot %s has already been allocated for a different job.", t.slotID(i)))
		occ := sl.alloc
		s.after(s.rpc(), func() {
			reply(false, occ, []string{fmt.Sprintf("org.apache.flink.runtime.taskexecutor.exceptions.SlotOccupiedException: The slot %s has already been allocated for a different job.", t.slotID(i))})
		})
		return
	}
	if prev, held := t.byAlloc[alloc]; held && prev != i {
		if !f.Legacy {
			p := t.slots.get(prev)
			t.log("INFO", f.SlotTableLogger, fmt.Sprintf("Allocation ID %s is already allocated in %s.", f.alloc(alloc), f.taskSlot(prev, p.state, alloc, p.job)))
			t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Could not allocate slot for %s.", f.alloc(alloc)))
			s.truth.expect("slot-map-overwrite", "info", alloc, t)
			s.after(s.rpc(), func() {
				reply(false, "", []string{"org.apache.flink.runtime.taskexecutor.exceptions.SlotAllocationException: Could not allocate slot."})
			})
			return
		}
		// The legacy table's plain put: the map now leads to i; prev still holds alloc.
		s.truth.expect("slot-map-overwrite", "error", alloc, t)
	}
	t.slots.set(i, tmSlot{state: "ALLOCATED", alloc: alloc, job: job})
	t.byAlloc[alloc] = i
	t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Allocated slot for %s.", f.alloc(alloc)))
	s.truth.allocated(t, i, alloc, job)
	t.armTimeout(alloc)
	s.after(s.rpc(), func() { reply(true, "", nil) })
	t.joinJob(job)
}

// joinJob registers at the job's JobManager (once) and offers the job's
// ALLOCATED slots.
func (t *taskManager) joinJob(job string) {
	s := t.s
	if t.jobs[job] {
		s.after(1+s.rng.Int64N(3), func() { t.offer(job) })
		return
	}
	if t.joining[job] {
		return
	}
	t.joining[job] = true
	t.log("INFO", t.f.JobLeaderLogger, fmt.Sprintf("Add job %s for job leader monitoring.", job))
	proc := t.process
	s.after(50+s.rng.Int64N(100), func() {
		if !t.alive || t.process != proc || !s.pool.reachable(job) || t.jmLost[job] {
			delete(t.joining, job)
			return // a gone job's leader is never found: its slots time out
		}
		t.connect(job)
	})
}

func (t *taskManager) connect(job string) {
	s := t.s
	t.log("INFO", t.f.JobLeaderLogger, fmt.Sprintf("Successful registration at job manager %s for job %s.", s.jmAddress(), job))
	t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Establish JobManager connection for job %s.", job))
	t.jobs[job] = true
	delete(t.joining, job) // not set to false: a long run joins millions of jobs
	t.offer(job)
}

// offer sends the job's ALLOCATED slots to its JobManager.
func (t *taskManager) offer(job string) {
	s := t.s
	if !t.alive || !t.jobs[job] {
		return
	}
	var offers []slotOffer
	t.slots.each(func(i int, sl *tmSlot) {
		if sl.state == "ALLOCATED" && sl.job == job {
			offers = append(offers, slotOffer{alloc: sl.alloc, index: i})
		}
	})
	if len(offers) == 0 {
		t.log("DEBUG", pkgTE+"TaskExecutor", fmt.Sprintf("There are no unassigned slots for the job %s.", job))
		return
	}
	t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Offer reserved slots to the leader of job %s.", job))
	proc := t.process
	delay := s.rpc()
	if j := s.pool.jobs[job]; j != nil && j.stallOffer {
		// the JobMaster gets to the offer only as the first slot times out
		j.stallOffer = false
		first := s.now
		for _, o := range offers {
			first = min(first, t.slots.get(o.index).at)
		}
		delay = max(delay, first+slotTimeout+1-s.now)
	}
	s.after(delay, func() {
		accepted := s.pool.offer(t, job, offers)
		s.after(s.rpc(), func() {
			if t.process != proc || !t.alive {
				return
			}
			for k, o := range offers {
				if accepted[k] {
					t.markActive(o.alloc)
				} else {
					t.freeSlot(o.alloc, "The slot was rejected by the JobManager.")
				}
			}
		})
	})
}

type slotOffer struct {
	alloc string
	index int
}

// markActive is markSlotActive through the map, for an accepted offer: it
// logs "Activate slot" whether or not a task submission already activated
// the slot (the log line precedes the state check).
func (t *taskManager) markActive(alloc string) {
	i, ok := t.byAlloc[alloc]
	if !ok {
		if t.f.Declarative {
			// the slot is gone (timed out) although the JobMaster accepted it
			t.log("DEBUG", pkgTE+"TaskExecutor", fmt.Sprintf("Could not mark slot %s active.", alloc))
			s, proc := t.s, t.process
			s.after(s.rpc(), func() {
				if t.process == proc {
					s.pool.failSlot(t, alloc)
				}
			})
		}
		return
	}
	t.log("INFO", t.f.SlotTableLogger, fmt.Sprintf("Activate slot %s.", t.f.alloc(alloc)))
	if sl := t.slots.ptr(i); sl.state == "ALLOCATED" {
		sl.state = "ACTIVE"
		delete(t.tickets, alloc)
		t.s.truth.activated(t, i)
	}
}

func (t *taskManager) armTimeout(alloc string) {
	s := t.s
	s.tickets++ // tickets are unique, so a cancelled timer never matches a later one
	t.tickets[alloc] = s.tickets
	ticket, proc := s.tickets, t.process
	s.after(slotTimeout, func() {
		if t.process != proc || !t.alive {
			return
		}
		i, ok := t.byAlloc[alloc]
		if !ok || t.tickets[alloc] != ticket || t.slots.get(i).state != "ALLOCATED" {
			return // the timeout was cancelled (activated, freed or re-armed)
		}
		t.freeSlot(alloc, fmt.Sprintf("The slot %s has timed out.", t.f.alloc(alloc)))
	})
}

// freeSlot frees the slot the map leads to; an unknown id is a no-op.
func (t *taskManager) freeSlot(alloc, cause string) {
	s, f := t.s, t.f
	t.log("DEBUG", pkgTE+"TaskExecutor", fmt.Sprintf("Free slot with allocation id %s because: %s", f.alloc(alloc), cause))
	i, ok := t.byAlloc[alloc]
	if !ok {
		t.log("DEBUG", pkgTE+"TaskExecutor", fmt.Sprintf("Could not free slot for allocation id %s.", f.alloc(alloc)),
			fmt.Sprintf("org.apache.flink.runtime.taskexecutor.slot.SlotNotFoundException: Could not find slot for %s.", f.alloc(alloc)),
			f.SlotTableLogger+".freeSlot(TaskSlotTable.java:309)")
		return
	}
	sl := t.slots.get(i)
	t.log("INFO", f.SlotTableLogger, fmt.Sprintf("Free slot %s.", f.taskSlot(i, sl.state, alloc, sl.job)))
	if cause == fmt.Sprintf("The slot %s has timed out.", f.alloc(alloc)) && !s.truth.wasActive(t, i) {
		s.truth.expect("allocation-timeout", "warning", alloc, t)
	}
	s.truth.freed(t, i)
	t.slots.clear(i)
	delete(t.byAlloc, alloc)
	delete(t.tickets, alloc)
	res := t.res
	s.after(s.rpc(), func() { s.rm.slotFreed(res, i, alloc) })
	for _, other := range t.byAlloc {
		if t.slots.get(other).job == sl.job {
			return
		}
	}
	// No AllocationID of the job is left in the map: the job is released
	// here, even if a slot the map no longer reaches still holds one.
	t.log("INFO", f.JobLeaderLogger, fmt.Sprintf("Remove job %s from job leader monitoring.", sl.job))
	if t.jobs[sl.job] {
		t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Close JobManager connection for job %s.", sl.job))
	}
	delete(t.jobs, sl.job)
}

// submitTask is the JobMaster's submitTask RPC.
func (t *taskManager) submitTask(task, attempt, alloc, job string, reply func(ok bool)) {
	s, f := t.s, t.f
	if !t.alive {
		return
	}
	i, ok := t.byAlloc[alloc]
	if !ok || t.slots.get(i).job != job {
		msg := fmt.Sprintf("No task slot allocated for job ID %s and allocation ID %s.", job, f.alloc(alloc))
		t.log("DEBUG", pkgTE+"TaskExecutor", msg, "org.apache.flink.runtime.taskexecutor.exceptions.TaskSubmissionException: "+msg,
			"org.apache.flink.runtime.taskexecutor.TaskExecutor.submitTask(TaskExecutor.java:460)")
		s.after(s.rpc(), func() { reply(false) })
		return
	}
	if f.ReceivedWithAlloc {
		t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Received task %s (%s), deploy into slot with allocation id %s.", task, attempt, f.alloc(alloc)))
	} else {
		t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Received task %s.", task))
	}
	sl := t.slots.ptr(i)
	if sl.state == "ALLOCATED" {
		sl.state = "ACTIVE"
		delete(t.tickets, alloc)
		s.truth.activated(t, i) // before 1.11 a submission activates silently
	}
	if f.ActivatePerTask {
		t.log("INFO", f.SlotTableLogger, fmt.Sprintf("Activate slot %s.", f.alloc(alloc)))
	}
	sl.tasks++
	t.attempts[attempt] = alloc
	s.after(20+s.rng.Int64N(50), func() {
		if t.alive && t.attempts[attempt] == alloc {
			t.log("INFO", "org.apache.flink.runtime.taskmanager.Task", fmt.Sprintf("%s (%s) switched from DEPLOYING to RUNNING.", task, attempt))
			if s.rng.IntN(4) == 0 {
				// user code printing to stdout, which lands in the same file
				t.file.add(record{at: s.now + t.skew, raw: true, msg: fmt.Sprintf("(order-%d,%d)", s.rng.IntN(10000), 1+s.rng.IntN(9))})
				s.truth.stdout(t.file.Name)
			}
		}
	})
	s.after(s.rpc(), func() { reply(true) })
}

// taskEnded: a task stopped (cancelled, failed or finished) in its slot.
func (t *taskManager) taskEnded(attempt, task, to string, thrown ...string) {
	alloc, ok := t.attempts[attempt]
	if !ok || !t.alive {
		return
	}
	delete(t.attempts, attempt)
	t.log("INFO", "org.apache.flink.runtime.taskmanager.Task", fmt.Sprintf("%s (%s) switched from RUNNING to %s.", task, attempt, to), thrown...)
	if i, ok := t.byAlloc[alloc]; ok && t.slots.get(i).tasks > 0 {
		t.slots.ptr(i).tasks--
	}
}

// loseJobManager: the JobManager's heartbeat times out; active slots of its
// jobs fall back to ALLOCATED with their timeout re-armed.
func (t *taskManager) loseJobManager(job string) {
	t.closeJobManager(job, fmt.Sprintf("The heartbeat of JobManager with id %s timed out.", t.s.pool.resource), true)
}

// closeJobManager closes the job's JobManager connection after the line
// that says why: its active slots fall back to ALLOCATED with their timeout
// re-armed, and its running tasks are forgotten (every job's, when the
// whole JobManager is gone).
func (t *taskManager) closeJobManager(job, why string, everyJob bool) {
	t.log("INFO", pkgTE+"TaskExecutor", why)
	t.log("INFO", pkgTE+"TaskExecutor", fmt.Sprintf("Close JobManager connection for job %s.", job))
	delete(t.jobs, job)
	t.jmLost[job] = true
	for _, alloc := range sortedKeys(t.byAlloc) {
		i := t.byAlloc[alloc]
		if sl := t.slots.ptr(i); sl.job == job && sl.state == "ACTIVE" {
			sl.state, sl.tasks = "ALLOCATED", 0
			t.armTimeout(alloc)
		}
	}
	for _, a := range sortedKeys(t.attempts) {
		if i, ok := t.byAlloc[t.attempts[a]]; everyJob || !ok || t.slots.get(i).job == job {
			delete(t.attempts, a)
		}
	}
}

// regainJobManager: the JobManager is reachable again; the TaskManager
// registers and re-offers the job's slots.
func (t *taskManager) regainJobManager(job string) {
	delete(t.jmLost, job)
	if t.alive && len(t.jobSlots(job)) > 0 {
		t.log("INFO", t.f.JobLeaderLogger, fmt.Sprintf("Try to register at job manager %s with leader id %s.", t.s.jmAddress(), uuid(t.s)))
		t.connect(job)
	}
}

// jobSlots are the indexes holding the job's allocations, mapped or not.
func (t *taskManager) jobSlots(job string) []int {
	var out []int
	t.slots.each(func(i int, sl *tmSlot) {
		if sl.state != "" && sl.job == job {
			out = append(out, i)
		}
	})
	sort.Ints(out)
	return out
}

// report is the slot report sent with every heartbeat.
func (t *taskManager) report() []reportSlot {
	out := make([]reportSlot, 0, t.slots.size())
	t.slots.each(func(i int, sl *tmSlot) {
		switch {
		case sl.state != "":
			out = append(out, reportSlot{index: i, alloc: sl.alloc, job: sl.job})
		case i < t.s.cfg.Slots:
			out = append(out, reportSlot{index: i}) // a free static slot; freed dynamic ones are gone
		}
	})
	return out
}

// kill ends the process without a word (OOM-killed), and the next one
// starts after a while.
func (t *taskManager) kill(restartAfter int64) {
	s := t.s
	s.truth.processEnded(t)
	t.alive = false
	s.rm.lost(t)
	s.pool.tmLost(t)
	s.after(restartAfter, t.start)
}

func uuid(s *sim) string {
	h := s.hex()
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
