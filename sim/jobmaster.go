package sim

import (
	"fmt"
	"strings"
)

const (
	egLogger = "org.apache.flink.runtime.executiongraph.ExecutionGraph"
	spLogger = "org.apache.flink.runtime.jobmaster.slotpool.SlotPoolImpl"
)

// jmSlot is one slot request of a job and, once fulfilled, the slot.
type jmSlot struct {
	req, alloc string
	tm         *taskManager
	index      int
	fulfilled  bool
	released   bool
	attempt    string // the execution attempt deployed into it
	proc       int    // the TaskManager process that offered it
	task       string
}

type job struct {
	id, name    string
	parallelism int
	state       string // RUNNING, RESTARTING, FAILED, FINISHED, CANCELED
	slots       []*jmSlot
	attempt     int
	restarts    int // restarts left
	deployed    bool
	unneeded    int // offers to reject (the job scaled in)
	checkpoint  int // last checkpoint id
	duration    int64
	declaring   bool // declarative: requirements about to be sent
	declared    int  // declarative: the requirements the ResourceManager last heard
	stallOffer  bool // slot-timeout fault: the pool handles the first offer only as the slot times out
	graphID     string
	ended       func() // called once the job has ended (finished, failed or cancelled)
}

// jobMaster is the JobManager's job masters and slot pool (one process).
type jobMaster struct {
	s        *sim
	jobs     map[string]*job // the jobs that have not ended, by JobID
	order    []*job          // the same, in the order they were submitted
	resource string          // the JobManager's ResourceID, in heartbeat lines
	leader   int             // JobMaster leaderships before the current one (jm-failover)
	// submitted counts the jobs ever submitted (order holds only those
	// that have not ended)
	submitted int
}

func newJobMaster(s *sim) *jobMaster {
	return &jobMaster{s: s, jobs: map[string]*job{}, resource: s.hex()}
}

func (p *jobMaster) reachable(jobID string) bool {
	j := p.jobs[jobID]
	return j != nil && (j.state == "RUNNING" || j.state == "RESTARTING")
}

func (p *jobMaster) stateChange(j *job, to string, thrown ...string) {
	p.s.jmLog("INFO", p.s.f.EGLogger, fmt.Sprintf("Job %s (%s) switched from state %s to %s.", j.name, j.id, j.state, to), thrown...)
	j.state = to
}

// submit starts a job: it asks for parallelism slots.
func (p *jobMaster) submit(name string, parallelism, restarts int, duration int64) *job {
	s := p.s
	j := &job{id: s.hex(), name: name, parallelism: parallelism, state: "CREATED", restarts: restarts, duration: duration}
	p.jobs[j.id] = j
	p.order = append(p.order, j)
	p.submitted++
	p.stateChange(j, "RUNNING")
	for i := 0; i < parallelism; i++ {
		p.requestSlot(j)
	}
	return j
}

func (p *jobMaster) requestSlot(j *job) *jmSlot {
	s := p.s
	if s.f.Declarative {
		sl := &jmSlot{req: "SlotRequestId{" + s.hex() + "}", index: -1}
		j.slots = append(j.slots, sl)
		p.declare(j)
		return sl
	}
	sl := &jmSlot{req: "SlotRequestId{" + s.hex() + "}", alloc: s.hex(), index: -1}
	j.slots = append(j.slots, sl)
	if s.f.RequestWithAlloc {
		s.jmLog("INFO", spLogger, fmt.Sprintf("Requesting new slot [%s] and profile %s with allocation id %s from resource manager.", sl.req, s.f.JMProfile, s.f.alloc(sl.alloc)))
	} else {
		s.jmLog("INFO", spLogger, fmt.Sprintf("Requesting new slot [%s] and profile %s from resource manager.", sl.req, s.f.JMProfile))
	}
	alloc, jobID := sl.alloc, j.id
	s.after(1+s.rng.Int64N(5), func() { s.rm.request(alloc, jobID) })
	s.after(requestTimeout, func() {
		if !sl.fulfilled && !sl.released && j.state == "RUNNING" {
			s.jmLog("INFO", spLogger, fmt.Sprintf("Pending slot request [%s] timed out.", sl.req))
			p.noResource(j)
		}
	})
	return sl
}

// offer is the TaskManager's offerSlots: which offers are accepted. An
// AllocationID the pool already holds from another slot is rejected
// without a log line (FLINK-9293); from the same slot it is a repeat.
func (p *jobMaster) offer(t *taskManager, jobID string, offers []slotOffer) []bool {
	s := p.s
	j := p.jobs[jobID]
	out := make([]bool, len(offers))
	if j == nil || !p.reachable(jobID) {
		return out
	}
	if s.f.Declarative {
		return p.offerDeclarative(t, j, offers)
	}
	for k, o := range offers {
		var mine *jmSlot
		for _, sl := range j.slots {
			if sl.alloc == o.alloc && !sl.released {
				mine = sl
			}
		}
		switch {
		case mine == nil:
			// not a slot this job asked for (any more)
		case mine.fulfilled && mine.tm == t && mine.index == o.index:
			s.jmLog("INFO", spLogger, fmt.Sprintf("Received repeated offer for slot [%s]. Ignoring.", s.f.alloc(o.alloc)))
			out[k] = true
		case mine.fulfilled:
			s.truth.expect("duplicate-offer", "warning", o.alloc, t)
		case j.unneeded > 0:
			j.unneeded--
			mine.released = true
			s.rm.cancel(mine.alloc)
		default:
			mine.fulfilled, mine.tm, mine.index = true, t, o.index
			s.jmLog("DEBUG", spLogger, fmt.Sprintf("Fulfilled slot request [%s] with allocated slot [%s].", mine.req, s.f.alloc(o.alloc)))
			out[k] = true
		}
	}
	s.after(1, func() { p.maybeDeploy(j) })
	return out
}

func (p *jobMaster) maybeDeploy(j *job) {
	if j.deployed || j.state != "RUNNING" {
		return
	}
	var ready []*jmSlot
	for _, sl := range j.slots {
		if sl.released {
			continue
		}
		if !sl.fulfilled {
			return
		}
		ready = append(ready, sl)
	}
	if len(ready) == 0 {
		return
	}
	j.deployed = true
	p.deploy(j, ready)
	p.checkpoints(j, j.attempt)
	if j.duration > 0 {
		att := j.attempt
		p.s.after(j.duration, func() {
			if j.state == "RUNNING" && j.attempt == att {
				p.finish(j, "FINISHED")
			}
		})
	}
}

// deploy sends one task per slot.
func (p *jobMaster) deploy(j *job, slots []*jmSlot) {
	s, f := p.s, p.s.f
	for i, sl := range slots {
		sl.task = fmt.Sprintf("Source: %s (%d/%d)", j.name, i+1, len(slots))
		sl.attempt = s.hex()
		t, sl := sl.tm, sl
		if f.CompoundAttempt {
			// ExecutionGraphID_JobVertexID_subtask_attempt (>= 1.16)
			sl.task += fmt.Sprintf("#%d", j.attempt)
			sl.attempt = fmt.Sprintf("%s_%s_%d_%d", j.graph(s), vertexOf(j), i, j.attempt)
		}
		if f.Declarative {
			s.jmLog("INFO", f.EGLogger, fmt.Sprintf("%s (%s) switched from SCHEDULED to DEPLOYING.", sl.task, sl.attempt))
			if f.DeployVertexID {
				s.jmLog("INFO", f.EGLogger, fmt.Sprintf("Deploying %s (attempt #%d) with attempt id %s and vertex id %s_%d to %s with allocation id %s", sl.task, j.attempt, sl.attempt, vertexOf(j), i, t.location(), sl.alloc))
			} else {
				s.jmLog("INFO", f.EGLogger, fmt.Sprintf("Deploying %s (attempt #%d) with attempt id %s to %s with allocation id %s", sl.task, j.attempt, sl.attempt, t.location(), sl.alloc))
			}
		} else {
			s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("%s (%s) switched from SCHEDULED to DEPLOYING.", sl.task, sl.attempt))
		}
		if f.Declarative {
		} else if f.DeployWithAlloc {
			s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("Deploying %s (attempt #%d) with attempt id %s to %s @ worker-%d (dataPort=41235) with allocation id %s", sl.task, j.attempt, sl.attempt, t.res, t.n, f.alloc(sl.alloc)))
		} else {
			s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("Deploying %s (attempt #%d) to %s @ worker-%d (dataPort=41235)", sl.task, j.attempt, t.res, t.n))
		}
		att, proc, alloc := j.attempt, t.process, sl.alloc
		s.after(s.rpc(), func() {
			if t.process != proc {
				return // the TaskManager process it was sent to is gone
			}
			t.submitTask(sl.task, sl.attempt, alloc, j.id, func(ok bool) {
				if j.attempt != att || j.state != "RUNNING" {
					return
				}
				if ok {
					s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("%s (%s) switched from DEPLOYING to RUNNING.", sl.task, sl.attempt))
					return
				}
				msg := fmt.Sprintf("No task slot allocated for job ID %s and allocation ID %s.", j.id, f.alloc(alloc))
				// a slot that timed out before the JobMaster used it is the cause
				s.truth.retag(alloc, "allocation-timeout", "slot-timeout", "error")
				s.truth.expect("task-without-slot", "error", alloc, t)
				exc := []string{"org.apache.flink.runtime.taskexecutor.exceptions.TaskSubmissionException: " + msg, "org.apache.flink.runtime.taskexecutor.TaskExecutor.submitTask(TaskExecutor.java:460)"}
				if f.Declarative {
					if versionMinor(f.Version) == 113 {
						exc[0] = "java.util.concurrent.CompletionException: " + exc[0]
					}
					s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("%s (%s) switched from DEPLOYING to FAILED%s.", sl.task, sl.attempt, p.on(t)), exc...)
				} else {
					s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("%s (%s) switched from DEPLOYING to FAILED.", sl.task, sl.attempt), exc...)
				}
				p.fail(j, exc)
			})
		})
	}
}

// failTask: a running task fails (an exception in user code, a lost
// connection); the job restarts or fails.
func (p *jobMaster) failTask(j *job) {
	s := p.s
	if j.state != "RUNNING" || !j.deployed {
		return
	}
	sl := j.slots[s.rng.IntN(len(j.slots))]
	if sl.released || sl.tm == nil {
		return
	}
	exc := []string{"java.io.IOException: Connection reset by peer", "sun.nio.ch.FileDispatcherImpl.read0(Native Method)"}
	sl.tm.taskEnded(sl.attempt, sl.task, "FAILED", exc...)
	s.jmLog("INFO", s.f.EGLogger, fmt.Sprintf("%s (%s) switched from RUNNING to FAILED%s.", sl.task, sl.attempt, p.on(sl.tm)), exc...)
	p.fail(j, exc)
}

// fail: the job restarts if it may, else fails and releases its slots.
func (p *jobMaster) fail(j *job, cause []string) {
	s := p.s
	p.stateChange(j, "FAILING", cause...)
	for _, sl := range j.slots {
		if sl.tm != nil && sl.attempt != "" {
			sl.tm.taskEnded(sl.attempt, sl.task, "CANCELED")
		}
	}
	if j.restarts > 0 {
		j.restarts--
		p.stateChange(j, "RESTARTING")
		s.after(5000, func() {
			if j.state != "RESTARTING" {
				return
			}
			p.stateChange(j, "RUNNING")
			j.attempt++
			j.deployed = false
			p.maybeDeploy(j)
		})
		return
	}
	p.finish(j, "FAILED")
}

// finish ends a job; its slots go back to the pool and are released when
// idle.
func (p *jobMaster) finish(j *job, to string) {
	s := p.s
	if to != "FAILED" { // a failed job's tasks were cancelled when it failed
		for _, sl := range j.slots {
			if sl.tm != nil && sl.attempt != "" {
				sl.tm.taskEnded(sl.attempt, sl.task, to)
			}
		}
	}
	p.stateChange(j, to)
	if s.f.Declarative {
		p.declare(j) // nothing is required any more
	}
	for _, sl := range j.slots {
		if sl.released {
			continue
		}
		sl.released = true
		if !sl.fulfilled {
			if !s.f.Declarative { // the declared requirements say it
				s.rm.cancel(sl.alloc)
			}
			continue
		}
		t, alloc, proc := sl.tm, sl.alloc, sl.tm.process
		if s.f.Declarative {
			// The pool returns the job's slots when the job ends. In the
			// session workload they are returned only once the cleared
			// requirements (declared 1 ms from now, an RPC away) have
			// reached the slot manager, as in Flink, where the pool lowers
			// them as the tasks finish: else a slot freed first is handed
			// to the ended job again and times out, which a healthy
			// cluster's allocations never do. Other runs keep the race,
			// and so the logs they always had.
			release := int64(2)
			if s.cfg.JobSeconds > 0 {
				release = 12
			}
			s.after(release+s.rng.Int64N(20), func() {
				s.jmLog("INFO", s.f.PoolLogger, fmt.Sprintf("Releasing slot [%s].", alloc))
				s.after(s.rpc(), func() {
					if t.alive && t.process == proc {
						t.freeSlot(alloc, fmt.Sprintf("Stopping JobMaster for job '%s' (%s).", j.name, j.id))
					}
				})
			})
			continue
		}
		s.after(idleTimeout, func() {
			s.jmLog("INFO", spLogger, fmt.Sprintf("Releasing idle slot [%s].", s.f.alloc(alloc)))
			s.after(s.rpc(), func() {
				if t.alive && t.process == proc { // a restarted TaskManager never hears of it
					t.freeSlot(alloc, "Releasing idle slot.")
				}
			})
		})
	}
	p.forget(j)
	if ended := j.ended; ended != nil {
		j.ended = nil
		ended()
	}
}

// forget drops an ended job from the JobManager's jobs: a long run submits
// millions, and nothing asks for an ended one but what already holds it
// (an unknown JobID is answered as an ended one is). A job whose first
// offer is still to be stalled (slot-timeout) is kept, as the offer looks
// it up.
func (p *jobMaster) forget(j *job) {
	if j.stallOffer {
		return
	}
	delete(p.jobs, j.id)
	// a new slice: a caller may be ranging over the old one
	kept := make([]*job, 0, len(p.order))
	for _, o := range p.order {
		if o != j {
			kept = append(kept, o)
		}
	}
	p.order = kept
}

// cancelJob: the user cancels a job before it got its slots.
func (p *jobMaster) cancelJob(j *job) {
	p.stateChange(j, "CANCELLING")
	p.finish(j, "CANCELED")
}

// noResource: a slot request timed out; the job fails with
// NoResourceAvailableException.
func (p *jobMaster) noResource(j *job) {
	s := p.s
	got := 0
	for _, sl := range j.slots {
		if sl.fulfilled && !sl.released {
			got++
		}
	}
	exc := []string{fmt.Sprintf("org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not allocate all requires slots within timeout of %d ms. Slots required: %d, slots allocated: %d", requestTimeout, j.parallelism, got),
		"org.apache.flink.runtime.executiongraph.ExecutionGraph.lambda$scheduleEager$3(ExecutionGraph.java:991)"}
	s.truth.noResource()
	j.restarts = 0
	p.fail(j, exc)
}

// tmLost: a TaskManager process died; the job's slots there are gone and
// its tasks fail.
func (p *jobMaster) tmLost(t *taskManager) {
	s := p.s
	for _, j := range p.order {
		hit := false
		for _, sl := range j.slots {
			if sl.tm == t && !sl.released {
				hit = true
				sl.released = true
			}
		}
		if !hit || (j.state != "RUNNING" && j.state != "RESTARTING") {
			continue
		}
		s.jmLog("DEBUG", "org.apache.flink.runtime.jobmaster.JobMaster", fmt.Sprintf("Disconnect TaskExecutor %s because: The TaskExecutor is shutting down.", t.res))
		exc := []string{fmt.Sprintf("org.apache.flink.util.FlinkException: The TaskExecutor %s is shutting down.", t.res)}
		if j.state == "RUNNING" {
			p.stateChange(j, "FAILING", exc...)
		}
		p.stateChange(j, "RESTARTING")
		// The restarted job asks for fresh slots for what it lost.
		lost := 0
		var kept []*jmSlot
		for _, sl := range j.slots {
			if sl.tm == t {
				lost++
			} else {
				kept = append(kept, sl)
			}
		}
		j.slots = kept
		s.after(5000, func() {
			if j.state != "RESTARTING" {
				return
			}
			p.stateChange(j, "RUNNING")
			j.attempt++
			j.deployed = false
			for i := 0; i < lost; i++ {
				p.requestSlot(j)
			}
			p.maybeDeploy(j)
		})
	}
}

// jobOn returns a running job with a slot on t, for faults that need one.
func (p *jobMaster) jobOn(t *taskManager) *job {
	for _, j := range p.order {
		if j.state != "RUNNING" || !j.deployed {
			continue
		}
		for _, sl := range j.slots {
			if sl.tm == t && !sl.released {
				return j
			}
		}
	}
	return nil
}

func jobName(n int) string {
	names := []string{"orders-enrichment", "clickstream-sessions", "fraud-scoring", "inventory-sync", "billing-rollup", "search-indexer"}
	return strings.ToLower(names[n%len(names)]) + fmt.Sprintf("-%d", n)
}

// checkpoints: every 30 s a running job checkpoints (noise between the
// slot lines, as in every real JobManager log).
func (p *jobMaster) checkpoints(j *job, attempt int) {
	s := p.s
	const cc = "org.apache.flink.runtime.checkpoint.CheckpointCoordinator"
	var tick func()
	tick = func() {
		if j.state != "RUNNING" || j.attempt != attempt {
			return
		}
		j.checkpoint++
		id := j.checkpoint
		s.jmLog("INFO", cc, fmt.Sprintf("Triggering checkpoint %d @ %d for job %s.", id, Base.UnixMilli()+s.now, j.id))
		took := 40 + s.rng.Int64N(400)
		s.after(took, func() {
			if j.state == "RUNNING" && j.attempt == attempt {
				s.jmLog("INFO", cc, fmt.Sprintf("Completed checkpoint %d for job %s (%d bytes in %d ms).", id, j.id, 4096+s.rng.Int64N(1<<20), took))
			}
		})
		s.after(30_000, tick)
	}
	s.after(30_000, tick)
}

// on is " on LOCATION" for a task's failure line from 1.12 on.
func (p *jobMaster) on(t *taskManager) string {
	if !p.s.f.Declarative || t == nil {
		return ""
	}
	if versionMinor(p.s.f.Version) == 113 {
		// 1.13 prints the logical slot, an object identity
		return fmt.Sprintf(" on org.apache.flink.runtime.jobmaster.slotpool.SingleLogicalSlot@%08x", p.s.rng.Uint32())
	}
	return " on " + t.location()
}

// graph is the job's ExecutionGraphID (a new one per JobMaster leadership).
func (j *job) graph(s *sim) string {
	if j.graphID == "" {
		j.graphID = s.hex()
	}
	return j.graphID
}

// vertexOf is the job's source vertex ID, stable per job.
func vertexOf(j *job) string {
	return j.id[16:] + j.id[:16]
}
