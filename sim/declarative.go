package sim

import (
	"fmt"
	"strings"
)

// The declarative protocol of Flink 1.13-2.x (../shared/flink-log-catalogue.md
// §5.3, §6.2): the JobMaster's slot pool declares how many slots each job
// needs; the ResourceManager's slot manager (DeclarativeSlotManager up to
// 1.17, FineGrainedSlotManager from 1.18) assigns slots to the missing ones,
// minting a fresh AllocationID for every assignment; the TaskManager
// allocates and offers; the pool matches each offer to an outstanding
// requirement or rejects it. The TaskManager's table is the fixed one.

// kubernetes: TaskManagers are native Kubernetes pods named by the
// cluster, replaced under a new name when one dies.
func (s *sim) kubernetes() bool { return s.cfg.Deployment == "kubernetes" }

func (s *sim) rmAddress() string {
	if !s.f.Declarative {
		return "akka.tcp://flink@jobmanager:6123/user/resourcemanager"
	}
	return s.f.rpcScheme() + "://flink@jobmanager:6123/user/rpc/resourcemanager_0"
}

func (s *sim) jmAddress() string {
	if !s.f.Declarative {
		return "akka.tcp://flink@jobmanager:6123/user/jobmanager_1"
	}
	return fmt.Sprintf("%s://flink@jobmanager:6123/user/rpc/jobmanager_%d", s.f.rpcScheme(), 2+s.pool.leader)
}

// tmAddress is a TaskManager's RPC address as the ResourceManager prints it.
func (t *taskManager) address() string {
	if !t.f.Declarative {
		return fmt.Sprintf("akka.tcp://flink@worker-%d:36717/user/taskmanager_0", t.n)
	}
	host := t.res
	if i := strings.LastIndexByte(host, ':'); i > 0 && !t.s.kubernetes() {
		host = host[:i]
	}
	return fmt.Sprintf("%s://flink@%s:6122/user/rpc/taskmanager_0", t.f.rpcScheme(), host)
}

// location is a TaskManagerLocation as the JobMaster prints it.
func (t *taskManager) location() string {
	return fmt.Sprintf("%s @ worker-%d (dataPort=41235)", t.res, t.n)
}

// requestSlotDeclarative is TaskExecutor.requestSlot on the fixed table of
// 1.13-2.x, for static index i or, with dynamic slots, i < 0.
func (t *taskManager) requestSlotDeclarative(i int, alloc, job string, reply func(ok bool, occupant string, why []string)) {
	s, f := t.s, t.f
	te := pkgTE + "TaskExecutor"
	idx := i
	if idx < 0 {
		// the table takes the next dynamic index before it looks for a
		// duplicate: a repeated request leaves a gap
		idx = t.dynamic
		t.dynamic++
	}
	if prev, held := t.byAlloc[alloc]; held {
		p := t.slots.get(prev)
		accepted := p.job == job && (i < 0 || i == prev)
		switch {
		case f.Version == "2.1.0" && accepted:
			t.log("INFO", f.SlotTableLogger, fmt.Sprintf("Slot with allocationId %s already exist, with resource profile %s, job id %s and index %d. The required index is %d. No further allocation necessary.", alloc, f.TMProfile, p.job, prev, idx))
		case f.Version != "2.1.0":
			t.log("INFO", f.SlotTableLogger, fmt.Sprintf("Slot with allocationId %s already exist, with resource profile %s, job id %s and index %d. The required index is %d.", alloc, f.TMProfile, p.job, prev, idx))
		}
		if accepted {
			if !f.Dynamic {
				// 1.13-1.17: the TaskExecutor logs the allocation although nothing new was made
				t.log("INFO", te, fmt.Sprintf("Allocated slot for %s.", alloc))
			}
			s.after(s.rpc(), func() { reply(true, "", nil) })
			return
		}
		exc := []string{"org.apache.flink.runtime.taskexecutor.exceptions.SlotAllocationException: Could not allocate slot.", pkgTE + "TaskExecutor.allocateSlot(TaskExecutor.java:1204)"}
		if f.Version == "2.1.0" {
			exc[0] = fmt.Sprintf("org.apache.flink.runtime.taskexecutor.exceptions.SlotAllocationException: A slot with allocationId %s and resource profile %s is already assigned to job %s with subtask index %d.", alloc, f.TMProfile, p.job, prev)
		} else {
			t.log("INFO", te, fmt.Sprintf("Could not allocate slot for %s.", alloc))
		}
		if versionMinor(f.Version) >= 115 {
			t.log("DEBUG", te, fmt.Sprintf("Could not allocate slot for allocation id %s.", alloc), exc...)
		}
		if f.Version != "2.1.0" || s.cfg.Debug {
			// 2.1 says it only in the DEBUG line's exception
			s.truth.expect("slot-map-overwrite", "info", alloc, t)
		}
		s.after(s.rpc(), func() { reply(false, "", exc) })
		return
	}
	if i >= 0 && t.slots.get(i).state != "" {
		t.log("INFO", te, fmt.Sprintf("The slot %s has already been allocated for a different job.", t.slotID(i)))
		occ := t.slots.get(i).alloc
		s.after(s.rpc(), func() {
			reply(false, occ, []string{fmt.Sprintf("org.apache.flink.runtime.taskexecutor.exceptions.SlotOccupiedException: The slot %s has already been allocated for a different job.", t.slotID(i))})
		})
		return
	}
	t.slots.set(idx, tmSlot{state: "ALLOCATED", alloc: alloc, job: job, at: s.now})
	t.byAlloc[alloc] = idx
	if f.Dynamic {
		t.log("INFO", f.SlotTableLogger, fmt.Sprintf("Allocated slot for %s with resources %s.", alloc, f.TMProfile))
	} else {
		t.log("INFO", te, fmt.Sprintf("Allocated slot for %s.", alloc))
	}
	s.truth.allocated(t, idx, alloc, job)
	t.armTimeout(alloc)
	s.after(s.rpc(), func() { reply(true, "", nil) })
	t.joinJob(job)
}

// --- the ResourceManager's declarative slot manager

// rmJob is what the slot manager knows of a job: the slots it requires.
type rmJob struct {
	id       string
	required int
}

func (r *resourceManager) job(id string) *rmJob {
	for _, j := range r.jobs {
		if j.id == id {
			return j
		}
	}
	j := &rmJob{id: id}
	r.jobs = append(r.jobs, j)
	return j
}

// forget drops an ended job from the slot manager's jobs, which every
// check walks: a long run ends millions. A new slice, as a caller may be
// ranging over the old one.
func (r *resourceManager) forget(id string) {
	kept := make([]*rmJob, 0, len(r.jobs))
	for _, j := range r.jobs {
		if j.id != id {
			kept = append(kept, j)
		}
	}
	r.jobs = kept
}

// requirements is the JobMaster's declareRequiredResources.
func (r *resourceManager) requirements(jobID string, n int) {
	s, f := r.s, r.s.f
	j := r.job(jobID)
	if n == 0 {
		if j.required > 0 {
			s.jmLog("INFO", f.SlotManagerLogger, fmt.Sprintf("Clearing resource requirements of job %s", jobID))
		}
		j.required = 0
		if s.pool.jobs[jobID] == nil {
			r.forget(jobID) // the job has ended: it requires nothing again
		}
		return
	}
	s.jmLog("INFO", f.SlotManagerLogger, fmt.Sprintf("Received resource requirements from job %s: [ResourceRequirement{resourceProfile=%s, numberOfRequiredSlots=%d}]", jobID, f.JMProfile, n))
	j.required = n
	r.check()
}

// held counts the slots the slot manager has given each job (pending or
// allocated), in one walk of the slots rather than one per job.
func (r *resourceManager) held() map[string]int {
	n := make(map[string]int, len(r.jobs))
	for _, rt := range r.tms {
		for _, sl := range rt.slots {
			if sl.state != rmFree {
				n[sl.job]++
			}
		}
	}
	return n
}

// check assigns free slots to the jobs whose requirements are not met,
// each under a fresh AllocationID, and says so when it cannot.
func (r *resourceManager) check() {
	s, f := r.s, r.s.f
	// what each job holds, counted before any is given more: a job is
	// given slots only for itself, so the others' counts stay right
	held := r.held()
	if f.Dynamic {
		r.matchingBlock(held)
	}
	for _, j := range r.jobs {
		missing := j.required - held[j.id]
		for ; missing > 0; missing-- {
			rt, idx := r.freeSlot()
			if rt == nil {
				break
			}
			alloc := s.hex()
			req := &rmRequest{alloc: alloc, job: j.id, tm: rt, index: idx}
			rt.slots[idx] = rmSlot{state: rmPending, alloc: alloc, job: j.id, req: req}
			t, proc := rt.tm, rt.tm.process
			tmIndex := idx
			if f.Dynamic {
				tmIndex = -1
				s.jmLog("INFO", pkgRM+"slotmanager.DefaultSlotStatusSyncer", fmt.Sprintf("Starting allocation of slot %s from %s for job %s with resource profile %s.", alloc, t.res, j.id, f.TMProfile))
			} else {
				s.jmLog("DEBUG", f.SlotManagerLogger, fmt.Sprintf("Starting allocation of slot %s for job %s with resource profile %s.", t.slotID(idx), j.id, f.TMProfile))
			}
			delay := s.rpc() + r.delay(alloc, rt, idx)
			s.after(delay, func() {
				if t.process != proc || !t.alive {
					// the TaskManager is gone: the ask times out
					s.after(rpcTimeout-delay, func() {
						r.answerDeclarative(rt, req, false, "", []string{fmt.Sprintf("java.util.concurrent.TimeoutException: Invocation of [RemoteRpcInvocation(TaskExecutorGateway.requestSlot(SlotID, JobID, AllocationID, ResourceProfile, String, ResourceManagerId, Time))] at recipient [%s] timed out. This is usually caused by: 1) Flink's %s RPC system is overloaded 2) The recipient is not reachable", t.address(), map[bool]string{true: "Pekko", false: "Akka"}[f.Pekko])})
					})
					return
				}
				t.requestSlot(tmIndex, alloc, j.id, func(ok bool, occupant string, why []string) {
					r.answerDeclarative(rt, req, ok, occupant, why)
				})
			})
		}
		if missing > 0 && !r.workerPending() && s.now >= startupPeriod {
			if f.Dynamic {
				s.jmLog("WARN", f.SlotManagerLogger, fmt.Sprintf("Could not fulfill resource requirements of job %s.", j.id))
			} else if f.DSMInfo {
				s.jmLog("WARN", f.SlotManagerLogger, fmt.Sprintf("Could not fulfill resource requirements of job %s. Free slots: %d", j.id, r.freeCount()))
			} else {
				s.jmLog("WARN", f.SlotManagerLogger, fmt.Sprintf("Could not fulfill resource requirements of job %s.", j.id))
			}
			jobID := j.id
			s.after(s.rpc(), func() { s.pool.notEnoughResources(jobID) })
		}
	}
}

func (r *resourceManager) freeCount() int {
	n := 0
	for _, rt := range r.tms {
		if rt.tm == nil || !rt.tm.alive {
			continue
		}
		for _, sl := range rt.slots {
			if sl.state == rmFree {
				n++
			}
		}
	}
	return n
}

// startupPeriod is resourcemanager.standalone.start-up-time (by default
// slot.request.timeout): until it has passed, the slot manager waits for
// TaskManagers to register instead of telling JobMasters that their
// requirements cannot be met.
const startupPeriod = requestTimeout

// workerPending: a replacement pod has been requested and not registered yet.
func (r *resourceManager) workerPending() bool { return r.pendingWorkers > 0 }

// answerDeclarative handles the TaskManager's reply to requestSlot. A
// failed attempt frees the slot; the next check mints a new AllocationID.
func (r *resourceManager) answerDeclarative(rt *rmTM, req *rmRequest, ok bool, occupant string, why []string) {
	s, f := r.s, r.s.f
	idx := req.index
	if rt.slots == nil || idx >= len(rt.slots) || rt.slots[idx].req != req {
		return // the attempt was given up (the TaskManager left, the job ended)
	}
	sl := &rt.slots[idx]
	if ok {
		sl.state, sl.req = rmAllocated, nil
		return
	}
	if f.Dynamic {
		s.jmLog("WARN", pkgRM+"slotmanager.DefaultSlotStatusSyncer", fmt.Sprintf("Slot allocation for allocation %s for job %s failed.", req.alloc, req.job), why...)
	} else if occupant != "" {
		s.jmLog("DEBUG", f.SlotManagerLogger, fmt.Sprintf("Tried allocating slot %s for job %s, but it was already allocated for job %s.", rt.tm.slotID(idx), req.job, "unknown"))
	} else {
		s.jmLog("WARN", f.SlotManagerLogger, fmt.Sprintf("Slot allocation for slot %s for job %s failed.", rt.tm.slotID(idx), req.job), why...)
	}
	*sl = rmSlot{}
	if occupant != "" {
		*sl = rmSlot{state: rmAllocated, alloc: occupant}
	}
	r.check()
}

// slotFreedDeclarative is the TaskManager's notifySlotAvailable.
func (r *resourceManager) slotFreedDeclarative(res, alloc string) {
	s, f := r.s, r.s.f
	rt := r.byRes(res)
	if rt == nil {
		return
	}
	for i := range rt.slots {
		if sl := &rt.slots[i]; sl.state != rmFree && sl.alloc == alloc {
			if f.Dynamic {
				s.jmLog("INFO", pkgRM+"slotmanager.DefaultSlotStatusSyncer", fmt.Sprintf("Freeing slot %s.", alloc))
			} else {
				s.jmLog("DEBUG", f.SlotManagerLogger, fmt.Sprintf("Freeing slot %s.", rt.tm.slotID(i)))
			}
			*sl = rmSlot{}
			r.check()
			return
		}
	}
}

// slotReportDeclarative reconciles the slot manager's view with a report:
// an allocation it no longer sees is freed, one it did not know is taken.
func (r *resourceManager) slotReportDeclarative(rt *rmTM, report []reportSlot) {
	s, f := r.s, r.s.f
	logger := f.SlotManagerLogger
	if f.Dynamic {
		logger = pkgRM + "slotmanager.DefaultSlotStatusSyncer"
	}
	msg := "" // the longest record, and only ever written at DEBUG
	if s.cfg.Debug {
		msg = fmt.Sprintf("Received slot report from instance %s: %s.", rt.tm.instance, f.slotReport(rt.res, report))
	}
	s.jmLog("DEBUG", logger, msg)
	reported := map[string]bool{}
	for _, rep := range report {
		if rep.alloc != "" {
			reported[rep.alloc] = true
		}
	}
	changed := false
	for i := range rt.slots {
		sl := &rt.slots[i]
		if sl.state == rmAllocated && !reported[sl.alloc] {
			if f.Dynamic {
				s.jmLog("INFO", pkgRM+"slotmanager.DefaultSlotStatusSyncer", fmt.Sprintf("Freeing slot %s by slot report.", sl.alloc))
			}
			*sl = rmSlot{}
			changed = true
		}
		if sl.state != rmFree {
			delete(reported, sl.alloc)
		}
	}
	for _, rep := range report {
		if !reported[rep.alloc] {
			continue
		}
		// held on the TaskManager but unknown here: take a free unit for it
		for i := range rt.slots {
			if rt.slots[i].state == rmFree && (f.Dynamic || i == rep.index) {
				rt.slots[i] = rmSlot{state: rmAllocated, alloc: rep.alloc, job: rep.job}
				break
			}
		}
	}
	if changed {
		r.check()
	}
}

// tmLostDeclarative: the ResourceManager's heartbeat with a TaskManager
// timed out: the connection is closed and its slots leave the view.
func (r *resourceManager) heartbeatLost(res string, t *taskManager) {
	s, f := r.s, r.s.f
	rt := r.byRes(res)
	if rt == nil || rt.slots == nil {
		return
	}
	msg := fmt.Sprintf("The heartbeat of TaskManager with id %s timed out.", res)
	s.jmLog("INFO", r.logger, msg)
	s.jmLog("INFO", r.logger, fmt.Sprintf("Closing TaskExecutor connection %s because: %s", res, msg))
	level := "DEBUG"
	if f.Dynamic || versionMinor(f.Version) >= 114 && strings.HasSuffix(f.SlotManagerLogger, "FineGrainedSlotManager") {
		level = "INFO"
	}
	s.jmLog(level, f.SlotManagerLogger, fmt.Sprintf("Unregistering task executor %s from the slot manager.", rt.instance))
	if f.Dynamic {
		for _, sl := range rt.slots {
			if sl.state != rmFree {
				s.jmLog("INFO", pkgRM+"slotmanager.DefaultSlotStatusSyncer", fmt.Sprintf("Freeing slot %s.", sl.alloc))
			}
		}
	}
	r.unassign(rt)
	rt.slots, rt.tm = nil, nil
	if s.kubernetes() {
		r.pendingWorkers++
		s.jmLog("INFO", r.logger, fmt.Sprintf("Requesting new worker with resource spec WorkerResourceSpec {cpuCores=1.0, taskHeapSize=96.000mb (100663293 bytes), taskOffHeapSize=0 bytes, networkMemSize=32.000mb (33554432 bytes), managedMemSize=128.000mb (134217730 bytes), numSlots=%d}, current pending count: %d.", s.cfg.Slots, r.pendingWorkers))
	}
	r.check()
}

// --- the JobMaster's declarative slot pool

// declare schedules the job's requirements to be sent (once per burst of
// changes, as the pool batches them).
func (p *jobMaster) declare(j *job) {
	if j.declaring {
		return
	}
	j.declaring = true
	s := p.s
	s.after(1, func() {
		j.declaring = false
		n := 0
		acquired := 0
		for _, sl := range j.slots {
			if !sl.released {
				n++
				if sl.fulfilled {
					acquired++
				}
			}
		}
		if j.state != "RUNNING" && j.state != "RESTARTING" && j.state != "CREATED" {
			n = 0
		}
		if n == j.declared {
			return
		}
		j.declared = n
		acq := "[]"
		if acquired > 0 {
			acq = fmt.Sprintf("[ResourceRequirement{resourceProfile=%s, numberOfRequiredSlots=%d}]", s.f.TMProfile, acquired)
		}
		req := "[]"
		if n > 0 {
			req = fmt.Sprintf("[ResourceRequirement{resourceProfile=%s, numberOfRequiredSlots=%d}]", s.f.JMProfile, n)
		}
		s.jmLog("DEBUG", s.f.PoolLogger, fmt.Sprintf("Declare new resource requirements for job %s.\n\trequired resources: %s\n\tacquired resources: %s", j.id, req, acq))
		jobID := j.id
		s.after(s.rpc(), func() { s.rm.requirements(jobID, n) })
	})
}

// offerDeclarative is DefaultDeclarativeSlotPool.offerSlots: an offer of an
// AllocationID the pool holds is accepted again; a new one is matched to an
// outstanding requirement or rejected.
func (p *jobMaster) offerDeclarative(t *taskManager, j *job, offers []slotOffer) []bool {
	s := p.s
	out := make([]bool, len(offers))
	desc := make([]string, len(offers))
	for k, o := range offers {
		desc[k] = fmt.Sprintf("SlotOffer{allocationId=%s, slotIndex=%d, resourceProfile=%s}", o.alloc, o.index, s.f.TMProfile)
	}
	if versionMinor(s.f.Version) >= 115 {
		s.jmLog("DEBUG", s.f.PoolLogger, fmt.Sprintf("Received %s slot offers from TaskExecutor %s.", "["+strings.Join(desc, ", ")+"]", t.location()))
	} else {
		s.jmLog("DEBUG", s.f.PoolLogger, fmt.Sprintf("Received %d slot offers from TaskExecutor %s.", len(offers), t.location()))
	}
	for k, o := range offers {
		var open *jmSlot
		held := false
		for _, sl := range j.slots {
			if sl.released {
				continue
			}
			if sl.fulfilled && sl.alloc == o.alloc {
				held = true
			}
			if !sl.fulfilled && open == nil {
				open = sl
			}
		}
		switch {
		case held:
			out[k] = true // accepted again, without a word
		case open == nil || j.unneeded > 0 || j.state != "RUNNING" && j.state != "RESTARTING":
			if j.unneeded > 0 && open != nil {
				// the job scaled in while the offer was in flight
				j.unneeded--
				open.released = true
				p.declare(j)
			}
			s.jmLog("DEBUG", s.f.PoolLogger, fmt.Sprintf("Could not match offer %s to any outstanding requirement.", o.alloc))
		default:
			open.fulfilled, open.tm, open.index, open.alloc, open.proc = true, t, o.index, o.alloc, t.process
			s.jmLog("DEBUG", s.f.PoolLogger, fmt.Sprintf("Matched slot offer %s to requirement %s.", o.alloc, s.f.JMProfile))
			out[k] = true
		}
	}
	s.after(1, func() { p.maybeDeploy(j) })
	return out
}

// notEnoughResources is the ResourceManager's notifyNotEnoughResourcesAvailable:
// pending slot requests fail and the job fails over (or fails).
func (p *jobMaster) notEnoughResources(jobID string) {
	s := p.s
	j := p.jobs[jobID]
	if j == nil || j.state != "RUNNING" || j.deployed {
		return
	}
	pending, acquired := 0, 0
	for _, sl := range j.slots {
		if sl.released {
			continue
		}
		if sl.fulfilled {
			acquired++
		} else {
			pending++
		}
	}
	if pending == 0 {
		return
	}
	acq := "[]"
	if acquired > 0 {
		acq = fmt.Sprintf("[ResourceRequirement{resourceProfile=%s, numberOfRequiredSlots=%d}]", s.f.TMProfile, acquired)
	}
	registered, free := 0, 0
	for _, t := range s.tms {
		if t.alive && t.jobs[j.id] {
			registered++
		}
	}
	exc := []string{"org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources."}
	if versionMinor(s.f.Version) == 113 {
		// 1.13 logs no warning, and keeps the wrapper and the stack trace
		exc = []string{"java.util.concurrent.CompletionException: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.",
			"org.apache.flink.runtime.jobmaster.slotpool.DeclarativeSlotPoolBridge.failPendingRequests(DeclarativeSlotPoolBridge.java:358)"}
	} else {
		s.jmLog("WARN", "org.apache.flink.runtime.jobmaster.slotpool.DeclarativeSlotPoolBridge", fmt.Sprintf("Could not acquire the minimum required resources, failing slot requests. Acquired: %s. Current slot pool status: Registered TMs: %d, registered slots: %d free slots: %d", acq, registered, acquired, free))
	}
	s.truth.noResource()
	task := fmt.Sprintf("Source: %s (%d/%d)", j.name, acquired+1, j.parallelism)
	attempt := s.hex()
	if s.f.CompoundAttempt {
		task += fmt.Sprintf("#%d", j.attempt)
		attempt = fmt.Sprintf("%s_%s_%d_%d", j.graph(s), vertexOf(j), acquired, j.attempt)
	}
	s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("%s (%s) switched from SCHEDULED to FAILED on [unassigned resource].", task, attempt), exc...)
	p.fail(j, exc)
}

// failSlot is the TaskManager's failSlot: the pool drops the allocation and
// asks for a replacement.
func (p *jobMaster) failSlot(t *taskManager, alloc string) {
	for _, j := range p.order {
		for _, sl := range j.slots {
			if sl.alloc == alloc && sl.tm == t && !sl.released {
				sl.fulfilled, sl.tm, sl.alloc, sl.index = false, nil, "", -1
				p.declare(j)
			}
		}
	}
}

// matchingBlock is FineGrainedSlotManager's INFO snapshot (1.18+), logged
// when some job misses resources: what is missing, and each TaskManager's
// available and total resources.
func (r *resourceManager) matchingBlock(held map[string]int) {
	s, f := r.s, r.s.f
	var missing []string
	for _, j := range r.jobs {
		if n := j.required - held[j.id]; n > 0 {
			missing = append(missing, fmt.Sprintf("\t Job %s\n\t\tResourceRequirement{resourceProfile=%s, numberOfRequiredSlots=%d}", j.id, f.JMProfile, n))
		}
	}
	if len(missing) == 0 {
		return
	}
	var current []string
	for _, rt := range r.tms {
		if rt.tm == nil || !rt.tm.alive {
			continue
		}
		free := 0
		for _, sl := range rt.slots {
			if sl.state == rmFree {
				free++
			}
		}
		current = append(current, fmt.Sprintf("\tTaskManager %s\n\t\tAvailable: %s\n\t\tTotal:     %s", rt.res, tmTotal(free), tmTotal(len(rt.slots))))
	}
	if len(current) == 0 {
		current = []string{"\t(none)"}
	}
	s.jmLog("INFO", f.SlotManagerLogger, "Matching resource requirements against available resources.\nMissing resources:\n"+strings.Join(missing, "\n")+"\nCurrent resources:\n"+strings.Join(current, "\n"))
}

// tmTotal is the resource profile of n default slots; those of up to 64
// are made once, as the matching block prints two per TaskManager.
func tmTotal(n int) string {
	if n < len(tmTotals) {
		return tmTotals[n]
	}
	return makeTMTotal(n)
}

var tmTotals = func() (t [65]string) {
	for n := range t {
		t[n] = makeTMTotal(n)
	}
	return t
}()

func makeTMTotal(n int) string {
	if n == 0 {
		return "ResourceProfile{cpuCores=0, taskHeapMemory=0 bytes, taskOffHeapMemory=0 bytes, managedMemory=0 bytes, networkMemory=0 bytes}"
	}
	return fmt.Sprintf("ResourceProfile{cpuCores=%d, taskHeapMemory=%d.000mb (%d bytes), taskOffHeapMemory=0 bytes, managedMemory=%d.000mb (%d bytes), networkMemory=%d.000mb (%d bytes)}",
		n, 96*n, 100663293*n, 128*n, 134217730*n, 32*n, 33554432*n)
}
