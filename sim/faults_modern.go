package sim

import "fmt"

// Faults of the declarative era (1.13-2.x), each reached through the
// protocol: a process dies, a JobMaster is slow, a job shrinks, a leader
// changes, a job asks for more than the cluster has.
const (
	FaultTMLost             = "tm-lost"              // a TaskManager dies without a word (OOM-killed pod); heartbeats time out; a replacement registers under a new ResourceID
	FaultSlotTimeout        = "slot-timeout"         // the JobMaster handles an offer only as the slot times out on the TaskManager; the deployment into it fails
	FaultRequirementsShrink = "requirements-shrink"  // a job scales in while the slots it asked for are being allocated and offered
	FaultJMFailover         = "jm-failover"          // a JobMaster loses leadership and a new leader takes the job over; TaskManagers re-offer their slots
	FaultNotEnoughResources = "not-enough-resources" // a job needs more slots than the cluster has
)

// ModernFaults need the declarative protocol (Flink >= 1.13).
var ModernFaults = []string{FaultTMLost, FaultSlotTimeout, FaultRequirementsShrink, FaultJMFailover, FaultNotEnoughResources}

// heartbeatTimeoutMs is heartbeat.timeout: how long after a TaskManager
// dies its ResourceManager and JobMaster notice.
const heartbeatTimeoutMs = 50_000

// rpcTimeout is the ask timeout of an RPC whose recipient never answers.
const rpcTimeout = 10_000

// modernFaults schedules the declarative-era faults after the ordinary jobs
// have started.
func (s *sim) modernFaults(later int64) {
	for k, fault := range s.cfg.Inject {
		at := later + int64(k)*20_000 + 2000 + s.rng.Int64N(3000)
		switch fault {
		case FaultTMLost:
			s.after(at, s.tmLost)
		case FaultSlotTimeout:
			s.after(at, func() {
				j := s.pool.submit(fmt.Sprintf("late-offer-%d", k), 1, 2, 60_000)
				j.stallOffer = true
			})
		case FaultRequirementsShrink:
			s.after(at, func() {
				// as many slots as are free (two at least), so the offers of
				// all of them are in flight when the job scales in
				par := max(2, min(3, s.rm.freeCount()))
				j := s.pool.submit(fmt.Sprintf("rescaled-%d", k), par, 1, 60_000)
				s.after(15+s.rng.Int64N(25), func() { s.pool.shrink(j, 1) })
			})
		case FaultJMFailover:
			s.after(at, s.jmFailover)
		case FaultNotEnoughResources:
			s.after(at, func() {
				s.pool.submit(fmt.Sprintf("oversized-%d", k), s.cfg.TaskManagers*s.cfg.Slots+1+s.rng.IntN(2), 0, 60_000)
			})
		}
	}
}

// tmLost: a TaskManager running a job is OOM-killed. Its log just stops;
// the ResourceManager and the JobMaster notice when heartbeats time out.
// Kubernetes replaces the pod under a new name; a standalone supervisor
// restarts the process, which picks a new ResourceID.
func (s *sim) tmLost() {
	for _, n := range s.rng.Perm(len(s.tms)) {
		t := s.tms[n]
		if !t.alive || s.pool.jobOn(t) == nil {
			continue
		}
		res, proc := t.res, t.process
		s.truth.processEnded(t)
		s.truth.expect("taskmanager-lost", "warning", "", t)
		t.alive = false
		s.after(heartbeatTimeoutMs, func() {
			s.rm.heartbeatLost(res, t)
			s.pool.heartbeatLost(res, t, proc)
			if s.kubernetes() {
				s.after(8000+s.rng.Int64N(6000), t.start)
			}
		})
		if !s.kubernetes() {
			s.after(heartbeatTimeoutMs+10_000+s.rng.Int64N(5000), t.start)
		}
		return
	}
}

// heartbeatLost: the JobMaster's heartbeat with a TaskManager timed out:
// the slots there leave the pool, the tasks in them fail, the jobs restart
// and the pool asks for the slots again.
func (p *jobMaster) heartbeatLost(res string, t *taskManager, proc int) {
	s, f := p.s, p.s.f
	msg := fmt.Sprintf("Heartbeat of TaskManager with id %s timed out.", res)
	if f.JMHeartbeatLine {
		s.jmLog("INFO", "org.apache.flink.runtime.jobmaster.JobMaster", msg)
	}
	exc := []string{"java.util.concurrent.TimeoutException: " + msg}
	for _, j := range p.order {
		var lost []*jmSlot
		for _, sl := range j.slots {
			if sl.tm == t && sl.fulfilled && !sl.released && sl.proc == proc {
				lost = append(lost, sl)
			}
		}
		if len(lost) == 0 {
			continue
		}
		for _, sl := range lost {
			s.jmLog("INFO", f.PoolLogger, fmt.Sprintf("Releasing slot [%s].", sl.alloc))
		}
		level := "DEBUG"
		if f.DisconnectInfo {
			level = "INFO"
		}
		s.jmLog(level, "org.apache.flink.runtime.jobmaster.JobMaster", fmt.Sprintf("Disconnect TaskExecutor %s because: %s", res, msg))
		running := j.state == "RUNNING" && j.deployed
		if running {
			for _, sl := range lost {
				if sl.attempt != "" {
					s.jmLog("INFO", f.EGLogger, fmt.Sprintf("%s (%s) switched from RUNNING to FAILED on %s @ worker-%d (dataPort=41235).", sl.task, sl.attempt, res, t.n), exc...)
					break
				}
			}
		}
		for _, sl := range lost {
			sl.fulfilled, sl.tm, sl.alloc, sl.index, sl.attempt = false, nil, "", -1, ""
		}
		if running {
			j.restarts++ // a lost TaskManager is what restart strategies are for
			p.fail(j, exc)
		}
	}
}

// shrink: the job now needs only n slots; requests not yet fulfilled
// beyond that are dropped and the requirements declared again.
func (p *jobMaster) shrink(j *job, n int) {
	keep := 0
	for _, sl := range j.slots {
		if sl.released {
			continue
		}
		if keep < n {
			keep++
			continue
		}
		if !sl.fulfilled {
			sl.released = true
		}
	}
	j.parallelism = n
	p.declare(j)
}

// jmFailover: the JobMaster of a running job loses leadership (a lost
// ZooKeeper or Kubernetes lease); a new JobMaster becomes leader a few
// seconds later, well within the slot timeout, and takes the slots the
// TaskManagers re-offer to it.
func (s *sim) jmFailover() {
	j := s.runningJob()
	if j == nil {
		return
	}
	p := s.pool
	const runner = "org.apache.flink.runtime.jobmaster.JobMasterServiceLeadershipRunner"
	s.jmLog("INFO", runner, fmt.Sprintf("JobMasterServiceLeadershipRunner for job %s was revoked leadership with leader id %s. Stopping current JobMasterServiceProcess.", j.id, p.leaderID()))
	for _, sl := range j.slots {
		if sl.tm != nil && sl.attempt != "" {
			sl.tm.taskEnded(sl.attempt, sl.task, "CANCELED")
		}
	}
	p.stateChange(j, "SUSPENDED", "org.apache.flink.util.FlinkException: JobManager is no longer the leader.")
	var tms []*taskManager
	for _, t := range s.tms {
		if t.alive && len(t.jobSlots(j.id)) > 0 {
			tms = append(tms, t)
			t.jobLeaderLost(j.id, p.leaderID())
		}
	}
	p.leader++
	for _, sl := range j.slots {
		if !sl.released {
			sl.fulfilled, sl.tm, sl.alloc, sl.index, sl.attempt = false, nil, "", -1, ""
		}
	}
	j.deployed, j.graphID, j.declared = false, "", 0
	s.after(1500+s.rng.Int64N(2500), func() {
		s.jmLog("INFO", runner, fmt.Sprintf("JobMasterServiceLeadershipRunner for job %s was granted leadership with leader id %s. Creating new JobMasterServiceProcess.", j.id, p.leaderID()))
		s.jmLog("INFO", "org.apache.flink.runtime.jobmaster.JobMaster", fmt.Sprintf("Starting execution of job '%s' (%s) under job master id %s.", j.name, j.id, p.leaderID()))
		j.state = "CREATED"
		j.attempt++
		p.stateChange(j, "RUNNING")
		p.declare(j)
		for _, t := range tms {
			t := t
			s.after(50+s.rng.Int64N(150), func() { t.regainJobManager(j.id) })
		}
	})
}

// leaderID is the current JobMaster leader id (a JobMasterId).
func (p *jobMaster) leaderID() string {
	return fmt.Sprintf("%08x%024x", 0x5eed0000+p.leader, uint64(p.submitted))
}

// jobLeaderLost: the job's leader is gone; the JobManager connection is
// closed and the job's slots wait for a new leader.
func (t *taskManager) jobLeaderLost(job, leader string) {
	t.closeJobManager(job, fmt.Sprintf("JobManager for job %s with leader id %s lost leadership.", job, leader), false)
}

// overwriteDeclarative: from 1.13 the ResourceManager mints a fresh
// AllocationID for every attempt, so no protocol path sends one
// AllocationID to two slots any more. The fault therefore duplicates the
// delivery of one requestSlot RPC, to another free static index (or, with
// dynamic slots, as another dynamic request): the fixed table must refuse
// it (static) or take it as the duplicate it is (dynamic), and an audit
// must report the refusal as information, never as a leak.
func (s *sim) overwriteDeclarative(at int64) {
	s.after(at, func() {
		victim := s.pool.submit(jobName(0), 2, 1, 60_000)
		done := false
		prev := s.rm.delay
		s.rm.delay = func(a string, rt *rmTM, idx int) int64 {
			d := prev(a, rt, idx)
			if done || rt.slots[idx].job != victim.id {
				return d
			}
			done = true
			t, proc, job := rt.tm, rt.tm.process, victim.id
			s.after(d+20+s.rpc(), func() { // after the first delivery (at most 10 ms)
				if !t.alive || t.process != proc {
					return
				}
				dup := -1
				if !s.f.Dynamic {
					held, ok := t.byAlloc[a]
					for i := 0; i < s.cfg.Slots && ok; i++ {
						if i != held && t.slots.get(i).state == "" {
							dup = i
							break
						}
					}
					if dup < 0 {
						return // no free index to send it to
					}
				}
				t.requestSlot(dup, a, job, func(bool, string, []string) {}) // the RM never sent it: its answer is dropped
			})
			return d
		}
		s.after(40_000, func() { s.pool.failTask(victim) })
	})
}

// staleRequestDeclarative: a job is cancelled right after it declared its
// requirements, and the ResourceManager's requestSlot RPC for it is held
// up; it lands on a TaskManager after the job is gone, whose job leader
// never finds the job: the slot times out.
func (s *sim) staleRequestDeclarative(at int64) {
	s.after(at, func() {
		stale := s.pool.submit("backfill-"+s.hex()[:6], 1, 0, 0)
		prev := s.rm.delay
		s.rm.delay = func(a string, rt *rmTM, idx int) int64 {
			if rt.slots[idx].job == stale.id {
				return 2300
			}
			return prev(a, rt, idx)
		}
		s.after(200, func() { s.pool.cancelJob(stale) })
	})
}
