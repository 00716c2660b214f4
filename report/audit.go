package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// EvidenceJSON is one line of proof (or one step no line shows: no path).
type EvidenceJSON struct {
	Path   string `json:"path,omitempty"`
	Stream string `json:"stream,omitempty"`
	Line   int64  `json:"line,omitempty"`
	// RecordOnLine tells apart records that begin on the same line (the
	// records of a log-store export's page saved on one line): omitted for
	// the first, as for every record of a log file (flinklog.Pos.Rec).
	RecordOnLine int32  `json:"record_on_line,omitempty"`
	Time         string `json:"time,omitempty"`
	Component    string `json:"component,omitempty"`
	Text         string `json:"text,omitempty"`
	Says         string `json:"says"`
}

// FindingJSON is one finding as the contract shapes it, with extensions.
type FindingJSON struct {
	ID            string         `json:"id"`
	Fingerprint   string         `json:"fingerprint"`
	Rule          string         `json:"rule"`
	Severity      string         `json:"severity"`
	ResourceID    string         `json:"resource_id,omitempty"`
	SlotIndex     *int           `json:"slot_index"`
	IndexNote     string         `json:"slot_index_note,omitempty"`
	AllocationID  string         `json:"allocation_id,omitempty"`
	JobID         string         `json:"job_id,omitempty"`
	Time          string         `json:"time,omitempty"`
	Where         *PlaceJSON     `json:"where,omitempty"`
	Message       string         `json:"message"`
	Evidence      []EvidenceJSON `json:"evidence"`
	FixedModel    string         `json:"fixed_model"`
	Causes        []string       `json:"caused_by,omitempty"`
	Since         string         `json:"since,omitempty"`
	ZombieSeconds float64        `json:"zombie_slot_seconds,omitempty"`
	// Caveat says when the evidence comes from an input that could not be
	// read to its end: what was decoded before the error may be damaged.
	Caveat string `json:"caveat,omitempty"`
}

// SummaryJSON counts what an audit found.
type SummaryJSON struct {
	Findings     int            `json:"findings"`
	BySeverity   map[string]int `json:"by_severity"`
	ByRule       map[string]int `json:"by_rule"`
	Allocations  int            `json:"allocations"`
	TaskManagers int            `json:"taskmanagers"` // with a log in the input, or named by the other components
	// TaskManagersWithoutLog: of those, named by the ResourceManager or the
	// JobManager only (missing_taskmanager_logs lists them)
	TaskManagersWithoutLog int    `json:"taskmanagers_without_log,omitempty"`
	FailOn                 string `json:"fail_on"`
	Failed                 bool   `json:"failed"` // a finding at or above fail_on: exit code 1
	// Status is complete, partial (an input could not be read, or only in
	// part; the rest was audited) or nothing-to-judge (no slot-lifecycle
	// evidence in what was read); Reason says why when it is not complete.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Filter, when one narrowed the findings: what it kept, how many it
	// hid, and how many it kept because their time could not be compared
	// with the window.
	Filter      string `json:"filter,omitempty"`
	Hidden      int    `json:"hidden_by_filter,omitempty"`
	Undecidable int    `json:"kept_undecidable,omitempty"`
}

// The statuses of an audit.
const (
	StatusComplete       = "complete"
	StatusPartial        = "partial"
	StatusNothingToJudge = "nothing-to-judge"
)

// AuditJSON is `audit --format json`.
type AuditJSON struct {
	Inputs []InputJSON `json:"inputs"`
	// Skipped names directory entries that were not read, and why.
	Skipped  []SkippedJSON `json:"skipped,omitempty"`
	Findings []FindingJSON `json:"findings"`
	Summary  SummaryJSON   `json:"summary"`
	// MissingLogs names the TaskManagers the other components mention
	// whose own logs are not in the input.
	MissingLogs []MissingLogJSON `json:"missing_taskmanager_logs,omitempty"`
}

// MissingLogJSON is a TaskManager that the ResourceManager or JobManager
// names but whose log was not given: its slot table cannot be replayed.
type MissingLogJSON struct {
	ResourceID string     `json:"resource_id"`
	NamedBy    []string   `json:"named_by"` // components: rm, jm
	First      *PlaceJSON `json:"first_named_at"`
	Events     int        `json:"events"` // events of the other components about it
	// Maybe: TaskManager logs in the input are identified only by their
	// file names, so this one may be among them under another name.
	Maybe bool `json:"maybe_given,omitempty"`
}

// MissingLogs lists the TaskManagers named by the ResourceManager or the
// JobManager whose own logs are not in the input, in ResourceID order.
func MissingLogs(m *reconstruct.Model) []MissingLogJSON {
	guessed := false
	for _, in := range m.Result.Inputs {
		guessed = guessed || in.ResourceID != "" && in.ResourceIDSource == "file name"
	}
	var out []MissingLogJSON
	for _, u := range m.UnloggedTaskManagers() {
		out = append(out, MissingLogJSON{ResourceID: u.Resource, First: place(m, u.First), Maybe: guessed, Events: u.Events, NamedBy: u.By})
	}
	if out == nil {
		out = []MissingLogJSON{}
	}
	return out
}

// SkippedJSON is a path not read (a link that leads nowhere or to a
// directory, a FIFO, a device; or lost: a file that could not be read).
type SkippedJSON struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	// Lost: it was meant to be read and could not be; the audit is partial.
	Lost bool `json:"lost,omitempty"`
}

// Audit is a finished audit, ready for any output format.
type Audit struct {
	Model    *reconstruct.Model
	Findings []rules.Finding
	FailOn   rules.Severity
	Rules    []*rules.Rule
	// NothingToJudge: what was read held no slot-lifecycle evidence; the
	// document still names every input, and says so.
	NothingToJudge bool
	// Filter narrows the findings shown (and judged for the exit code);
	// Findings holds them all, so that a cause is still told.
	Filter *Filter
	// AllEvents, when set, yields every event read, in the read's order,
	// with its text, for the model that holds only some of them (a
	// fold's: parser.Result.AllAgain); the Timesketch export lists them.
	AllEvents func(yield func(*flinklog.Event) error) error
	shown     *Narrowed
}

// Shown returns the findings the filter keeps (all without one).
func (a *Audit) Shown() []rules.Finding { return a.narrowed().Findings }

func (a *Audit) narrowed() *Narrowed {
	if a.shown == nil {
		n := a.Filter.Findings(a.Model, a.Findings)
		a.shown = &n
	}
	return a.shown
}

// Status says whether the audit is complete, partial or had nothing to
// judge, and why when it is not complete.
func (a *Audit) Status() (status, reason string) {
	res := a.Model.Result
	var lost []string
	for _, sk := range res.Skipped {
		if sk.Lost {
			lost = append(lost, sk.Path+": "+sk.Reason)
		}
	}
	var cut []string
	for _, in := range res.Inputs {
		if in.Err != "" {
			cut = append(cut, in.Path+": "+in.Err)
		}
	}
	var why []string
	if len(lost) > 0 {
		why = append(why, fmt.Sprintf("%d input(s) could not be read (%s)", len(lost), strings.Join(lost, "; ")))
	}
	if len(cut) > 0 {
		why = append(why, fmt.Sprintf("%d input(s) were read only in part (%s)", len(cut), strings.Join(cut, "; ")))
	}
	if a.NothingToJudge {
		r := fmt.Sprintf("no slot-lifecycle evidence in %d input(s)", len(res.Inputs))
		if len(why) > 0 {
			r += "; " + strings.Join(why, "; ")
		}
		return StatusNothingToJudge, r
	}
	if len(why) > 0 {
		return StatusPartial, strings.Join(why, "; ") + "; the rest was audited"
	}
	return StatusComplete, ""
}

// Failed reports whether a finding reaches the --fail-on severity.
func (a *Audit) Failed() bool { return rules.Max(a.Shown()) >= a.FailOn }

// NewFindingJSON converts a finding.
func NewFindingJSON(m *reconstruct.Model, f rules.Finding) FindingJSON {
	out := FindingJSON{ID: f.ID, Fingerprint: f.Fingerprint, Rule: f.Rule, Severity: f.Severity.String(),
		ResourceID: f.Resource, IndexNote: f.IndexNote, Time: f.Time.String(), Where: place(m, f.Pos),
		Message: f.Message, Evidence: []EvidenceJSON{}, FixedModel: f.FixedModel, Causes: f.Causes,
		Since: f.Since.String(), ZombieSeconds: roundMillis(f.ZombieSeconds)}
	if f.SlotIndex >= 0 {
		out.SlotIndex = optInt(f.SlotIndex)
	}
	if f.Alloc.IsSet() {
		out.AllocationID = f.Alloc.String()
	}
	if f.Job.IsSet() {
		out.JobID = f.Job.String()
	}
	for _, e := range f.Evidence {
		ej := EvidenceJSON{Says: e.Says, Text: e.Text, Time: e.Time.String(), Component: string(e.Component)}
		if p := place(m, e.Pos); p != nil {
			ej.Path, ej.Stream, ej.Line, ej.RecordOnLine = p.Path, p.Stream, p.Line, p.RecordOnLine
		}
		out.Evidence = append(out.Evidence, ej)
	}
	damaged := map[int32]bool{}
	for _, e := range f.Evidence {
		in := e.Pos.File
		if in < 0 || int(in) >= len(m.Result.Inputs) || damaged[in] || m.Result.Inputs[in].Err == "" {
			continue
		}
		damaged[in] = true
		if out.Caveat != "" {
			out.Caveat += "; "
		}
		out.Caveat += fmt.Sprintf("rests on %s, which could not be read to its end (%s): a corrupt compressed file decodes to garbage before it fails, so its lines may be damaged",
			m.Result.Inputs[in].Path, m.Result.Inputs[in].Err)
	}
	return out
}

func roundMillis(s float64) float64 { return float64(int64(s*1000+0.5)) / 1000 }

// JSON builds the contract's document.
func (a *Audit) JSON() AuditJSON {
	doc := AuditJSON{Inputs: []InputJSON{}, Findings: []FindingJSON{}, Summary: a.summary()}
	for i := range a.Model.Result.Inputs {
		doc.Inputs = append(doc.Inputs, NewInputJSON(&a.Model.Result.Inputs[i]))
	}
	for _, tm := range a.Model.TaskManagers {
		for _, p := range tm.Processes {
			if int(p.Input) < len(doc.Inputs) {
				in := &doc.Inputs[p.Input]
				in.SlotTables = append(in.SlotTables, SlotTableJSON{ResourceID: tm.Resource, Model: p.Runs.String(), Why: p.RunsWhy})
			}
		}
	}
	for _, sk := range a.Model.Result.Skipped {
		doc.Skipped = append(doc.Skipped, SkippedJSON{Path: sk.Path, Reason: sk.Reason, Lost: sk.Lost})
	}
	for _, f := range a.Shown() {
		doc.Findings = append(doc.Findings, NewFindingJSON(a.Model, f))
	}
	doc.MissingLogs = MissingLogs(a.Model)
	return doc
}

func (a *Audit) summary() SummaryJSON {
	shown := a.Shown()
	s := SummaryJSON{Findings: len(shown), BySeverity: map[string]int{}, ByRule: map[string]int{},
		Allocations: a.Model.AllocationCount(), TaskManagers: len(a.Model.TaskManagers), FailOn: a.FailOn.String(), Failed: a.Failed()}
	for _, sev := range []rules.Severity{rules.Error, rules.Warning, rules.Info} {
		s.BySeverity[sev.String()] = 0
	}
	for _, r := range a.Rules {
		s.ByRule[r.ID] = 0
	}
	for _, f := range shown {
		s.BySeverity[f.Severity.String()]++
		s.ByRule[f.Rule]++
	}
	s.Status, s.Reason = a.Status()
	s.TaskManagersWithoutLog = len(MissingLogs(a.Model))
	s.TaskManagers += s.TaskManagersWithoutLog
	if a.Filter.Active() {
		n := a.narrowed()
		s.Filter, s.Hidden, s.Undecidable = a.Filter.String(), n.Hidden, n.Undecidable
	}
	return s
}

// WriteJSON writes `audit --format json`.
func (a *Audit) WriteJSON(w io.Writer) error { return writeJSON(w, a.JSON()) }

// WriteNDJSON writes one object a line: every input ("type": "input"),
// every directory entry not read ("type": "skipped"), every finding
// ("type": "finding"), then the summary ("type": "summary").
func (a *Audit) WriteNDJSON(w io.Writer) error {
	doc := a.JSON()
	enc := NewJSONEncoder(w)
	for _, in := range doc.Inputs {
		if err := enc.Encode(struct {
			Type string `json:"type"`
			InputJSON
		}{"input", in}); err != nil {
			return err
		}
	}
	for _, sk := range doc.Skipped {
		if err := enc.Encode(struct {
			Type string `json:"type"`
			SkippedJSON
		}{"skipped", sk}); err != nil {
			return err
		}
	}
	for _, f := range doc.Findings {
		if err := enc.Encode(struct {
			Type string `json:"type"`
			FindingJSON
		}{"finding", f}); err != nil {
			return err
		}
	}
	return enc.Encode(struct {
		Type string `json:"type"`
		SummaryJSON
	}{"summary", doc.Summary})
}

// WriteTable writes the findings as a table no wider than width columns,
// then the summary and the inputs. A width of 0 (unknown: a pipe) lets every
// cell take the width its text needs.
func (a *Audit) WriteTable(w io.Writer, width int) error {
	doc := a.JSON()
	if width <= 0 {
		width = unlimited
	}
	if len(doc.Findings) == 0 {
		fmt.Fprintln(w, "no findings")
	} else {
		// Fixed columns take what they need (their widest cell, two
		// spaces of padding and a border each); the finding gets the rest.
		fixed := 1
		for _, col := range []string{"id", "rule", "severity", "index"} {
			w := len(col)
			for _, f := range doc.Findings {
				w = max(w, len(map[string]string{"id": f.ID, "rule": f.Rule, "severity": f.Severity, "index": "?"}[col]))
			}
			fixed += w + 3
		}
		msgWidth := width - fixed - 4
		// A narrow terminal gets the rule, severity and index stacked in
		// one column, so the finding keeps room to be read.
		narrow := msgWidth < 30
		if narrow {
			msgWidth = max(width-fixed-4+(8+3)+(5+3), 24)
		}
		t := newTable(w)
		if narrow {
			t.Header([]string{"id", "rule", "finding"})
		} else {
			t.Header([]string{"id", "rule", "severity", "index", "finding"})
		}
		for _, f := range doc.Findings {
			idx := "?"
			if f.SlotIndex != nil {
				idx = fmt.Sprint(*f.SlotIndex)
			}
			if f.AllocationID == "" && f.SlotIndex == nil {
				idx = "-"
			}
			text := wrap(Escape(f.Message), msgWidth)
			if f.Where != nil {
				text += "\n" + wrap("at "+Escape(f.Where.String()), msgWidth)
			}
			if f.Caveat != "" {
				text += "\n" + wrap("caveat: "+Escape(f.Caveat), msgWidth)
			}
			row := []string{f.ID, f.Rule, f.Severity, idx, text}
			if narrow {
				row = []string{f.ID, f.Rule + "\n" + f.Severity + "\nindex " + idx, row[4]}
			}
			if err := t.Append(row); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	s := doc.Summary
	fmt.Fprintf(w, "\n%s\n", wrap(fmt.Sprintf("%d finding(s): %d error, %d warning, %d info; %d allocation(s) on %d TaskManager(s)",
		s.Findings, s.BySeverity["error"], s.BySeverity["warning"], s.BySeverity["info"], s.Allocations, s.TaskManagers), width))
	if len(doc.Findings) > 0 {
		fmt.Fprintln(w, wrap("'slotaudit explain --finding ID PATH...' tells the story of one finding, line by line.", width))
	}
	fmt.Fprintln(w)
	return WriteInputSummary(w, a.Model.Result.Inputs, width)
}

// Wrap breaks s into lines of at most width runes at spaces (width 0 or
// less: no wrapping), for human text outside this package: help, rules.
func Wrap(s string, width int) string { return wrap(s, width) }

// unlimited is the width of output that is not to be wrapped.
const unlimited = 1 << 20

// wrap breaks s into lines of at most width runes at spaces; a word
// longer than a line (a path, an id) is cut. A width of 0 or less does
// not wrap.
func wrap(s string, width int) string {
	if width <= 0 {
		width = unlimited
	}
	var out, line strings.Builder
	n := 0
	var words []string
	for _, word := range strings.Fields(s) {
		for r := []rune(word); ; r = r[width:] {
			if len(r) <= width {
				words = append(words, string(r))
				break
			}
			words = append(words, string(r[:width]))
		}
	}
	for _, word := range words {
		wl := len([]rune(word))
		if n > 0 && n+1+wl > width {
			out.WriteString(line.String())
			out.WriteByte('\n')
			line.Reset()
			n = 0
		}
		if n > 0 {
			line.WriteByte(' ')
			n++
		}
		line.WriteString(word)
		n += wl
	}
	out.WriteString(line.String())
	return out.String()
}

// WriteExplain tells the story of the findings (and the findings they
// follow from, first) as numbered steps, each one sentence with the line
// that justifies it, ending with what the fixed table would have done;
// laid out for width columns (0: unknown, nothing wrapped), with paths
// relative to the directory the inputs share and, when all of a story's
// lines are of one day, the day said once.
func (a *Audit) WriteExplain(w io.Writer, ids []string, width int) error {
	w = ungluer{w}
	pl := newPlaces(filePaths(a.Model.Result.Files))
	text := pl.inText(a.Model.Result.Files)
	byID := map[string]rules.Finding{}
	for _, f := range a.Findings {
		byID[f.ID] = f
	}
	if len(ids) > 0 {
		pl.header(w, "files", width)
	}
	told := map[string]bool{}
	shown := map[EvidenceJSON]string{} // a line already quoted → where
	var tell func(id string, depth int) error
	tell = func(id string, depth int) error {
		f, ok := byID[id]
		if !ok || told[id] || depth > 8 {
			return nil
		}
		told[id] = true
		for _, c := range f.Causes {
			if err := tell(c, depth+1); err != nil {
				return err
			}
		}
		fj := NewFindingJSON(a.Model, f)
		sub := func(key, value string) {
			first := "   " + key + ": "
			writePara(w, first, hang(runes(first), width), value, width)
		}
		writePara(w, fj.ID+" ", hang(runes(fj.ID)+1, width), fmt.Sprintf("%s (%s): %s", fj.Rule, fj.Severity, text(Escape(fj.Message))), width)
		if fj.SlotIndex != nil || fj.IndexNote != "" {
			sub("slot index", text(Escape(indexLine(fj))))
		}
		if len(fj.Causes) > 0 {
			sub("follows from", strings.Join(fj.Causes, ", "))
		}
		if fj.Caveat != "" {
			sub("caveat", text(Escape(fj.Caveat)))
		}
		var times []string
		for _, e := range fj.Evidence {
			if e.Path != "" {
				times = append(times, e.Time)
			}
		}
		day := oneDay(times)
		if day != "" {
			sub("date", day)
		}
		for n, e := range fj.Evidence {
			num := fmt.Sprintf("%3d. ", n+1)
			step := strings.Repeat(" ", runes(num))
			writePara(w, num, step, text(Escape(e.Says)), width)
			if e.Path == "" {
				writePara(w, step, step, "(no line shows this step)", width)
				continue
			}
			where := pl.at(&PlaceJSON{Path: e.Path, Stream: e.Stream, Line: e.Line})
			writePara(w, step, step+"  ", where+"  "+orDash(clockOn(e.Time, day))+"  "+strings.ToUpper(orDash(e.Component)), width)
			key := EvidenceJSON{Path: e.Path, Stream: e.Stream, Line: e.Line, RecordOnLine: e.RecordOnLine}
			if before, ok := shown[key]; ok {
				writePara(w, step, step, fmt.Sprintf("(quoted above, %s)", before), width)
				continue
			}
			shown[key] = fmt.Sprintf("%s step %d", fj.ID, n+1)
			quote := Escape(compactLine(e.Text))
			if !fits(runes(step+"| "+quote), width) {
				// wrapped, the padding between a layout's fields is only in the way
				quote = strings.Join(strings.Fields(quote), " ")
			}
			for _, l := range para(step+"| ", step+"|   ", quote, width, true) {
				fmt.Fprintln(w, l)
			}
		}
		sub("the fixed table (Flink >= 1.10) would", text(Escape(fj.FixedModel)))
		fmt.Fprintln(w)
		return nil
	}
	for _, id := range ids {
		if err := tell(id, 0); err != nil {
			return err
		}
	}
	return nil
}

// hang is the indent of a paragraph's lines after the first: as deep as
// its first line's prefix when that leaves room, else five spaces.
func hang(prefix, width int) string {
	if width > 0 && prefix > width/3 {
		prefix = 5
	}
	return strings.Repeat(" ", prefix)
}

func indexLine(f FindingJSON) string {
	if f.SlotIndex == nil {
		return f.IndexNote
	}
	if f.IndexNote == "" {
		return fmt.Sprint(*f.SlotIndex)
	}
	return fmt.Sprintf("%d (%s)", *f.SlotIndex, f.IndexNote)
}

// compactLine shortens a log line for the story: the message after the
// logger, capped.
func compactLine(s string) string {
	const maxLen = 220
	if r := []rune(s); len(r) > maxLen {
		return string(r[:maxLen]) + "…"
	}
	return s
}

// FindingsAbout returns the IDs of the findings about an AllocationID, in
// order.
func (a *Audit) FindingsAbout(alloc flinklog.ID) []string {
	var ids []string
	for _, f := range a.Shown() {
		if f.Alloc == alloc {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// FindingIDs returns every finding's ID, sorted as reported.
func (a *Audit) FindingIDs() []string {
	shown := a.Shown()
	ids := make([]string, 0, len(shown))
	for _, f := range shown {
		ids = append(ids, f.ID)
	}
	return ids
}

// RuleIDs lists the rules, sorted by ID (for outputs that list them).
func (a *Audit) RuleIDs() []string {
	ids := make([]string, 0, len(a.Rules))
	for _, r := range a.Rules {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}
