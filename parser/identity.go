package parser

import (
	"fmt"
	"sort"
	"strings"
)

// A TaskManager log that never prints its own ResourceID (its banner was
// rotated away, or the log was cut) is first named after its file. The
// other components name that TaskManager by ResourceID on lines that also
// name the AllocationIDs it served: the ResourceManager's "Starting
// allocation of slot S|A", its slot reports (slotID=<ResourceID>_<index>,
// allocationID), the JobMaster's deploy lines "to R … with allocation id A".
// joinIdentities gives such a log the one ResourceID those lines agree on,
// and says how it was found; when they name two, it warns and keeps the
// file's name: an identity is never guessed.

// identityVote is the evidence for one candidate ResourceID of one input.
type identityVote struct {
	allocs map[ID]bool
	first  Pos // the first line of another component that names it
}

// joinIdentities runs once every input is read (see read).
func joinIdentities(res *Result) {
	byFile := map[int32]int{} // Files index → Inputs index of inputs to join
	known := map[string]bool{}
	for k, in := range res.Inputs {
		if in.ResourceID == "" {
			continue
		}
		if in.ResourceIDSource == "file name" && in.DuplicateOf == "" {
			byFile[in.File] = k
			continue
		}
		known[strings.ToLower(in.ResourceID)] = true
	}
	if len(byFile) == 0 {
		return
	}
	// The AllocationIDs each such log's TaskManager held.
	owner := map[ID][]int32{}
	for i := range res.Events {
		ev := &res.Events[i]
		if _, ok := byFile[ev.Pos.File]; !ok || ev.Component != ComponentTM || !ev.Alloc.IsSet() {
			continue
		}
		switch ev.Kind {
		case KindTMSlotRequest, KindTMAllocated, KindTMOffer, KindTMActivate, KindTMFree, KindTMFreeReason, KindTMTaskReceived:
			if o := owner[ev.Alloc]; len(o) == 0 || o[len(o)-1] != ev.Pos.File {
				owner[ev.Alloc] = append(o, ev.Pos.File)
			}
		}
	}
	votes := map[int32]map[string]*identityVote{}
	vote := func(alloc ID, resource string, pos Pos) {
		if !alloc.IsSet() || resource == "" || known[strings.ToLower(resource)] {
			return
		}
		for _, f := range owner[alloc] {
			if votes[f] == nil {
				votes[f] = map[string]*identityVote{}
			}
			v := votes[f][resource]
			if v == nil {
				v = &identityVote{allocs: map[ID]bool{}, first: pos}
				votes[f][resource] = v
			}
			v.allocs[alloc] = true
		}
	}
	for i := range res.Events {
		ev := &res.Events[i]
		if ev.Component != ComponentRM && ev.Component != ComponentJM {
			continue
		}
		vote(ev.Alloc, ev.Resource, ev.Pos)
		for _, s := range ev.Slots {
			vote(s.Alloc, s.Resource, ev.Pos)
		}
	}
	files := make([]int32, 0, len(votes))
	for f := range votes {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i] < files[j] })
	// A ResourceID two logs both claim is no one's: each keeps its name.
	claims := map[string][]int32{}
	for _, f := range files {
		if len(votes[f]) == 1 {
			for r := range votes[f] {
				claims[strings.ToLower(r)] = append(claims[strings.ToLower(r)], f)
			}
		}
	}
	for _, f := range files {
		cands := make([]string, 0, len(votes[f]))
		for r := range votes[f] {
			cands = append(cands, r)
		}
		sort.Strings(cands)
		in := &res.Inputs[byFile[f]]
		if len(cands) > 1 {
			var named []string
			for _, r := range cands {
				v := votes[f][r]
				named = append(named, fmt.Sprintf("%s (%d AllocationID(s), first at %s)", r, len(v.allocs), res.Files.Position(v.first)))
			}
			res.Diagnostics = append(res.Diagnostics, Diagnostic{Pos: Pos{File: f, Line: 1}, Severity: "warning",
				Summary: fmt.Sprintf("the other components report this TaskManager's AllocationIDs under %d ResourceIDs: %s; it keeps its file name %s", len(cands), strings.Join(named, ", "), in.ResourceID)})
			continue
		}
		r := cands[0]
		if c := claims[strings.ToLower(r)]; len(c) > 1 {
			var others []string
			for _, g := range c {
				if g != f {
					others = append(others, res.Files[g].Path)
				}
			}
			res.Diagnostics = append(res.Diagnostics, Diagnostic{Pos: Pos{File: f, Line: 1}, Severity: "warning",
				Summary: fmt.Sprintf("its AllocationIDs are reported under ResourceID %s, as those of %s are: each keeps its file name", r, strings.Join(others, ", "))})
			continue
		}
		v := votes[f][r]
		old := in.ResourceID
		in.ResourceID = r
		in.ResourceIDSource = fmt.Sprintf("joined by %d shared AllocationID(s) with %s", len(v.allocs), res.Files.Position(v.first))
		for i := range res.Events {
			ev := &res.Events[i]
			if ev.Pos.File == f && ev.Component == ComponentTM && ev.Resource == old {
				ev.Resource = r
			}
		}
	}
}
