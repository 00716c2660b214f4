package sim

import (
	"fmt"
	"time"
)

// scenario sets the cluster up and schedules the jobs and faults. Time
// runs in phases so faults do not trip over each other: the overwrite race
// first (it needs the first TaskManager's slots free), then the other
// faults and the ordinary jobs.
func (s *sim) scenario() {
	for n := 0; n < s.cfg.TaskManagers; n++ {
		t := newTaskManager(s, n)
		s.tms = append(s.tms, t)
		s.after(int64(n)*150, t.start)
	}
	s.jmLog("INFO", "org.apache.flink.runtime.entrypoint.ClusterEntrypoint", s.f.banner("StandaloneSessionClusterEntrypoint"))
	phase := int64(5000)
	for _, fault := range s.cfg.Inject {
		switch fault {
		case FaultOverwrite:
			if s.f.Declarative {
				s.overwriteDeclarative(phase)
				phase += 60_000
				break
			}
			s.overwrite(phase)
			phase += 470_000
		case FaultDelayedRequest:
			if s.f.Declarative {
				s.staleRequestDeclarative(phase)
			} else {
				s.staleRequest(phase, 0)
			}
			phase += 30_000
		}
	}
	capacity := s.cfg.TaskManagers * s.cfg.Slots
	later := phase + int64(s.cfg.Jobs)*7000 + 10_000
	if s.cfg.JobSeconds > 0 {
		s.sessionJobs(phase)
		later = phase + int64(s.cfg.JobSeconds)*1000 + 10_000
	} else {
		for k := 0; k < s.cfg.Jobs; k++ {
			at := phase + int64(k)*7000 + s.rng.Int64N(3000)
			par := 1 + s.rng.IntN(max(1, min(3, capacity/max(1, s.cfg.Jobs))))
			duration := 60_000 + s.rng.Int64N(120_000)
			s.after(at, func() { s.workload(k, par, duration) })
		}
	}
	for k := 0; k < s.cfg.Failovers; k++ {
		s.after(later+int64(k)*9000+s.rng.Int64N(4000), func() {
			if j := s.runningJob(); j != nil {
				s.pool.failTask(j)
			}
		})
	}
	if s.f.Declarative {
		s.modernFaults(later)
		s.after(startupPeriod, s.rm.check) // unmet requirements are reported from now on
	}
	for _, fault := range s.cfg.Inject {
		switch fault {
		case FaultHeartbeatTimeout:
			s.after(later+3000+s.rng.Int64N(5000), s.heartbeatTimeout)
		case FaultOfferReject:
			at := later + 1000 + s.rng.Int64N(5000)
			s.after(at, func() {
				j := s.pool.submit(jobName(90+s.rng.IntN(9)), 2, 0, 60_000)
				j.unneeded = 1
			})
		case FaultTMRestart:
			s.after(later+15_000+s.rng.Int64N(5000), func() {
				t := s.tms[s.rng.IntN(len(s.tms))]
				if t.alive {
					t.kill(15_000)
				}
			})
		}
	}
}

// runningJob picks a deployed running job, or nil.
func (s *sim) runningJob() *job {
	var running []*job
	for _, j := range s.pool.order {
		if j.state == "RUNNING" && j.deployed {
			running = append(running, j)
		}
	}
	if len(running) == 0 {
		return nil
	}
	return running[s.rng.IntN(len(running))]
}

// staleRequest: a job is cancelled right after asking for a slot, and the
// RM's requestSlot RPC for it is delayed; it lands on an idle TaskManager,
// whose job leader never finds the cancelled job: the slot times out. It
// returns the stale AllocationID.
func (s *sim) staleRequest(at int64, extra int64) {
	s.after(at, func() {
		stale := s.pool.submit("backfill-"+s.hex()[:6], 1, 0, 0)
		alloc := stale.slots[0].alloc
		prev := s.rm.delay
		s.rm.delay = func(a string, rt *rmTM, idx int) int64 {
			if a == alloc {
				return 2300 + extra
			}
			return prev(a, rt, idx)
		}
		s.after(200, func() { s.pool.cancelJob(stale) })
	})
}

// overwrite reaches FLINK-14589 through the protocol: a stale request for a
// cancelled job lands late on slot X; the RM, which freed X when the job was
// cancelled, sends the next job's request for A1 to X as well, and that RPC
// is held up longer than the slot timeout. The next slot report shows X
// taken, so the RM retries A1 on another slot, where it lands and is used.
// The stale slot times out, X is free again, and the held-up request for A1
// finally lands on X: the legacy table allocates A1 a second time (the
// fixed one refuses). The job then fails over and redeploys into A1, and
// later a job needs every slot of the cluster.
func (s *sim) overwrite(at int64) {
	s.after(at, func() {
		stale := s.pool.submit("backfill-"+s.hex()[:6], 1, 0, 0)
		staleAlloc := stale.slots[0].alloc
		var staleSlot *rmTM
		staleIndex, held := -1, false
		prev := s.rm.delay
		s.rm.delay = func(a string, rt *rmTM, idx int) int64 {
			switch {
			case a == staleAlloc:
				staleSlot, staleIndex = rt, idx
				return 2300
			case !held && rt == staleSlot && idx == staleIndex:
				// longer than the stale slot's wait (2.3 s) plus its timeout
				held = true
				return 2300 + slotTimeout + 1500 + s.rng.Int64N(1500)
			}
			return prev(a, rt, idx)
		}
		s.after(200, func() { s.pool.cancelJob(stale) })
		s.after(400, func() {
			victim := s.pool.submit(jobName(0), 2, 1, 60_000)
			s.after(40_000, func() { s.pool.failTask(victim) })
		})
		// A job that needs every slot of the cluster, after the victim is gone.
		s.after(150_000, func() {
			s.pool.submit("capacity-check", s.cfg.TaskManagers*s.cfg.Slots, 0, 60_000)
		})
	})
}

// heartbeatTimeout: a TaskManager running a job loses its JobManager for a
// few seconds (less than the slot timeout) and reconnects; the job restarts.
func (s *sim) heartbeatTimeout() {
	for _, n := range s.rng.Perm(len(s.tms)) {
		t := s.tms[n]
		j := s.pool.jobOn(t)
		if j == nil || !t.alive {
			continue
		}
		t.loseJobManager(j.id)
		j.restarts++
		// the JobManager's side of the lost heartbeat: the failed task's cause
		s.truth.expect("taskmanager-lost", "warning", "", t)
		exc := []string{"java.util.concurrent.TimeoutException: Heartbeat of TaskManager with id " + t.res + " timed out."}
		for _, sl := range j.slots {
			if sl.tm == t && !sl.released {
				s.jmLog("INFO", s.f.EGLogger, sl.task+" ("+sl.attempt+") switched from RUNNING to FAILED.", exc...)
				break
			}
		}
		s.pool.fail(j, exc)
		s.after(3000+s.rng.Int64N(3000), func() { t.regainJobManager(j.id) })
		return
	}
}

// workload submits an ordinary job; in a run longer than the default the
// job is submitted again a little after it ends, so the cluster stays busy.
func (s *sim) workload(k, par int, duration int64) {
	j := s.pool.submit(jobName(k), par, 1, duration)
	if s.end <= defaultRun || s.cfg.Once {
		return
	}
	var watch func()
	watch = func() {
		switch j.state {
		case "FINISHED", "FAILED", "CANCELED":
			s.after(5000+s.rng.Int64N(25_000), func() { s.workload(k, par, duration) })
		default:
			s.after(10_000, watch)
		}
	}
	s.after(duration, watch)
}

// sessionJobs starts the session cluster's workload (Config.JobSeconds):
// Jobs lanes, their first jobs spread over one job's run, each lane
// submitting its next job (a new JobID) a moment after the last one ended.
func (s *sim) sessionJobs(from int64) {
	run := int64(s.cfg.JobSeconds) * 1000
	// A finished job's slots stay held until the JobMaster releases them:
	// at once from 1.13, after slot.idle.timeout before. Parallelism is
	// drawn so that every lane's share of the cluster holds its jobs.
	hold := int64(1)
	if !s.f.Declarative {
		hold = (run + idleTimeout + run - 1) / run
	}
	for k := 0; k < s.cfg.StreamingJobs; k++ {
		// running to the end of the run, and past it
		s.after(from+s.rng.Int64N(1000), func() { s.pool.submit(fmt.Sprintf("streaming-%d", k), 1, 0, s.end+time.Hour.Milliseconds()) })
	}
	share := int64(s.cfg.TaskManagers*s.cfg.Slots-s.cfg.StreamingJobs) / int64(max(1, s.cfg.Jobs)) / hold
	maxPar := int(max(1, min(3, share)))
	var next func()
	next = func() {
		s.sessions++
		j := s.pool.submit(jobName(s.sessions), 1+s.rng.IntN(maxPar), 1, run)
		j.ended = func() { s.after(sessionGap+s.rng.Int64N(sessionGap), next) }
	}
	for k := 0; k < s.cfg.Jobs; k++ {
		s.after(from+int64(k)*run/int64(s.cfg.Jobs)+s.rng.Int64N(1000), next)
	}
}

// sessionGap is the least time between one session job's end and the
// next one's submission in its lane (ms); the gap is up to twice that.
const sessionGap = 500
