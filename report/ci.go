package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// ToolURI is where slotaudit's rules are documented (SARIF informationUri).
const ToolURI = "https://github.com/slotaudit/slotaudit"

// fingerprintKey names slotaudit's fingerprint in SARIF partialFingerprints.
const fingerprintKey = "slotauditFingerprint/v1"

func sarifLevel(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "error"
	case rules.Warning:
		return "warning"
	}
	return "note"
}

// artifactURI turns an input path into a SARIF artifact URI: relative
// paths with forward slashes, absolute ones as file URIs.
func artifactURI(path string) string {
	if path == "-" {
		return "stdin"
	}
	p := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		return "file://" + p
	}
	return p
}

// SARIF builds the SARIF 2.1.0 report: one run, a reporting descriptor per
// rule (stable ids), a result per finding with its decisive line as the
// location, the rest of the evidence as related locations, and the
// fingerprint as a partial fingerprint. The inputs' summary is in the
// run's properties.
func (a *Audit) SARIF() *sarif.Report {
	rep := sarif.NewReport()
	run := sarif.NewRunWithInformationURI("slotaudit", ToolURI)
	for _, r := range a.Rules {
		d := run.AddRule(r.ID)
		name := ruleName(r.ID)
		d.Name = &name
		short, full := firstSentence(r.Doc), strings.Join(strings.Fields(r.Doc), " ")
		d.ShortDescription, d.FullDescription = sarif.NewMultiformatMessageString(), sarif.NewMultiformatMessageString()
		d.ShortDescription.Text, d.FullDescription.Text = &short, &full
		d.DefaultConfiguration = sarif.NewReportingConfiguration()
		d.DefaultConfiguration.Level = sarifLevel(r.Severity)
	}
	doc := a.JSON()
	for _, f := range doc.Findings {
		ruleID := f.Rule
		msg := f.Message + ". The fixed table (Flink >= 1.10) would: " + f.FixedModel + "."
		res := sarif.NewResult()
		res.RuleID, res.RuleIndex, res.Level = &ruleID, run.GetRuleIndex(f.Rule), sarifLevel(severityOf(f.Severity))
		res.Message = textMessage(msg)
		res.PartialFingerprints = map[string]string{fingerprintKey: f.Fingerprint}
		if f.Where != nil {
			res.Locations = append(res.Locations, sarifLocation(0, f.Where.Path, int(f.Where.Line), ""))
		}
		for n, e := range f.Evidence {
			if e.Path == "" {
				continue
			}
			res.RelatedLocations = append(res.RelatedLocations, sarifLocation(n+1, e.Path, int(e.Line), e.Says))
		}
		props := sarif.NewPropertyBag()
		props.Add("id", f.ID)
		if f.ResourceID != "" {
			props.Add("resource_id", f.ResourceID)
		}
		if f.AllocationID != "" {
			props.Add("allocation_id", f.AllocationID)
		}
		if f.JobID != "" {
			props.Add("job_id", f.JobID)
		}
		if f.SlotIndex != nil {
			props.Add("slot_index", *f.SlotIndex)
		}
		if f.IndexNote != "" {
			props.Add("slot_index_note", f.IndexNote)
		}
		if len(f.Causes) > 0 {
			props.Add("caused_by", f.Causes)
		}
		res.Properties = props
		run.AddResult(res)
	}
	ok := true
	inv := sarif.NewInvocation()
	inv.ExecutionSuccessful = &ok
	// What could not be read, or that nothing could be judged, is about the
	// run rather than about a line: tool execution notifications.
	for _, sk := range doc.Skipped {
		if sk.Lost {
			n := sarif.NewNotification()
			n.Level = "warning"
			n.Message = textMessage("not read: " + sk.Path + ": " + sk.Reason)
			uri := artifactURI(sk.Path)
			al := sarif.NewArtifactLocation()
			al.URI = &uri
			pl := sarif.NewPhysicalLocation()
			pl.ArtifactLocation = al
			loc := sarif.NewLocation()
			loc.PhysicalLocation = pl
			n.Locations = append(n.Locations, loc)
			inv.AddToolExecutionNotification(n)
		}
	}
	if doc.Summary.Status == StatusNothingToJudge {
		n := sarif.NewNotification()
		n.Level = "error"
		n.Message = textMessage("nothing to judge: " + doc.Summary.Reason)
		inv.AddToolExecutionNotification(n)
	}
	run.AddInvocation(inv)
	props := sarif.NewPropertyBag()
	props.Add("inputs", doc.Inputs)
	props.Add("summary", doc.Summary)
	run.Properties = props
	rep.AddRun(run)
	return rep
}

// sarifLocation builds a location through the library's constructors,
// which give every array the schema requires a value instead of null.
func sarifLocation(id int, path string, line int, says string) *sarif.Location {
	uri := artifactURI(path)
	al := sarif.NewArtifactLocation()
	al.URI = &uri
	region := sarif.NewRegion()
	region.StartLine = &line
	pl := sarif.NewPhysicalLocation()
	pl.ArtifactLocation, pl.Region = al, region
	loc := sarif.NewLocation()
	loc.ID, loc.PhysicalLocation = id, pl
	if says != "" {
		loc.Message = textMessage(says)
	}
	return loc
}

func textMessage(text string) *sarif.Message {
	m := sarif.NewMessage()
	m.Text = &text
	return m
}

func severityOf(s string) rules.Severity {
	sev, _ := rules.ParseSeverity(s)
	return sev
}

// ruleName is a rule ID in the CamelCase SARIF viewers show.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func firstSentence(doc string) string {
	s := strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// WriteSARIF writes SARIF 2.1.0, indented.
func (a *Audit) WriteSARIF(w io.Writer) error {
	var b bytes.Buffer
	if err := a.SARIF().PrettyWrite(&b); err != nil {
		return err
	}
	_, err := w.Write(EscapeJSON(b.Bytes()))
	return err
}

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int64         `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML: a test suite per rule, a test case per
// finding — failed when it reaches --fail-on, passed with its story on
// system-out otherwise — and a passing case for a rule that found nothing;
// a last suite accounts for every input.
func (a *Audit) WriteJUnit(w io.Writer) error {
	doc := a.JSON()
	out := junitSuites{Name: "slotaudit"}
	for _, r := range a.Rules {
		s := junitSuite{Name: r.ID}
		for _, f := range doc.Findings {
			if f.Rule != r.ID {
				continue
			}
			c := junitCase{Classname: "slotaudit." + r.ID, Name: findingTitle(f)}
			if f.Where != nil {
				c.File, c.Line = f.Where.Path, f.Where.Line
			}
			story := plainStory(f)
			if severityOf(f.Severity) >= a.FailOn {
				c.Failure = &junitFailure{Type: f.Severity, Message: Escape(f.Message), Text: story}
				s.Failures++
			} else {
				c.SystemOut = f.Severity + ": " + story
			}
			s.Cases = append(s.Cases, c)
		}
		if len(s.Cases) == 0 {
			s.Cases = append(s.Cases, junitCase{Classname: "slotaudit." + r.ID, Name: "no findings"})
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Suites = append(out.Suites, s)
	}
	in := junitSuite{Name: "inputs"}
	for _, sk := range doc.Skipped {
		if sk.Lost {
			in.Cases = append(in.Cases, junitCase{Classname: "slotaudit.inputs", Name: sk.Path,
				Failure: &junitFailure{Type: "input", Message: Escape("not read: " + sk.Reason)}})
			in.Failures++
		}
	}
	if doc.Summary.Status == StatusNothingToJudge {
		in.Cases = append(in.Cases, junitCase{Classname: "slotaudit.inputs", Name: "slot-lifecycle evidence",
			Failure: &junitFailure{Type: "nothing-to-judge", Message: Escape(doc.Summary.Reason)}})
		in.Failures++
	}
	for _, i := range doc.Inputs {
		c := junitCase{Classname: "slotaudit.inputs", Name: inputName(i),
			SystemOut: fmt.Sprintf("layout %s, flink %s, records %d, events %d, irrelevant %d, unparsed %d, stray lines %d",
				i.Layout, orDash(i.FlinkVersion), i.Records, i.Events, i.Irrelevant, i.Unparsed, i.Stray)}
		if i.Error != "" {
			c.Failure = &junitFailure{Type: "input", Message: Escape(i.Error)}
			in.Failures++
		}
		in.Cases = append(in.Cases, c)
	}
	in.Tests = len(in.Cases)
	out.Tests += in.Tests
	out.Failures += in.Failures
	out.Suites = append(out.Suites, in)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(escapingWriter{w, EscapeXML})
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func inputName(i InputJSON) string {
	if i.Stream != "" {
		return i.Path + "#" + i.Stream
	}
	return i.Path
}

func findingTitle(f FindingJSON) string {
	t := f.ID
	if f.AllocationID != "" {
		t += " " + f.AllocationID
	}
	if f.ResourceID != "" {
		t += " on " + Escape(f.ResourceID)
	}
	return t
}

// plainStory is a finding's evidence as numbered plain-text steps.
func plainStory(f FindingJSON) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", Escape(f.Message))
	for n, e := range f.Evidence {
		fmt.Fprintf(&b, "%d. %s", n+1, Escape(e.Says))
		if e.Path != "" {
			fmt.Fprintf(&b, " (%s:%d)", Escape(e.Path), e.Line)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "The fixed table (Flink >= 1.10) would: %s\n", Escape(f.FixedModel))
	return b.String()
}

// githubAnnotationLimit: GitHub shows at most 10 annotations of each kind
// per step; the rest would be dropped silently.
const githubAnnotationLimit = 10

// WriteGitHub writes GitHub Actions workflow commands: an ::error or
// ::warning annotation per finding (at most 10 of each, pointing at the
// decisive line), then a one-line summary. The whole report, in Markdown,
// is appended to summaryPath ($GITHUB_STEP_SUMMARY) when it is set, so
// findings beyond the limit are not lost.
func (a *Audit) WriteGitHub(w io.Writer, summaryPath string) error {
	doc := a.JSON()
	shown := map[string]int{}
	skipped := 0
	for _, f := range doc.Findings {
		kind := map[string]string{"error": "error", "warning": "warning", "info": "notice"}[f.Severity]
		if shown[kind] >= githubAnnotationLimit {
			skipped++
			continue
		}
		shown[kind]++
		props := []string{"title=" + ghProperty("slotaudit "+f.Rule+" ("+f.ID+")")}
		if f.Where != nil {
			props = append([]string{"file=" + ghProperty(f.Where.Path), "line=" + fmt.Sprint(f.Where.Line)}, props...)
		}
		msg := f.Message + ". The fixed table (Flink >= 1.10) would: " + f.FixedModel + "."
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", kind, strings.Join(props, ","), ghData(Escape(msg))); err != nil {
			return err
		}
	}
	s := doc.Summary
	line := fmt.Sprintf("slotaudit: %d finding(s): %d error, %d warning, %d info", s.Findings, s.BySeverity["error"], s.BySeverity["warning"], s.BySeverity["info"])
	if skipped > 0 {
		if summaryPath != "" {
			line += fmt.Sprintf("; %d more not annotated (GitHub shows 10 of each kind), all of them are in the step summary", skipped)
		} else {
			line += fmt.Sprintf("; %d more not annotated (GitHub shows 10 of each kind): set GITHUB_STEP_SUMMARY or use --format json to see them", skipped)
		}
	}
	if _, err := fmt.Fprintln(w, line); err != nil {
		return err
	}
	for _, sk := range doc.Skipped {
		if sk.Lost {
			if _, err := fmt.Fprintf(w, "::warning file=%s,title=slotaudit: input not read::%s\n", ghProperty(sk.Path), ghData(Escape(sk.Reason))); err != nil {
				return err
			}
		}
	}
	if s.Status == StatusNothingToJudge {
		if _, err := fmt.Fprintf(w, "::error title=slotaudit: nothing to judge::%s\n", ghData(Escape(s.Reason))); err != nil {
			return err
		}
	}
	for _, i := range doc.Inputs {
		if _, err := fmt.Fprintf(w, "slotaudit: input %s: %s, flink %s, records %d, events %d, irrelevant %d, unparsed %d, stray %d\n",
			Escape(inputName(i)), i.Layout, Escape(orDash(i.FlinkVersion)), i.Records, i.Events, i.Irrelevant, i.Unparsed, i.Stray); err != nil {
			return err
		}
	}
	if summaryPath == "" {
		return nil
	}
	f, err := os.OpenFile(summaryPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	if err := a.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// mdVerdict is the run's verdict in one or two words.
func mdVerdict(s SummaryJSON) string {
	switch {
	case s.Status == StatusNothingToJudge:
		return "nothing to judge"
	case s.Failed:
		return "failed"
	case s.Status == StatusPartial:
		return "partial"
	}
	return "passed"
}

// ghData escapes a workflow command's message: control characters of log
// text and file names first (the annotation is also printed in logs and
// terminals), then the workflow encoding; line breaks stay line breaks.
func ghData(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.NewReplacer("%", "%25", "\n", "%0A").Replace(strings.Join(lines, "\n"))
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", ":", "%3A", ",", "%2C").Replace(Escape(s))
}

// WriteMarkdown writes the audit as Markdown: the summary, a table of the
// findings, each finding's story, and the inputs. Log text goes into code
// spans and blocks; every other text from the logs is HTML-escaped. Under
// the first finding that names an AllocationID, a Mermaid sequenceDiagram
// (GitHub draws it) shows that allocation's messages between the
// components (NewSequenceJSON); later findings about it point there.
func (a *Audit) WriteMarkdown(w io.Writer) error {
	doc := a.JSON()
	s := doc.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "# slotaudit: %d finding(s)\n\n", s.Findings)
	fmt.Fprintf(&b, "%d error, %d warning, %d info; %d allocation(s) on %d TaskManager(s); fails on %s: **%s**\n\n",
		s.BySeverity["error"], s.BySeverity["warning"], s.BySeverity["info"], s.Allocations, s.TaskManagers, s.FailOn,
		mdVerdict(s))
	if line := missingLogsLine(doc.MissingLogs); line != "" {
		fmt.Fprintf(&b, "%s\n\n", mdText(line))
	}
	switch s.Status {
	case StatusNothingToJudge:
		fmt.Fprintf(&b, "**Nothing to judge:** %s\n\n", mdText(s.Reason))
	case StatusPartial:
		fmt.Fprintf(&b, "**Partial:** %s\n\n", mdText(s.Reason))
	}
	if len(doc.Findings) > 0 {
		b.WriteString("| id | rule | severity | TaskManager | index | allocation | finding |\n|---|---|---|---|---|---|---|\n")
		for _, f := range doc.Findings {
			idx := "?"
			if f.SlotIndex != nil {
				idx = fmt.Sprint(*f.SlotIndex)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", f.ID, f.Rule, f.Severity, mdCell(orDash(f.ResourceID)), idx, orDash(f.AllocationID), mdCell(f.Message))
		}
		b.WriteString("\n")
		seq, shown := newSequences(a), a.Shown()
		for k, f := range doc.Findings {
			fmt.Fprintf(&b, "## %s `%s` (%s)\n\n%s\n\n", f.ID, f.Rule, f.Severity, mdText(f.Message))
			if f.SlotIndex != nil || f.IndexNote != "" {
				fmt.Fprintf(&b, "- slot index: %s\n", mdText(indexLine(f)))
			}
			if len(f.Causes) > 0 {
				fmt.Fprintf(&b, "- follows from: %s\n", strings.Join(f.Causes, ", "))
			}
			b.WriteString("\n")
			for n, e := range f.Evidence {
				fmt.Fprintf(&b, "%d. %s", n+1, mdText(e.Says))
				if e.Path == "" {
					b.WriteString(" *(no line shows this step)*\n")
					continue
				}
				fmt.Fprintf(&b, " — `%s:%d` %s\n", mdCode(e.Path), e.Line, mdText(e.Time))
				text := Escape(compactLine(e.Text))
				fence := fenceFor(text)
				fmt.Fprintf(&b, "   %stext\n   %s\n   %s\n", fence, text, fence)
			}
			fmt.Fprintf(&b, "\n**The fixed table (Flink ≥ 1.10) would:** %s\n\n", mdText(f.FixedModel))
			seq.write(&b, shown[k].Alloc, f.ID)
		}
	}
	b.WriteString("## Inputs\n\n| input | layout | flink | components | taskmanager | records | events | irrelevant | unparsed | stray |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, i := range doc.Inputs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %d | %d | %d | %d |\n", mdCell(inputName(i)), i.Layout, mdCell(orDash(i.FlinkVersion)),
			strings.ToUpper(strings.Join(i.Components, "+")), mdCell(orDash(i.ResourceID)), i.Records, i.Events, i.Irrelevant, i.Unparsed, i.Stray)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sequences draws, under the findings of a Markdown report, the sequence
// diagram of each AllocationID they name: once, under the first finding
// that names it.
type sequences struct {
	m      *reconstruct.Model
	allocs map[flinklog.ID]*reconstruct.Allocation
	drawn  map[flinklog.ID]string // AllocationID → the finding it is drawn under
}

func newSequences(a *Audit) *sequences {
	s := &sequences{m: a.Model, allocs: map[flinklog.ID]*reconstruct.Allocation{}, drawn: map[flinklog.ID]string{}}
	for _, al := range a.Model.Allocations {
		s.allocs[al.ID] = al
	}
	return s
}

// write draws id's sequence under finding, or says under which finding it
// is drawn; nothing for a finding about no AllocationID, or one no event
// of the input names.
func (s *sequences) write(b *strings.Builder, id flinklog.ID, finding string) {
	if !id.IsSet() {
		return
	}
	if at, ok := s.drawn[id]; ok {
		fmt.Fprintf(b, "The messages of `%s` between the components are drawn under %s.\n\n", id, at)
		return
	}
	al := s.allocs[id]
	if al == nil {
		return
	}
	var d strings.Builder
	day, ok := writeMermaid(&d, s.m, al)
	if !ok {
		return
	}
	s.drawn[id] = finding
	when := ""
	if day != "" {
		when = " (" + day + ")"
	}
	fence := fenceFor(d.String())
	fmt.Fprintf(b, "The messages of `%s` between the components, in causal order%s:\n\n%smermaid\n%s%s\n\n", id, when, fence, d.String(), fence)
}

// mdText makes log-derived text safe as Markdown prose: control characters
// escaped, HTML escaped, Markdown emphasis characters neutralised.
func mdText(s string) string {
	s = html.EscapeString(Escape(s))
	return strings.NewReplacer("*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`).Replace(s)
}

func mdCell(s string) string { return strings.ReplaceAll(mdText(s), "|", `\|`) }

func mdCode(s string) string { return strings.ReplaceAll(Escape(s), "`", "'") }

// fenceFor returns a code fence longer than any run of backticks in text,
// so a log line cannot close the block it is quoted in.
func fenceFor(text string) string {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}
