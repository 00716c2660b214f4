package report

import (
	"fmt"
	"io"
	"strings"
)

// TextStyle says how the compact text output looks: its width (0: unknown,
// do not wrap), whether severities are coloured, and whether only the
// findings are written (no summary, hints or inputs).
type TextStyle struct {
	Width int
	Color bool
	Quiet bool
}

// ANSI styles for the compact output. Only these constant sequences ever
// reach a terminal; log text is escaped before it is written.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
	ansiBold   = "\x1b[1m"
)

// maxProse is the widest a finding's explanation is wrapped at.
const maxProse = 100

// findingIndent is how far a finding's explanation is indented below its
// head line.
const findingIndent = "    "

// WriteText writes the findings compactly, as linters do: per finding a
// head line — severity, rule, the line that shows it, the finding's ID —
// and the explanation below it, indented and wrapped at the width. A
// file:line is never cut: when the head line would be too wide, the place
// gets a line of its own. Then the summary and the inputs, unless quiet.
func (a *Audit) WriteText(w io.Writer, st TextStyle) error {
	doc := a.JSON()
	paint := func(code, s string) string {
		if !st.Color {
			return s
		}
		return code + s + ansiReset
	}
	bodyWidth := 0
	if st.Width > 0 {
		// prose longer than about 100 columns is hard to read, however wide
		// the terminal
		bodyWidth = min(max(st.Width-len(findingIndent), 20), maxProse)
	}
	var b strings.Builder
	for _, f := range doc.Findings {
		sev := f.Severity
		switch sev {
		case "error":
			sev = paint(ansiRed, sev)
		case "warning":
			sev = paint(ansiYellow, sev)
		default:
			sev = paint(ansiCyan, sev)
		}
		head := sev + " " + paint(ansiBold, f.Rule)
		headLen := len(f.Severity) + 1 + len(f.Rule)
		where := ""
		if f.Where != nil {
			where = Escape(f.Where.String())
		}
		id := paint(ansiDim, f.ID)
		switch {
		case where == "":
			fmt.Fprintf(&b, "%s %s\n", head, id)
		case st.Width <= 0 || headLen+1+len([]rune(where))+1+len(f.ID) <= st.Width:
			fmt.Fprintf(&b, "%s %s %s\n", head, where, id)
		default:
			fmt.Fprintf(&b, "%s %s\n%sat %s\n", head, id, findingIndent, where)
		}
		body := Escape(f.Message)
		if f.Caveat != "" {
			body += "\ncaveat: " + Escape(f.Caveat)
		}
		for _, para := range strings.Split(body, "\n") {
			b.WriteString(indent(wrap(para, bodyWidth), findingIndent))
			b.WriteByte('\n')
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if st.Quiet {
		return nil
	}
	s := doc.Summary
	if len(doc.Findings) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, wrap(summaryLine(s), st.Width))
	if s.Filter != "" {
		line := fmt.Sprintf("shown: what %s keeps; %d more finding(s) hidden by it", Escape(s.Filter), s.Hidden)
		if s.Undecidable > 0 {
			line += fmt.Sprintf("; %d kept because their time cannot be compared with the window", s.Undecidable)
		}
		fmt.Fprintln(w, wrap(line, st.Width))
	}
	if s.Status == StatusPartial {
		fmt.Fprintln(w, wrap("partial: "+Escape(s.Reason), st.Width))
	}
	if line := missingLogsLine(doc.MissingLogs); line != "" {
		fmt.Fprintln(w, wrap(line, st.Width))
	}
	if len(doc.Findings) > 0 {
		fmt.Fprintln(w, wrap("'slotaudit explain --finding ID PATH...' tells the story of one finding, line by line.", st.Width))
	}
	fmt.Fprintln(w)
	return WriteInputSummary(w, a.Model.Result.Inputs, st.Width)
}

// missingLogsLine names the TaskManagers whose logs are missing, or "".
func missingLogsLine(missing []MissingLogJSON) string {
	if len(missing) == 0 {
		return ""
	}
	var names []string
	for i, ml := range missing {
		if i == 8 {
			names = append(names, fmt.Sprintf("and %d more", len(missing)-8))
			break
		}
		names = append(names, fmt.Sprintf("%s (named by %s, first at %s)", Escape(ml.ResourceID), strings.ToUpper(strings.Join(ml.NamedBy, "+")), Escape(ml.First.String())))
	}
	line := fmt.Sprintf("no log of %s named by the other components: %s; their slot tables cannot be replayed, add their logs for a full audit",
		plural(len(missing), "TaskManager"), strings.Join(names, ", "))
	if missing[0].Maybe {
		line += " (some TaskManager logs here are known only by their file names and may be among them)"
	}
	return line
}

// summaryLine counts the findings by severity, and what they are about.
func summaryLine(s SummaryJSON) string {
	tms := plural(s.TaskManagers, "TaskManager")
	if s.TaskManagersWithoutLog > 0 {
		tms += fmt.Sprintf(" (%d without a log)", s.TaskManagersWithoutLog)
	}
	if s.Findings == 0 {
		return fmt.Sprintf("no findings; %s on %s", plural(s.Allocations, "allocation"), tms)
	}
	return fmt.Sprintf("%s: %d error, %d warning, %d info; %s on %s",
		plural(s.Findings, "finding"), s.BySeverity["error"], s.BySeverity["warning"], s.BySeverity["info"],
		plural(s.Allocations, "allocation"), tms)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// indent puts prefix before every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
