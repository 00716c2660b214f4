package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// TaskWithoutSlot finds "No task slot allocated" deployment failures.
var TaskWithoutSlot = &Rule{
	ID: "task-without-slot",
	Doc: `A task could not be deployed: "No task slot allocated for job ID J and allocation ID A"
(TaskSubmissionException). The TaskManager looks the AllocationID up in its allocation map; the
lookup fails when the slot was freed before the task arrived, or when the map lost the
AllocationID while a slot still holds it (a zombie, FLINK-14589). The line is DEBUG on the
TaskManager; at INFO it surfaces on the JobManager as the cause of a failed deployment. Linked to
its root cause when the input shows it.`,
	Severity: Error,
	Requires: []*Rule{ZombieSlot, SlotTimeout},
	Run:      runTaskWithoutSlot,
}

// sameFailure: the TaskManager's line and the JobManager's report of one
// failed deployment lie this close together (aligned clocks).
const sameFailure = 5e9

func runTaskWithoutSlot(pass *Pass) {
	m := pass.Model
	res := m.Result
	zombies := pass.Findings(ZombieSlot.ID)
	timedOut := pass.Findings(SlotTimeout.ID)
	for _, a := range m.Allocations {
		var groups [][]parser.EventRef
		var keys []attemptKey
		lastG := -1 // the group an event joined last
		near := func(g int, i parser.EventRef) bool {
			last := groups[g][len(groups[g])-1]
			t, u := aligned(m, last), aligned(m, i)
			return t.Kind == u.Kind && u.N-t.N <= sameFailure
		}
		for _, i := range a.Events {
			if res.Kind(i) != flinklog.KindTaskNoSlot {
				continue
			}
			// One finding per failed execution attempt, however far apart
			// the failures; lines that name no attempt (the job's own
			// failure, repeating the cause) join the failure just before.
			key := attemptOf(m, i)
			joined := -1
			if !key.empty() {
				for g := range groups {
					if keys[g].same(key) {
						joined = g
						break
					}
				}
				if joined < 0 && lastG >= 0 && keys[lastG].empty() && near(lastG, i) {
					joined = lastG
				}
			} else if lastG >= 0 && near(lastG, i) {
				joined = lastG
			}
			if joined < 0 {
				groups, keys = append(groups, nil), append(keys, attemptKey{})
				joined = len(groups) - 1
			}
			groups[joined] = append(groups[joined], i)
			keys[joined] = keys[joined].merge(key)
			lastG = joined
		}
		for gi, g := range groups {
			first := g[0]
			f := Finding{Severity: Error, Resource: a.Resource, Alloc: a.ID, Job: a.Job, SlotIndex: -1,
				Time: res.Time(first), Pos: res.Pos(first)}
			if !f.Job.IsSet() {
				f.Job = res.Head(first).Job
			}
			for _, i := range g {
				who := "The TaskManager"
				if res.Head(i).Component != flinklog.ComponentTM {
					who = "The JobManager"
				} else if res.Head(i).Resource != "" {
					f.Resource = res.Head(i).Resource // the TaskManager that refused the task
				}
				what := "a task"
				if t := taskAt(m, i); t != "" {
					what = t
				}
				f.Evidence = append(f.Evidence, evidence(m, i, "%s reports that %s cannot be deployed into %s: no task slot is allocated for it.", who, what, a.ID))
			}
			cause := ""
			for _, z := range zombies {
				if z.Alloc == a.ID && (z.Resource == a.Resource || a.Resource == "") {
					f.Causes = append(f.Causes, z.ID)
					f.SlotIndex, f.IndexNote, f.Resource = z.SlotIndex, z.IndexNote, z.Resource
					cause = fmt.Sprintf("the slot holding %s is a zombie (finding %s): the allocation map lost %s when the TaskManager freed its second slot", a.ID, z.ID, a.ID)
				}
			}
			f.FixedModel = "fail the same way: the fixed table cannot find the AllocationID either"
			if cause != "" {
				f.Evidence = append(f.Evidence, silent("The lookup goes through the allocation map, which no longer knows %s although a slot still holds it.", a.ID))
				f.FixedModel = fmt.Sprintf("accept the task into %s's slot: the fixed table never loses the map entry of a held slot", a.ID)
			} else if freed := freedBefore(m, a, first); freed >= 0 {
				cause = fmt.Sprintf("its slot was freed at %s before the task arrived", m.Result.Files.Position(res.Pos(freed)))
				says := "The TaskManager frees %s's slot before the deployment."
				for _, st := range timedOut {
					if st.Alloc == a.ID && st.Pos == res.Pos(freed) {
						f.Causes = append(f.Causes, st.ID)
						f.SlotIndex, f.IndexNote = st.SlotIndex, st.IndexNote
						cause = fmt.Sprintf("its slot timed out on the TaskManager at %s, before the JobManager answered the offer (finding %s)", m.Result.Files.Position(res.Pos(freed)), st.ID)
						says = "The TaskManager's slot timeout frees %s's slot before the deployment."
					}
				}
				f.Evidence = append([]Evidence{evidence(m, freed, says, a.ID)}, f.Evidence...)
			} else if !heldOnTM(a) {
				cause = "the TaskManager's log is not in the input, so its slot table cannot be replayed"
				f.IndexNote = "unknown: no TaskManager log of this allocation"
			} else {
				cause = "the input does not show why"
			}
			if f.IndexNote == "" {
				f.IndexNote = "unknown: the failure does not name a slot"
			}
			what := "deployment"
			if k := keys[gi]; k.task != "" {
				what += " of " + k.task
				if k.attempt != "" {
					what += " (" + k.attempt + ")"
				}
			}
			f.Message = fmt.Sprintf("%s into %s (job %s) failed with \"No task slot allocated\": %s", what, a.ID, f.Job, cause)
			pass.Report(f)
		}
	}
}

// attemptKey names an execution attempt as the lines print it: the task
// with its subtask ("Map (2/4)") and, when printed, the attempt's ID.
type attemptKey struct{ task, attempt string }

func (k attemptKey) empty() bool { return k.task == "" && k.attempt == "" }

// same: both IDs printed and equal; or one missing and the tasks equal.
func (k attemptKey) same(o attemptKey) bool {
	if k.attempt != "" && o.attempt != "" {
		return k.attempt == o.attempt
	}
	return k.task != "" && k.task == o.task
}

func (k attemptKey) merge(o attemptKey) attemptKey {
	if k.task == "" {
		k.task = o.task
	}
	if k.attempt == "" {
		k.attempt = o.attempt
	}
	return k
}

// attemptOf is the attempt a failed deployment's line is about, from its
// own record (the JobManager's "T (X) switched from DEPLOYING to FAILED").
// The TaskManager's refusal names no task: it refuses before it logs
// "Received task" (TaskExecutor.submitTask), so its line joins the
// JobManager's report by time.
func attemptOf(m *reconstruct.Model, i parser.EventRef) attemptKey {
	res := m.Result
	var k attemptKey
	// the events of one record have refs that follow one another
	for j := i; j >= 0 && res.Pos(j) == res.Pos(i); j-- {
		k = k.merge(attemptKey{res.Event(j).Task, res.Event(j).Attempt})
	}
	for j := i + 1; int(j) < res.Len() && res.Pos(j) == res.Pos(i); j++ {
		k = k.merge(attemptKey{res.Event(j).Task, res.Event(j).Attempt})
	}
	return k
}

// freedBefore returns the TaskManager free of the allocation's last slot
// before event i, or -1 when a slot of it was still held.
func freedBefore(m *reconstruct.Model, a *reconstruct.Allocation, i parser.EventRef) parser.EventRef {
	last := parser.EventRef(-1)
	for _, h := range a.Held {
		if h.Freed < 0 || m.Rank[h.Freed] > m.Rank[i] {
			return -1
		}
		last = h.Freed
	}
	return last
}

func heldOnTM(a *reconstruct.Allocation) bool { return len(a.Held) > 0 }

// NoResourceAvailable finds jobs that could not get their slots.
var NoResourceAvailable = &Rule{
	ID: "no-resource-available",
	Doc: `The JobManager could not get the slots a job needed (NoResourceAvailableException, "Could not
acquire the minimum required resources"). Linked to the slots leaked by zombies on the
TaskManagers at that time, when the input shows any: then the failure is a consequence of the
leak (error). Without a visible leak the cluster may simply lack capacity (warning).`,
	Severity: Error,
	Requires: []*Rule{ZombieSlot, TaskManagerLost},
	Run:      runNoResourceAvailable,
}

// maxNamedZombies: a shortage's message and evidence name this many
// zombies and count the rest (its causes list them all). Naming every one
// made each finding as long as the zombies were many: 248 KB a finding,
// and an audit's output the square of its findings (bench/findings-scale).
const maxNamedZombies = 20

// nameSome joins the first max of names and says how many more there are.
func nameSome(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, "; ")
	}
	return fmt.Sprintf("%s; and %d more (the finding's causes name them all)", strings.Join(names[:max], "; "), len(names)-max)
}

func runNoResourceAvailable(pass *Pass) {
	m := pass.Model
	res := m.Result
	shortages := slices.Collect(res.AllOf(flinklog.KindJMNoResource))
	if len(shortages) == 0 {
		return // (the clusters are not worked out for nothing)
	}
	zombies := pass.Findings(ZombieSlot.ID)
	lost := pass.Findings(TaskManagerLost.ID)
	clusters := newClusterIndex(m)
	zombiesOf, lostOf := clusters.place(m, zombies), clusters.place(m, lost)
	last := map[int32]parser.EventRef{} // input → last reported event, to fold repeats of one failure
	for _, i := range shortages {
		ev := res.Event(i)
		if j, ok := last[ev.Pos.File]; ok {
			if t, u := aligned(m, j), aligned(m, i); t.Kind == u.Kind && u.N-t.N <= sameFailure {
				continue
			}
		}
		last[ev.Pos.File] = i
		f := Finding{Severity: Warning, SlotIndex: -1, Job: ev.Job, Time: ev.Time, Pos: ev.Pos, IndexNote: "not about one slot"}
		f.Evidence = append(f.Evidence, evidence(m, i, "The JobManager cannot get the slots the job needs: %s.", strings.TrimSuffix(ev.Reason, ".")))
		var leaked []string
		t := aligned(m, i)
		for _, z := range zombiesOf(ev.Pos.File) {
			zi, ok := pass.state.eventAt(z.Pos)
			if !ok {
				continue
			}
			if zt := aligned(m, zi); zt.Kind != t.Kind || zt.N > t.N {
				continue
			}
			f.Causes = append(f.Causes, z.ID)
			idx := "a slot whose index no line printed"
			if z.SlotIndex >= 0 {
				idx = fmt.Sprintf("index %d", z.SlotIndex)
			}
			leaked = append(leaked, fmt.Sprintf("%s of TaskManager %s (held by %s, finding %s)", idx, z.Resource, z.Alloc, z.ID))
		}
		if len(leaked) > 0 {
			f.Severity = Error
			named := nameSome(leaked, maxNamedZombies)
			f.Evidence = append(f.Evidence, silent("At that time %d slot(s) are held by zombies that nothing can free: %s.", len(leaked), named))
			f.Message = fmt.Sprintf("the job could not get the slots it needed while %d slot(s) were leaked by zombies: %s", len(leaked), named)
			f.FixedModel = "free the leaked slots when the JobManager releases them, so they can be offered again"
		} else if l, ok := lostBefore(pass, lostOf(ev.Pos.File), t); ok {
			f.Causes = append(f.Causes, l.ID)
			li, _ := pass.state.eventAt(l.Pos) // lostBefore found it
			f.Evidence = append([]Evidence{evidence(m, li, "TaskManager %s was lost before (finding %s), and its slots with it.", l.Resource, l.ID)}, f.Evidence...)
			f.Message = fmt.Sprintf("the job could not get the slots it needed after TaskManager %s was lost (finding %s)", l.Resource, l.ID)
			if rq := capacity(pass, i, ev.Job); rq != "" {
				f.Message += "; " + rq
			}
			f.FixedModel = "do the same: no slot leak is involved"
		} else {
			f.Message = "the job could not get the slots it needed; no leaked slot and no lost TaskManager is visible in the input, so the cluster may lack capacity"
			if rq := capacity(pass, i, ev.Job); rq != "" {
				f.Message = "the job could not get the slots it needed: " + rq + "; no leaked slot and no lost TaskManager is visible in the input, so the cluster lacks capacity"
				f.Evidence = append(capacityEvidence(pass, i, ev.Job), f.Evidence...)
			}
			f.FixedModel = "do the same: no slot leak is involved"
		}
		pass.Report(f)
	}
}

// clusterIndex says which inputs of JobManager and ResourceManager lines
// a finding about a TaskManager bears on: a slot leaked on a TaskManager
// starves only the jobs of the ResourceManager it registered with. An
// input is taken to be one cluster's JobManager process (in Flink the
// ResourceManager runs in it, and logs to the same file); a TaskManager
// belongs to the inputs whose ResourceManager or JobManager lines name it,
// or name the allocation the finding is about.
type clusterIndex struct {
	// named: a TaskManager (ResourceID, lower case) → the inputs that
	// name it, in order
	named map[string][]int32
	// known: the inputs that name some TaskManager (for the others, which
	// cluster they are cannot be told)
	known map[int32]bool
}

// namesTaskManagers: the components whose events name TaskManagers of
// their cluster.
func namesTaskManagers(_ flinklog.Kind, c flinklog.Component) bool {
	return c == flinklog.ComponentRM || c == flinklog.ComponentJM
}

func newClusterIndex(m *reconstruct.Model) *clusterIndex {
	c := &clusterIndex{named: map[string][]int32{}, known: map[int32]bool{}}
	res := m.Result
	// (an input's events name the same TaskManager many times running:
	// what the last one added, the next adds again)
	lastFile, lastResource := int32(-1), ""
	for i := range res.AllWhere(namesTaskManagers) {
		h := res.Head(i)
		if h.Resource == "" {
			continue
		}
		f := res.Pos(i).File
		if f == lastFile && h.Resource == lastResource {
			continue
		}
		lastFile, lastResource = f, h.Resource
		r := strings.ToLower(h.Resource)
		if in := c.named[r]; len(in) == 0 || in[len(in)-1] != f && !slices.Contains(in, f) {
			c.named[r] = append(in, f)
		}
		c.known[f] = true
	}
	return c
}

// place returns, for an input, the findings of fs that bear on it, in
// fs's order: those of its cluster, and those of TaskManagers no input
// names (they may be anyone's). An input whose cluster cannot be told gets
// them all, as every input did before: a thousand clusters' zombies each
// named by every other cluster's shortage made an audit quadratic in its
// findings, and the shortages blamed leaks they could not have suffered.
func (c *clusterIndex) place(m *reconstruct.Model, fs []Finding) func(file int32) []Finding {
	res := m.Result
	byInput := map[int32][]int{}
	var anyone []int
	for k, f := range fs {
		var in []int32
		add := func(file int32) {
			if !slices.Contains(in, file) {
				in = append(in, file)
			}
		}
		for _, file := range c.named[strings.ToLower(f.Resource)] {
			add(file)
		}
		if a := m.Allocation(f.Alloc); f.Alloc.IsSet() && a != nil {
			for _, e := range a.Events {
				if h := res.Head(e); h.Component == flinklog.ComponentRM || h.Component == flinklog.ComponentJM {
					add(res.Pos(e).File)
				}
			}
		}
		if len(in) == 0 {
			anyone = append(anyone, k)
		}
		for _, file := range in {
			byInput[file] = append(byInput[file], k)
		}
	}
	return func(file int32) []Finding {
		if !c.known[file] {
			return fs
		}
		mine := byInput[file]
		out := make([]Finding, 0, len(mine)+len(anyone))
		for a, b := 0, 0; a < len(mine) || b < len(anyone); {
			if b == len(anyone) || a < len(mine) && mine[a] < anyone[b] {
				out = append(out, fs[mine[a]])
				a++
			} else {
				out = append(out, fs[anyone[b]])
				b++
			}
		}
		return out
	}
}

// taskAt is the task named by event i's record (the exception scan's event
// carries no task; the record's own task-failure event does).
func taskAt(m *reconstruct.Model, i parser.EventRef) string {
	res := m.Result
	if res.Event(i).Task != "" {
		return res.Event(i).Task
	}
	for j := i - 1; j >= 0 && res.Pos(j) == res.Pos(i); j-- {
		if res.Event(j).Task != "" {
			return res.Event(j).Task
		}
	}
	for j := i + 1; int(j) < res.Len() && res.Pos(j) == res.Pos(i); j++ {
		if res.Event(j).Task != "" {
			return res.Event(j).Task
		}
	}
	return ""
}

// lostBefore returns the latest taskmanager-lost finding at or before t
// (within lostBearing), when one exists.
func lostBefore(pass *Pass, lost []Finding, t flinklog.Time) (Finding, bool) {
	var best Finding
	found := false
	var bestAt parser.EventRef
	for _, l := range lost {
		li, ok := pass.state.eventAt(l.Pos)
		if !ok {
			continue
		}
		lt := aligned(pass.Model, li)
		if lt.Kind != t.Kind || lt.N > t.N || t.N-lt.N > lostBearing {
			continue
		}
		if !found || lt.N >= aligned(pass.Model, bestAt).N {
			bestAt = li
			best, found = l, true
		}
	}
	return best, found
}

// lostBearing: a lost TaskManager explains a shortage this long after it.
const lostBearing = 15 * 60e9

var (
	requiredSlots = regexp.MustCompile(`numberOfRequiredSlots=(\d+)`)
	freeSlots     = regexp.MustCompile(`Free slots: (\d+)`)
)

// capacityLines returns the ResourceManager's latest requirements line and
// "could not fulfill" line for the job before event i (-1 when absent). A
// failure that names no job takes the latest of any job.
func capacityLines(pass *Pass, i parser.EventRef, job flinklog.ID) (req, unmet parser.EventRef) {
	req, unmet = -1, -1
	m, res := pass.Model, pass.Model.Result
	for _, j := range pass.state.capacity {
		ev := res.Head(j) // kind and job: a repeat is not written out
		if m.Rank[j] > m.Rank[i] || job.IsSet() && ev.Job != job {
			continue
		}
		switch ev.Kind {
		case flinklog.KindRMRequirements:
			if req < 0 || m.Rank[j] > m.Rank[req] {
				req = j
			}
		case flinklog.KindRMNotFulfillable:
			if unmet < 0 || m.Rank[j] > m.Rank[unmet] {
				unmet = j
			}
		}
	}
	return req, unmet
}

// capacity says what the ResourceManager's lines show about the job's
// shortage: the slots it required and the free slots there were.
func capacity(pass *Pass, i parser.EventRef, job flinklog.ID) string {
	m := pass.Model
	req, unmet := capacityLines(pass, i, job)
	if unmet < 0 {
		return ""
	}
	res := m.Result
	out := fmt.Sprintf("the ResourceManager could not fulfill job %s's requirements", res.Head(unmet).Job)
	if req >= 0 {
		if g := requiredSlots.FindStringSubmatch(res.Text(req)); g != nil {
			out = fmt.Sprintf("job %s required %s slot(s) and the ResourceManager could not fulfill that", res.Head(unmet).Job, g[1])
		}
	}
	if g := freeSlots.FindStringSubmatch(res.Text(unmet)); g != nil {
		out += fmt.Sprintf(" (%s free slot(s))", g[1])
	}
	return out
}

func capacityEvidence(pass *Pass, i parser.EventRef, job flinklog.ID) []Evidence {
	m := pass.Model
	req, unmet := capacityLines(pass, i, job)
	var out []Evidence
	if req >= 0 {
		out = append(out, evidence(m, req, "The ResourceManager receives the job's resource requirements."))
	}
	if unmet >= 0 {
		out = append(out, evidence(m, unmet, "The ResourceManager cannot fulfill them with the slots registered."))
	}
	return out
}
