package rules

import (
	"fmt"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// AllocationTimeout finds slots allocated, never activated, and freed by
// the slot timeout.
var AllocationTimeout = &Rule{
	ID: "allocation-timeout",
	Doc: `A slot was allocated on a TaskManager but never activated, and the TaskManager freed it when
its slot timeout expired: no JobManager accepted it (the job was gone, the offer was lost, or the
JobManager was unreachable). The cause "The slot A has timed out." is logged only at DEBUG; at
INFO a free in state ALLOCATED of a never-activated slot, with no release by the JobManager and
no competing slot for the same AllocationID, is reported as information ("probably timed out").`,
	Severity: Warning,
	Run:      runAllocationTimeout,
}

// timeoutFloor: a never-activated slot freed sooner than this after its
// allocation was not freed by the slot timeout (default 10 s).
const timeoutFloor = 5.0

// timeout is a slot freed, never activated, by the slot timeout: proven
// by the DEBUG cause (reason >= 0), or probable from INFO lines.
type timeout struct {
	a      *reconstruct.Allocation
	h      reconstruct.Held
	pr     *proc
	reason parser.EventRef // the "has timed out" free cause, -1 at INFO
	sev    Severity        // Warning when proven, Info when probable
}

// timeouts finds every slot the slot timeout freed before it was used.
func timeouts(pass *Pass) []timeout {
	m := pass.Model
	res := m.Result
	var out []timeout
	for _, a := range m.Allocations {
		for _, h := range a.Held {
			if h.Prior || h.Freed < 0 {
				continue
			}
			pr := pass.procFor(h.Process)
			created := pr.createdAt(h.Key)
			if created < 0 || pr.activated(h.Key, created) {
				continue
			}
			reason, explained := parser.EventRef(-1), false
			for _, i := range pr.between(h.Allocated, h.Freed) {
				switch res.Kind(i) {
				case flinklog.KindTMFreeReason:
					if res.Head(i).Alloc == a.ID {
						reason = i
					}
				case flinklog.KindTMOfferFailed:
					explained = explained || res.Event(i).Reason == flinklog.ReasonOfferFailed
				case flinklog.KindTMJMRejected, flinklog.KindTMFreeInactive, flinklog.KindTMStopping:
					// the INFO line that gives another cause for the free
					explained = explained || res.Head(i).Job == a.Job || !res.Head(i).Job.IsSet()
				}
			}
			sev := Warning
			if reason >= 0 {
				if !strings.Contains(res.Event(reason).Reason, "has timed out") {
					continue
				}
			} else {
				after, ok := seconds(res.Time(h.Allocated), res.Time(h.Freed))
				if !ok || explained || after < timeoutFloor || res.Event(h.Freed).SlotState != "ALLOCATED" || releasedBefore(m, a, h.Freed) || competing(pr, h) {
					continue
				}
				sev = Info
			}
			out = append(out, timeout{a: a, h: h, pr: pr, reason: reason, sev: sev})
		}
	}
	return out
}

// usedSince returns the first JobManager line that uses the allocation
// after event i (it matched the offer, deployed into it, or a deployment
// into it failed), or -1. Called with the slot's allocation: for a slot the
// TaskManager never activated, any such use came too late — an accepted
// offer activates the slot, and so does a task that reaches it — so the
// order of the use and the free across two clocks does not matter.
func usedSince(m *reconstruct.Model, a *reconstruct.Allocation, i parser.EventRef) parser.EventRef {
	for _, j := range a.Events {
		switch m.Result.Kind(j) {
		case flinklog.KindJMOfferMatched, flinklog.KindJMDeploy, flinklog.KindTaskNoSlot:
			if m.Rank[j] > m.Rank[i] {
				return j
			}
		}
	}
	return -1
}

func runAllocationTimeout(pass *Pass) {
	m := pass.Model
	res := m.Result
	for _, to := range timeouts(pass) {
		a, h, pr, reason, sev := to.a, to.h, to.pr, to.reason, to.sev
		if usedSince(m, a, h.Allocated) >= 0 {
			continue // the JobManager still counted on it: slot-timeout
		}
		f := Finding{Severity: sev, Resource: h.Resource, Alloc: a.ID, Job: a.Job, Time: res.Time(h.Freed), Pos: res.Pos(h.Freed)}
		f.SlotIndex, f.IndexNote = pr.index(h.Key)
		f.Evidence = append(f.Evidence, evidence(m, h.Allocated, "TaskManager %s allocates a slot for %s (job %s).", h.Resource, a.ID, a.Job))
		after, _ := seconds(res.Time(h.Allocated), res.Time(h.Freed))
		if reason >= 0 {
			f.Evidence = append(f.Evidence, evidence(m, reason, "%.1f s later, never activated, it times out.", after))
			f.Message = fmt.Sprintf("%s for %s (job %s) on TaskManager %s was never activated and timed out after %.1f s: no JobManager accepted it",
				capitalize(pr.slotName(h.Key)), a.ID, a.Job, h.Resource, after)
		} else {
			f.Evidence = append(f.Evidence, silent("No activation, no JobManager release and no other slot of %s appear in the log; the cause of the free is logged only at DEBUG.", a.ID))
			f.Message = fmt.Sprintf("%s for %s (job %s) on TaskManager %s was never activated and was freed %.1f s later, probably by the slot timeout (the cause is logged only at DEBUG)",
				capitalize(pr.slotName(h.Key)), a.ID, a.Job, h.Resource, after)
		}
		f.Evidence = append(f.Evidence, evidence(m, h.Freed, "The TaskManager frees %s in state %s.", pr.slotName(h.Key), orWord(res.Event(h.Freed).SlotState, "ALLOCATED")))
		f.FixedModel = "do the same: it times out unused slots too"
		pass.Report(f)
	}
}

// activated: was slot key ever activated (or used by a task) after step from?
func (pr *proc) activated(key, from int) bool {
	for _, st := range pr.r.Steps[from:] {
		if (st.Op == reconstruct.OpActivate || st.Op == reconstruct.OpSubmit) && int(st.Slot[pr.sem]) == key &&
			(st.Outcomes[pr.sem] == reconstruct.Accepted || st.Outcomes[pr.sem] == reconstruct.Idempotent) {
			return true
		}
		if frees(st, pr.sem) && int(st.Slot[pr.sem]) == key {
			return false
		}
	}
	return false
}

// releasedBefore: did the JobManager release the allocation before event i?
func releasedBefore(m *reconstruct.Model, a *reconstruct.Allocation, i parser.EventRef) bool {
	for _, j := range a.Events {
		if m.Result.Kind(j) == flinklog.KindJMRelease && m.Rank[j] < m.Rank[i] {
			return true
		}
	}
	return false
}

// competing: did the AllocationID hold another slot when h was freed?
func competing(pr *proc, h reconstruct.Held) bool {
	si, ok := pr.stepOf(h.Freed)
	return ok && pr.heldBefore(si, pr.sem).n > 1
}

// SlotReportMismatch finds DEBUG slot reports that disagree with the table.
var SlotReportMismatch = &Rule{
	ID: "slot-report-mismatch",
	Doc: `A TaskManager's slot report, as the ResourceManager logged it at DEBUG, disagrees with the
slot table replayed from the TaskManager's own log at that time: an index the report shows held
by one AllocationID that the replay holds by another or not at all, or the other way round.
Either lines are missing from the TaskManager's log (rotation, a lost file), or the table did
something the model does not know — both worth a look before trusting the rest of the verdict.`,
	Severity: Warning,
	Run:      runSlotReportMismatch,
}

func runSlotReportMismatch(pass *Pass) {
	m := pass.Model
	for _, pr := range pass.processes() {
		other := reconstruct.Fixed
		if pr.sem == reconstruct.Fixed {
			other = reconstruct.Legacy
		}
		// Reports repeat every heartbeat: a disagreement that persists is
		// one finding, its later reports added as evidence.
		open := map[string]*Finding{}
		var order []string
		for k, chk := range pr.r.Checks() {
			if chk.Agrees[pr.sem] {
				continue
			}
			rep := pr.p.SlotReport(k)
			var diffs []string
			f := Finding{Severity: Warning, Resource: pr.tm.Resource, SlotIndex: -1, Time: m.Result.Time(rep), Pos: m.Result.Pos(rep)}
			for _, row := range chk.Rows(pr.sem) {
				if row.Agrees {
					continue
				}
				if f.SlotIndex < 0 {
					f.SlotIndex, f.IndexNote = row.Index, "printed by the slot report"
					f.Alloc = row.Reported
					if !f.Alloc.IsSet() {
						f.Alloc = row.Replayed.Alloc
					}
				}
				diffs = append(diffs, fmt.Sprintf("index %d: reported %s, replayed %s", row.Index, holder(row.Reported), replayedHolder(row.Replayed)))
			}
			sig := strings.Join(diffs, "; ")
			if prev := open[sig]; prev != nil {
				if len(prev.Evidence) < 8 {
					prev.Evidence = append(prev.Evidence, evidence(m, rep, "The next slot report disagrees the same way."))
				}
				continue
			}
			f.Evidence = append(f.Evidence, evidence(m, rep, "The ResourceManager logs TaskManager %s's slot report: %s.", pr.tm.Resource, strings.Join(diffs, "; ")))
			if after := chk.After[pr.sem]; after >= 0 {
				f.Evidence = append(f.Evidence, evidence(m, after, "The %s table replayed from the TaskManager's log up to this line holds otherwise.", pr.sem))
			} else {
				f.Evidence = append(f.Evidence, silent("The %s table replayed from the TaskManager's log before its first line holds otherwise.", pr.sem))
			}
			f.Message = fmt.Sprintf("a slot report of TaskManager %s disagrees with the %s table replayed from its log (%s): lines may be missing from the log",
				pr.tm.Resource, pr.sem, strings.Join(diffs, "; "))
			if chk.Agrees[other] {
				f.FixedModel = fmt.Sprintf("match this report (the %s table's replay agrees with it)", other)
			} else {
				f.FixedModel = fmt.Sprintf("not match it either (the %s table's replay disagrees too)", other)
			}
			open[sig] = &f
			order = append(order, sig)
		}
		for _, sig := range order {
			pass.Report(*open[sig])
		}
	}
}

func holder(id flinklog.ID) string {
	if !id.IsSet() {
		return "free"
	}
	return id.String()
}

func replayedHolder(s reconstruct.Slot) string {
	if !s.Alloc.IsSet() {
		return "free"
	}
	return s.Alloc.String()
}
