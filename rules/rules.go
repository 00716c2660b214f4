// Package rules owns slotaudit's verdict: each rule is a value with a stable
// ID, a one-paragraph doc, the severity it reports at most, and a run
// function over the reconstructed model (in the manner of
// golang.org/x/tools/go/analysis analyzers). A rule reports findings; every
// finding carries the log lines that prove it, each with the one sentence it
// contributes to the story, and what the fixed slot table would have done.
//
// Words (model, semantics, slot report, cause…) mean what the glossary in
// package reconstruct says.
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// Severity ranks findings; --fail-on compares against it.
type Severity int8

// The severities, least first.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	}
	return "error"
}

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, bool) {
	switch s {
	case "info":
		return Info, true
	case "warning":
		return Warning, true
	case "error":
		return Error, true
	}
	return Error, false
}

// Rule is one check over the model.
type Rule struct {
	ID       string   // stable, kebab-case; never reused for another meaning
	Doc      string   // one paragraph: what it finds, why it matters, what it needs
	Severity Severity // the most severe finding it reports
	// Requires are the rules whose findings this one reads (its causes):
	// they run first, also when only this rule is asked for.
	Requires []*Rule
	Run      func(*Pass)
}

var kebab = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Validate checks a set of rules as go/analysis checks analyzers: IDs
// unique and kebab-case, a doc whose first sentence says what the rule
// finds, a run function, a known severity, and requirements that are in the
// set and form no cycle.
func Validate(rules []*Rule) error {
	in := map[*Rule]bool{}
	ids := map[string]bool{}
	for _, r := range rules {
		switch {
		case r == nil:
			return fmt.Errorf("a nil rule")
		case !kebab.MatchString(r.ID):
			return fmt.Errorf("rule %q: the ID is not kebab-case", r.ID)
		case ids[r.ID]:
			return fmt.Errorf("rule %q: two rules have this ID", r.ID)
		case r.Run == nil:
			return fmt.Errorf("rule %q: no Run", r.ID)
		case r.Severity < Info || r.Severity > Error:
			return fmt.Errorf("rule %q: severity %d", r.ID, r.Severity)
		case len(strings.Fields(firstSentence(r.Doc))) < 4 || !strings.HasSuffix(firstSentence(r.Doc), "."):
			return fmt.Errorf("rule %q: the doc does not begin with a sentence that says what it finds", r.ID)
		}
		ids[r.ID], in[r] = true, true
	}
	for _, r := range rules {
		for _, q := range r.Requires {
			if !in[q] {
				return fmt.Errorf("rule %q requires %q, which is not in the set", r.ID, q.ID)
			}
		}
	}
	_, err := order(rules)
	return err
}

// firstSentence is a doc's text up to its first period followed by a space
// or the end.
func firstSentence(doc string) string {
	doc = strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(doc, ". "); i >= 0 {
		return doc[:i+1]
	}
	return doc
}

// order is the rules with everything they require, each after what it
// requires; otherwise in the order given (All's order for rules pulled in).
func order(rules []*Rule) ([]*Rule, error) {
	pos := map[*Rule]int{}
	for i, r := range All {
		pos[r] = i
	}
	for i, r := range rules {
		if _, ok := pos[r]; !ok {
			pos[r] = len(All) + i
		}
	}
	var out []*Rule
	state := map[*Rule]int{} // 1 visiting, 2 done
	var visit func(r *Rule, path []string) error
	visit = func(r *Rule, path []string) error {
		switch state[r] {
		case 1:
			return fmt.Errorf("rules require each other in a cycle: %s", strings.Join(append(path, r.ID), " -> "))
		case 2:
			return nil
		}
		state[r] = 1
		req := append([]*Rule(nil), r.Requires...)
		sort.SliceStable(req, func(i, j int) bool { return pos[req[i]] < pos[req[j]] })
		for _, q := range req {
			if err := visit(q, append(path, r.ID)); err != nil {
				return err
			}
		}
		state[r] = 2
		out = append(out, r)
		return nil
	}
	for _, r := range rules {
		if err := visit(r, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Evidence is one line of proof, or one step of the story that no line
// shows (Pos.Line == 0: e.g. the JobManager's silent rejection of an offer).
type Evidence struct {
	Pos       flinklog.Pos
	Time      flinklog.Time
	Component flinklog.Component
	Text      string // the record's first line as read
	Says      string // the one sentence this line contributes
}

// Finding is one verdict with its proof.
type Finding struct {
	ID          string // short, stable: the start of the fingerprint
	Fingerprint string // stable across runs: rule, TaskManager, AllocationID, index, occurrence
	Rule        string
	Severity    Severity
	Resource    string      // TaskManager ResourceID, when known
	SlotIndex   int         // -1 when unknown
	IndexNote   string      // how the index is known, or why it is not
	Alloc       flinklog.ID // the AllocationID, when the finding is about one
	Job         flinklog.ID
	Time        flinklog.Time // the decisive line's time
	Pos         flinklog.Pos  // the decisive line
	Message     string
	Evidence    []Evidence
	FixedModel  string   // what the fixed table (>= 1.10) would have done
	Causes      []string // IDs of findings this one follows from
	// Since and ZombieSeconds: for zombie-slot, when the slot became
	// unreachable and how long it stayed held in the log (a lower bound).
	Since         flinklog.Time
	ZombieSeconds float64
}

// Pass is what a rule's Run works with.
type Pass struct {
	Model *reconstruct.Model
	Rule  *Rule
	out   *[]Finding
	seen  map[string]int
	state *runState
	// found: the findings of each required rule, gathered once (they are
	// complete before this rule runs); a rule that asked once per zombie
	// walked every finding each time
	found map[string][]Finding
}

// Report adds a finding of the running rule, filling in its rule,
// fingerprint and ID.
func (p *Pass) Report(f Finding) {
	f.Rule = p.Rule.ID
	key := strings.Join([]string{f.Rule, f.Resource, f.Alloc.String(), strconv.Itoa(f.SlotIndex)}, "|")
	if !f.Alloc.IsSet() && f.Pos.Line > 0 {
		// Findings about no allocation: one per input, named by its base
		// name so the fingerprint does not depend on where the logs lie.
		fi := p.Model.Result.Files[f.Pos.File]
		// (what a follow read before a rotation keeps the file's name)
		key += "|" + filepath.Base(parser.UnrotatedName(fi.Path)) + "#" + fi.Stream + "|" + f.Job.String()
	}
	p.seen[key]++
	if n := p.seen[key]; n > 1 {
		key += "|#" + strconv.Itoa(n)
	}
	sum := sha256.Sum256([]byte(key))
	f.Fingerprint = hex.EncodeToString(sum[:16])
	f.ID = f.Fingerprint[:8]
	*p.out = append(*p.out, f)
}

// Findings returns what a rule the running one requires reported. Reading
// a rule it does not require is a programming error: that rule's findings
// would depend on the order of a list.
func (p *Pass) Findings(id string) []Finding {
	required := false
	for _, q := range p.Rule.Requires {
		required = required || q.ID == id
	}
	if !required {
		panic(fmt.Sprintf("rule %s reads the findings of %s without requiring it", p.Rule.ID, id))
	}
	if out, ok := p.found[id]; ok {
		return out
	}
	var out []Finding
	for _, f := range *p.out {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	if p.found == nil {
		p.found = map[string][]Finding{}
	}
	p.found[id] = out
	return out
}

// All is every rule. Each runs after the rules it requires; otherwise in
// this order.
var All = []*Rule{
	SlotMapOverwrite,
	DuplicateOffer,
	ZombieSlot,
	AllocationTimeout,
	SlotTimeout,
	TaskManagerLost,
	SlotIndexConflict,
	SlotReportMismatch,
	TaskWithoutSlot,
	NoResourceAvailable,
}

// ByID returns the rule with that ID.
func ByID(id string) *Rule {
	for _, r := range All {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Run applies the rules (and the rules they require, before them) to the
// model and returns their findings in a deterministic order: by time of the
// decisive line, then rule, then fingerprint. The rules must pass Validate
// (a test holds All to it).
func Run(m *reconstruct.Model, rules []*Rule) []Finding {
	var out []Finding
	seen := map[string]int{}
	state := newRunState(m)
	ordered, err := order(rules)
	if err != nil {
		panic(err) // a programming error, caught by TestRulesValidate
	}
	for _, r := range ordered {
		r.Run(&Pass{Model: m, Rule: r, out: &out, seen: seen, state: state})
	}
	// the rank of the first event at each finding's line (a repeated
	// slot report's line is its alone)
	first := map[flinklog.Pos]int{}
	for _, f := range out {
		first[f.Pos] = -1
	}
	for i := range parser.EventRef(m.Result.Len()) {
		if r, ok := first[m.Result.Pos(i)]; ok && r < 0 {
			first[m.Result.Pos(i)] = int(m.Rank[i])
		}
	}
	rank := func(f Finding) int {
		if r, ok := first[f.Pos]; ok {
			return r
		}
		return -1
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Fingerprint < b.Fingerprint
	})
	return out
}

// Max returns the highest severity among the findings (-1 for none).
func Max(fs []Finding) Severity {
	max := Severity(-1)
	for _, f := range fs {
		if f.Severity > max {
			max = f.Severity
		}
	}
	return max
}

// evidence turns event i into a line of proof.
// A fact read from an exception inside a record is proven by that
// exception's own line (which names the AllocationID), not by the
// record's first line.
func evidence(m *reconstruct.Model, i parser.EventRef, says string, args ...any) Evidence {
	ev := m.Result.Event(i)
	e := Evidence{Pos: ev.Pos, Time: ev.Time, Component: ev.Component, Text: m.Result.Text(i), Says: fmt.Sprintf(says, args...)}
	if ev.CauseLine > 0 && ev.CauseText != "" {
		e.Pos.Line, e.Text = ev.CauseLine, ev.CauseText
	}
	return e
}

// silent is a step of the story that no line shows.
func silent(says string, args ...any) Evidence {
	return Evidence{Says: fmt.Sprintf(says, args...)}
}
