package report

// This file draws an allocation's sequence (SequenceJSON) as a Mermaid
// sequenceDiagram, for the Markdown report.

import (
	"fmt"
	"strings"

	"github.com/slotaudit/slotaudit/reconstruct"
)

// maxDiagramSteps caps the steps a diagram draws: a long-lived allocation
// (a task deployed into it at every restart, each with its receipt and
// activation) would make a diagram nobody reads. Past it, the first diagramHead steps and
// the last maxDiagramSteps-diagramHead are drawn, and a note between
// them counts the rest.
const (
	maxDiagramSteps = 40
	diagramHead     = 30
)

// writeMermaid writes a's sequence as a Mermaid sequenceDiagram, without
// the fence around it, and returns the day its times are on when it
// shows only times of day ("" otherwise). It writes nothing, and returns
// false, for an allocation without steps.
//
// Log text is untrusted: every character of it outside a small safe set
// is written as a Mermaid entity code (#59; for ";"), so that no log line
// can end a statement (";", a line break), start a comment ("#", "%%"),
// a directive ("%%{init…}%%"), HTML ("<", "&") or a code span, or close
// the Markdown fence ("`"). Participants are declared with fixed ids
// (JM, RM, TM1, …) and their names as aliases, so a ResourceID is only
// ever alias text.
func writeMermaid(b *strings.Builder, m *reconstruct.Model, a *reconstruct.Allocation) (day string, ok bool) {
	s, steps := newSequence(m, a)
	if len(steps) == 0 {
		return "", false
	}
	var times []string
	for _, st := range steps {
		times = append(times, st.time, st.aligned)
	}
	day = oneDay(times)
	ids := map[string]string{}
	tms := 0
	b.WriteString("sequenceDiagram\n")
	for _, p := range s.Participants {
		id := "JM"
		switch {
		case p == participantRM:
			id = "RM"
		case p != participantJM:
			tms++
			id = fmt.Sprintf("TM%d", tms)
		}
		ids[p] = id
		fmt.Fprintf(b, "  participant %s as %s\n", id, mermaidText(p))
	}
	step := func(st sequenceStep) {
		label := mermaidText(st.Says)
		if st.time != "" {
			// times are written by slotaudit: digits and ":.-+TZds", safe
			t := clockOn(st.time, day)
			if st.aligned != "" {
				t += ", aligned " + clockOn(st.aligned, day)
			}
			label += " (" + t + ")"
		}
		if st.From == st.To {
			fmt.Fprintf(b, "  Note over %s: %s\n", ids[st.From], label)
			return
		}
		fmt.Fprintf(b, "  %s->>%s: %s\n", ids[st.From], ids[st.To], label)
	}
	if len(steps) <= maxDiagramSteps {
		for _, st := range steps {
			step(st)
		}
		return day, true
	}
	tail := maxDiagramSteps - diagramHead
	for _, st := range steps[:diagramHead] {
		step(st)
	}
	over := ids[s.Participants[0]]
	if len(s.Participants) > 1 {
		over += "," + ids[s.Participants[len(s.Participants)-1]]
	}
	fmt.Fprintf(b, "  Note over %s: %s\n", over, mermaidText(fmt.Sprintf("… %d more steps …", len(steps)-maxDiagramSteps)))
	for _, st := range steps[len(steps)-tail:] {
		step(st)
	}
	return day, true
}

// mermaidText makes text safe as Mermaid message, note or alias text:
// control characters made visible (Escape), then every character outside
// letters, digits, space and ".,()/_+=@!?*~^$|[]{}'-" (and a colon
// followed by a space) written as an entity code, which Mermaid turns back into the character when it draws
// (as an HTML character reference: "<" stays text).
func mermaidText(s string) string {
	var b strings.Builder
	s = Escape(s)
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" .,()/_+=@!?*~^$|[]{}'-", r):
			b.WriteRune(r)
		case r == ':' && strings.HasPrefix(s[i+1:], " "):
			// Mermaid drops the last ";" of a line where "style" is
			// followed by ":", non-blanks and "#" (its style statements):
			// a colon before a blank can never start that
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		default:
			fmt.Fprintf(&b, "#%d;", r)
		}
	}
	return b.String()
}
