package sim

import (
	"fmt"
)

// The RM's view of a slot.
const (
	rmFree = iota
	rmPending
	rmAllocated
)

type rmSlot struct {
	state int
	alloc string
	job   string     // declarative: the job the slot was assigned to
	req   *rmRequest // the pending request it was assigned to
}

type rmTM struct {
	tm       *taskManager
	res      string
	instance string // the registration's InstanceID
	slots    []rmSlot
}

// rmRequest is a pending slot request (legacy SlotManager: keyed by the
// JobMaster's AllocationID; a failure retries the same id elsewhere).
type rmRequest struct {
	alloc, job string
	tm         *rmTM
	index      int
	done       bool
}

type resourceManager struct {
	s       *sim
	tms     []*rmTM
	pending []*rmRequest
	logger  string
	// declarative slot manager (>= 1.13)
	jobs           []*rmJob
	pendingWorkers int // replacement pods requested and not registered yet
	// delay returns extra delivery delay for a requestSlot RPC (faults).
	delay func(alloc string, tm *rmTM, index int) int64
}

func newResourceManager(s *sim) *resourceManager {
	logger := "org.apache.flink.runtime.resourcemanager.StandaloneResourceManager"
	if s.f.Declarative && s.kubernetes() {
		logger = "org.apache.flink.runtime.resourcemanager.active.ActiveResourceManager"
	}
	return &resourceManager{s: s, logger: logger, delay: func(string, *rmTM, int) int64 { return 0 }}
}

func (r *resourceManager) byRes(res string) *rmTM {
	for _, t := range r.tms {
		if t.res == res {
			return t
		}
	}
	return nil
}

// register a TaskManager process (a new one replaces the old registration).
func (r *resourceManager) register(t *taskManager) {
	s := r.s
	s.jmLog("INFO", r.logger, fmt.Sprintf("Registering TaskManager with ResourceID %s (%s) at ResourceManager", t.res, t.address()))
	rt := r.byRes(t.res)
	if rt != nil {
		s.jmLog("DEBUG", r.logger, fmt.Sprintf("Replacing old registration of TaskExecutor %s.", t.res))
		r.unassign(rt)
	} else {
		rt = &rmTM{res: t.res}
		r.tms = append(r.tms, rt)
	}
	rt.tm, rt.slots, rt.instance = t, make([]rmSlot, s.cfg.Slots), t.instance
	if s.f.Declarative {
		if s.kubernetes() {
			if r.pendingWorkers > 0 {
				r.pendingWorkers--
			}
			s.jmLog("INFO", r.logger, fmt.Sprintf("Worker %s is registered.", t.res))
		}
		level := "DEBUG"
		if s.f.Dynamic {
			level = "INFO"
		}
		s.jmLog(level, s.f.SlotManagerLogger, fmt.Sprintf("Registering task executor %s under %s at the slot manager.", t.res, t.instance))
		r.heartbeat(rt, t.process)
		r.check()
		return
	}
	s.jmLog("DEBUG", s.f.SlotManagerLogger, fmt.Sprintf("Registering TaskManager %s under %s at the SlotManager.", t.res, t.instance))
	r.heartbeat(rt, t.process)
	r.assign()
}

// lost: a TaskManager process died; its slots leave the RM's view.
func (r *resourceManager) lost(t *taskManager) {
	if rt := r.byRes(t.res); rt != nil {
		r.unassign(rt)
		rt.slots = nil
	}
	if r.s.f.Declarative {
		r.check()
	}
}

func (r *resourceManager) unassign(rt *rmTM) {
	for i := range rt.slots {
		if req := rt.slots[i].req; req != nil && !req.done {
			req.tm = nil
		}
		rt.slots[i] = rmSlot{}
	}
}

// heartbeat: every 10 s the TaskManager's slot report arrives.
func (r *resourceManager) heartbeat(rt *rmTM, proc int) {
	s := r.s
	first := int64(s.rng.IntN(heartbeat))
	var beat func()
	beat = func() {
		t := rt.tm
		if t == nil || !t.alive || t.process != proc {
			return
		}
		if s.f.Declarative {
			r.slotReportDeclarative(rt, t.report())
		} else {
			r.slotReport(rt, t.report())
		}
		s.after(heartbeat, beat)
	}
	s.after(first, beat)
}

// request is the JobMaster's requestSlot.
func (r *resourceManager) request(alloc, job string) {
	s := r.s
	s.jmLog("INFO", r.logger, fmt.Sprintf("Request slot with profile %s for job %s with allocation id %s.", s.f.JMProfile, job, s.f.alloc(alloc)))
	r.pending = append(r.pending, &rmRequest{alloc: alloc, job: job, index: -1})
	r.assign()
}

// cancel is the JobMaster's cancelSlotRequest.
func (r *resourceManager) cancel(alloc string) {
	s := r.s
	s.jmLog("DEBUG", s.f.SlotManagerLogger, fmt.Sprintf("Cancel slot request %s.", s.f.alloc(alloc)))
	for k, req := range r.pending {
		if req.alloc == alloc && !req.done {
			req.done = true
			if req.tm != nil && req.tm.slots != nil {
				if sl := &req.tm.slots[req.index]; sl.state == rmPending && sl.alloc == alloc {
					*sl = rmSlot{} // back to free; the RPC may still be on its way
				}
			}
			r.pending = append(r.pending[:k], r.pending[k+1:]...)
			return
		}
	}
}

// assign gives every unassigned pending request a free slot, first free
// index of the first TaskManager first, and sends the RPC.
func (r *resourceManager) assign() {
	s := r.s
	for _, req := range r.pending {
		if req.done || req.tm != nil {
			continue
		}
		rt, idx := r.freeSlot()
		if rt == nil {
			return
		}
		req.tm, req.index = rt, idx
		rt.slots[idx] = rmSlot{state: rmPending, alloc: req.alloc, req: req}
		t, alloc, job := rt.tm, req.alloc, req.job
		delay := s.rpc() + r.delay(alloc, rt, idx)
		proc := t.process
		s.after(delay, func() {
			if t.process != proc {
				return
			}
			t.requestSlot(idx, alloc, job, func(ok bool, occupant string, why []string) {
				r.answer(rt, idx, req, ok, occupant, why)
			})
		})
	}
}

func (r *resourceManager) freeSlot() (*rmTM, int) {
	for _, rt := range r.tms {
		if rt.tm == nil || !rt.tm.alive && !r.s.f.Declarative || rt.slots == nil {
			continue // the declarative slot manager learns of a death from heartbeats
		}
		for i, sl := range rt.slots {
			if sl.state == rmFree {
				return rt, i
			}
		}
	}
	return nil, -1
}

// answer handles the TaskManager's reply to requestSlot.
func (r *resourceManager) answer(rt *rmTM, idx int, req *rmRequest, ok bool, occupant string, why []string) {
	s := r.s
	if rt.slots == nil || idx >= len(rt.slots) {
		return
	}
	sl := &rt.slots[idx]
	if ok {
		if sl.state == rmPending && sl.alloc == req.alloc || sl.state == rmFree {
			*sl = rmSlot{state: rmAllocated, alloc: req.alloc}
		}
		if req.tm == rt && req.index == idx {
			req.done = true
			r.drop(req)
		}
		return
	}
	if req.tm != rt || req.index != idx || req.done {
		return // an answer for an attempt the RM already gave up
	}
	s.jmLog("DEBUG", s.f.SlotManagerLogger, fmt.Sprintf("Slot request with allocation id %s failed for slot %s.", s.f.alloc(req.alloc), rt.tm.slotID(idx)), why...)
	if occupant != "" {
		*sl = rmSlot{state: rmAllocated, alloc: occupant}
	} else {
		*sl = rmSlot{}
	}
	req.tm, req.index = nil, -1
	r.assign()
}

func (r *resourceManager) drop(req *rmRequest) {
	for k, p := range r.pending {
		if p == req {
			r.pending = append(r.pending[:k], r.pending[k+1:]...)
			return
		}
	}
}

// slotReport reconciles the RM's view with a TaskManager's report.
func (r *resourceManager) slotReport(rt *rmTM, report []reportSlot) {
	s := r.s
	if s.f.ReportContent {
		msg := "" // the longest record, and only ever written at DEBUG
		if s.cfg.Debug {
			msg = fmt.Sprintf("Received slot report from instance %s: %s.", rt.tm.instance, s.f.slotReport(rt.res, report))
		}
		s.jmLog("DEBUG", s.f.SlotManagerLogger, msg)
	} else {
		s.jmLog("DEBUG", s.f.SlotManagerLogger, fmt.Sprintf("Received slot report from instance %s.", rt.tm.instance))
	}
	retry := false
	for i, rep := range report {
		if i >= len(rt.slots) {
			break
		}
		sl := &rt.slots[i]
		switch {
		case sl.state == rmPending && rep.alloc != "" && rep.alloc != sl.alloc:
			req := sl.req
			s.jmLog("DEBUG", s.f.SlotManagerLogger, fmt.Sprintf("Slot request with allocation id %s failed for slot %s.", s.f.alloc(sl.alloc), rt.tm.slotID(i)),
				fmt.Sprintf("java.lang.Exception: Task manager reported slot %s being already allocated.", rt.tm.slotID(i)),
				"org.apache.flink.runtime.resourcemanager.slotmanager.SlotManager.updateSlotState(SlotManager.java:693)")
			*sl = rmSlot{state: rmAllocated, alloc: rep.alloc}
			if req != nil && !req.done {
				req.tm, req.index = nil, -1
				retry = true
			}
		case sl.state == rmPending && rep.alloc == sl.alloc:
			if sl.req != nil {
				sl.req.done = true
				r.drop(sl.req)
			}
			*sl = rmSlot{state: rmAllocated, alloc: rep.alloc}
		case sl.state == rmFree && rep.alloc != "":
			*sl = rmSlot{state: rmAllocated, alloc: rep.alloc}
		case sl.state == rmAllocated && rep.alloc == "":
			*sl = rmSlot{}
			retry = true
		case sl.state == rmAllocated && rep.alloc != sl.alloc:
			sl.alloc = rep.alloc
		}
	}
	if retry {
		r.assign()
	}
}

// slotFreed is the TaskManager's notifySlotAvailable.
func (r *resourceManager) slotFreed(res string, idx int, alloc string) {
	if r.s.f.Declarative {
		r.slotFreedDeclarative(res, alloc)
		return
	}
	rt := r.byRes(res)
	if rt == nil || idx >= len(rt.slots) {
		return
	}
	if sl := &rt.slots[idx]; sl.state == rmAllocated && sl.alloc == alloc {
		*sl = rmSlot{}
		r.assign()
	}
}
