package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// The statements a sequence diagram of slotaudit may hold, as Mermaid's
// sequenceDiagram grammar reads them. Text is what Mermaid reads to the
// end of the line as message, note or alias text: it must hold no ";"
// (a statement's end), "#" but in an entity code (a comment), "%" (a
// "%%" comment or directive), "<", ">", "&", quotes or backticks; a colon
// only before a blank or between the digits of a time.
var (
	mermaidID   = `(JM|RM|TM[1-9][0-9]*)`
	mermaidTxt  = `((?:[A-Za-z0-9 .,()/_+=@!?*~^$|\[\]{}'\-]|: |[0-9]:[0-9]|#[0-9]+;)+)`
	mermaidHead = regexp.MustCompile(`^sequenceDiagram$`)
	mermaidPart = regexp.MustCompile(`^  participant ` + mermaidID + ` as ` + mermaidTxt + `$`)
	mermaidMsg  = regexp.MustCompile(`^  ` + mermaidID + `->>` + mermaidID + `: ` + mermaidTxt + `$`)
	mermaidNote = regexp.MustCompile(`^  Note over ` + mermaidID + `(?:,` + mermaidID + `)?: ` + mermaidTxt + `$`)
	// Mermaid drops the last ";" of a line these match before it parses
	// (its encodeEntities, for style statements)
	mermaidMangled = regexp.MustCompile(`(style|classDef).*:\S*#.*;`)
)

// checkMermaid checks that every line of a diagram is a statement of the
// grammar above, the first the header, and that every participant a
// message or note names is declared.
func checkMermaid(lines []string) error {
	if len(lines) == 0 || !mermaidHead.MatchString(lines[0]) {
		return fmt.Errorf("does not start with sequenceDiagram: %q", lines)
	}
	declared := map[string]bool{}
	for _, l := range lines[1:] {
		if mermaidMangled.MatchString(l) {
			return fmt.Errorf("Mermaid would mangle %q", l)
		}
		var ids []string
		var text string
		if g := mermaidPart.FindStringSubmatch(l); g != nil {
			if declared[g[1]] {
				return fmt.Errorf("%s declared twice", g[1])
			}
			declared[g[1]] = true
			text = g[2]
		} else if g := mermaidMsg.FindStringSubmatch(l); g != nil {
			ids, text = g[1:3], g[3]
		} else if g := mermaidNote.FindStringSubmatch(l); g != nil {
			ids, text = g[1:3], g[3]
		} else {
			return fmt.Errorf("not a statement: %q", l)
		}
		for _, id := range ids {
			if id != "" && !declared[id] {
				return fmt.Errorf("%q names %s, never declared", l, id)
			}
		}
		if t := strings.TrimSpace(text); strings.HasPrefix(t, "wrap:") || strings.HasPrefix(t, "nowrap:") {
			return fmt.Errorf("text read as a wrap directive: %q", l)
		}
	}
	return nil
}

// mermaidBlock is one fenced mermaid block of a Markdown text, found as
// CommonMark finds it: from an opening fence of backticks with the info
// string "mermaid" to the first line that closes it.
type mermaidBlock struct {
	open, close int // line numbers (0-based) of the fences
	lines       []string
}

var (
	openFence  = regexp.MustCompile("^ {0,3}(`{3,})mermaid$")
	closeFence = regexp.MustCompile("^ {0,3}(`{3,})[ \t]*$")
)

func mermaidBlocks(t *testing.T, md string) []mermaidBlock {
	t.Helper()
	lines := strings.Split(md, "\n")
	var out []mermaidBlock
	for i := 0; i < len(lines); i++ {
		g := openFence.FindStringSubmatch(lines[i])
		if g == nil {
			continue
		}
		b := mermaidBlock{open: i, close: -1}
		for j := i + 1; j < len(lines); j++ {
			if c := closeFence.FindStringSubmatch(lines[j]); c != nil && len(c[1]) >= len(g[1]) {
				b.close = j
				break
			}
			b.lines = append(b.lines, lines[j])
		}
		if b.close < 0 {
			t.Fatalf("the mermaid block at line %d is never closed", i+1)
		}
		out = append(out, b)
		i = b.close
	}
	return out
}

// withoutDiagrams removes from a Markdown report what the sequence
// diagrams add: each block with the sentence that introduces it, and the
// sentences that point at a block drawn above.
func withoutDiagrams(t *testing.T, md string) string {
	t.Helper()
	lines := strings.Split(md, "\n")
	drop := map[int]bool{}
	for _, b := range mermaidBlocks(t, md) {
		// "The messages of … in causal order …:", a blank, the block, a blank
		from := b.open - 2
		if from < 0 || !strings.HasPrefix(lines[from], "The messages of `") || lines[b.open-1] != "" || b.close+1 >= len(lines) || lines[b.close+1] != "" {
			t.Fatalf("the mermaid block at line %d is not introduced and followed as it should be", b.open+1)
		}
		for i := from; i <= b.close+1; i++ {
			drop[i] = true
		}
	}
	pointer := regexp.MustCompile("^The messages of `[0-9a-f]{32}` between the components are drawn under [0-9a-f]{8}\\.$")
	for i, l := range lines {
		if pointer.MatchString(l) && i+1 < len(lines) && lines[i+1] == "" {
			drop[i], drop[i+1] = true, true
		}
	}
	var keep []string
	for i, l := range lines {
		if !drop[i] {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// withoutEvents returns the audit with every allocation's timeline
// emptied: its Markdown report has no sequence diagram, and is otherwise
// the same.
func withoutEvents(a *Audit) *Audit {
	m := *a.Model
	m.Allocations = nil
	for _, al := range a.Model.Allocations {
		c := *al
		c.Events = nil
		m.Allocations = append(m.Allocations, &c)
	}
	b := *a
	b.Model = &m
	b.shown = nil
	return &b
}

// TestMarkdownMermaidHostile: log text meant to break out of a diagram
// (code fences, a closing script tag, "end", ";", "#", a Mermaid
// directive, escaped newlines, a style statement) and a TaskManager named
// after a file with such characters stay text inside their diagram: every
// line of the block is a statement of the grammar, and the report outside
// the blocks is what it is without them.
func TestMarkdownMermaidHostile(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "logs", "fixed-1.10.0-refused-duplicate-tm.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(src)
	var hostile strings.Builder
	for k, cause := range []string{
		"```</script><script>alert(1)</script>",
		`end; %%{init: {"theme":"forest"}}%% #59; & \n x`,
		"style x:y#59; `x` \\nNote over JM: pwned \x07",
		"wrap: ```\n",
	} {
		fmt.Fprintf(&hostile, "2020-05-03 22:48:54,51%d DEBUG org.apache.flink.runtime.taskexecutor.TaskExecutor            - Free slot with allocation id a32c9403004909d0c68a7b0a5127b96e because: %s\n", k, strings.TrimSuffix(cause, "\n"))
	}
	at := strings.Index(log, "2020-05-03 22:48:54,512")
	if at < 0 {
		t.Fatal("the log changed: no free at 22:48:54,512")
	}
	log = log[:at] + hostile.String() + log[at:]
	// no line of the log names the TaskManager: it is named after its file
	banner := regexp.MustCompile(`(?m)^.*Starting TaskManager with ResourceID: .*\n`)
	if !banner.MatchString(log) {
		t.Fatal("the log changed: no ResourceID banner")
	}
	log = banner.ReplaceAllString(log, "")
	path := filepath.Join(t.TempDir(), "tm;```<b>%%{init}%% end#59;:x.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := parser.Read([]string{path}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Files {
		res.Files[i].Path = filepath.Base(res.Files[i].Path)
	}
	for i := range res.Inputs {
		res.Inputs[i].Path = filepath.Base(res.Inputs[i].Path)
	}
	m := reconstruct.Build(res)
	a := &Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}

	var md, plain bytes.Buffer
	if err := a.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	blocks := mermaidBlocks(t, md.String())
	if len(blocks) != 1 {
		t.Fatalf("%d mermaid blocks, want 1:\n%s", len(blocks), md.String())
	}
	if err := checkMermaid(blocks[0].lines); err != nil {
		t.Errorf("%v\n%s", err, strings.Join(blocks[0].lines, "\n"))
	}
	body := strings.Join(blocks[0].lines, "\n")
	for _, want := range []string{
		"participant TM1 as TaskManager tm#59;#96;#96;#96;#60;b#62;#37;#37;{init}#37;#37; end#35;59#59;#58;x",
		"free: #96;#96;#96;#60;/script#62;#60;script#62;alert(1)#60;/script#62;",
		"free: end#59; #37;#37;{init",
		"free: style x#58;y#35;59#59; #96;x#96; #92;nNote over JM: pwned #92;x07",
		"free: wrap: #96;#96;#96;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the diagram lacks %q:\n%s", want, body)
		}
	}
	if err := withoutEvents(a).WriteMarkdown(&plain); err != nil {
		t.Fatal(err)
	}
	if mermaidBlocks(t, plain.String()) != nil {
		t.Fatal("a report without timelines has a diagram")
	}
	if got := withoutDiagrams(t, md.String()); got != plain.String() {
		t.Errorf("outside its diagram, the report changed:\n%s\n--- without timelines:\n%s", got, plain.String())
	}
}

// TestMarkdownSequenceOncePerAllocation: a diagram per AllocationID the
// findings name, under the first finding that names it; the later ones
// point at it, and a finding about no AllocationID has none. Every
// diagram is of the grammar, and the rest of the report is unchanged.
func TestMarkdownSequenceOncePerAllocation(t *testing.T) {
	for name, files := range raceSets {
		t.Run(name, func(t *testing.T) {
			a := auditLogs(t, rules.Error, files...)
			var md, plain bytes.Buffer
			if err := a.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := withoutEvents(a).WriteMarkdown(&plain); err != nil {
				t.Fatal(err)
			}
			if got := withoutDiagrams(t, md.String()); got != plain.String() {
				t.Errorf("outside its diagrams, the report changed")
			}
			// each finding's section, by its heading
			sections := map[string]string{}
			parts := strings.Split(md.String(), "\n## ")
			for _, p := range parts[1:] {
				id, _, _ := strings.Cut(p, " ")
				sections[id] = p
			}
			drawn := map[string]string{}
			for _, f := range a.JSON().Findings {
				sec := sections[f.ID]
				blocks := mermaidBlocks(t, sec)
				switch {
				case f.AllocationID == "":
					if len(blocks) > 0 || strings.Contains(sec, "The messages of") {
						t.Errorf("%s names no AllocationID but has a sequence", f.ID)
					}
				case drawn[f.AllocationID] == "":
					if len(blocks) != 1 {
						t.Errorf("%s: %d diagrams of %s, want 1", f.ID, len(blocks), f.AllocationID)
						continue
					}
					drawn[f.AllocationID] = f.ID
					if err := checkMermaid(blocks[0].lines); err != nil {
						t.Errorf("%s: %v", f.ID, err)
					}
				default:
					want := fmt.Sprintf("The messages of `%s` between the components are drawn under %s.", f.AllocationID, drawn[f.AllocationID])
					if len(blocks) > 0 || !strings.Contains(sec, want) {
						t.Errorf("%s: want no diagram and %q", f.ID, want)
					}
				}
			}
			for _, f := range a.JSON().Findings {
				if f.AllocationID != "" && len(drawn) == 0 {
					t.Errorf("no diagram at all")
					break
				}
			}
		})
	}
}

// TestMermaidCap: a long timeline draws its first and last steps, and a
// note counts those left out.
func TestMermaidCap(t *testing.T) {
	m := readLogs(t, "legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")
	a := *allocation(t, m, "c81f4e2a9b3d5f7061e2d4c6b8a09f13") // 15 steps
	long := a
	long.Events = nil
	for range 4 {
		long.Events = append(long.Events, a.Events...)
	}
	var b strings.Builder
	if _, ok := writeMermaid(&b, m, &long); !ok {
		t.Fatal("nothing drawn")
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if err := checkMermaid(lines); err != nil {
		t.Fatal(err)
	}
	steps := lines[4:] // the header and three participants
	if len(steps) != maxDiagramSteps+1 {
		t.Fatalf("%d steps drawn, want %d and a note", len(steps), maxDiagramSteps)
	}
	if want := "  Note over JM,TM1: #8230; 20 more steps #8230;"; steps[diagramHead] != want {
		t.Errorf("step %d: %q, want %q", diagramHead+1, steps[diagramHead], want)
	}
	// the last step drawn is the timeline's last
	if last := steps[len(steps)-1]; !strings.HasPrefix(last, "  Note over TM1: free failed: allocation unknown (") {
		t.Errorf("last step %q", last)
	}
}
