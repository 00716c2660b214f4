package logstore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/logstore/vlogstest"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// TestPushdownChangesNoVerdict: the bundled logs, each cut down to the
// records a store returns under the pushdown (flinklog.PushdownWords),
// give the same findings, with the same fingerprints, messages and
// evidence text, and the same account of each input's version, identity
// and slots, as the whole logs. A record is a line and the continuation
// lines below it (indented, "Caused by:", exception headers), as a
// shipper with a multi-line rule sends it.
func TestPushdownChangesNoVerdict(t *testing.T) {
	logs := filepath.Join("..", "testdata", "logs")
	entries, err := os.ReadDir(logs)
	if err != nil {
		t.Fatal(err)
	}
	checked, findings := 0, 0
	for _, e := range entries {
		name := e.Name()
		// a YARN aggregation's framing lines are no store's records
		if strings.Contains(name, "yarn") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var files []string
			if e.IsDir() {
				inner, err := os.ReadDir(filepath.Join(logs, name))
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range inner {
					files = append(files, filepath.Join(name, f.Name()))
				}
			} else {
				files = []string{name}
			}
			whole, cut := t.TempDir(), t.TempDir()
			kept, all := 0, 0
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(logs, f))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
					t.Skip("gzip")
				}
				var out bytes.Buffer
				for _, rec := range vlogstest.Records(string(b), flinklog.LooksLikeExceptionHeader) {
					all++
					if flinklog.MatchesPushdown(rec) {
						kept++
						out.WriteString(rec)
					}
				}
				for _, dir := range []string{whole, cut} {
					if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(whole, f), b, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(cut, f), out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			a, b := audit(t, whole), audit(t, cut)
			if a != b {
				t.Errorf("the pushdown changes the audit (%d of %d records kept)\nwhole log:\n%s\npushed down:\n%s", kept, all, a, b)
			}
			t.Logf("%d of %d records kept", kept, all)
			checked++
			findings += strings.Count(a, "finding ")
		})
	}
	if checked < 20 || findings < 10 {
		t.Fatalf("only %d logs with %d findings checked", checked, findings)
	}
}

var position = regexp.MustCompile(`([\w./-]+\.(log|json|txt)):\d+`)

// audit reads dir and says what an audit makes of it, positions left out
// (the cut log has fewer lines).
func audit(t *testing.T, dir string) string {
	t.Helper()
	res, err := parser.Read([]string{dir}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, in := range res.Inputs {
		rel, _ := filepath.Rel(dir, in.Path)
		fmt.Fprintf(&b, "input %s#%s: version %s (%s) resource %s (%s) slots %d components %v\n",
			rel, in.Stream, in.FlinkVersion, in.VersionSource, in.ResourceID, in.ResourceIDSource, in.Slots, in.Components)
	}
	m := reconstruct.Build(res)
	fs := rules.Run(m, rules.All)
	lines := make([]string, 0, len(fs))
	for _, f := range fs {
		var ev []string
		for _, e := range f.Evidence {
			ev = append(ev, e.Text+" | "+e.Says)
		}
		lines = append(lines, fmt.Sprintf("finding %s %s %s %s: %s\n  %s", f.Fingerprint, f.Rule, f.Severity, f.Resource, f.Message, strings.Join(ev, "\n  ")))
	}
	slices.Sort(lines)
	b.WriteString(strings.Join(lines, "\n"))
	// the cut log has fewer lines: positions differ, and so do the dirs
	out := strings.ReplaceAll(b.String(), dir+string(filepath.Separator), "")
	return position.ReplaceAllString(out, "$1:N")
}
