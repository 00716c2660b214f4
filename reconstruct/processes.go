package reconstruct

// This file holds process identity and replay: a TaskManager log split into
// processes, each named and replayed under both models; the table at a time.

import (
	"maps"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// isTM is what walks of a TaskManager's events keep (Result.AllWhere).
func isTM(_ flinklog.Kind, c flinklog.Component) bool { return c == flinklog.ComponentTM }

func (m *Model) groupProcesses() {
	read := m.Result
	// Each input's TaskManager events, counted first, then in one array
	// that its processes are slices of: grown by appending, and copied
	// again into each process, they were copied over and over.
	count := map[int32]int{}
	var inputs []int32
	for i := range read.AllWhere(isTM) {
		f := read.Pos(i).File
		if _, ok := count[f]; !ok {
			inputs = append(inputs, f)
		}
		count[f]++
	}
	byInput := make(map[int32][]parser.EventRef, len(inputs))
	for _, f := range inputs {
		byInput[f] = make([]parser.EventRef, 0, count[f])
	}
	for i := range read.AllWhere(isTM) {
		f := read.Pos(i).File
		byInput[f] = append(byInput[f], i)
	}
	resourceOf := func(ev *flinklog.Event) string {
		if ev.Resource != "" {
			return ev.Resource
		}
		return "?" + m.Result.Files[ev.Pos.File].Name()
	}
	// Inputs in time order, so a rotated file (taskmanager.log.1) comes
	// before the current one whatever their names — even when the older
	// file's first process is another ResourceID than the one the newer
	// file continues (a restart just before the rotation).
	sort.SliceStable(inputs, func(a, b int) bool {
		ta, tb := read.Time(byInput[inputs[a]][0]), read.Time(byInput[inputs[b]][0])
		if ta.Kind != tb.Kind {
			return ta.Kind < tb.Kind
		}
		if ta.N != tb.N {
			return ta.N < tb.N
		}
		return inputs[a] < inputs[b]
	})
	byRes := map[string]*TaskManager{}
	for _, f := range inputs {
		var cur *Process
		evs := byInput[f]
		from := 0 // where cur's events in this input begin
		// hand cur the events [from, to) of the input
		give := func(to int) {
			if cur == nil || to == from {
				return
			}
			if len(cur.Events) == 0 {
				cur.Events = evs[from:to:to]
			} else { // continued from another input (a rotated log)
				cur.Events = append(cur.Events, evs[from:to]...)
			}
		}
		for k, i := range evs {
			// A banner starts a new process; a new input continues the
			// TaskManager's latest process when it picks up where that one
			// stopped (log rotation), else it starts one mid-story.
			restart := read.Kind(i) == flinklog.KindMetaVersion
			if cur == nil || restart {
				give(k)
				from = k
				ev := read.Event(i)
				res := resourceOf(ev)
				tm := byRes[res]
				if tm == nil {
					tm = &TaskManager{Resource: res}
					byRes[res] = tm
					m.TaskManagers = append(m.TaskManagers, tm)
				}
				if k == 0 && !restart && m.continues(tm, ev) {
					cur = tm.Processes[len(tm.Processes)-1]
				} else {
					cur = &Process{Input: f, Config: Config{FromStart: restart}}
					tm.Processes = append(tm.Processes, cur)
				}
			}
		}
		give(len(evs))
	}
	sort.Slice(m.TaskManagers, func(i, j int) bool { return m.TaskManagers[i].Resource < m.TaskManagers[j].Resource })
}

// continues reports whether ev, the first event of an input, carries on the
// TaskManager's latest process from another input: that process's last
// event is no later than ev (a rotated log), not a copy of the same lines.
func (m *Model) continues(tm *TaskManager, ev *flinklog.Event) bool {
	if len(tm.Processes) == 0 {
		return false
	}
	last := tm.Processes[len(tm.Processes)-1]
	prev := m.Result.Event(last.Events[len(last.Events)-1])
	t := prev.Time
	if at, ok := m.lastTM[prev.Pos.File]; ok {
		t = at // (the read kept not every event: SkeletonWith)
	}
	return prev.Pos.File != ev.Pos.File && t.Kind == ev.Time.Kind && t.Kind != flinklog.TimeNone && t.N <= ev.Time.N
}

// replayProcesses configures and replays every process, with the slot
// reports that name it.
func (m *Model) replayProcesses() {
	m.assignReports()
	var procs []*Process
	for _, tm := range m.TaskManagers {
		procs = append(procs, tm.Processes...)
	}
	// Processes replay independently (each reads the shared events and
	// writes only its own fields): one worker per CPU, the result the same
	// whatever finishes first.
	work := make(chan *Process)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(procs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				m.configure(p)
				p.Replay = replayIndexed(m.Result, p.Events, p.Config)
				p.Replay.settle()
			}
		}()
	}
	// the biggest first, so one large TaskManager does not run alone at the end
	order := append([]*Process(nil), procs...)
	sort.SliceStable(order, func(i, j int) bool { return len(order[i].Events) > len(order[j].Events) })
	for _, p := range order {
		work <- p
	}
	close(work)
	wg.Wait()
}

// configure fills in what the replay of p needs besides its events: the
// slot count and version of its input, and which table it ran.
func (m *Model) configure(p *Process) {
	in := m.inputOf(p.Input)
	read := m.Result
	cfg := &p.Config
	cfg.Slots = in.Slots
	lo, hi := in.VersionMin, in.VersionMax
	verText := in.FlinkVersion
	for _, i := range p.Events {
		if k := read.Kind(i); k != flinklog.KindMetaVersion && k != flinklog.KindMetaSlots {
			continue
		}
		ev := read.Event(i)
		switch ev.Kind {
		case flinklog.KindMetaVersion:
			// A banner names this process's version (an input may hold
			// several processes), unless --flink-version overrides it.
			if v, ok := flinklog.ParseVersion(ev.Version); ok && in.VersionSource != "flag" {
				lo, hi, verText = v, v, ev.Version
			}
		case flinklog.KindMetaSlots:
			cfg.Slots = ev.Count
		}
	}
	cfg.StaticOnly = !hi.IsZero() && hi.Less(flinklog.Version{Major: 1, Minor: 13})
	cfg.DynamicCounter = !lo.IsZero() && !lo.Less(flinklog.Version{Major: 1, Minor: 13})

	p.Runs, p.RunsWhy = Legacy, "assumed: the version is unknown and no refusal line shows the fixed table"
	for _, i := range p.Events {
		if k := read.Kind(i); k != flinklog.KindTMAllocExists && k != flinklog.KindTMAllocRefused {
			continue
		}
		ev := read.Event(i)
		if ev.Kind == flinklog.KindTMAllocExists || ev.Kind == flinklog.KindTMAllocRefused &&
			(ev.Reason == flinklog.ReasonAllocatedElsewhere || ev.Reason == flinklog.ReasonIndexTaken) {
			p.Runs, p.RunsWhy, p.RunsPos = Fixed, "refusal line of the fixed table", ev.Pos
			return
		}
	}
	switch {
	case !lo.IsZero() && !lo.Less(flinklog.Version{Major: 1, Minor: 10}):
		p.Runs, p.RunsWhy = Fixed, "version "+verText
	case !hi.IsZero() && hi.Less(flinklog.Version{Major: 1, Minor: 8}):
		p.Runs, p.RunsWhy = Legacy, "version "+verText
	case !hi.IsZero() && hi.Less(flinklog.Version{Major: 1, Minor: 10}):
		p.Runs, p.RunsWhy = Legacy, "assumed from version "+verText+" (a backport of the fix is possible)"
	}
}

func (m *Model) inputOf(file int32) parser.InputSummary {
	if k, ok := m.inputAt[file]; ok {
		return m.Result.Inputs[k]
	}
	return parser.InputSummary{}
}

// indexInputs indexes the read's input summaries by file (the first of a
// file's), for inputOf: a scan per process was quadratic in TaskManagers.
func (m *Model) indexInputs() {
	m.inputAt = make(map[int32]int, len(m.Result.Inputs))
	for k := range m.Result.Inputs {
		if _, ok := m.inputAt[m.Result.Inputs[k].File]; !ok {
			m.inputAt[m.Result.Inputs[k].File] = k
		}
	}
}

// ReplayAt replays a process's events up to time at (on the TaskManager's
// own clock): the table as it stood then. Events whose time cannot be
// compared with at (another time kind, no time) are kept in log order. It
// returns nil when no event's time can be compared with at: the answer
// would be the end state mislabelled as a point in time.
//
// A fold's model holds only some of the process's events: the fold
// replayed the prefix as the events came (SetPrefix), and that replay is
// the one returned (completed below the first time).
func (m *Model) ReplayAt(p *Process, at flinklog.Time) *Replay {
	var r *Replay
	if pre := p.prefix; pre != nil && pre.at == at {
		if !pre.comparable {
			return nil
		}
		if pre.done {
			return pre.replay
		}
		r, pre.done = pre.replay, true
	} else {
		comparable := false
		for _, i := range p.Events {
			if m.Result.Time(i).Kind == at.Kind {
				comparable = true
				break
			}
		}
		if !comparable {
			return nil
		}
		var idx []parser.EventRef
		for _, i := range p.Events {
			if t := m.Result.Time(i); t.Kind == at.Kind && t.N > at.N {
				break
			}
			idx = append(idx, i)
		}
		cfg := p.Config
		cfg.Probes = nil // a prefix replay compares no report
		r = replayIndexed(m.Result, idx, cfg)
	}
	// What the log shows held from before its first line (a slot first seen
	// when it is freed, after at) was held at at too.
	for _, st := range p.Replay.Steps {
		if st.Op != OpPrior {
			continue
		}
		ev := m.Result.Event(st.Event)
		if ev.Time.Kind == at.Kind && ev.Time.N <= at.N {
			continue // in the prefix: replayed above
		}
		r.holdPrior(int(st.Slot[0]), p.Replay.AllocOf(st), p.Replay.jobOf[p.Replay.AllocOf(st)], st.Event, ev.SlotState == "ACTIVE")
	}
	// Placeholders are numbered in event order, so a prefix replay has the
	// same keys as the full one: indexes printed later still apply.
	for key, info := range p.Replay.Indexes.All() {
		if cur, ok := r.Indexes.Get(key); ok && info.Source != IndexUnknown && info.Source >= cur.Source {
			r.Indexes.Set(key, info)
		}
	}
	return r
}

// prefixReplay is a process's table at a time, replayed by a fold as the
// events came: the replay of its events up to the first one later than at
// (ReplayAt's prefix), and whether any event's time could be compared
// with at.
type prefixReplay struct {
	at         flinklog.Time
	replay     *Replay
	comparable bool
	done       bool // ReplayAt completed it
}

// SetPrefix gives p the replay of its events up to time at that a fold
// made as they came (a fold keeps only some of them, so ReplayAt cannot
// replay them again): r is Finish of a ReplayStream told every event
// before the first one later than at, comparable whether any of the
// process's events had a time of at's kind.
func (p *Process) SetPrefix(at flinklog.Time, r *Replay, comparable bool) {
	p.prefix = &prefixReplay{at: at, replay: r, comparable: comparable}
}

// ProcessAt returns the process of tm that was running at time at (on the
// TaskManager's clock): the last one whose first event is not later than
// at. Processes whose times cannot be compared with at are passed over;
// nil when none can be.
func (m *Model) ProcessAt(tm *TaskManager, at flinklog.Time) *Process {
	var found *Process
	for _, p := range tm.Processes {
		first := m.Result.Time(p.Events[0])
		if first.Kind != at.Kind {
			continue
		}
		if found == nil || first.N <= at.N {
			found = p
		}
	}
	return found
}

// rotationBase strips what log rotation adds to a file name: ".gz", then a
// ".N" index or a ".YYYY-MM-DD…" date (log4j's RollingFileAppender).
func rotationBase(path string) string {
	// what a follow read of a file before it was rotated away
	p := strings.TrimSuffix(parser.UnrotatedName(path), ".gz")
	if i := strings.LastIndexByte(p, '.'); i > 0 {
		suffix := p[i+1:]
		if suffix != "" && strings.Trim(suffix, "0123456789-_:T") == "" {
			return p[:i]
		}
	}
	return p
}

// NameRotated returns, for events of the model's read handed over again
// in line order (parser.Result.AllAgain), what the model did to them:
// each TaskManager line of an input that continues a rotated log's
// process, up to the input's first banner, takes that process's
// ResourceID (joinRotatedIdentities; a fold's model keeps the names,
// SetRotatedNames).
func (m *Model) NameRotated() func(ev *flinklog.Event) {
	fill := maps.Clone(m.rotatedNames)
	return func(ev *flinklog.Event) {
		named, ok := fill[ev.Pos.File]
		switch {
		case !ok:
		case ev.Kind == flinklog.KindMetaVersion || ev.Kind == flinklog.KindMetaTMID:
			delete(fill, ev.Pos.File)
		case ev.Component == flinklog.ComponentTM:
			ev.Resource = named
		}
	}
}

// SetRotatedNames gives a model assembled from a fold the names its
// skeleton gave rotated logs' lines (RotatedNames), for NameRotated.
func (m *Model) SetRotatedNames(names map[int32]string) { m.rotatedNames = maps.Clone(names) }

// RotatedNames returns the inputs whose TaskManager lines before their
// first banner (or ResourceID line) the model named after a rotated
// sibling's process (joinRotatedIdentities), and that name: a fold, which
// reads the inputs again, names them so as they come.
func (m *Model) RotatedNames() map[int32]string { return m.rotatedNames }

// joinRotatedIdentities: a rotated TaskManager log names its ResourceID only
// in the file that holds the process's start (taskmanager.log.1); the lines
// of the newer file (taskmanager.log) up to its own first banner, if any,
// belong to that process. They take the ResourceID of the latest sibling
// file (same name up to the rotation suffix) that starts before it and
// names one.
func (m *Model) joinRotatedIdentities() {
	read := m.Result
	type info struct {
		file  int32
		first flinklog.Time
		named string // the ResourceID its last process announced, "" if none
		// family: the stream and the file name without its rotation
		// suffix; only inputs of one family continue one another
		family string
	}
	var tmInputs []info
	seen := map[int32]bool{}
	for i := range read.AllWhere(isTM) {
		if seen[read.Pos(i).File] {
			continue
		}
		seen[read.Pos(i).File] = true
		tmInputs = append(tmInputs, info{file: read.Pos(i).File, first: read.Time(i)})
	}
	// Each input is compared only with its family: comparing every pair
	// was quadratic, 1.3 s of a 1.7 s audit of 3,000 TaskManager logs.
	families := map[string][]int{}
	for k := range tmInputs {
		if in := m.inputOf(tmInputs[k].file); in.ResourceIDSource != "file name" {
			tmInputs[k].named = in.ResourceID
		}
		fi := read.Files[tmInputs[k].file]
		tmInputs[k].family = fi.Stream + "\x00" + rotationBase(fi.Path)
		families[tmInputs[k].family] = append(families[tmInputs[k].family], k)
	}
	// the inputs that continue a predecessor's process, and the ResourceID
	// it named: their TaskManager events before their first banner take it
	// (in one walk of the events: a walk for each such input was as many
	// walks of every event as a directory holds rotated logs)
	fill := map[int32]string{}
	for _, a := range tmInputs {
		if a.first.Kind == flinklog.TimeNone {
			continue
		}
		var best *info
		for _, k := range families[a.family] {
			b := &tmInputs[k]
			if b.file == a.file || b.named == "" || b.first.Kind != a.first.Kind || b.first.N > a.first.N {
				continue
			}
			if best == nil || b.first.N > best.first.N {
				best = b
			}
		}
		if best == nil {
			continue
		}
		fill[a.file] = best.named
	}
	if len(fill) == 0 {
		return
	}
	m.rotatedNames = maps.Clone(fill)
	// The lines before the input's first banner continue the predecessor's
	// process.
	for i := range read.All() {
		f := read.Pos(i).File
		named, ok := fill[f]
		if !ok {
			continue
		}
		if k := read.Kind(i); k == flinklog.KindMetaVersion || k == flinklog.KindMetaTMID {
			delete(fill, f)
			if len(fill) == 0 {
				return
			}
			continue
		}
		if read.Head(i).Component == flinklog.ComponentTM {
			read.SetResource(i, named)
		}
	}
}
