package report

import "io"

// FormatOptions are what a format may need of the command line and the
// terminal.
type FormatOptions struct {
	Width       int    // text and table: the width to fit (0: unknown, do not wrap)
	Color       bool   // text: colour severities
	Quiet       bool   // text: the findings only
	StepSummary string // github: the file the whole report is appended to ($GITHUB_STEP_SUMMARY)
}

// Format is one way to write an audit: its name for --format, a line of
// help, whether it is for machines (a complete document whatever the exit
// code, even with nothing to judge), and its writer.
type Format struct {
	Name    string
	Doc     string
	Machine bool
	Write   func(a *Audit, w io.Writer, o FormatOptions) error
}

// AuditFormats are the formats of `audit --format`, the first the default.
// The flag's help, its completion and the dispatch all read this table.
var AuditFormats = []Format{
	{"text", "a head line per finding (severity, rule, place, ID), its explanation indented below", false,
		func(a *Audit, w io.Writer, o FormatOptions) error {
			return a.WriteText(w, TextStyle{Width: o.Width, Color: o.Color, Quiet: o.Quiet})
		}},
	{"table", "the findings in a boxed table", false,
		func(a *Audit, w io.Writer, o FormatOptions) error { return a.WriteTable(w, o.Width) }},
	{"json", "one document: inputs, findings with evidence, summary", true,
		func(a *Audit, w io.Writer, _ FormatOptions) error { return a.WriteJSON(w) }},
	{"ndjson", "one object a line: inputs, skipped paths, findings, then the summary", true,
		func(a *Audit, w io.Writer, _ FormatOptions) error { return a.WriteNDJSON(w) }},
	{"sarif", "SARIF 2.1.0, for code scanning", true,
		func(a *Audit, w io.Writer, _ FormatOptions) error { return a.WriteSARIF(w) }},
	{"junit", "JUnit XML: a test suite per rule, a case per finding", true,
		func(a *Audit, w io.Writer, _ FormatOptions) error { return a.WriteJUnit(w) }},
	{"github", "GitHub Actions annotations (10 of each kind); the whole report to $GITHUB_STEP_SUMMARY", true,
		func(a *Audit, w io.Writer, o FormatOptions) error { return a.WriteGitHub(w, o.StepSummary) }},
	{"markdown", "a Markdown report", true,
		func(a *Audit, w io.Writer, _ FormatOptions) error { return a.WriteMarkdown(w) }},
	{"timesketch", "Timesketch JSONL: every event and finding with message, datetime and timestamp_desc, and allocation_id, job_id, resource_id, slot_index, rule, finding_id", true,
		func(a *Audit, w io.Writer, _ FormatOptions) error { return a.WriteTimesketch(w) }},
	{"html", "one self-contained HTML page: each TaskManager's slot occupancy drawn, the stories, the inputs (as 'slotaudit report --html FILE')", true,
		func(a *Audit, w io.Writer, _ FormatOptions) error { return a.WriteHTML(w) }},
}

// AuditFormat returns the format of that name.
func AuditFormat(name string) (Format, bool) {
	for _, f := range AuditFormats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// AuditFormatNames lists the formats' names, the default first.
func AuditFormatNames() []string {
	out := make([]string, len(AuditFormats))
	for i, f := range AuditFormats {
		out[i] = f.Name
	}
	return out
}
