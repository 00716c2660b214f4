package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// widthIncidents are incidents of every shape: two files of one
// directory, a directory of a simulated cluster (ResourceIDs host:port-6hex
// or pod names), YARN streams, a restart, a mid-story log, a skew.
var widthIncidents = map[string][]string{
	"race-debug-1.8.2":                {"legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"},
	"race-1.6.2":                      {"legacy-1.6.2-race-tm.log", "legacy-1.6.2-race-jm.log"},
	"k8s-restart-1.11.3":              {"fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log"},
	"yarn-1.12":                       {"1.12.1-yarn-aggregated.log"},
	"midstory-1.14":                   {"midstory-1.14-rotated-tm.log"},
	"sim-1.18.1-tm-lost-slot-timeout": {"sim-1.18.1-tm-lost-slot-timeout"},
	"sim-2.1.0-k8s-tm-lost-json":      {"sim-2.1.0-k8s-tm-lost-json"},
	"sim-1.14.6-slot-timeout-debug":   {"sim-1.14.6-slot-timeout-debug"},
	"sim-1.11.6-tm-restart":           {"sim-1.11.6-tm-restart"},
}

// humanOutput is one human output of an incident, rendered at a width, with
// what must survive any width: places, the "file:line" (as shown) and IDs
// that must each stand whole on a line, and rows, the texts that belong
// to one line when nothing is wrapped (width 0).
type humanOutput struct {
	name   string
	render func(width int) string
	places []string
	rows   [][]string
}

func humanOutputs(t *testing.T, paths []string) []humanOutput {
	t.Helper()
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	a := &Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}
	pl := newPlaces(filePaths(m.Result.Files))
	at := func(p *PlaceJSON) string { return strings.ReplaceAll(pl.at(p), "\x00", " ") }
	render := func(write func(b *bytes.Buffer, width int) error) func(int) string {
		return func(width int) string {
			var b bytes.Buffer
			if err := write(&b, width); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
	}

	timeline := humanOutput{name: "timeline", render: render(func(b *bytes.Buffer, width int) error {
		return WriteTimelineTable(b, m, m.Allocations, width)
	})}
	for _, al := range m.Allocations {
		j := NewAllocationJSON(m, al)
		timeline.places = append(timeline.places, j.AllocationID)
		for _, e := range j.Events {
			where := at(&PlaceJSON{Path: e.Path, Stream: e.Stream, Line: e.Line})
			timeline.places = append(timeline.places, where)
			timeline.rows = append(timeline.rows, []string{" " + e.Kind + " ", where})
		}
	}

	var tables []SlotsTable
	slots := humanOutput{name: "slots"}
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			for _, s := range []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed} {
				tables = append(tables, SlotsTable{M: m, TM: tm, P: p, R: p.Replay, Semantics: s, Reports: true})
				j, err := NewReplayJSON(m, tm, p, p.Replay, s)
				if err != nil {
					t.Fatal(err)
				}
				slots.places = append(slots.places, Escape(j.ResourceID), at(&j.Process))
				for _, sl := range j.Slots {
					slots.places = append(slots.places, sl.AllocationID)
					if e := sl.IndexEvidence; e != nil && e.Where != nil {
						slots.places = append(slots.places, at(e.Where))
					}
				}
				for _, rep := range j.SlotReports {
					slots.places = append(slots.places, at(&rep.PlaceJSON))
					slots.rows = append(slots.rows, []string{"slot report " + at(&rep.PlaceJSON) + " at " + rep.Time})
				}
			}
		}
	}
	slots.render = render(func(b *bytes.Buffer, width int) error { return WriteSlotsTablesText(b, tables, ReportsAll, width) })

	explain := humanOutput{name: "explain", render: render(func(b *bytes.Buffer, width int) error {
		return a.WriteExplain(b, a.FindingIDs(), width)
	})}
	quoted := map[string]bool{}
	for _, f := range a.Findings {
		fj := NewFindingJSON(m, f)
		explain.rows = append(explain.rows, []string{fj.ID + " " + fj.Rule + " (" + fj.Severity + "): "})
		for _, e := range fj.Evidence {
			if e.Path == "" {
				continue
			}
			where := at(&PlaceJSON{Path: e.Path, Stream: e.Stream, Line: e.Line})
			explain.places = append(explain.places, where)
			if !quoted[where] {
				quoted[where] = true
				explain.rows = append(explain.rows, []string{"| " + Escape(compactLine(e.Text))})
			}
		}
	}

	inputs := humanOutput{name: "inputs", render: render(func(b *bytes.Buffer, width int) error {
		return WriteInputTable(b, m.Result.Inputs, width)
	})}
	ipl := newPlaces(func() []string {
		var ps []string
		for _, in := range m.Result.Inputs {
			ps = append(ps, in.Path)
		}
		return ps
	}())
	for _, in := range m.Result.Inputs {
		p := strings.ReplaceAll(ipl.path(in.Path, in.Stream), "\x00", " ")
		inputs.places = append(inputs.places, p)
		inputs.rows = append(inputs.rows, []string{p, fmt.Sprintf(" %d ", in.Records), fmt.Sprintf(" %d ", in.EventCount)})
	}
	return []humanOutput{timeline, slots, explain, inputs}
}

// TestHumanOutputFitsWidth: at 80, 120 and 200 columns no line of
// timeline, slots, explain or the inputs table is wider than the
// terminal, but for a line that holds nothing but one word longer than
// it; every file:line and ID stands whole on a line. With width 0 (a
// pipe) nothing is wrapped: each row is one line, and the output is what
// a terminal wide enough for everything shows.
func TestHumanOutputFitsWidth(t *testing.T) {
	for name, files := range widthIncidents {
		var paths []string
		for _, f := range files {
			paths = append(paths, filepath.Join("..", "testdata", "logs", f))
		}
		for _, out := range humanOutputs(t, paths) {
			t.Run(name+"/"+out.name, func(t *testing.T) {
				for _, width := range []int{80, 120, 200} {
					text := out.render(width)
					lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
					for i, l := range lines {
						if n := utf8.RuneCountInString(l); n > width && strings.Contains(l, " ") {
							t.Errorf("width %d: line %d has %d runes: %q", width, i+1, n, l)
						}
					}
					for _, p := range out.places {
						if !anyLineHas(lines, p) {
							t.Errorf("width %d: %q is on no line whole", width, p)
						}
					}
				}
				flat := out.render(0)
				if wide := out.render(1 << 16); wide != flat {
					t.Errorf("width 0 differs from a terminal wide enough for everything:\n%s\n---\n%s", flat, wide)
				}
				lines := strings.Split(flat, "\n")
				for _, row := range out.rows {
					if !anyLineHas(lines, row...) {
						t.Errorf("width 0: no line holds all of %q", row)
					}
				}
				for _, p := range out.places {
					if !anyLineHas(lines, p) {
						t.Errorf("width 0: %q is on no line whole", p)
					}
				}
			})
		}
	}
}

func anyLineHas(lines []string, parts ...string) bool {
	for _, l := range lines {
		all := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// TestLayoutKeepsPathsWholeAndEscaped: a directory and file names with
// spaces and an escape sequence. The paths are shown relative to the
// directory (said once), escaped, and a file:line with spaces is never
// broken at them, though the output is wrapped; nothing raw (the glue
// that keeps such a path whole included) reaches the terminal.
func TestLayoutKeepsPathsWholeAndEscaped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "incident logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for src, dst := range map[string]string{"legacy-1.8.2-race-debug-tm.log": "task manager \x1b[2J.log", "legacy-1.8.2-race-debug-jm.log": "job manager.log"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "logs", src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, dst)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, out := range humanOutputs(t, paths) {
		for _, width := range []int{0, 40, 80} {
			text := out.render(width)
			said, _, _ := strings.Cut(text, "\n\n")
			if said = strings.Join(strings.Fields(said), " "); said != "files in "+dir+"/" && said != "inputs in "+dir+"/" {
				t.Errorf("%s at %d: does not say the directory first:\n%s", out.name, width, text)
			}
			if n := strings.Count(strings.Join(strings.Fields(text), " "), dir); n != 1 {
				t.Errorf("%s at %d: the directory is said %d times, not once:\n%s", out.name, width, n, text)
			}
			for i := 0; i < len(text); i++ {
				if c := text[i]; c < 0x20 && c != '\n' || c == 0x7f {
					t.Fatalf("%s at %d: raw byte %#x in\n%q", out.name, width, c, text)
				}
			}
			lines := strings.Split(text, "\n")
			for _, p := range map[string][]string{
				"timeline": {`task manager \x1b[2J.log:13`, "job manager.log:6"},
				"slots":    {`task manager \x1b[2J.log:1`, "job manager.log:25"},
				"explain":  {`task manager \x1b[2J.log:13`, "job manager.log:59"},
				"inputs":   {`task manager \x1b[2J.log`, "job manager.log"},
			}[out.name] {
				if !anyLineHas(lines, p) {
					t.Errorf("%s at %d: %q is on no line whole:\n%s", out.name, width, p, text)
				}
			}
		}
	}
}
