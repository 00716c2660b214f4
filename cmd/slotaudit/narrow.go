package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// narrowFlags are the flags that narrow what a command shows. Every
// command computes on all the evidence and filters afterwards.
type narrowFlags struct {
	since, until, job, taskmanager, alloc string
	only, disable                         []string
	withRules                             bool
}

// register adds the flags; withRules adds --only and --disable (for the
// commands that judge). --alloc is left to commands that already define it
// with a meaning of their own (explain, timeline): they bind it to n.alloc.
func (n *narrowFlags) register(cmd *cobra.Command, withAlloc, withRules bool) {
	fs := cmd.Flags()
	fs.StringVar(&n.since, "since", "", "only what happened from this time: as events print it (2019-10-30T11:03:11.570, 11:03:11) or a duration back from the logs' end (2h, 90m, 1d)")
	fs.StringVar(&n.until, "until", "", "only what happened up to this time (the same forms as --since)")
	fs.StringVar(&n.job, "job", "", "only this JobID")
	fs.StringVar(&n.taskmanager, "taskmanager", "", "only this TaskManager (ResourceID)")
	if withAlloc {
		fs.StringVar(&n.alloc, "alloc", "", "only this AllocationID")
	}
	if withRules {
		n.withRules = true
		fs.StringSliceVar(&n.only, "only", nil, "only these rules (comma-separated IDs; 'slotaudit audit --rules' lists them)")
		fs.StringSliceVar(&n.disable, "disable", nil, "not these rules (comma-separated IDs)")
	}
	for _, name := range []string{"only", "disable"} {
		if fs.Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, completeRules)
		}
	}
}

// completeRules completes rule IDs for --only and --disable.
func completeRules(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var ids []string
	for _, r := range rules.All {
		ids = append(ids, r.ID+"\t"+r.Severity.String())
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

// filter parses the flags (usage errors for malformed values).
func (n *narrowFlags) filter() (*report.Filter, error) {
	f := &report.Filter{TaskManager: strings.TrimSpace(n.taskmanager)}
	var err error
	if f.Since, err = report.ParseBound("--since", n.since); err != nil {
		return nil, &usageError{err}
	}
	if f.Until, err = report.ParseBound("--until", n.until); err != nil {
		return nil, &usageError{err}
	}
	if n.job != "" {
		id, ok := flinklog.ParseID(n.job)
		if !ok {
			return nil, &usageError{fmt.Errorf("--job %q: want a JobID of 32 hex digits", n.job)}
		}
		f.Job = id
	}
	if n.alloc != "" {
		id, ok := flinklog.ParseID(n.alloc)
		if !ok {
			return nil, &usageError{fmt.Errorf("--alloc %q: want an AllocationID of 32 hex digits", n.alloc)}
		}
		f.Alloc = id
	}
	known := map[string]bool{}
	var ids []string
	for _, r := range rules.All {
		known[r.ID] = true
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	pick := func(flag string, vals []string) (map[string]bool, error) {
		if len(vals) == 0 {
			return nil, nil
		}
		out := map[string]bool{}
		for _, v := range vals {
			v = strings.ToLower(strings.TrimSpace(v))
			if !known[v] {
				return nil, &usageError{fmt.Errorf("%s %q: no such rule%s; the rules are %s", flag, v, didYouMean(v, ids), strings.Join(ids, ", "))}
			}
			out[v] = true
		}
		return out, nil
	}
	if f.Only, err = pick("--only", n.only); err != nil {
		return nil, err
	}
	if f.Disable, err = pick("--disable", n.disable); err != nil {
		return nil, err
	}
	return f, nil
}

// check makes sure that every ID the filter names is in the input: a
// filter that matches nothing is nearly always a typo, and the answer says
// what exists instead.
func (n *narrowFlags) check(m *reconstruct.Model, f *report.Filter) error {
	return n.checkNames(f, modelNames{m})
}

// inputNames are what a filter is checked against: the TaskManagers, jobs
// and allocations an input names.
type inputNames interface {
	taskManagers() []string // sorted
	jobs() []string         // sorted
	hasAlloc(id flinklog.ID) bool
	allocs() []string // sorted
}

// checkNames is check against names.
func (n *narrowFlags) checkNames(f *report.Filter, names inputNames) error {
	if f.TaskManager != "" {
		tms := names.taskManagers()
		found := false
		for _, r := range tms {
			if strings.EqualFold(r, f.TaskManager) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("no TaskManager %s in the input%s; it names %s", report.Escape(f.TaskManager), didYouMean(f.TaskManager, tms), listSome(tms))
		}
	}
	if f.Job.IsSet() {
		all := names.jobs()
		if _, found := slices.BinarySearch(all, f.Job.String()); !found {
			return fmt.Errorf("no job %s in the input%s; it names %s", f.Job, didYouMean(f.Job.String(), all), listSome(all))
		}
	}
	if f.Alloc.IsSet() && !names.hasAlloc(f.Alloc) {
		all := names.allocs()
		return fmt.Errorf("no event names allocation %s%s; the input has %s", f.Alloc, didYouMean(f.Alloc.String(), all), listSome(all))
	}
	return nil
}

// modelNames are the names a model holds.
type modelNames struct{ m *reconstruct.Model }

func (n modelNames) taskManagers() []string { return report.TaskManagers(n.m) }

func (n modelNames) jobs() []string {
	jobs := map[string]bool{}
	for i := range n.m.Result.All() {
		if j := n.m.Result.Head(i).Job; j.IsSet() {
			jobs[j.String()] = true
		}
	}
	return slices.Sorted(maps.Keys(jobs))
}

func (n modelNames) hasAlloc(id flinklog.ID) bool { return n.m.Allocation(id) != nil }

func (n modelNames) allocs() []string {
	var all []string
	for _, a := range n.m.Allocations {
		all = append(all, a.ID.String())
	}
	sort.Strings(all)
	return all
}

// listSome names up to eight of a sorted list, and how many more there are.
func listSome(all []string) string {
	if len(all) == 0 {
		return "none"
	}
	const most = 8
	esc := make([]string, 0, most)
	for i, s := range all {
		if i == most {
			break
		}
		esc = append(esc, report.Escape(s))
	}
	out := strings.Join(esc, ", ")
	if len(all) > most {
		out += fmt.Sprintf(" and %d more", len(all)-most)
	}
	return out
}

// didYouMean suggests the candidates closest to s: those it is a prefix
// of (IDs are often pasted cut short), else those within a small edit
// distance. It returns "" when nothing is close.
func didYouMean(s string, candidates []string) string {
	s = strings.ToLower(s)
	var close []string
	for _, c := range candidates {
		if len(s) >= 4 && strings.HasPrefix(strings.ToLower(c), s) {
			close = append(close, c)
		}
	}
	if len(close) == 0 {
		best := max(2, len(s)/5)
		for _, c := range candidates {
			d := editDistance(s, strings.ToLower(c))
			switch {
			case d < best:
				best, close = d, []string{c}
			case d == best:
				close = append(close, c)
			}
		}
	}
	if len(close) == 0 || len(close) > 3 {
		return ""
	}
	for i := range close {
		close[i] = report.Escape(close[i])
	}
	return " (did you mean " + strings.Join(close, " or ") + "?)"
}

// editDistance is the Levenshtein distance of a and b (bytes: IDs and rule
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
