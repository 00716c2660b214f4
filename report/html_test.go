package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// htmlOf writes the HTML page of an audit.
func htmlOf(t *testing.T, a *Audit) string {
	t.Helper()
	var b bytes.Buffer
	if err := a.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// between returns the text between the first open and the close after it.
func between(s, open, close string) string {
	i := strings.Index(s, open)
	if i < 0 {
		return ""
	}
	s = s[i+len(open):]
	if j := strings.Index(s, close); j >= 0 {
		return s[:j]
	}
	return ""
}

var (
	anyURL     = regexp.MustCompile(`(?i)(https?:|ftp:|//[a-z0-9]|url\((?:["']?)[^#"'])`)
	attrLink   = regexp.MustCompile(`(?i)\s(href|src|xlink:href|action|srcset|poster|data)=("[^"]*"|'[^']*'|[^\s>]+)`)
	onHandler  = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	cspSources = regexp.MustCompile(`(script|style)-src ('sha256-[A-Za-z0-9+/=]+')`)
)

// TestHTMLIsSelfContained: for every bundled incident, the page refers to
// nothing outside itself (no URL, no src, links only to its own
// fragments), holds one script and one style, and its Content Security
// Policy allows exactly those two, by hash, and nothing else.
func TestHTMLIsSelfContained(t *testing.T) {
	cases := [][]string{
		{"legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"},
		{"fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log"},
		{"fixed-1.18.1-dynamic-slots-tm.log"},
		{"sim-1.12.7-heartbeat-timeout"},
		{"sim-1.11.6-tm-restart"},
	}
	for _, names := range cases {
		t.Run(names[0], func(t *testing.T) {
			page := htmlOf(t, auditLogs(t, rules.Error, names...))
			if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
				t.Fatal("not a whole page")
			}
			if m := anyURL.FindString(page); m != "" {
				t.Errorf("the page names something outside itself: %q", m)
			}
			for _, m := range attrLink.FindAllStringSubmatch(page, -1) {
				if m[1] != "href" || !strings.HasPrefix(strings.Trim(m[2], `"'`), "#") {
					t.Errorf("a link out of the page: %s", m[0])
				}
			}
			if onHandler.MatchString(page) {
				t.Errorf("an inline event handler: %s", onHandler.FindString(page))
			}
			if n, m := strings.Count(page, "<script"), strings.Count(page, "<style"); n != 1 || m != 1 {
				t.Fatalf("%d scripts and %d styles; want one each", n, m)
			}
			csp := html.UnescapeString(between(page, `http-equiv="Content-Security-Policy" content="`, `"`))
			if !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("the CSP does not forbid by default: %q", csp)
			}
			want := map[string]string{
				"script": hashOf(between(page, "<script>", "</script>")),
				"style":  hashOf(between(page, "<style>", "</style>")),
			}
			got := map[string]string{}
			for _, m := range cspSources.FindAllStringSubmatch(csp, -1) {
				got[m[1]] = m[2]
			}
			for kind, h := range want {
				if got[kind] != h {
					t.Errorf("the CSP allows %s %s; the page's %s hashes to %s", kind, got[kind], kind, h)
				}
			}
			if strings.Contains(page, "style=") {
				t.Error("an inline style attribute: the CSP would block it")
			}
		})
	}
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// TestHTMLEscapesLogText: a job whose operator is named to attack the page
// (a script, the end of the SVG, a javascript: URL, quotes, a terminal
// escape) reaches the page as text only: in the stories, in the evidence
// of the bars and in attributes.
func TestHTMLEscapesLogText(t *testing.T) {
	const hostile = `<script>alert(1)</script></svg><img src=x onerror=alert(2)> javascript:alert(3) "q" 'a' ` + "owned\x07\x1b[2J"
	dir := t.TempDir()
	for _, n := range []string{"legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "logs", n))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("Source: orders"), []byte("Source: "+hostile))
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := parser.Read([]string{dir}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	page := htmlOf(t, &Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All})
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;&lt;img src=x onerror=alert(2)&gt;") {
		t.Fatal("the hostile operator name does not reach the page as text: the test proves nothing")
	}
	for _, raw := range []string{"<script>alert", "</svg><img", "<img", "\x1b", `"q"`} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds %q raw", raw)
		}
	}
	if strings.Count(page, "<script") != 1 || onHandler.MatchString(page) {
		t.Error("the hostile text added a script or an event handler")
	}
	if i := strings.Index(page, "owned"); i < 0 || !strings.Contains(page, `owned\x07`) {
		t.Errorf("the terminal escape is not shown as text: %q", page[max(0, i-40):i+40])
	}
}

// TestHTMLDrawsTheRace: the FLINK-14589 race, drawn. On the legacy chart
// the first slot of c81f… (index 2) is a zombie to the end of the evidence
// and an overwrite marks it; on the fixed chart beside it, the same
// AllocationID's slot is freed and nothing is a zombie. Rows are the
// TaskManager's slots.
func TestHTMLDrawsTheRace(t *testing.T) {
	page := htmlOf(t, auditLogs(t, rules.Error, "legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"))
	charts := strings.Split(page, `<svg class="occupancy"`)[1:]
	if len(charts) != 2 || !strings.Contains(charts[0], `data-semantics="legacy"`) || !strings.Contains(charts[1], `data-semantics="fixed"`) {
		t.Fatalf("%d charts; want the legacy table and the fixed one", len(charts))
	}
	rows := regexp.MustCompile(`data-slot="([^"]*)"`)
	for _, c := range charts {
		var got []string
		for _, m := range rows.FindAllStringSubmatch(c, -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, ",") != "0,1,2" {
			t.Errorf("rows %v; want the three slots the TaskManager has", got)
		}
	}
	zombie := regexp.MustCompile(`data-alloc="c81f4e2a9b3d5f7061e2d4c6b8a09f13"[^>]*data-zombie="true"[^>]*data-end="([^"]*)" data-end-reason="end-of-evidence"`)
	m := zombie.FindStringSubmatch(charts[0])
	if m == nil {
		t.Fatal("no zombie bar of c81f4e2a… on the legacy chart")
	}
	if m[1] != "2020-03-17T14:07:02.600" { // the JobManager's last line: the end of the evidence
		t.Errorf("the zombie ends at %s; want the last line of the logs", m[1])
	}
	if !strings.Contains(charts[0], `class="marker" data-kind="overwrite"`) {
		t.Error("no overwrite marker on the legacy chart")
	}
	if strings.Contains(charts[1], `data-zombie="true"`) {
		t.Error("the fixed table would have left a zombie")
	}
}

// TestHTMLBriefPastMaxStories: past maxStories findings, the rest keep
// their article (markers and the finding list link to it) without the
// story or the diagram, and the page says so.
func TestHTMLBriefPastMaxStories(t *testing.T) {
	defer func(n int) { maxStories = n }(maxStories)
	maxStories = 2
	a := auditLogs(t, rules.Error, "legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")
	page := htmlOf(t, a)
	ids := a.FindingIDs()
	if len(ids) <= 2 {
		t.Fatalf("%d findings: the test needs more than 2", len(ids))
	}
	for _, id := range ids {
		if !strings.Contains(page, `id="finding-`+id+`"`) {
			t.Errorf("no article for finding %s", id)
		}
	}
	if got := strings.Count(page, `<ol class="story">`); got != 2 {
		t.Errorf("%d stories told; want 2", got)
	}
	if !strings.Contains(page, fmt.Sprintf("the other %d are shown briefly", len(ids)-2)) {
		t.Error("the page does not say that findings are shown briefly")
	}
}

// TestHTMLDrawsRestart: a TaskManager container restarted under the same
// ResourceID is one chart with a break where the new process begins; the
// slots the first process still held end there ("restart"), and the new
// process's table starts empty.
func TestHTMLDrawsRestart(t *testing.T) {
	page := htmlOf(t, auditLogs(t, rules.Error, "fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log"))
	charts := strings.Split(page, `<svg class="occupancy"`)[1:]
	if len(charts) != 1 {
		t.Fatalf("%d charts; want one for the one TaskManager", len(charts))
	}
	if n := strings.Count(charts[0], `class="break restart"`); n != 1 {
		t.Errorf("%d restart breaks; want 1", n)
	}
	if n := strings.Count(charts[0], `data-end-reason="restart"`); n != 2 {
		t.Errorf("%d bars end at the restart; want the 2 slots the first process held", n)
	}
}
