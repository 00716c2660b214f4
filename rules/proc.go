package rules

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// proc is one TaskManager process, judged by the table it ran, with the
// indexes that keep the rules linear in the number of steps.
type proc struct {
	m   *reconstruct.Model
	tm  *reconstruct.TaskManager
	p   *reconstruct.Process
	r   *reconstruct.Replay
	sem reconstruct.Semantics
	ix  *procIndex
	// lostByOthers: the other components lost this TaskManager (a
	// heartbeat timeout, a closed or unregistered connection)
	lostByOthers bool
}

// procIndex is computed once per process and shared by the rules of a run.
type procIndex struct {
	// the step that created each slot key: a printed index's in created,
	// a placeholder's (keys -1, -2, … as the replay made them, one an
	// allocation on a TaskManager that prints no index) at createdNeg[-key-1]
	// (-1: none), not in a map of every allocation
	created    map[int]int
	createdNeg []int32
	// event → its place in the process, and → the step it was replayed
	// as: found by binary search where the process's events and steps are
	// in ref order (as a read gives them), in these maps only where not.
	// As maps always, they were a tenth of an allocation-dense audit's
	// memory.
	pos    map[parser.EventRef]int
	stepOf map[parser.EventRef]int
	// held[model][si]: the slots holding step si's AllocationID just
	// before step si, in the model's table.
	held [2][]heldSet
}

type heldSet struct {
	// int32, as reconstruct.Step.Slot: there is one a step per model, and
	// on a session cluster's millions of steps these sets were most of
	// what the rules added to an audit's peak
	n           int32
	first, last int32 // oldest and newest slot key
}

// runState is what the rules of one run share.
type runState struct {
	procs map[*reconstruct.Process]*proc
	order []*proc
	// byPos is every event's ref by position, those of one record in
	// the order All gives them (see eventAt): a map of every position
	// cost 50 bytes an event and a tenth of an allocation-dense audit's
	// time. When All gives refs 0, 1, 2, … in position order (no
	// repeats, files read as they lie) it is left nil and n says how many:
	// a ref is then its own place.
	byPos []parser.EventRef
	n     int
	res   *parser.Result
	// capacity: the ResourceManager's requirements and "could not
	// fulfill" lines, in All's order (see capacityLines, which looked
	// through every event once per shortage)
	capacity []parser.EventRef
}

// eventAt returns the first event at position p (the first All gives).
func (st *runState) eventAt(p flinklog.Pos) (parser.EventRef, bool) {
	at := func(i int) parser.EventRef {
		if st.byPos == nil {
			return parser.EventRef(i)
		}
		return st.byPos[i]
	}
	i := sort.Search(st.n, func(i int) bool { return !st.res.Pos(at(i)).Less(p) })
	if i < st.n && st.res.Pos(at(i)) == p {
		return at(i), true
	}
	return -1, false
}

func newRunState(m *reconstruct.Model) *runState {
	st := &runState{procs: map[*reconstruct.Process]*proc{}, res: m.Result}
	// Each process's index reads only its own replay: they are made on
	// every core while this goroutine walks the events (one after the
	// other, after the walk, they were most of the rules' time on a
	// session cluster).
	var procs []*reconstruct.Process
	for _, tm := range m.TaskManagers {
		procs = append(procs, tm.Processes...)
	}
	ixs := make([]*procIndex, len(procs))
	var indexed sync.WaitGroup
	var next atomic.Int64
	for range min(runtime.GOMAXPROCS(0), len(procs)) {
		indexed.Go(func() {
			for k := int(next.Add(1) - 1); k < len(procs); k = int(next.Add(1) - 1) {
				ixs[k] = indexProcess(procs[k])
			}
		})
	}
	lost := map[string]bool{} // ResourceIDs, lower case, that the others lost
	sorted := true
	// byPos is written only once All strays from 0, 1, 2, …: a list of
	// every ref was a fifth of what the rules added to a session
	// cluster's peak
	identity := true
	var prev flinklog.Pos
	for i, at := range m.Result.AllAt() {
		if st.n > 0 && at.Less(prev) {
			sorted = false // a log-store export's events are in time order
		}
		prev = at
		if identity && i != parser.EventRef(st.n) {
			identity = false
			st.byPos = make([]parser.EventRef, st.n, m.Result.Len())
			for k := range st.byPos {
				st.byPos[k] = parser.EventRef(k)
			}
		}
		if !identity {
			st.byPos = append(st.byPos, i)
		}
		st.n++
		switch m.Result.Kind(i) {
		case flinklog.KindRMRequirements, flinklog.KindRMNotFulfillable:
			st.capacity = append(st.capacity, i)
		case flinklog.KindHeartbeatTimeout, flinklog.KindRMTMClose, flinklog.KindJMTMDisconnect, flinklog.KindRMTMUnregister:
			lost[strings.ToLower(m.Result.Head(i).Resource)] = true
		}
	}
	if !sorted {
		if st.byPos == nil {
			st.byPos = make([]parser.EventRef, st.n)
			for k := range st.byPos {
				st.byPos[k] = parser.EventRef(k)
			}
		}
		sort.SliceStable(st.byPos, func(a, b int) bool { return m.Result.Pos(st.byPos[a]).Less(m.Result.Pos(st.byPos[b])) })
	}
	indexed.Wait()
	k := 0
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			pr := &proc{m: m, tm: tm, p: p, r: p.Replay, sem: p.Runs, ix: ixs[k], lostByOthers: lost[strings.ToLower(tm.Resource)]}
			k++
			st.procs[p] = pr
			st.order = append(st.order, pr)
		}
	}
	return st
}

func indexProcess(p *reconstruct.Process) *procIndex {
	r := p.Replay
	ix := &procIndex{created: map[int]int{}}
	if !slices.IsSorted(p.Events) {
		ix.pos = make(map[parser.EventRef]int, len(p.Events))
		for k, i := range p.Events {
			ix.pos[i] = k
		}
	}
	if !slices.IsSortedFunc(r.Steps, func(a, b reconstruct.Step) int { return cmp.Compare(a.Event, b.Event) }) {
		ix.stepOf = make(map[parser.EventRef]int, len(r.Steps))
	}
	for si, st := range r.Steps {
		if _, ok := ix.stepOf[st.Event]; !ok && ix.stepOf != nil {
			ix.stepOf[st.Event] = si
		}
		if st.Op == reconstruct.OpAllocate || st.Op == reconstruct.OpPrior {
			for _, key := range st.Slot {
				// (a negative index a log printed itself, far below the
				// placeholders, stays in the map)
				if k := int(-int64(key) - 1); key < 0 && k < 2*len(r.Steps)+2 {
					for len(ix.createdNeg) <= k {
						ix.createdNeg = append(ix.createdNeg, -1)
					}
					if ix.createdNeg[k] < 0 {
						ix.createdNeg[k] = int32(si)
					}
					continue
				}
				if _, ok := ix.created[int(key)]; !ok {
					ix.created[int(key)] = si
				}
			}
		}
	}
	for _, sem := range []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed} {
		keys := map[flinklog.ID][]int32{}
		hs := make([]heldSet, len(r.Steps))
		for si, st := range r.Steps {
			alloc := r.AllocOf(st)
			if k := keys[alloc]; len(k) > 0 {
				hs[si] = heldSet{n: int32(len(k)), first: k[0], last: k[len(k)-1]}
			}
			switch {
			case creates(st, sem):
				keys[alloc] = append(keys[alloc], st.Slot[sem])
			case frees(st, sem):
				k := keys[alloc]
				for j, key := range k {
					if key == st.Slot[sem] {
						if len(k) == 1 {
							// the map holds what is held now, not every
							// allocation the process saw
							delete(keys, alloc)
						} else {
							keys[alloc] = append(k[:j:j], k[j+1:]...)
						}
						break
					}
				}
			}
		}
		ix.held[sem] = hs
	}
	return ix
}

func (p *Pass) processes() []*proc { return p.state.order }

func (p *Pass) procFor(proc *reconstruct.Process) *proc { return p.state.procs[proc] }

// creates reports whether step st created a slot in the model's table.
func creates(st reconstruct.Step, sem reconstruct.Semantics) bool {
	if st.Skipped[sem] {
		return false
	}
	return st.Op == reconstruct.OpPrior || st.Op == reconstruct.OpAllocate && (st.Outcomes[sem] == reconstruct.Accepted || st.Outcomes[sem] == reconstruct.Overwritten)
}

// frees reports whether step st freed a slot in the model's table.
func frees(st reconstruct.Step, sem reconstruct.Semantics) bool {
	return st.Op == reconstruct.OpFree && !st.Skipped[sem] && st.Outcomes[sem] == reconstruct.Accepted
}

// heldBefore says which slots held alloc (step si's AllocationID) just
// before step si, in the model's table.
func (pr *proc) heldBefore(si int, sem reconstruct.Semantics) heldSet {
	return pr.ix.held[sem][si]
}

// createdAt returns the step that created slot key, or -1.
func (pr *proc) createdAt(key int) int {
	if k := -key - 1; key < 0 && k < 2*len(pr.r.Steps)+2 {
		if k < len(pr.ix.createdNeg) {
			return int(pr.ix.createdNeg[k])
		}
		return -1
	}
	if si, ok := pr.ix.created[key]; ok {
		return si
	}
	return -1
}

// index says what index slot key has and how that is known.
func (pr *proc) index(key int) (int, string) {
	if key >= 0 {
		return key, "printed"
	}
	info := pr.r.Indexes.At(key)
	if info.Index < 0 {
		return -1, "unknown: the TaskManager prints no index when it allocates, and no later free, refusal or slot report names this slot"
	}
	where := ""
	if info.Pos.Line > 0 {
		where = " at " + pr.m.Result.Files.Position(info.Pos)
	}
	return info.Index, fmt.Sprintf("%s from the %s%s", info.Source, info.How, where)
}

// slotName renders slot key for a sentence: "index 2" or "a slot whose index
// no line printed".
func (pr *proc) slotName(key int) string {
	if idx, _ := pr.index(key); idx >= 0 {
		return fmt.Sprintf("index %d", idx)
	}
	return "a slot whose index no line printed"
}

// between returns the process's events strictly between two of its
// events, in log order.
func (pr *proc) between(from, to parser.EventRef) []parser.EventRef {
	a, okA := pr.posOf(from)
	b, okB := pr.posOf(to)
	if !okA || !okB || b <= a {
		return nil
	}
	return pr.p.Events[a+1 : b]
}

// posOf returns where event i is among the process's events.
func (pr *proc) posOf(i parser.EventRef) (int, bool) {
	if pr.ix.pos != nil {
		k, ok := pr.ix.pos[i]
		return k, ok
	}
	return slices.BinarySearch(pr.p.Events, i)
}

// stepOf returns the first step event i was replayed as.
func (pr *proc) stepOf(i parser.EventRef) (int, bool) {
	if pr.ix.stepOf != nil {
		si, ok := pr.ix.stepOf[i]
		return si, ok
	}
	return slices.BinarySearchFunc(pr.r.Steps, i, func(st reconstruct.Step, i parser.EventRef) int { return cmp.Compare(st.Event, i) })
}

// lastEvent is the last event of the process.
func (pr *proc) lastEvent() parser.EventRef { return pr.p.Events[len(pr.p.Events)-1] }

// logEnd is the time of the last line of the process's log (of any record,
// chatter too: the slot events may stop long before the log does), on the
// log's own clock; the last slot event's time where the input kept none.
func (pr *proc) logEnd(m *reconstruct.Model) flinklog.Time {
	last := m.Result.Time(pr.lastEvent())
	if int(pr.p.Input) < len(m.Result.Inputs) {
		if t := m.Result.Inputs[pr.p.Input].Last; t.Kind == last.Kind && t.N > last.N {
			return t
		}
	}
	return last
}

// evidenceEnd is where what a TaskManager process holds stops being seen:
// the last line of its log; or, when the TaskManager was not seen to stop
// (no shutdown line of its own, no heartbeat timeout or disconnection by
// the others) and another input goes on longer, the last line of the
// inputs. The time is on the process's own clock; why says which end.
func (pr *proc) evidenceEnd(m *reconstruct.Model) (flinklog.Time, string) {
	own := pr.logEnd(m)
	res := m.Result
	for _, i := range pr.p.Events {
		if res.Kind(i) == flinklog.KindTMStopping {
			return own, "the last line of its log, where it stopped"
		}
	}
	if pr.lostByOthers {
		return own, "the last line of its log (the other components lost it)"
	}
	off := m.Skew[pr.p.Input].Offset
	best, bestAt := own.N+off, ""
	for k, in := range m.Result.Inputs {
		if int32(k) == pr.p.Input || in.Last.Kind != own.Kind || in.DuplicateOf != "" {
			continue
		}
		if t := in.Last.N + m.Skew[int32(k)].Offset; t > best {
			best, bestAt = t, m.Result.Files.Position(flinklog.Pos{File: int32(k), Line: int64(in.Lines)})
		}
	}
	if bestAt != "" {
		return flinklog.Time{Kind: own.Kind, N: best - off}, fmt.Sprintf("the last line of the inputs (%s), as the TaskManager was not seen to stop", bestAt)
	}
	return own, "the last line of its log"
}

// aligned is an event's time moved by its input's clock skew.
func aligned(m *reconstruct.Model, i parser.EventRef) flinklog.Time {
	t := m.Result.Time(i)
	if t.Kind == flinklog.TimeNone {
		return t
	}
	return flinklog.Time{Kind: t.Kind, N: t.N + m.Skew[m.Result.Pos(i).File].Offset}
}

// seconds between two times of the same kind; ok false when incomparable.
func seconds(a, b flinklog.Time) (float64, bool) {
	if a.Kind != b.Kind || a.Kind == flinklog.TimeNone {
		return 0, false
	}
	return float64(b.N-a.N) / 1e9, true
}

// fixedWould is what the replay says the fixed table would have done at
// step si, if that step diverged.
func (pr *proc) fixedWould(si int) string {
	for _, d := range pr.r.Divergences {
		if d.Step == si {
			return d.FixedWould
		}
	}
	return ""
}

// runsNote says which table the process ran, for messages on fixed versions.
func (pr *proc) runsNote() string {
	return strings.TrimSpace(pr.p.RunsWhy)
}
