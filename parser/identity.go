package parser

import (
	"fmt"
	"sort"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
)

// A TaskManager log that never prints its own ResourceID (its banner was
// rotated away, or the log was cut) is first named after its file. The
// other components name that TaskManager by ResourceID on lines that also
// name the AllocationIDs it served: the ResourceManager's "Starting
// allocation of slot S|A", its slot reports (slotID=<ResourceID>_<index>,
// allocationID), the JobMaster's deploy lines "to R … with allocation id A".
// joinIdentities gives such a log the one ResourceID those lines agree on,
// and says how it was found; when they name two, it warns and keeps the
// file's name: an identity is never guessed. A file that holds several
// TaskManager processes (a version banner each) is joined process by
// process: a restarted TaskManager has a new ResourceID.

// deployWindow: a task the JobManager deploys is received by the
// TaskManager within this much of the deploy line (clock skew included).
const deployWindow = 10e9

// received is a task a TaskManager process received, and when.
type received struct {
	sg IdentitySegment
	t  flinklog.Time
}

// IdentitySegment is one TaskManager process of an input as a join of
// identities sees it: File, and N, the version banners before it.
type IdentitySegment struct {
	File int32
	N    int
}

// IdentityVote is what a join counts for one candidate ResourceID of a
// segment: how many AllocationIDs the segment's unnamed lines and the
// other components' lines naming that ResourceID share, how many
// deployments the JobManager sent there that the segment received, and
// the first of those other components' lines (in the read's order).
type IdentityVote struct {
	Allocs, Deploys int
	First           flinklog.Pos
}

// IdentityVotes are a join's votes, by segment and candidate ResourceID.
type IdentityVotes map[IdentitySegment]map[string]*IdentityVote

// Vote adds to the vote of resource for sg: allocs AllocationIDs more,
// deploys deployments more, a line at pos (the first is kept).
func (v IdentityVotes) Vote(sg IdentitySegment, resource string, allocs, deploys int, pos flinklog.Pos) {
	if v[sg] == nil {
		v[sg] = map[string]*IdentityVote{}
	}
	x := v[sg][resource]
	if x == nil {
		x = &IdentityVote{First: pos}
		v[sg][resource] = x
	} else if pos.Less(x.First) {
		x.First = pos
	}
	x.Allocs += allocs
	x.Deploys += deploys
}

// IdentityScope is what a join of identities goes by: which inputs'
// TaskManager lines may lack a ResourceID of their own, which ResourceIDs
// a process names itself (and where), and, as an input's events go by in
// line order (Note), which segment each belongs to.
type IdentityScope struct {
	files     *Files
	byFile    map[int32]bool   // the inputs that count (not duplicates)
	fileName  map[int32]string // the inputs named after their files, and the name
	selfNamed map[string]map[string]bool
	banners   map[int32]int
	sawTM     map[int32]bool
	// starts are the lines at which each input's segments after its
	// first begin (its counted banners)
	starts map[int32][]int64
}

// identityScope is the scope of a join over res's inputs.
func (r *Result) identityScope() *IdentityScope {
	sc := &IdentityScope{files: &r.Files, byFile: map[int32]bool{}, fileName: map[int32]string{},
		selfNamed: map[string]map[string]bool{}, banners: map[int32]int{}, sawTM: map[int32]bool{}, starts: map[int32][]int64{}}
	for _, in := range r.Inputs {
		if in.DuplicateOf != "" {
			continue
		}
		sc.byFile[in.File] = true
		if in.ResourceIDSource == "file name" {
			sc.fileName[in.File] = in.ResourceID
		}
	}
	// a process that names itself: its ResourceID is taken, except for the
	// other processes of its own log (a pod keeps its name across container
	// restarts)
	for _, in := range r.Inputs {
		if in.ResourceID != "" && in.ResourceIDSource != "file name" && in.DuplicateOf == "" {
			sc.claimSelf(in.ResourceID, in.File)
		}
	}
	var scratch flinklog.Event
	// (every event is looked at: written out only when it may count)
	for i := 0; i < r.events.len(); i++ {
		if kind, _, res, _ := r.events.brief(i); kind != flinklog.KindMetaTMID || res == "" {
			continue
		}
		if ev := r.events.read(i, &scratch); ev.Kind == flinklog.KindMetaTMID && ev.Resource != "" {
			sc.claimSelf(ev.Resource, ev.Pos.File)
		}
	}
	return sc
}

func (sc *IdentityScope) claimSelf(resource string, file int32) {
	res := strings.ToLower(resource)
	if sc.selfNamed[res] == nil {
		sc.selfNamed[res] = map[string]bool{}
	}
	sc.selfNamed[res][sc.family(file)] = true
}

// family is the rotation family of input f (rotated pieces of one log are
// one claimant).
func (sc *IdentityScope) family(f int32) string {
	fi := (*sc.files)[f]
	return rotationFamily(fi.Path) + "\x00" + fi.Stream
}

// TakenElsewhere reports whether resource is a ResourceID another log's
// process names itself: no vote for it counts in input f.
func (sc *IdentityScope) TakenElsewhere(resource string, f int32) bool {
	fams := sc.selfNamed[strings.ToLower(resource)]
	return len(fams) > 1 || len(fams) == 1 && !fams[sc.family(f)]
}

// Unnamed reports whether ev, a TaskManager line, names no TaskManager of
// its own: no ResourceID, or only its file's name.
func (sc *IdentityScope) Unnamed(ev *flinklog.Event) bool {
	if ev.Resource == "" {
		return true
	}
	n, ok := sc.fileName[ev.Pos.File]
	return ok && ev.Resource == n
}

// Pending reports whether some input's TaskManager lines may be unnamed.
func (sc *IdentityScope) Pending() bool { return len(sc.fileName) > 0 }

// Note takes the next TaskManager event of its input (every event of an
// input is to be noted, in line order; others are ignored) and returns
// its segment, and whether the join looks at it: a version banner, or a
// line without a ResourceID of its own.
func (sc *IdentityScope) Note(ev *flinklog.Event) (IdentitySegment, bool) {
	f := ev.Pos.File
	if !sc.byFile[f] || ev.Component != flinklog.ComponentTM {
		return IdentitySegment{}, false
	}
	meta := strings.HasPrefix(string(ev.Kind), "meta.")
	// A named event other than a banner decides nothing, once it would not
	// be the file's first TaskManager event.
	if !sc.Unnamed(ev) && ev.Kind != flinklog.KindMetaVersion && (sc.sawTM[f] || meta) {
		return IdentitySegment{}, false
	}
	// a version banner after TaskManager events starts a second process;
	// one before any starts the first (events are in file order)
	if ev.Kind == flinklog.KindMetaVersion && (sc.banners[f] > 0 || sc.sawTM[f]) {
		sc.banners[f]++
		sc.starts[f] = append(sc.starts[f], ev.Pos.Line)
	}
	if !meta {
		sc.sawTM[f] = true
	}
	if ev.Kind != flinklog.KindMetaVersion && !sc.Unnamed(ev) {
		return IdentitySegment{}, false
	}
	return IdentitySegment{f, sc.banners[f]}, true
}

// segmentAt is the segment of input f's line, as Note numbered them.
func (sc *IdentityScope) segmentAt(f int32, line int64) IdentitySegment {
	n := 0
	for _, at := range sc.starts[f] {
		if at <= line {
			n++
		}
	}
	return IdentitySegment{f, n}
}

// OwnerKind: a TaskManager line of this kind naming an AllocationID says
// the process served it.
func OwnerKind(k flinklog.Kind) bool {
	switch k {
	case flinklog.KindTMSlotRequest, flinklog.KindTMAllocated, flinklog.KindTMOffer, flinklog.KindTMActivate, flinklog.KindTMFree, flinklog.KindTMFreeReason, flinklog.KindTMTaskReceived:
		return true
	}
	return false
}

// DeployWindow: a task the JobManager deploys is received by the
// TaskManager within this much of the deploy line (ns, clock skew
// included).
const DeployWindow = deployWindow

// joinIdentities runs once every input is read (see read).
func joinIdentities(res *Result) {
	sc := res.identityScope()
	votes, segOf := collectVotes(res, sc)
	joined := res.decideJoins(sc, votes)
	res.identity, res.joined = sc, joined
	if len(joined) == 0 {
		return
	}
	var scratch flinklog.Event
	for i, sg := range segOf {
		if r, ok := joined[sg]; ok && sc.Unnamed(res.events.read(i, &scratch)) {
			res.events.setResource(i, r)
		}
	}
}

// collectVotes notes every event of res in sc, and returns the votes of
// the other components' lines for the segments' unnamed lines, and the
// segment of each event the join looks at.
func collectVotes(res *Result, sc *IdentityScope) (IdentityVotes, map[int]IdentitySegment) {
	var scratch flinklog.Event
	// Each event of those files, its segment; and the AllocationIDs each
	// segment's TaskManager held.
	segOf := make(map[int]IdentitySegment)
	owner := map[flinklog.ID][]IdentitySegment{}
	tasks := map[string][]received{}
	for i := 0; i < res.events.len(); i++ {
		kind, comp, r, file := res.events.brief(i)
		if !sc.byFile[file] || comp != flinklog.ComponentTM {
			continue
		}
		// (skipped without being written out: a named event other than a
		// banner, once it would not be the file's first TaskManager event)
		n, inFile := sc.fileName[file]
		if named := r != "" && (!inFile || r != n); named && kind != flinklog.KindMetaVersion &&
			(sc.sawTM[file] || strings.HasPrefix(string(kind), "meta.")) {
			continue
		}
		ev := res.events.read(i, &scratch)
		sg, ok := sc.Note(ev)
		if !ok {
			continue
		}
		segOf[i] = sg
		if ev.Kind == flinklog.KindTMTaskReceived && ev.Task != "" {
			tasks[ev.Task] = append(tasks[ev.Task], received{sg, ev.Time})
		}
		if ev.Alloc.IsSet() && OwnerKind(ev.Kind) {
			if o := owner[ev.Alloc]; len(o) == 0 || o[len(o)-1] != sg {
				owner[ev.Alloc] = append(o, sg)
			}
		}
	}
	type voteKey struct {
		sg       IdentitySegment
		resource string
	}
	shared := map[voteKey]map[flinklog.ID]bool{}
	votes := IdentityVotes{}
	vote := func(alloc flinklog.ID, resource string, pos flinklog.Pos) {
		if !alloc.IsSet() || resource == "" {
			return
		}
		for _, sg := range owner[alloc] {
			if sc.TakenElsewhere(resource, sg.File) {
				continue
			}
			k := voteKey{sg, resource}
			if shared[k] == nil {
				shared[k] = map[flinklog.ID]bool{}
			}
			n := 0
			if !shared[k][alloc] {
				shared[k][alloc], n = true, 1
			}
			votes.Vote(sg, resource, n, 0, pos)
		}
	}
	for i := 0; i < res.events.len() && (len(owner) > 0 || len(tasks) > 0); i++ {
		if _, comp, _, _ := res.events.brief(i); comp != flinklog.ComponentRM && comp != flinklog.ComponentJM {
			continue
		}
		ev := res.events.read(i, &scratch)
		vote(ev.Alloc, ev.Resource, ev.Pos)
		for _, s := range ev.Slots {
			vote(s.Alloc, s.Resource, ev.Pos)
		}
		// Before 1.10 a deploy line names no AllocationID: the task and
		// the time tie it to the TaskManager that received it.
		if ev.Kind == flinklog.KindJMDeploy && ev.Task != "" && ev.Resource != "" {
			if sg, ok := deployedTo(tasks[ev.Task], ev.Time); ok && !sc.TakenElsewhere(ev.Resource, sg.File) {
				votes.Vote(sg, ev.Resource, 0, 1, ev.Pos)
			}
		}
	}
	return votes, segOf
}

// IdentitiesPending reports whether the read deferred naming some
// TaskManager lines from the other components' lines
// (Options.DeferIdentities): the caller makes the join, from a scope of
// its own (IdentityScope) and the events in line order of every input,
// and hands it back (ApplyIdentities).
func (r *Result) IdentitiesPending() bool { return r.pending }

// JoinIdentities makes the join the read deferred from the events it kept,
// as a read without Keep makes it: for a read whose Keep kept every event.
func (r *Result) JoinIdentities() {
	if r.pending {
		r.pending = false
		joinIdentities(r)
	}
}

// IdentityScope returns a new scope of a join over r's inputs, to Note
// their events in.
func (r *Result) IdentityScope() *IdentityScope { return r.identityScope() }

// ApplyIdentities makes the join a read defers: sc, the scope the events
// of every input were noted in, and votes, what the other components'
// lines said of them, as joinIdentities counts them. It names the inputs
// and the events kept as joinIdentities would have, warns as it would,
// and from then on ReadAgain names the events it reads again so.
func (r *Result) ApplyIdentities(sc *IdentityScope, votes IdentityVotes) {
	joined := r.decideJoins(sc, votes)
	r.identity, r.joined, r.pending = sc, joined, false
	if len(joined) == 0 {
		return
	}
	var scratch flinklog.Event
	for i := 0; i < r.events.len(); i++ {
		if _, comp, _, file := r.events.brief(i); comp != flinklog.ComponentTM || !sc.byFile[file] {
			continue
		}
		ev := r.events.read(i, &scratch)
		if !sc.Unnamed(ev) {
			continue
		}
		if res, ok := joined[sc.segmentAt(ev.Pos.File, ev.Pos.Line)]; ok {
			r.events.setResource(i, res)
		}
	}
}

// joinedName is the ResourceID the join gave a TaskManager event that
// names none of its own, if it gave one.
func (r *Result) joinedName(ev *flinklog.Event) (string, bool) {
	if len(r.joined) == 0 || ev.Component != flinklog.ComponentTM || !r.identity.Unnamed(ev) {
		return "", false
	}
	res, ok := r.joined[r.identity.segmentAt(ev.Pos.File, ev.Pos.Line)]
	return res, ok
}

// deployedTo is the one segment that received the task of a deploy line at
// t (within DeployWindow of it), if one did: two processes that received
// it then are no evidence.
func deployedTo(recv []received, t flinklog.Time) (IdentitySegment, bool) {
	var hit *received
	for k, r := range recv {
		if d := r.t.N - t.N; r.t.Kind == t.Kind && d > -deployWindow && d < deployWindow {
			if hit != nil && hit.sg != r.sg {
				return IdentitySegment{}, false
			}
			hit = &recv[k]
		}
	}
	if hit == nil {
		return IdentitySegment{}, false
	}
	return hit.sg, true
}

// DeployedTo is deployedTo for a join made elsewhere (a fold's): recv are
// the segments that received the task and when.
func DeployedTo(recv []IdentitySegment, at []flinklog.Time, t flinklog.Time) (IdentitySegment, bool) {
	rs := make([]received, len(recv))
	for k := range recv {
		rs[k] = received{recv[k], at[k]}
	}
	return deployedTo(rs, t)
}

// decideJoins gives each segment the one ResourceID its votes agree on,
// unless another log claims it too, and says so on its input; it returns
// the segments joined.
func (res *Result) decideJoins(sc *IdentityScope, votes IdentityVotes) map[IdentitySegment]string {
	segs := make([]IdentitySegment, 0, len(votes))
	for sg := range votes {
		segs = append(segs, sg)
	}
	sort.Slice(segs, func(i, j int) bool {
		if segs[i].File != segs[j].File {
			return segs[i].File < segs[j].File
		}
		return segs[i].N < segs[j].N
	})
	inputOf := map[int32]int{}
	for k, in := range res.Inputs {
		if in.DuplicateOf == "" {
			inputOf[in.File] = k
		}
	}
	// A ResourceID that two files both claim is no one's: each keeps its
	// name. (Two processes of one file may share one: a pod keeps its name
	// across container restarts.)
	// Rotated pieces of one log (taskmanager.log.1, taskmanager.log) are
	// one claimant.
	claims := map[string]map[string]bool{}
	for _, sg := range segs {
		if len(votes[sg]) == 1 {
			for r := range votes[sg] {
				r = strings.ToLower(r)
				if claims[r] == nil {
					claims[r] = map[string]bool{}
				}
				claims[r][sc.family(sg.File)] = true
			}
		}
	}
	joined := map[IdentitySegment]string{}
	for _, sg := range segs {
		cands := make([]string, 0, len(votes[sg]))
		for r := range votes[sg] {
			cands = append(cands, r)
		}
		sort.Strings(cands)
		in := &res.Inputs[inputOf[sg.File]]
		if len(cands) > 1 {
			var named []string
			for _, r := range cands {
				v := votes[sg][r]
				named = append(named, fmt.Sprintf("%s (%d AllocationID(s), %d deployment(s), first at %s)", r, v.Allocs, v.Deploys, res.Files.Position(v.First)))
			}
			res.Diagnostics = append(res.Diagnostics, Diagnostic{Pos: flinklog.Pos{File: sg.File, Line: 1}, Severity: "warning",
				Summary: fmt.Sprintf("the other components report this TaskManager's AllocationIDs under %d ResourceIDs: %s; it keeps its file name %s", len(cands), strings.Join(named, ", "), in.ResourceID)})
			continue
		}
		r := cands[0]
		if c := claims[strings.ToLower(r)]; len(c) > 1 {
			var others []string
			for g := range c {
				if g != sc.family(sg.File) {
					others = append(others, strings.SplitN(g, "\x00", 2)[0]+"…")
				}
			}
			sort.Strings(others)
			res.Diagnostics = append(res.Diagnostics, Diagnostic{Pos: flinklog.Pos{File: sg.File, Line: 1}, Severity: "warning",
				Summary: fmt.Sprintf("its AllocationIDs are reported under ResourceID %s, as those of %s are: each keeps its file name", r, strings.Join(others, ", "))})
			continue
		}
		joined[sg] = r
		v := votes[sg][r]
		if _, ok := sc.fileName[sg.File]; !ok {
			// the head of a log whose later process names itself: the
			// input keeps that name, these events take r
			continue
		}
		in.ResourceID = r
		var by []string
		if v.Allocs > 0 {
			by = append(by, fmt.Sprintf("%d shared AllocationID(s)", v.Allocs))
		}
		if v.Deploys > 0 {
			by = append(by, fmt.Sprintf("%d deployment(s) it received", v.Deploys))
		}
		in.ResourceIDSource = fmt.Sprintf("joined by %s with %s", strings.Join(by, " and "), res.Files.Position(v.First))
		if sc.banners[sg.File] > 0 {
			in.ResourceIDSource += fmt.Sprintf(" (process %d of %d in the file)", sg.N+1, sc.banners[sg.File]+1)
		}
	}
	return joined
}

// rotationFamily strips what log rotation adds to a file name: ".gz", then
// a ".N" index or a ".YYYY-MM-DD…" date (log4j's RollingFileAppender); the
// pieces of one rotated log share it.
func rotationFamily(path string) string {
	p := strings.TrimSuffix(UnrotatedName(path), ".gz")
	if i := strings.LastIndexByte(p, '.'); i > 0 {
		if suffix := p[i+1:]; suffix != "" && strings.Trim(suffix, "0123456789-_:T") == "" {
			return p[:i]
		}
	}
	return p
}
