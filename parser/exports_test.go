package parser_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// auditOf reads paths and runs every rule, as `slotaudit audit` does.
func auditOf(t *testing.T, paths []string) (*parser.Result, []rules.Finding) {
	t.Helper()
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	return res, rules.Run(m, rules.All)
}

// verdicts renders findings by what must not depend on how the logs were
// kept: rule, fingerprint, and (texts) each line of evidence as read. A
// finding about no allocation is fingerprinted by its input's name
// (rules.Pass.Report: one per input), which an export's stream does not
// share with the log file: it is known by its rule, job and TaskManager.
func verdicts(fs []rules.Finding, texts bool) []string {
	var out []string
	for _, f := range fs {
		s := f.Rule + " " + f.Fingerprint
		if !f.Alloc.IsSet() {
			s = f.Rule + " job " + f.Job.String() + " tm " + f.Resource
		}
		if texts {
			for _, e := range f.Evidence {
				s += "\n  " + e.Text
			}
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// eventFacts renders every event by what it says (not where it is).
func eventFacts(res *parser.Result, texts bool) []string {
	var out []string
	for i := range res.All() {
		ev := res.Event(i)
		s := fmt.Sprintf("%s %s %s %s %s %s %d", ev.Time, ev.Component, ev.Kind, ev.Alloc, ev.Resource, ev.Task, ev.SlotIndex)
		if texts {
			s += " " + res.Text(i) + " | " + ev.CauseText
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// exportPath is where the generator put a set's export of a shape.
func exportPath(t *testing.T, set, shape string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(exportDir(set), shape+"*"))
	if len(m) != 1 {
		t.Fatalf("no single export %s/%s*: %v (go test ./parser -run TestExportsGenerated -update)", set, shape, m)
	}
	return m[0]
}

// TestExportsAuditAsTheirLogs: every export shape of every incident is
// read into one stream per process (its pod), and the audit finds what
// the audit of the logs themselves finds, on the same lines of evidence;
// every line of the export is accounted for, and the records its pages
// repeat are counted as duplicates.
func TestExportsAuditAsTheirLogs(t *testing.T) {
	for _, set := range genSets {
		var logs []string
		for _, f := range set.files {
			logs = append(logs, filepath.Join("..", "testdata", "logs", f.log))
		}
		wantRes, want := auditOf(t, logs)
		if len(want) == 0 {
			t.Fatalf("%s: the logs give no finding: nothing to compare", set.name)
		}
		recs := genRecords(t, set)
		for _, shape := range set.shapes {
			t.Run(set.name+"/"+shape, func(t *testing.T) {
				path := exportPath(t, set.name, shape)
				res, got := auditOf(t, []string{path})
				if len(res.Inputs) != len(set.files) {
					var names []string
					for _, in := range res.Inputs {
						names = append(names, in.Stream)
					}
					t.Fatalf("%d inputs (%s), want one per log (%d)", len(res.Inputs), strings.Join(names, ", "), len(set.files))
				}
				_, dups := genShape(t, set, shape, recs)
				physical, duplicates := 0, 0
				for i, in := range res.Inputs {
					if in.Wrapper != shape {
						t.Errorf("%s: wrapper %q, want %q", in.Stream, in.Wrapper, shape)
					}
					if !strings.Contains(in.Stream, set.files[i].pod) {
						t.Errorf("input %d is %q, want the stream of pod %s", i, in.Stream, set.files[i].pod)
					}
					if in.Unparsed != 0 {
						t.Errorf("%s: %d records unparsed", in.Stream, in.Unparsed)
					}
					if got := in.RecordLines + in.Stray + in.Framing; got != in.Lines {
						t.Errorf("%s: %d lines but %d in records + %d stray + %d framing", in.Stream, in.Lines, in.RecordLines, in.Stray, in.Framing)
					}
					if got := in.EventRecs + in.Irrelevant + in.Unparsed + in.Duplicates; got != in.Records {
						t.Errorf("%s: %d records but %d with events + %d irrelevant + %d unparsed + %d duplicates", in.Stream, in.Records, in.EventRecs, in.Irrelevant, in.Unparsed, in.Duplicates)
					}
					physical += in.Lines
					duplicates += in.Duplicates
				}
				if duplicates != dups {
					t.Errorf("%d duplicates counted, the generator wrote %d", duplicates, dups)
				}
				if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
					data, _ := os.ReadFile(path)
					lines := bytes.Count(data, []byte{'\n'})
					if len(data) > 0 && data[len(data)-1] != '\n' {
						lines++
					}
					if physical != lines {
						t.Errorf("the export has %d lines, its inputs account for %d", lines, physical)
					}
				}
				texts := !set.json // a stored JSON record is shown as the store keeps it
				if w, g := eventFacts(wantRes, texts), eventFacts(res, texts); !slices.Equal(w, g) {
					t.Errorf("events differ from the logs':\n%s", firstDiff(w, g))
				}
				if w, g := verdicts(want, texts), verdicts(got, texts); !slices.Equal(w, g) {
					t.Errorf("findings differ from the logs':\n%s", firstDiff(w, g))
				}
			})
		}
	}
}

// firstDiff shows where two sorted lists part.
func firstDiff(want, got []string) string {
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			return fmt.Sprintf("#%d\n  want: %s\n  got:  %s\n(%d want, %d got)", i, w, g, len(want), len(got))
		}
	}
	return ""
}

// TestExportPositionsLeadToRecords: an event's line is the physical line
// of the export where its record begins (the record's message is there,
// or in the pretty-printed object that begins there), and events of one
// position are of one record (a page on one line tells its records apart
// by Pos.Rec).
func TestExportPositionsLeadToRecords(t *testing.T) {
	for _, set := range genSets {
		if set.json {
			continue
		}
		for _, shape := range set.shapes {
			if shape == "cloudwatch-s3" {
				continue // gzip: its lines are checked by the S3 test below
			}
			t.Run(set.name+"/"+shape, func(t *testing.T) {
				path := exportPath(t, set.name, shape)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(string(data), "\n")
				res, err := parser.Read([]string{path}, parser.Options{})
				if err != nil {
					t.Fatal(err)
				}
				texts := map[flinklogPos]string{}
				onOneLine := 0
				for i := range res.All() {
					ev := res.Event(i)
					if ev.Pos.Rec > 0 {
						onOneLine++
					}
					first, _, _ := strings.Cut(res.Text(i), "\n")
					want := first
					if strings.HasSuffix(shape, "-csv") {
						want = strings.ReplaceAll(first, `"`, `""`)
					} else {
						var b bytes.Buffer
						enc := json.NewEncoder(&b)
						enc.SetEscapeHTML(false)
						_ = enc.Encode(first)
						want = strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
					}
					at := int(ev.Pos.Line) - 1
					if at < 0 || at >= len(lines) || !strings.Contains(strings.Join(lines[at:min(len(lines), at+40)], "\n"), want) {
						t.Fatalf("%s: the record of %q is not at line %d", res.Files.Position(ev.Pos), first, ev.Pos.Line)
					}
					key := flinklogPos{ev.Pos.File, ev.Pos.Rec, ev.Pos.Line}
					if prev, ok := texts[key]; ok && prev != res.Text(i) {
						t.Fatalf("%s (record %d on the line): two records share a position: %q and %q", res.Files.Position(ev.Pos), ev.Pos.Rec, prev, res.Text(i))
					}
					texts[key] = res.Text(i)
				}
				if bytes.Count(data, []byte("\n")) < 5 && onOneLine == 0 {
					t.Errorf("one-line pages, but no record is told apart on its line")
				}
			})
		}
	}
}

type flinklogPos struct {
	file, rec int32
	line      int64
}

// TestExportReadOnceSameAsTwice: an export that cannot be read twice
// (gzip, standard input) keeps its records' messages from the first pass
// and gives what the file read twice gives.
func TestExportReadOnceSameAsTwice(t *testing.T) {
	dir := t.TempDir()
	for _, set := range genSets {
		for _, shape := range set.shapes {
			if shape == "cloudwatch-s3" {
				continue
			}
			t.Run(set.name+"/"+shape, func(t *testing.T) {
				path := exportPath(t, set.name, shape)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				gz := filepath.Join(dir, set.name+"-"+filepath.Base(path)+".gz")
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write(data)
				zw.Close()
				if err := os.WriteFile(gz, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				want, err := parser.Read([]string{path}, parser.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for name, r := range map[string]func() (*parser.Result, error){
					"gzip": func() (*parser.Result, error) { return parser.Read([]string{gz}, parser.Options{}) },
					"stdin": func() (*parser.Result, error) {
						return parser.Read([]string{"-"}, parser.Options{Stdin: bytes.NewReader(data)})
					},
				} {
					got, err := r()
					if err != nil {
						t.Fatal(err)
					}
					if w, g := eventFacts(want, true), eventFacts(got, true); !slices.Equal(w, g) {
						t.Errorf("%s: events differ:\n%s", name, firstDiff(w, g))
					}
					for i := range want.Inputs {
						w, g := want.Inputs[i], got.Inputs[i]
						w.Path, g.Path, g.Gzip = "", "", false
						if !reflect.DeepEqual(w, g) {
							t.Errorf("%s: input %d differs:\n  want %+v\n  got  %+v", name, i, w, g)
						}
					}
				}
			})
		}
	}
}
