package fold

import (
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// A TaskManager log that never names its ResourceID (the current file of a
// rotated log, a cut one) is named from the other components' lines about
// the AllocationIDs it served and the tasks it received (the parser's
// joinIdentities). That join reads every event of the read: a fold's first
// read keeps few, and defers it (parser.Options.DeferIdentities). The join
// is made instead from the inputs read again and merged, holding what is
// open: identities.

// identityMargin is how far back in time an input's line may come after a
// later line of another input (a file's times go backwards with thread
// interleaving) for the deploy votes to stay exact; beyond it the fold
// gives way.
const identityMargin = int64(60e9)

// identities joins the TaskManager lines that name no ResourceID of their
// own to the ResourceID the other components' lines give them, as the
// merged stream (no skew) goes by. An allocation's share is counted when
// its story closes (closing, as the fold closes it): the segments whose
// unnamed lines served it, times the ResourceIDs the ResourceManager's and
// JobManager's lines name with it, each with its first such line. A line
// about an allocation already counted makes the join give way. A deploy
// line is matched, as the batch join matches it, with the tasks the
// unnamed segments received within parser.DeployWindow of it: those are
// held for that window of the stream's time.
type identities struct {
	first   *parser.Result
	sc      *parser.IdentityScope
	votes   parser.IdentityVotes
	open    map[flinklog.ID]*allocIdentity
	counted idSet
	// served: the allocations counted that unnamed lines served, with
	// the ResourceIDs they were named with (only theirs vote: a line
	// naming another later changes nothing, nor one naming a served one
	// with a ResourceID it was named with, after the first such line)
	served  map[flinklog.ID][]namedAt
	version map[int32]flinklog.Version
	jmGiven bool
	// the tasks received by unnamed segments, by task, within the window;
	// received lists them in the order they came, to let go of
	tasks    map[string][]receivedTask
	received []receivedTask
	deploys  []deployLine  // waiting for the window after them to pass
	closed   []flinklog.ID // allocations closed, to count after the margin, in the order they closed
	now      int64         // the latest time of the stream
	// expiredTo is the latest time of a task let go, resolvedTo the
	// latest of a deploy line matched: a line that comes later from
	// before them would have changed a match already made
	expiredTo, resolvedTo int64
	err                   error
	// names: each ResourceID held, once, as its own string: an event's
	// strings are slices of its block's, and one held to the end keeps
	// the whole block (a TaskManager log cut by retention serves tens of
	// thousands of allocations, each named, held to the end in served)
	names map[string]string
}

// namedAt is a ResourceID an allocation was named with, and the first
// line that named it so.
type namedAt struct {
	resource string
	pos      flinklog.Pos
}

type allocIdentity struct {
	closing
	closedAt int64 // the stream's time at its close, 0 while open
	segs     []parser.IdentitySegment
	named    map[string]flinklog.Pos // ResourceID → the first line naming it with the allocation
}

type receivedTask struct {
	task string
	sg   parser.IdentitySegment
	t    flinklog.Time
}

type deployLine struct {
	task, resource string
	t              flinklog.Time
	pos            flinklog.Pos
}

func newIdentities(first *parser.Result) *identities {
	id := &identities{first: first, sc: first.IdentityScope(), votes: parser.IdentityVotes{}, open: map[flinklog.ID]*allocIdentity{}, served: map[flinklog.ID][]namedAt{},
		version: map[int32]flinklog.Version{}, tasks: map[string][]receivedTask{}, names: map[string]string{}}
	for _, in := range first.Inputs {
		id.version[in.File] = in.VersionMin
		id.jmGiven = id.jmGiven || in.DuplicateOf == "" && hasJM(in)
	}
	return id
}

func hasJM(in parser.InputSummary) bool {
	for _, c := range in.Components {
		if c == flinklog.ComponentJM {
			return true
		}
	}
	return false
}

// add takes the merged stream's next event.
func (id *identities) add(ev *flinklog.Event) {
	if id.err != nil {
		return
	}
	t := ev.Time.N
	if t > id.now {
		id.now = t
	}
	// the allocation's state: every line naming it is noted, for its
	// story's close
	var a *allocIdentity
	if ev.Alloc.IsSet() {
		if a = id.open[ev.Alloc]; a == nil && !id.counted.has(ev.Alloc) {
			a = &allocIdentity{}
			id.open[ev.Alloc] = a
		}
	}
	switch ev.Component {
	case flinklog.ComponentTM:
		sg, ok := id.sc.Note(ev)
		if !ok {
			break
		}
		if ev.Kind == flinklog.KindTMTaskReceived && ev.Task != "" {
			if t-parser.DeployWindow <= id.resolvedTo {
				id.fail("a task received at %s after the deploy lines around it were matched", ev.Pos)
				return
			}
			rt := receivedTask{ev.Task, sg, ev.Time}
			id.tasks[ev.Task] = append(id.tasks[ev.Task], rt)
			id.received = append(id.received, rt)
		}
		if ev.Alloc.IsSet() && parser.OwnerKind(ev.Kind) {
			if a == nil {
				id.fail("%s is served at %s after its share of the join was counted", ev.Alloc, ev.Pos)
				return
			}
			if !containsSeg(a.segs, sg) {
				a.segs = append(a.segs, sg)
			}
		}
	case flinklog.ComponentRM, flinklog.ComponentJM:
		if ev.Alloc.IsSet() && ev.Resource != "" && !id.nameOf(a, ev.Alloc, ev.Resource, ev.Pos) {
			return
		}
		// a report's entries vote as lines naming their AllocationID and
		// ResourceID do
		for _, st := range ev.Slots {
			if !st.Alloc.IsSet() || st.Resource == "" {
				continue
			}
			sa := id.open[st.Alloc]
			if sa == nil && !id.counted.has(st.Alloc) {
				sa = &allocIdentity{}
				id.open[st.Alloc] = sa
			}
			if !id.nameOf(sa, st.Alloc, st.Resource, ev.Pos) {
				return
			}
		}
		if ev.Kind == flinklog.KindJMDeploy && ev.Task != "" && ev.Resource != "" {
			if t-parser.DeployWindow <= id.expiredTo {
				id.fail("a deploy line at %s after the tasks around it were let go", ev.Pos)
				return
			}
			id.deploys = append(id.deploys, deployLine{ev.Task, ev.Resource, ev.Time, ev.Pos})
		}
	}
	if a != nil && a.closedAt == 0 {
		a.note(ev.Kind, ev.Component, id.version[ev.Pos.File])
		if a.closes(id.jmGiven) {
			// counted once the stream is past its close by the margin:
			// merged with no skew, a TaskManager's lines may come after
			// the other components' lines that close the story
			a.closedAt = max(id.now, 1)
			id.closed = append(id.closed, ev.Alloc)
		}
	}
	id.slide()
}

// nameOf takes a line of another component naming resource with
// allocation alloc (a, nil once its share is counted); false: the join
// gives way (a counted share it would change).
func (id *identities) nameOf(a *allocIdentity, alloc flinklog.ID, resource string, pos flinklog.Pos) bool {
	if a != nil {
		a.name(id.own(resource), pos)
		return true
	}
	if named, ok := id.served[alloc]; ok {
		// (a ResourceID it was named with, by a later line: the votes
		// counted it already, from an earlier line)
		for _, n := range named {
			if n.resource == resource && !pos.Less(n.pos) {
				return true
			}
		}
		id.fail("%s is named at %s after its share of the join was counted", alloc, pos)
		return false
	}
	// (counted, and no unnamed line served it: it votes for nothing)
	return true
}

// own returns name as the identities hold it (names).
func (id *identities) own(name string) string {
	if s, ok := id.names[name]; ok {
		return s
	}
	s := strings.Clone(name)
	id.names[s] = s
	return s
}

func containsSeg(segs []parser.IdentitySegment, sg parser.IdentitySegment) bool {
	for _, s := range segs {
		if s == sg {
			return true
		}
	}
	return false
}

// name takes a line of another component that names a TaskManager with
// the allocation.
func (a *allocIdentity) name(resource string, pos flinklog.Pos) {
	if a.named == nil {
		a.named = map[string]flinklog.Pos{}
	}
	if at, ok := a.named[resource]; !ok || pos.Less(at) {
		a.named[resource] = pos
	}
}

// count adds a closed allocation's share to the votes.
func (id *identities) count(alloc flinklog.ID, a *allocIdentity) {
	for _, sg := range a.segs {
		for resource, pos := range a.named {
			if !id.sc.TakenElsewhere(resource, sg.File) {
				id.votes.Vote(sg, resource, 1, 0, pos)
			}
		}
	}
	delete(id.open, alloc)
	id.counted.add(alloc)
	if len(a.segs) > 0 {
		named := make([]namedAt, 0, len(a.named))
		for resource, pos := range a.named {
			named = append(named, namedAt{resource, pos})
		}
		id.served[alloc] = named
	}
}

// slide matches the deploy lines whose window has passed, and lets go of
// the tasks no deploy line to come can match.
func (id *identities) slide() {
	n := 0
	for n < len(id.closed) && id.open[id.closed[n]].closedAt+identityMargin < id.now {
		id.count(id.closed[n], id.open[id.closed[n]])
		n++
	}
	id.closed = id.closed[n:]
	n = 0
	for n < len(id.deploys) && id.deploys[n].t.N+parser.DeployWindow+identityMargin < id.now {
		id.match(id.deploys[n])
		n++
	}
	id.deploys = id.deploys[n:]
	horizon := id.now - 2*parser.DeployWindow - 2*identityMargin
	n = 0
	for n < len(id.received) && id.received[n].t.N < horizon {
		rt := id.received[n]
		id.expiredTo = max(id.expiredTo, rt.t.N)
		list := id.tasks[rt.task]
		if len(list) <= 1 {
			delete(id.tasks, rt.task)
		} else {
			id.tasks[rt.task] = list[1:] // in the order they came, as received
		}
		n++
	}
	id.received = id.received[n:]
}

// match votes for the segment that received a deploy line's task, if one
// alone did.
func (id *identities) match(d deployLine) {
	id.resolvedTo = max(id.resolvedTo, d.t.N)
	list := id.tasks[d.task]
	segs := make([]parser.IdentitySegment, len(list))
	at := make([]flinklog.Time, len(list))
	for k, rt := range list {
		segs[k], at[k] = rt.sg, rt.t
	}
	if sg, ok := parser.DeployedTo(segs, at, d.t); ok && !id.sc.TakenElsewhere(d.resource, sg.File) {
		id.votes.Vote(sg, d.resource, 0, 1, d.pos)
	}
}

// finish counts what is still open and matches the deploy lines left; it
// returns the scope the events were noted in and the votes, or why the
// join cannot be made as the batch read makes it.
func (id *identities) finish() (*parser.IdentityScope, parser.IdentityVotes, error) {
	if id.err != nil {
		return nil, nil, id.err
	}
	for _, d := range id.deploys {
		id.match(d)
	}
	id.deploys = nil
	for alloc, a := range id.open {
		id.count(alloc, a)
	}
	id.closed = nil
	return id.sc, id.votes, nil
}

// fail makes the join give way; pos arguments are written as positions.
func (id *identities) fail(format string, args ...any) {
	for k, a := range args {
		if pos, ok := a.(flinklog.Pos); ok {
			args[k] = id.first.Files.Position(pos)
		}
	}
	if id.err == nil {
		id.err = notFoldable("the TaskManagers' names cannot be joined as the logs are read: "+format, args...)
	}
}
