package rules

import (
	"fmt"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// SlotMapOverwrite finds FLINK-14589: an AllocationID allocated on a second
// slot while its first slot still holds it.
var SlotMapOverwrite = &Rule{
	ID: "slot-map-overwrite",
	Doc: `An AllocationID was allocated on a second slot of a TaskManager while its first slot still
held it (FLINK-14589). The legacy slot table (Flink <= 1.9) keeps one AllocationID -> slot map
entry, so the second allocation overwrites it and the first slot can no longer be reached: it
becomes a zombie. At INFO the proof is two "Allocated slot for A" lines without a free of A
between them (the legacy table logs an allocation only for a free index, so the second one is
another slot). On a TaskManager that runs the fixed table a refused duplicate is reported as
information (the fix at work); an overwrite there is a new bug and is reported as an error.`,
	Severity: Error,
	Run:      runSlotMapOverwrite,
}

func runSlotMapOverwrite(pass *Pass) {
	m := pass.Model
	res := m.Result
	for _, pr := range pass.processes() {
		for si, st := range pr.r.Steps {
			if st.Op != reconstruct.OpAllocate || st.Outcomes[reconstruct.Legacy] != reconstruct.Overwritten {
				continue
			}
			held := pr.heldBefore(si, reconstruct.Legacy)
			if held.n == 0 {
				continue
			}
			oldKey, newKey := int(held.first), int(st.Slot[reconstruct.Legacy])
			oldStep := pr.createdAt(oldKey)
			a := m.Allocation(pr.r.AllocOf(st))
			job := res.Head(st.Event).Job
			if a != nil && !job.IsSet() {
				job = a.Job
			}
			f := Finding{Severity: Error, Resource: pr.tm.Resource, Alloc: pr.r.AllocOf(st), Job: job,
				Time: res.Time(st.Event), Pos: res.Pos(st.Event)}
			f.SlotIndex, f.IndexNote = pr.index(oldKey)
			newIdx, newNote := pr.index(newKey)
			f.IndexNote = fmt.Sprintf("first slot: %s; second slot: %s", indexPhrase(f.SlotIndex, f.IndexNote), indexPhrase(newIdx, newNote))
			if oldStep >= 0 {
				f.Evidence = append(f.Evidence, evidence(m, pr.r.Steps[oldStep].Event,
					"TaskManager %s allocates a slot for %s: %s.", pr.tm.Resource, pr.r.AllocOf(st), pr.slotName(oldKey)))
			}
			if a != nil && oldStep >= 0 {
				lo, hi := m.Rank[pr.r.Steps[oldStep].Event], m.Rank[st.Event]
				for _, i := range a.Events {
					ev := res.Event(i)
					if m.Rank[i] <= lo || m.Rank[i] >= hi || ev.Kind != flinklog.KindRMAllocFailed {
						continue
					}
					why := ev.Reason
					if why == "" {
						why = "its request failed"
					}
					f.Evidence = append(f.Evidence, evidence(m, i,
						"The ResourceManager gives up %s's request on slot %s (%s) and sends the same request to another slot.", pr.r.AllocOf(st), ev.SlotID, strings.TrimSuffix(why, ".")))
				}
			}
			for _, i := range pr.between(pr.r.Steps[max(oldStep, 0)].Event, st.Event) {
				if res.Kind(i) == flinklog.KindTMSlotRequest && res.Head(i).Alloc == pr.r.AllocOf(st) {
					f.Evidence = append(f.Evidence, evidence(m, i, "A second slot request for %s reaches the TaskManager.", pr.r.AllocOf(st)))
				}
			}
			f.Evidence = append(f.Evidence, evidence(m, st.Event,
				"A second slot is allocated for %s while %s still holds it: the legacy table logs an allocation only for a free index, so this is another slot (%s), and the AllocationID map now leads only there.",
				pr.r.AllocOf(st), pr.slotName(oldKey), pr.slotName(newKey)))
			f.FixedModel = pr.fixedWould(si)
			if f.FixedModel == "" {
				f.FixedModel = fmt.Sprintf("refuse the second request for %s: it already holds a slot, which stays its only one", pr.r.AllocOf(st))
			}
			if pr.sem == reconstruct.Fixed {
				f.Message = fmt.Sprintf("%s was allocated on a second slot of TaskManager %s while its first slot still held it, although this TaskManager runs the fixed table (%s), which refuses that: a new bug, or lines are missing from the log",
					pr.r.AllocOf(st), pr.tm.Resource, pr.runsNote())
			} else {
				f.Message = fmt.Sprintf("%s was allocated on a second slot of TaskManager %s while its first slot (%s) still held it: the allocation map now leads only to the second slot (FLINK-14589)",
					pr.r.AllocOf(st), pr.tm.Resource, pr.slotName(oldKey))
			}
			pass.Report(f)
		}
		reportPrevented(pass, pr)
	}
}

// reportPrevented: on the fixed table, a refused duplicate is the fix at
// work — information, not an error.
func reportPrevented(pass *Pass, pr *proc) {
	m := pass.Model
	res := m.Result
	for k, i := range pr.p.Events {
		if kind := res.Kind(i); kind != flinklog.KindTMAllocRefused && kind != flinklog.KindTMAllocExists {
			continue
		}
		ev := res.Event(i)
		refused := ev.Kind == flinklog.KindTMAllocRefused && ev.Alloc.IsSet() && ev.Reason == flinklog.ReasonAllocatedElsewhere
		if ev.Kind == flinklog.KindTMAllocExists {
			// 1.13+: "Slot with allocationId A already exist … index N. The
			// required index is M." is a refusal only when "Could not
			// allocate slot for A" follows.
			for _, j := range pr.p.Events[k+1:] {
				if res.Head(j).Alloc != ev.Alloc {
					continue
				}
				refused = res.Kind(j) == flinklog.KindTMAllocRefused
				break
			}
		}
		if !refused {
			continue
		}
		f := Finding{Severity: Info, Resource: pr.tm.Resource, Alloc: ev.Alloc, Job: ev.Job, Time: ev.Time, Pos: ev.Pos, SlotIndex: ev.SlotIndex}
		if a := m.Allocation(ev.Alloc); a != nil && !f.Job.IsSet() {
			f.Job = a.Job
		}
		held := "a slot"
		if ev.SlotIndex >= 0 {
			held = fmt.Sprintf("index %d", ev.SlotIndex)
			f.IndexNote = "printed by the refusal"
		} else {
			f.IndexNote = "the refusal does not print it"
		}
		f.Evidence = append(f.Evidence, evidence(m, i,
			"The fixed table refuses a second slot for %s, which already holds %s.", ev.Alloc, held))
		f.Message = fmt.Sprintf("TaskManager %s refused a second slot for %s (it already holds %s): on Flink <= 1.9 this request would have overwritten the allocation map (FLINK-14589)",
			pr.tm.Resource, ev.Alloc, held)
		f.FixedModel = "refuse the request, as this TaskManager did"
		pass.Report(f)
	}
}

func indexPhrase(idx int, note string) string {
	if idx < 0 {
		return "index " + note
	}
	return fmt.Sprintf("index %d (%s)", idx, note)
}

// ZombieSlot finds slots the allocation map no longer reaches.
var ZombieSlot = &Rule{
	ID: "zombie-slot",
	Doc: `A slot still holds an AllocationID that the TaskManager's allocation map no longer leads
to. Nothing can free it, activate it or deploy a task into it: every release of that
AllocationID is a no-op ("Could not free slot for allocation id"), every deployment fails with
"No task slot allocated", and the TaskManager's capacity shrinks by one slot until the process
ends. Reported with the time the slot became unreachable and the zombie slot-seconds seen in the
log (a lower bound: the TaskManager may have lived on after its log ends).`,
	Severity: Error,
	Requires: []*Rule{SlotMapOverwrite, DuplicateOffer},
	Run:      runZombieSlot,
}

func runZombieSlot(pass *Pass) {
	m := pass.Model
	res := m.Result
	for _, a := range m.Allocations {
		for _, h := range a.Held {
			if !h.Zombie {
				continue
			}
			pr := pass.procFor(h.Process)
			key := h.Key
			created := pr.createdAt(key)
			f := Finding{Severity: Error, Resource: h.Resource, Alloc: a.ID, Job: a.Job}
			f.SlotIndex, f.IndexNote = pr.index(key)
			if created >= 0 {
				f.Evidence = append(f.Evidence, evidence(m, pr.r.Steps[created].Event,
					"TaskManager %s allocates a slot for %s: %s.", h.Resource, a.ID, pr.slotName(key)))
				for si := created + 1; si < len(pr.r.Steps); si++ {
					st := pr.r.Steps[si]
					if pr.r.AllocOf(st) == a.ID && st.Op == reconstruct.OpActivate && int(st.Slot[pr.sem]) == key && st.Outcomes[pr.sem] == reconstruct.Accepted {
						f.Evidence = append(f.Evidence, evidence(m, st.Event, "The JobManager accepts it and the slot becomes ACTIVE."))
						break
					}
				}
			}
			since, removed := -1, -1
			for si := max(created, 0); si < len(pr.r.Steps); si++ {
				st := pr.r.Steps[si]
				if pr.r.AllocOf(st) != a.ID {
					continue
				}
				if since < 0 && st.Op == reconstruct.OpAllocate && st.Outcomes[pr.sem] == reconstruct.Overwritten {
					since = si
					f.Evidence = append(f.Evidence, evidence(m, st.Event,
						"A second slot is allocated for %s (%s): the AllocationID map now leads there, not to %s.", a.ID, pr.slotName(int(st.Slot[pr.sem])), pr.slotName(key)))
					continue
				}
				if since >= 0 && removed < 0 && frees(st, pr.sem) && int(st.Slot[pr.sem]) != key {
					removed = si
					f.Evidence = append(f.Evidence, evidence(m, st.Event,
						"The TaskManager frees %s through the map and removes %s from it: %s still holds %s and nothing leads to it any more.",
						pr.slotName(int(st.Slot[pr.sem])), a.ID, pr.slotName(key), a.ID))
					continue
				}
				if removed >= 0 && st.Op == reconstruct.OpFree && st.Outcomes[pr.sem] == reconstruct.Unknown {
					f.Evidence = append(f.Evidence, evidence(m, st.Event,
						"A later release of %s frees nothing: the map no longer knows it.", a.ID))
				}
			}
			if since < 0 {
				continue // unreachable without an overwrite in view: the replay cannot say since when
			}
			f.Pos, f.Time = res.Pos(pr.r.Steps[since].Event), res.Time(pr.r.Steps[since].Event)
			if removed >= 0 {
				f.Pos, f.Time = res.Pos(pr.r.Steps[removed].Event), res.Time(pr.r.Steps[removed].Event)
			}
			f.Since = f.Time
			// The JobManager's releases that no TaskManager free follows.
			for _, i := range a.Events {
				if res.Kind(i) == flinklog.KindJMRelease && m.Rank[i] > m.Rank[pr.r.Steps[since].Event] {
					f.Evidence = append(f.Evidence, evidence(m, i,
						"The JobManager releases %s; no \"Free slot\" line for %s follows on the TaskManager.", a.ID, a.ID))
				}
			}
			// Slot reports that still show it, the last one is enough.
			idx, _ := pr.index(key)
			for k, chk := range pr.r.ChecksBackward() {
				if idx < 0 {
					break
				}
				if rt, st := aligned(m, pr.p.SlotReport(k)), aligned(m, pr.r.Steps[since].Event); rt.Kind == st.Kind && rt.N < st.N {
					break
				}
				shown := false
				for _, row := range chk.Rows(pr.sem) {
					if row.Index == idx && row.Reported == a.ID {
						shown = true
					}
				}
				if shown {
					f.Evidence = append(f.Evidence, evidence(m, pr.p.SlotReport(k),
						"The ResourceManager's slot report still shows index %d held by %s.", idx, a.ID))
					break
				}
			}
			endT, endWhy := pr.evidenceEnd(m)
			if h.Replaced >= 0 {
				endT, endWhy = res.Time(h.Replaced), "the restart of its TaskManager"
			}
			if s, ok := seconds(res.Time(pr.r.Steps[since].Event), endT); ok && s > 0 {
				f.ZombieSeconds = s
			}
			f.Message = fmt.Sprintf("on TaskManager %s, %s still holds %s (job %s) but the allocation map no longer leads to it: it can never be freed or used; unreachable since %s, %.1f slot-seconds until %s",
				h.Resource, pr.slotName(key), a.ID, a.Job, res.Time(pr.r.Steps[since].Event), f.ZombieSeconds, endWhy)
			f.FixedModel = fmt.Sprintf("refuse the second request for %s, so its one slot stays reachable and is freed when the JobManager releases it", a.ID)
			for _, rule := range []string{SlotMapOverwrite.ID, DuplicateOffer.ID} {
				for _, c := range pass.Findings(rule) {
					if c.Alloc == a.ID && c.Resource == h.Resource && c.Severity > Info {
						f.Causes = append(f.Causes, c.ID)
					}
				}
			}
			pass.Report(f)
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// DuplicateOffer finds an offer of an AllocationID from a second slot.
var DuplicateOffer = &Rule{
	ID: "duplicate-offer",
	Doc: `The TaskManager offered an AllocationID from a second slot while the JobManager already held
that AllocationID from the first (FLINK-9293 family). The JobManager rejects such an offer
without a log line (1.6.2-1.13), and the TaskManager frees the rejected slot through its
allocation map — which, under the legacy table, is the step that leaves the first slot a zombie.
Seen as the free of a never-activated slot (reason "The slot was rejected by the JobManager." at
DEBUG, state ALLOCATED at INFO) while the AllocationID holds another slot.`,
	Severity: Warning,
	Requires: []*Rule{SlotMapOverwrite},
	Run:      runDuplicateOffer,
}

func runDuplicateOffer(pass *Pass) {
	m := pass.Model
	res := m.Result
	for _, pr := range pass.processes() {
		for si, st := range pr.r.Steps {
			if !frees(st, pr.sem) {
				continue
			}
			held := pr.heldBefore(si, pr.sem)
			if held.n < 2 || held.last != st.Slot[pr.sem] {
				continue
			}
			key, other := int(st.Slot[pr.sem]), int(held.first)
			created := pr.createdAt(key)
			if created < 0 {
				continue
			}
			allocEv := pr.r.Steps[created].Event
			var offer, reason parser.EventRef = -1, -1
			for _, i := range pr.between(allocEv, st.Event) {
				switch ev := res.Event(i); {
				case ev.Kind == flinklog.KindTMOffer && offer < 0:
					offer = i
				case ev.Kind == flinklog.KindTMFreeReason && ev.Alloc == pr.r.AllocOf(st):
					reason = i
				}
			}
			rejected := reason >= 0 && strings.Contains(res.Event(reason).Reason, "rejected by the JobManager")
			if reason >= 0 && !rejected {
				continue // freed for another reason
			}
			if reason < 0 && (offer < 0 || res.Event(st.Event).SlotState != "ALLOCATED") {
				continue
			}
			f := Finding{Severity: Warning, Resource: pr.tm.Resource, Alloc: pr.r.AllocOf(st), Job: res.Head(st.Event).Job,
				Time: res.Time(st.Event), Pos: res.Pos(st.Event)}
			f.SlotIndex, f.IndexNote = pr.index(key)
			f.Evidence = append(f.Evidence, evidence(m, allocEv, "A second slot is allocated for %s: %s.", pr.r.AllocOf(st), pr.slotName(key)))
			if offer >= 0 {
				f.Evidence = append(f.Evidence, evidence(m, offer, "The TaskManager offers its unconfirmed slots of job %s, the second slot of %s among them.", res.Head(offer).Job, pr.r.AllocOf(st)))
			}
			f.Evidence = append(f.Evidence, silent("The JobManager already holds %s from %s and rejects the offer of the same AllocationID from another slot, without a log line.", pr.r.AllocOf(st), pr.slotName(other)))
			if rejected {
				f.Evidence = append(f.Evidence, evidence(m, reason, "The TaskManager frees %s because the JobManager rejected it.", pr.r.AllocOf(st)))
			}
			f.Evidence = append(f.Evidence, evidence(m, st.Event, "It frees %s through the map, in state %s: never activated.", pr.slotName(key), orWord(res.Event(st.Event).SlotState, "ALLOCATED")))
			f.Message = fmt.Sprintf("TaskManager %s offered %s from a second slot (%s) while the JobManager held it from %s; the JobManager rejected the offer silently and the TaskManager freed the second slot through the map",
				pr.tm.Resource, pr.r.AllocOf(st), pr.slotName(key), pr.slotName(other))
			f.FixedModel = fmt.Sprintf("never create a second slot for %s, so there is no second offer", pr.r.AllocOf(st))
			for _, c := range pass.Findings(SlotMapOverwrite.ID) {
				if c.Alloc == pr.r.AllocOf(st) && c.Resource == pr.tm.Resource && c.Severity > Info {
					f.Causes = append(f.Causes, c.ID)
				}
			}
			pass.Report(f)
		}
	}
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
