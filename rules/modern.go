package rules

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// SlotTimeout finds slots the TaskManager's slot timeout freed while the
// JobManager still counted on them.
var SlotTimeout = &Rule{
	ID: "slot-timeout",
	Doc: `A slot was allocated on a TaskManager, never activated, and freed by the TaskManager's slot
timeout (taskmanager.slot.timeout, 10 s by default) — and after that the JobManager used it: it
matched the TaskManager's offer, deployed a task into it, or saw the deployment fail with "No task
slot allocated". The offer reached a JobManager too busy (a long GC pause, a blocked main thread)
to answer within the timeout, so both sides acted on a slot only one of them still had. The cause
"The slot A has timed out." is DEBUG on the TaskManager; at INFO the free of a never-activated slot
in state ALLOCATED about the timeout after its allocation, followed by the JobManager's use, shows
it. Unlike allocation-timeout (nobody wanted the slot), this one fails a deployment.`,
	Severity: Error,
	Run:      runSlotTimeout,
}

func runSlotTimeout(pass *Pass) {
	m := pass.Model
	res := m.Result
	for _, to := range timeouts(pass) {
		a, h, pr := to.a, to.h, to.pr
		used := usedSince(m, a, h.Allocated)
		if used < 0 {
			continue
		}
		f := Finding{Severity: Error, Resource: h.Resource, Alloc: a.ID, Job: a.Job, Time: res.Time(h.Freed), Pos: res.Pos(h.Freed)}
		f.SlotIndex, f.IndexNote = pr.index(h.Key)
		after, _ := seconds(res.Time(h.Allocated), res.Time(h.Freed))
		f.Evidence = append(f.Evidence, evidence(m, h.Allocated, "TaskManager %s allocates a slot for %s (job %s) and arms its slot timeout.", h.Resource, a.ID, a.Job))
		for _, i := range pr.between(h.Allocated, h.Freed) {
			if res.Kind(i) == flinklog.KindTMOffer && res.Head(i).Job == a.Job {
				f.Evidence = append(f.Evidence, evidence(m, i, "The TaskManager offers the job's reserved slots to its JobManager; no answer comes before the timeout."))
				break
			}
		}
		how := fmt.Sprintf("timed out %.1f s after its allocation", after)
		if to.reason >= 0 {
			f.Evidence = append(f.Evidence, evidence(m, to.reason, "%.1f s after the allocation, still not activated, the slot times out.", after))
		} else {
			how = fmt.Sprintf("was freed %.1f s after its allocation, never activated (the slot timeout; its cause is logged only at DEBUG)", after)
			f.Evidence = append(f.Evidence, silent("No activation, no JobManager release and no other slot of %s appear before the free; the cause of the free is logged only at DEBUG.", a.ID))
		}
		f.Evidence = append(f.Evidence, evidence(m, h.Freed, "The TaskManager frees %s in state %s: %s is gone from its table.", pr.slotName(h.Key), orWord(res.Event(h.Freed).SlotState, "ALLOCATED"), a.ID))
		use, used2 := "used", "uses"
		switch res.Kind(used) {
		case flinklog.KindJMOfferMatched:
			use, used2 = "accepted its offer", "accepts the offer of"
		case flinklog.KindJMDeploy:
			use, used2 = "deployed a task into it", "deploys a task into"
		case flinklog.KindTaskNoSlot:
			use, used2 = "failed to deploy into it", "fails a deployment into"
		}
		f.Evidence = append(f.Evidence, evidence(m, used, "Afterwards the JobManager %s %s, which no longer exists on the TaskManager.", used2, a.ID))
		f.Message = fmt.Sprintf("%s for %s (job %s) on TaskManager %s %s, before the JobManager answered its offer; the JobManager then %s anyway",
			capitalize(pr.slotName(h.Key)), a.ID, a.Job, h.Resource, how, use)
		f.FixedModel = "do the same: the slot timeout is the same in both tables; a longer taskmanager.slot.timeout, or a JobManager that answers in time, avoids it"
		pass.Report(f)
	}
}

// TaskManagerLost finds TaskManagers whose heartbeats timed out.
var TaskManagerLost = &Rule{
	ID: "taskmanager-lost",
	Doc: `The ResourceManager or the JobManager stopped hearing from a TaskManager: its heartbeat timed out
(heartbeat.timeout, 50 s by default) or it became unreachable. Every slot it held is gone and
every task in them failed. When the TaskManager's own log is in the input and simply stops,
without a shutdown line, the process died without a word (an OOM-killed pod, a killed host);
when its log goes on, the network or a long pause cut it off. The finding lists the slots and
tasks it took down and the TaskManager that registered next, if one did.`,
	Severity: Warning,
	Run:      runTaskManagerLost,
}

// lostWindow: heartbeat lines about one TaskManager this close together
// (the ResourceManager's and each JobMaster's: each notices within one
// heartbeat interval of the others) are one loss.
const lostWindow = 30e9

func runTaskManagerLost(pass *Pass) {
	m := pass.Model
	res := m.Result
	type loss struct {
		res   string
		lines []parser.EventRef
	}
	var losses []*loss
	open := map[string]*loss{}
	var scratch flinklog.Event // written out into, not allocated, for each
	// the task failures and registrations, in causal order: each loss
	// looks for those after it (it walked every event, written out, twice
	// a loss, in an order sorted from all of them)
	failed := byRank(m, res.AllOf(flinklog.KindJMTaskFailed))
	registered := byRank(m, res.AllOf(flinklog.KindRMTMRegister))
	after := func(list []parser.EventRef, first parser.EventRef) []parser.EventRef {
		k := sort.Search(len(list), func(k int) bool { return m.Rank[list[k]] > m.Rank[first] })
		return list[k:]
	}
	for _, i := range byRank(m, res.AllOf(flinklog.KindHeartbeatTimeout, flinklog.KindRMTMRegister)) {
		ev := res.ReadEvent(i, &scratch)
		switch {
		case ev.Kind == flinklog.KindHeartbeatTimeout && ev.Reason == "TaskManager" && ev.Resource != "" && ev.Component != flinklog.ComponentTM:
		case ev.Kind == flinklog.KindRMTMRegister && ev.Resource != "":
			delete(open, ev.Resource) // a new registration ends the episode
			continue
		default:
			continue
		}
		res := bareResource(ev.Resource)
		if l := open[res]; l != nil {
			if t, u := aligned(m, l.lines[0]), aligned(m, i); t.Kind != u.Kind || u.N-t.N <= lostWindow {
				l.lines = append(l.lines, i)
				continue
			}
		}
		l := &loss{res: res, lines: []parser.EventRef{i}}
		open[res] = l
		losses = append(losses, l)
	}
	for _, l := range losses {
		first := l.lines[0]
		f := Finding{Severity: Warning, Resource: l.res, SlotIndex: -1, IndexNote: "not about one slot", Time: res.Time(first), Pos: res.Pos(first)}
		for _, i := range l.lines {
			switch res.Head(i).Component {
			case flinklog.ComponentRM:
				f.Evidence = append(f.Evidence, evidence(m, i, "The ResourceManager stops hearing from TaskManager %s.", l.res))
			case flinklog.ComponentJM:
				f.Evidence = append(f.Evidence, evidence(m, i, "The JobManager stops hearing from TaskManager %s.", l.res))
			default:
				f.Evidence = append(f.Evidence, evidence(m, i, "An exception says that the heartbeat of TaskManager %s timed out, or that it became unreachable.", l.res))
			}
		}
		// the TaskManager's own log: where it ends
		var last *proc
		for _, pr := range pass.processes() {
			if pr.tm.Resource == l.res && len(pr.p.Events) > 0 && m.Rank[pr.p.Events[0]] < m.Rank[first] {
				last = pr
			}
		}
		died := "its log is not in the input"
		var held []string
		if last != nil {
			end := last.lastEvent()
			endT := last.logEnd(m)
			gap, ok := seconds(flinklog.Time{Kind: endT.Kind, N: endT.N + m.Skew[last.p.Input].Offset}, aligned(m, first))
			switch {
			case res.Kind(end) == flinklog.KindTMStopping:
				died = "its log ends with a shutdown"
			case ok && gap > 0:
				died = fmt.Sprintf("its own log ends %.0f s earlier without a shutdown line: the process died without a word (killed, OOM)", gap)
				f.Evidence = append(f.Evidence, evidence(m, end, "The TaskManager's log ends here, with no shutdown line."))
			default:
				died = "its own log goes on: the network or a long pause cut it off"
			}
			tab := last.r.Tables[last.sem]
			for _, sl := range tab.Slots() {
				held = append(held, sl.Alloc.String())
			}
		}
		sort.Strings(held)
		var tasks []string
		for _, i := range after(failed, first) {
			if len(tasks) >= 20 {
				break
			}
			if ev := res.ReadEvent(i, &scratch); strings.Contains(ev.Reason, l.res) && ev.Task != "" {
				tasks = append(tasks, ev.Task)
				if len(tasks) == 1 {
					f.Evidence = append(f.Evidence, evidence(m, i, "A task in one of its slots fails with the lost heartbeat as its cause."))
				}
			}
		}
		next := ""
		for _, i := range after(registered, first) {
			if ev := res.ReadEvent(i, &scratch); bareResource(ev.Resource) != l.res {
				next = bareResource(ev.Resource)
				f.Evidence = append(f.Evidence, evidence(m, i, "TaskManager %s registers next.", next))
				break
			}
		}
		msg := fmt.Sprintf("TaskManager %s was lost: its heartbeat timed out; %s", l.res, died)
		if len(held) > 0 {
			msg += fmt.Sprintf("; it held %d slot(s) (%s)", len(held), strings.Join(held, ", "))
		}
		if len(tasks) > 0 {
			msg += fmt.Sprintf("; %d task(s) failed with it (%s)", len(tasks), strings.Join(tasks, ", "))
		}
		if next != "" {
			msg += "; TaskManager " + next + " registered next"
		}
		f.Message = msg
		f.FixedModel = "do the same: a lost TaskManager takes its slots down in both tables"
		pass.Report(f)
	}
}

// bareResource drops the "(host:port)" metadata YARN ResourceIDs carry
// in 1.12+ messages.
func bareResource(r string) string {
	if i := strings.IndexByte(r, '('); i > 0 && strings.HasSuffix(r, ")") {
		return r[:i]
	}
	return r
}

// byRank returns the refs of seq in causal order (the model's ranks).
func byRank(m *reconstruct.Model, seq iter.Seq[parser.EventRef]) []parser.EventRef {
	out := slices.Collect(seq)
	slices.SortStableFunc(out, func(a, b parser.EventRef) int { return cmp.Compare(m.Rank[a], m.Rank[b]) })
	return out
}

// SlotIndexConflict finds slots that two lines place at different indexes
// on a TaskManager that runs the fixed table.
var SlotIndexConflict = &Rule{
	ID: "slot-index-conflict",
	Doc: `Two lines of one TaskManager process place one slot at different indexes: a refusal, a free or
a slot report names index N for an AllocationID that an earlier line placed at index M. A slot
keeps its index for life, and the fixed slot table (Flink >= 1.10) keeps one slot per
AllocationID with its map and its slots in step, so this is either a possible new bug in the
table (the map and the slot disagree) or a sign that the log mixes lines of two processes or
lost some. Reported only for TaskManagers that ran the fixed table: on the legacy table one
AllocationID on two indexes is the FLINK-14589 overwrite, which slot-map-overwrite reports.`,
	Severity: Warning,
	Run:      runSlotIndexConflict,
}

func runSlotIndexConflict(pass *Pass) {
	m := pass.Model
	for _, pr := range pass.processes() {
		if pr.sem != reconstruct.Fixed {
			continue
		}
		for _, c := range pr.r.Conflicts {
			at, ok := pass.state.eventAt(c.Pos)
			if !ok {
				continue
			}
			ev := m.Result.Event(at)
			alloc := ev.Alloc
			if si := pr.createdAt(c.Key); si >= 0 {
				alloc = pr.r.AllocOf(pr.r.Steps[si])
			}
			f := Finding{Severity: Warning, Resource: pr.tm.Resource, Alloc: alloc, Job: ev.Job, SlotIndex: c.Settled.Index,
				IndexNote: fmt.Sprintf("%s from the %s at %s", c.Settled.Source, c.Settled.How, m.Result.Files.Position(c.Settled.Pos)),
				Time:      ev.Time, Pos: ev.Pos}
			if a := m.Allocation(alloc); a != nil && !f.Job.IsSet() {
				f.Job = a.Job
			}
			if si, ok := pass.state.eventAt(c.Settled.Pos); ok {
				f.Evidence = append(f.Evidence, evidence(m, si, "This %s places %s's slot at index %d.", c.Settled.How, alloc, c.Settled.Index))
			}
			f.Evidence = append(f.Evidence, evidence(m, at, "This %s places the same slot at index %d.", c.How, c.Index))
			f.Evidence = append(f.Evidence, silent("A slot keeps its index for life, and the fixed table holds one slot per AllocationID."))
			f.Message = fmt.Sprintf("on TaskManager %s, which runs the fixed table (%s), a %s places %s at index %d while a %s placed it at index %d: the table's map and its slots disagree (a possible new bug), or the log mixes lines of two processes or lost some",
				pr.tm.Resource, pr.runsNote(), c.How, alloc, c.Index, c.Settled.How, c.Settled.Index)
			f.FixedModel = "keep one index per AllocationID: this is the fixed table's own invariant"
			pass.Report(f)
		}
	}
}
