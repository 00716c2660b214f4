package parser_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/report"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// goldenOptions are the flags a test log needs; everything else is detected.
var goldenOptions = map[string]parser.Options{
	// a custom conversion pattern cannot be detected, it must be given
	"1.18.0-custom-pattern-tm.log": {Layout: "%d{ISO8601} %p [%t] %c{1}: %m%n"},
}

// renderGolden writes what a person reviews: each input's account, every
// event (one JSON object a line) and every diagnostic. Paths are reduced to
// base names so the golden files do not depend on where the tests run.
func renderGolden(t *testing.T, res *parser.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	files := make(parser.Files, len(res.Files))
	for i, f := range res.Files {
		files[i] = parser.FileInfo{Path: filepath.Base(f.Path), Stream: f.Stream}
	}
	for i := range res.Inputs {
		in := res.Inputs[i]
		in.Path = filepath.Base(in.Path)
		j, err := json.Marshal(report.NewInputJSON(&in))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "# input %s\n", j)
	}
	b.WriteString("# events\n")
	shown := *res // the same events, under the base names
	shown.Files = files
	for v := range res.All() {
		j, err := json.Marshal(report.NewEventJSON(&shown, v))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	b.WriteString("# diagnostics\n")
	for _, d := range res.Diagnostics {
		fmt.Fprintf(&b, "%s %s: %s", files.Position(d.Pos), d.Severity, d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(&b, " | %q", d.Detail)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func testLogs(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob("../testdata/logs/*")
	if err != nil || len(all) == 0 {
		t.Fatalf("no test logs: %v", err)
	}
	var files []string
	for _, f := range all {
		// directories hold simulated incidents, checked by the sim package
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	return files
}

func TestGoldenEvents(t *testing.T) {
	for _, path := range testLogs(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			res, err := parser.Read([]string{path}, goldenOptions[name])
			if err != nil {
				t.Fatal(err)
			}
			got := renderGolden(t, res)
			golden := filepath.Join("..", "testdata", "golden", "events", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./parser -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("events differ from %s (go test ./parser -update rewrites it):\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// TestEveryLineAccounted checks the promise that nothing is dropped silently:
// every physical line of every input is part of a record, a counted stray
// line, or wrapper framing, and every record is an event, irrelevant or
// unparsed.
func TestEveryLineAccounted(t *testing.T) {
	for _, path := range testLogs(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			physical := bytes.Count(data, []byte{'\n'})
			if len(data) > 0 && data[len(data)-1] != '\n' {
				physical++
			}
			res, err := parser.Read([]string{path}, goldenOptions[name])
			if err != nil {
				t.Fatal(err)
			}
			lines := 0
			for _, in := range res.Inputs {
				lines += in.Lines
				if got := in.RecordLines + in.Stray + in.Framing; got != in.Lines {
					t.Errorf("%s#%s: %d lines but %d in records + %d stray + %d framing", name, in.Stream, in.Lines, in.RecordLines, in.Stray, in.Framing)
				}
				if got := in.EventRecs + in.Irrelevant + in.Unparsed; got != in.Records {
					t.Errorf("%s#%s: %d records but %d with events + %d irrelevant + %d unparsed", name, in.Stream, in.Records, in.EventRecs, in.Irrelevant, in.Unparsed)
				}
			}
			if lines != physical {
				t.Errorf("%s: file has %d lines, inputs account for %d", name, physical, lines)
			}
		})
	}
}

// lineDiff shows the first lines that differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 6; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
