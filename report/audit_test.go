package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// auditLogs audits test logs with paths as a user would give them
// (relative to testdata/logs) so golden files do not depend on where the
// repository lives.
func auditLogs(t *testing.T, failOn rules.Severity, names ...string) *Audit {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join("..", "testdata", "logs", n))
	}
	res, err := parser.Read(paths, parser.Options{})
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
	return &Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: failOn, Rules: rules.All}
}

// checkGolden compares got with a golden file (go test ./report -update
// rewrites it) and names the first differing line.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
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
		t.Fatalf("%v (go test ./report -update creates it)", err)
	}
	if !bytes.Equal(want, got) {
		w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
		for i := 0; i < len(w) && i < len(g); i++ {
			if w[i] != g[i] {
				t.Fatalf("differs from %s at line %d:\n want %s\n got  %s", golden, i+1, w[i], g[i])
			}
		}
		t.Fatalf("differs from %s in length", golden)
	}
}

var raceSets = map[string][]string{
	"race-1.6.2-info":      {"legacy-1.6.2-race-tm.log", "legacy-1.6.2-race-jm.log"},
	"race-1.8.2-debug":     {"legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"},
	"race-1.8.2-json":      {"legacy-1.8.2-race-json-tm.json", "legacy-1.8.2-race-json-jm.json"},
	"fixed-1.10-refuse":    {"fixed-1.10.0-refused-duplicate-tm.log"},
	"race-on-fixed-1.10.3": {"fixed-1.10.3-race-refused-tm.log", "fixed-1.10.3-race-refused-jm.log"},
	"healthy-1.11":         {"fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log"},
	// the race-1.8.2-debug logs as Loki gives them back (testdata/exports)
	"race-1.8.2-loki-export": {"../exports/race-1.8.2/loki-query-range.json"},
}

// TestGoldenAuditFormats renders every audit format for the race variants,
// the fixed table and a healthy log, and checks each against its golden.
func TestGoldenAuditFormats(t *testing.T) {
	for name, files := range raceSets {
		t.Run(name, func(t *testing.T) {
			a := auditLogs(t, rules.Error, files...)
			for _, f := range []struct {
				ext   string
				write func(*bytes.Buffer) error
			}{
				{"table.txt", func(b *bytes.Buffer) error { return a.WriteTable(b, 120) }},
				{"text.txt", func(b *bytes.Buffer) error { return a.WriteText(b, TextStyle{Width: 80}) }},
				{"json", func(b *bytes.Buffer) error { return a.WriteJSON(b) }},
				{"ndjson", func(b *bytes.Buffer) error { return a.WriteNDJSON(b) }},
				{"sarif", func(b *bytes.Buffer) error { return a.WriteSARIF(b) }},
				{"junit.xml", func(b *bytes.Buffer) error { return a.WriteJUnit(b) }},
				{"github.txt", func(b *bytes.Buffer) error { return a.WriteGitHub(b, "") }},
				{"md", func(b *bytes.Buffer) error { return a.WriteMarkdown(b) }},
				{"explain.txt", func(b *bytes.Buffer) error { return a.WriteExplain(b, a.FindingIDs(), 0) }},
				{"timesketch.jsonl", func(b *bytes.Buffer) error { return a.WriteTimesketch(b) }},
			} {
				var b bytes.Buffer
				if err := f.write(&b); err != nil {
					t.Fatalf("%s: %v", f.ext, err)
				}
				checkGolden(t, filepath.Join("..", "testdata", "golden", "audit", name+"."+f.ext), b.Bytes())
			}
		})
	}
}

// TestSARIFValidates checks the SARIF output, as written, against the
// SARIF 2.1.0 JSON schema.
func TestSARIFValidates(t *testing.T) {
	for name, files := range raceSets {
		a := auditLogs(t, rules.Error, files...)
		var b bytes.Buffer
		if err := a.WriteSARIF(&b); err != nil {
			t.Fatal(err)
		}
		rep, err := sarif.FromBytes(b.Bytes(), sarif.WithStrictValidation())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := rep.Validate(); err != nil {
			t.Errorf("%s: SARIF does not validate: %v", name, err)
		}
		var doc struct {
			Runs []struct {
				Results []struct {
					RuleID              string            `json:"ruleId"`
					PartialFingerprints map[string]string `json:"partialFingerprints"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Runs) != 1 || len(doc.Runs[0].Results) != len(a.Findings) {
			t.Fatalf("%s: %d runs, want 1 with %d results", name, len(doc.Runs), len(a.Findings))
		}
		for k, r := range doc.Runs[0].Results {
			if r.RuleID != a.Findings[k].Rule || r.PartialFingerprints[fingerprintKey] != a.Findings[k].Fingerprint {
				t.Errorf("%s: result %d = %+v, want rule %s fingerprint %s", name, k, r, a.Findings[k].Rule, a.Findings[k].Fingerprint)
			}
		}
	}
}

// TestJUnitWellFormed: the JUnit XML parses and counts a failure per
// finding at or above --fail-on.
func TestJUnitWellFormed(t *testing.T) {
	for _, tc := range []struct {
		failOn   rules.Severity
		failures int
	}{{rules.Error, 4}, {rules.Warning, 5}, {rules.Info, 5}} {
		a := auditLogs(t, tc.failOn, raceSets["race-1.6.2-info"]...)
		var b bytes.Buffer
		if err := a.WriteJUnit(&b); err != nil {
			t.Fatal(err)
		}
		var doc junitSuites
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Failures != tc.failures {
			t.Errorf("fail on %s: %d failures, want %d", tc.failOn, doc.Failures, tc.failures)
		}
	}
}

// TestGitHubAnnotationLimit: at most 10 annotations of each kind; the rest
// are counted on the summary line and written to the step summary.
func TestGitHubAnnotationLimit(t *testing.T) {
	a := auditLogs(t, rules.Error, raceSets["race-1.6.2-info"]...)
	f := a.Findings[0]
	for i := 0; i < 25; i++ {
		g := f
		g.Message = "copy"
		g.ID = f.ID + string(rune('a'+i))
		a.Findings = append(a.Findings, g)
	}
	summary := filepath.Join(t.TempDir(), "summary.md")
	var b bytes.Buffer
	if err := a.WriteGitHub(&b, summary); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "::error "); n != 10 {
		t.Errorf("%d error annotations, want 10", n)
	}
	if !strings.Contains(b.String(), "more not annotated") {
		t.Errorf("summary line does not count the rest:\n%s", b.String())
	}
	md, err := os.ReadFile(summary)
	if err != nil || strings.Count(string(md), "## ") < len(a.Findings) {
		t.Errorf("step summary holds %d sections, want every finding (%d): %v", strings.Count(string(md), "## "), len(a.Findings), err)
	}
}

// TestREADMESession: the session docs/session.md shows is what audit and
// explain print today (COLUMNS=80; -update rewrites it), and every line of
// the README's shortened excerpt is one of them, so neither can drift.
func TestREADMESession(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	session, err := os.ReadFile(filepath.Join("..", "docs", "session.md"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, n := range []string{"legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"} {
		paths = append(paths, filepath.Join("..", "testdata", "logs", n))
	}
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// as the README's command names them, from the repository's root
	for i := range res.Files {
		res.Files[i].Path = "testdata/logs/" + filepath.Base(res.Files[i].Path)
	}
	for i := range res.Inputs {
		res.Inputs[i].Path = "testdata/logs/" + filepath.Base(res.Inputs[i].Path)
	}
	m := reconstruct.Build(res)
	a := &Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}
	var table, story bytes.Buffer
	if err := a.WriteText(&table, TextStyle{Width: 80}); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteExplain(&story, []string{"c4b0db28"}, 80); err != nil {
		t.Fatal(err)
	}
	if *update {
		// each command's block runs from its "$ slotaudit …" line to the fence
		doc := string(session)
		for cmd, out := range map[string]string{"$ slotaudit audit ": table.String(), "$ slotaudit explain ": story.String()} {
			at := strings.Index(doc, cmd)
			if at < 0 {
				t.Fatalf("docs/session.md has no %q block", cmd)
			}
			from := at + strings.Index(doc[at:], "\n") + 1
			to := from + strings.Index(doc[from:], "```")
			doc = doc[:from] + out + doc[to:]
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "session.md"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		session = []byte(doc)
	}
	for what, out := range map[string]string{"audit table": table.String(), "explain story": story.String()} {
		if !strings.Contains(string(session), out) {
			t.Errorf("docs/session.md's %s is not what slotaudit prints now; regenerate it:\n%s", what, out)
		}
	}
	// the README's excerpt: between its audit command and the closing fence
	_, excerpt, _ := strings.Cut(string(readme), "$ slotaudit audit testdata/logs/legacy-1.8.2-race-debug-tm.log")
	excerpt, _, _ = strings.Cut(excerpt, "```")
	lines := strings.Split(strings.TrimSpace(excerpt), "\n")[1:] // after the command's own line
	if len(lines) < 5 {
		t.Fatalf("the README's session excerpt is missing (%d lines)", len(lines))
	}
	for _, l := range lines {
		if l != "…" && !strings.Contains(table.String(), l+"\n") {
			t.Errorf("the README's session line %q is not in what audit prints now", l)
		}
	}
}
