package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"html"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/slotaudit/slotaudit/report"
)

// TestMachineFormatsAreAlwaysDocuments: with nothing to judge (exit 3) and
// on a partial run (exit 5), every machine format is a complete, valid
// document that names the inputs and says why — a jq pipeline or a CI step
// that reads it must not break exactly when the logs are odd.
func TestMachineFormatsAreAlwaysDocuments(t *testing.T) {
	logs := filepath.Join("..", "..", "testdata", "logs")
	cases := []struct {
		name     string
		args     []string
		exit     int
		status   string
		reason   string // in summary.reason
		markdown string
		github   string
		junit    string // the failing test case's name
	}{
		{"nothing to judge", []string{filepath.Join(logs, "noise-pure.txt")}, exitNothing,
			"nothing-to-judge", "no slot-lifecycle evidence in 1 input(s)",
			"**Nothing to judge:** no slot-lifecycle evidence", "::error title=slotaudit: nothing to judge::no slot-lifecycle evidence in 1 input(s)",
			"slot-lifecycle evidence"},
		{"partial", []string{filepath.Join(t.TempDir(), "missing.log"), filepath.Join(logs, "fixed-1.10.0-refused-duplicate-tm.log")}, exitPartial,
			"partial", "1 input(s) could not be read (", "**Partial:** 1 input(s) could not be read",
			"::warning file=", "missing.log"},
	}
	for _, tc := range cases {
		for _, f := range report.AuditFormats {
			if !f.Machine {
				continue
			}
			format := f.Name
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := Main(context.Background(), append([]string{"audit", "--format", format}, tc.args...), nil, &stdout, &stderr)
				if code != tc.exit {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.exit, stderr.String())
				}
				out := stdout.Bytes()
				switch format {
				case "json":
					var doc struct {
						Inputs  []map[string]any `json:"inputs"`
						Summary struct {
							Status, Reason string
						} `json:"summary"`
					}
					if err := json.Unmarshal(out, &doc); err != nil {
						t.Fatalf("not JSON: %v\n%s", err, out)
					}
					if len(doc.Inputs) != 1 || doc.Summary.Status != tc.status || !strings.Contains(doc.Summary.Reason, tc.reason) {
						t.Errorf("inputs %d, status %q, reason %q; want 1 input, %q, %q", len(doc.Inputs), doc.Summary.Status, doc.Summary.Reason, tc.status, tc.reason)
					}
				case "ndjson":
					var last map[string]any
					inputs := 0
					sc := bufio.NewScanner(bytes.NewReader(out))
					for sc.Scan() {
						last = nil
						if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
							t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
						}
						if last["type"] == "input" {
							inputs++
						}
					}
					if inputs != 1 || last["type"] != "summary" || last["status"] != tc.status {
						t.Errorf("%d input lines, last line %v; want 1 and a summary with status %s", inputs, last, tc.status)
					}
				case "sarif":
					rep, err := sarif.FromBytes(out, sarif.WithStrictValidation())
					if err != nil {
						t.Fatal(err)
					}
					if err := rep.Validate(); err != nil {
						t.Fatalf("SARIF does not validate: %v", err)
					}
					if n := rep.Runs[0].Invocations[0].ToolExecutionNotifications; len(n) == 0 {
						t.Errorf("no tool execution notification says why")
					}
				case "junit":
					var doc struct {
						Failures int `xml:"failures,attr"`
						Suites   []struct {
							Cases []struct {
								Name    string    `xml:"name,attr"`
								Failure *struct{} `xml:"failure"`
							} `xml:"testcase"`
						} `xml:"testsuite"`
					}
					if err := xml.Unmarshal(out, &doc); err != nil {
						t.Fatalf("not XML: %v", err)
					}
					found := false
					for _, s := range doc.Suites {
						for _, c := range s.Cases {
							found = found || (c.Failure != nil && strings.Contains(c.Name, tc.junit))
						}
					}
					if !found || doc.Failures == 0 {
						t.Errorf("no failing test case %q (failures %d)", tc.junit, doc.Failures)
					}
				case "markdown":
					if !bytes.Contains(out, []byte(tc.markdown)) {
						t.Errorf("markdown lacks %q:\n%s", tc.markdown, out)
					}
				case "timesketch":
					var lines []map[string]any
					sc := bufio.NewScanner(bytes.NewReader(out))
					sc.Buffer(nil, 1<<20)
					for sc.Scan() {
						var v map[string]any
						if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
							t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
						}
						for _, k := range []string{"message", "datetime", "timestamp_desc"} { // what Timesketch requires
							if s, _ := v[k].(string); s == "" {
								t.Fatalf("line %q lacks %s", sc.Text(), k)
							}
						}
						lines = append(lines, v)
					}
					inputs := 0
					for _, l := range lines {
						if l["data_type"] == "slotaudit:input" {
							inputs++
						}
					}
					last := lines[len(lines)-1]
					msg, _ := last["message"].(string)
					if inputs != 1 || last["data_type"] != "slotaudit:summary" || !strings.Contains(msg, tc.status+": "+tc.reason) {
						t.Errorf("%d input lines, last line %v; want 1 and a summary saying %s: %s", inputs, last, tc.status, tc.reason)
					}
				case "html":
					page := string(out)
					if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "</html>") {
						t.Fatalf("not a whole page:\n%s", page)
					}
					inputs := page[strings.Index(page, `<section id="inputs">`):]
					if n := strings.Count(inputs[:strings.Index(inputs, "</table>")], "<tr>"); n != 2 { // the head and one input
						t.Errorf("%d table rows in the inputs section; want a head and 1 input", n)
					}
					if !strings.Contains(page, tc.status+": "+html.EscapeString(tc.reason)) {
						t.Errorf("the page does not say %s: %s", tc.status, tc.reason)
					}
				case "github":
					if !bytes.Contains(out, []byte(tc.github)) {
						t.Errorf("annotations lack %q:\n%s", tc.github, out)
					}
				default:
					t.Errorf("machine format %s has no check here: add one", format)
				}
			})
		}
	}
}
