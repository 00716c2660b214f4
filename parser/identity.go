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

// segment is one TaskManager process of a file: the events between two of
// its version banners.
type segment struct {
	file int32
	n    int
}

// identityVote is the evidence for one candidate ResourceID of a segment:
// the AllocationIDs both sides name, and the deployments the JobManager
// sent there that the TaskManager received.
type identityVote struct {
	allocs  map[flinklog.ID]bool
	deploys int
	first   flinklog.Pos // the first line of another component that names it
}

// deployWindow: a task the JobManager deploys is received by the
// TaskManager within this much of the deploy line (clock skew included).
const deployWindow = 10e9

// received is a task a TaskManager process received, and when.
type received struct {
	sg segment
	t  flinklog.Time
}

// joinIdentities runs once every input is read (see read).
func joinIdentities(res *Result) {
	// Every TaskManager input: its events without a ResourceID of their
	// own (the head of a cut log), or named only after the file, are the
	// ones to join.
	byFile := map[int32]int{} // Files index → Inputs index
	fileName := map[int32]string{}
	for k, in := range res.Inputs {
		if in.DuplicateOf != "" {
			continue
		}
		byFile[in.File] = k
		if in.ResourceIDSource == "file name" {
			fileName[in.File] = in.ResourceID
		}
	}
	// a process that names itself: its ResourceID is taken, except for the
	// other processes of its own log (a pod keeps its name across container
	// restarts)
	selfNamed := map[string]map[string]bool{}
	for _, in := range res.Inputs {
		if in.ResourceID != "" && in.ResourceIDSource != "file name" && in.DuplicateOf == "" {
			r := strings.ToLower(in.ResourceID)
			if selfNamed[r] == nil {
				selfNamed[r] = map[string]bool{}
			}
			selfNamed[r][rotationFamily(in.Path)+"\x00"+in.Stream] = true
		}
	}
	var scratch flinklog.Event
	// (every event is looked at: written out only when it may count)
	for i := 0; i < res.events.len(); i++ {
		if kind, _, r, _ := res.events.brief(i); kind != flinklog.KindMetaTMID || r == "" {
			continue
		}
		if ev := res.events.read(i, &scratch); ev.Kind == flinklog.KindMetaTMID && ev.Resource != "" {
			r := strings.ToLower(ev.Resource)
			if selfNamed[r] == nil {
				selfNamed[r] = map[string]bool{}
			}
			selfNamed[r][rotationFamily(res.Files[ev.Pos.File].Path)+"\x00"+res.Files[ev.Pos.File].Stream] = true
		}
	}
	takenElsewhere := func(r string, f int32) bool {
		fams := selfNamed[strings.ToLower(r)]
		return len(fams) > 1 || len(fams) == 1 && !fams[rotationFamily(res.Files[f].Path)+"\x00"+res.Files[f].Stream]
	}
	unnamed := func(ev *flinklog.Event) bool {
		if ev.Resource == "" {
			return true
		}
		n, ok := fileName[ev.Pos.File]
		return ok && ev.Resource == n
	}
	// Each event of those files, its segment; and the AllocationIDs each
	// segment's TaskManager held.
	segOf := make(map[int]segment)
	owner := map[flinklog.ID][]segment{}
	tasks := map[string][]received{}
	banners := map[int32]int{}
	// a version banner after TaskManager events starts a second process;
	// one before any starts the first (events are in file order)
	sawTM := map[int32]bool{}
	for i := 0; i < res.events.len(); i++ {
		kind, comp, r, file := res.events.brief(i)
		if _, ok := byFile[file]; !ok || comp != flinklog.ComponentTM {
			continue
		}
		// A named event other than a banner decides nothing below, once
		// it would not be the file's first TaskManager event: skipped
		// without being written out.
		n, inFile := fileName[file]
		if named := r != "" && (!inFile || r != n); named && kind != flinklog.KindMetaVersion &&
			(sawTM[file] || strings.HasPrefix(string(kind), "meta.")) {
			continue
		}
		ev := res.events.read(i, &scratch)
		if ev.Kind == flinklog.KindMetaVersion && (banners[ev.Pos.File] > 0 || sawTM[ev.Pos.File]) {
			banners[ev.Pos.File]++
		}
		if !strings.HasPrefix(string(ev.Kind), "meta.") {
			sawTM[ev.Pos.File] = true
		}
		if ev.Kind != flinklog.KindMetaVersion && !unnamed(ev) {
			continue
		}
		sg := segment{ev.Pos.File, banners[ev.Pos.File]}
		segOf[i] = sg
		if ev.Kind == flinklog.KindTMTaskReceived && ev.Task != "" {
			tasks[ev.Task] = append(tasks[ev.Task], received{sg, ev.Time})
		}
		if !ev.Alloc.IsSet() {
			continue
		}
		switch ev.Kind {
		case flinklog.KindTMSlotRequest, flinklog.KindTMAllocated, flinklog.KindTMOffer, flinklog.KindTMActivate, flinklog.KindTMFree, flinklog.KindTMFreeReason, flinklog.KindTMTaskReceived:
			if o := owner[ev.Alloc]; len(o) == 0 || o[len(o)-1] != sg {
				owner[ev.Alloc] = append(o, sg)
			}
		}
	}
	votes := map[segment]map[string]*identityVote{}
	voteFor := func(sg segment, resource string, pos flinklog.Pos) *identityVote {
		if votes[sg] == nil {
			votes[sg] = map[string]*identityVote{}
		}
		v := votes[sg][resource]
		if v == nil {
			v = &identityVote{allocs: map[flinklog.ID]bool{}, first: pos}
			votes[sg][resource] = v
		}
		return v
	}
	vote := func(alloc flinklog.ID, resource string, pos flinklog.Pos) {
		if !alloc.IsSet() || resource == "" {
			return
		}
		for _, sg := range owner[alloc] {
			if !takenElsewhere(resource, sg.file) {
				voteFor(sg, resource, pos).allocs[alloc] = true
			}
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
			var hit *received
			for k, r := range tasks[ev.Task] {
				if d := r.t.N - ev.Time.N; r.t.Kind == ev.Time.Kind && d > -deployWindow && d < deployWindow {
					if hit != nil && hit.sg != r.sg {
						hit = nil // two processes received it then: no evidence
						break
					}
					hit = &tasks[ev.Task][k]
				}
			}
			if hit != nil && !takenElsewhere(ev.Resource, hit.sg.file) {
				voteFor(hit.sg, ev.Resource, ev.Pos).deploys++
			}
		}
	}
	segs := make([]segment, 0, len(votes))
	for sg := range votes {
		segs = append(segs, sg)
	}
	sort.Slice(segs, func(i, j int) bool {
		if segs[i].file != segs[j].file {
			return segs[i].file < segs[j].file
		}
		return segs[i].n < segs[j].n
	})
	// A ResourceID that two files both claim is no one's: each keeps its
	// name. (Two processes of one file may share one: a pod keeps its name
	// across container restarts.)
	// Rotated pieces of one log (taskmanager.log.1, taskmanager.log) are
	// one claimant.
	family := func(f int32) string {
		fi := res.Files[f]
		return rotationFamily(fi.Path) + "\x00" + fi.Stream
	}
	claims := map[string]map[string]bool{}
	for _, sg := range segs {
		if len(votes[sg]) == 1 {
			for r := range votes[sg] {
				r = strings.ToLower(r)
				if claims[r] == nil {
					claims[r] = map[string]bool{}
				}
				claims[r][family(sg.file)] = true
			}
		}
	}
	joined := map[segment]string{}
	for _, sg := range segs {
		cands := make([]string, 0, len(votes[sg]))
		for r := range votes[sg] {
			cands = append(cands, r)
		}
		sort.Strings(cands)
		in := &res.Inputs[byFile[sg.file]]
		if len(cands) > 1 {
			var named []string
			for _, r := range cands {
				v := votes[sg][r]
				named = append(named, fmt.Sprintf("%s (%d AllocationID(s), %d deployment(s), first at %s)", r, len(v.allocs), v.deploys, res.Files.Position(v.first)))
			}
			res.Diagnostics = append(res.Diagnostics, Diagnostic{Pos: flinklog.Pos{File: sg.file, Line: 1}, Severity: "warning",
				Summary: fmt.Sprintf("the other components report this TaskManager's AllocationIDs under %d ResourceIDs: %s; it keeps its file name %s", len(cands), strings.Join(named, ", "), in.ResourceID)})
			continue
		}
		r := cands[0]
		if c := claims[strings.ToLower(r)]; len(c) > 1 {
			var others []string
			for g := range c {
				if g != family(sg.file) {
					others = append(others, strings.SplitN(g, "\x00", 2)[0]+"…")
				}
			}
			sort.Strings(others)
			res.Diagnostics = append(res.Diagnostics, Diagnostic{Pos: flinklog.Pos{File: sg.file, Line: 1}, Severity: "warning",
				Summary: fmt.Sprintf("its AllocationIDs are reported under ResourceID %s, as those of %s are: each keeps its file name", r, strings.Join(others, ", "))})
			continue
		}
		joined[sg] = r
		v := votes[sg][r]
		if _, ok := fileName[sg.file]; !ok {
			// the head of a log whose later process names itself: the
			// input keeps that name, these events take r
			continue
		}
		in.ResourceID = r
		var by []string
		if len(v.allocs) > 0 {
			by = append(by, fmt.Sprintf("%d shared AllocationID(s)", len(v.allocs)))
		}
		if v.deploys > 0 {
			by = append(by, fmt.Sprintf("%d deployment(s) it received", v.deploys))
		}
		in.ResourceIDSource = fmt.Sprintf("joined by %s with %s", strings.Join(by, " and "), res.Files.Position(v.first))
		if banners[sg.file] > 0 {
			in.ResourceIDSource += fmt.Sprintf(" (process %d of %d in the file)", sg.n+1, banners[sg.file]+1)
		}
	}
	if len(joined) == 0 {
		return
	}
	for i, sg := range segOf {
		if r, ok := joined[sg]; ok && unnamed(res.events.read(i, &scratch)) {
			res.events.setResource(i, r)
		}
	}
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
