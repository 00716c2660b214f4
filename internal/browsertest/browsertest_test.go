package browsertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// csp is the policy of a self-contained page: nothing loads, the one inline
// script runs by its hash.
func csp(script string) string {
	sum := sha256.Sum256([]byte(script))
	return `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-` +
		base64.StdEncoding.EncodeToString(sum[:]) + `'">`
}

// writePage writes an HTML page into dir and returns its path.
func writePage(t *testing.T, dir, name, html string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHarness proves the harness in one browser: it sees what pages that
// misbehave on purpose do (so a page test that passes means the page is
// quiet, not that the harness was deaf), and drives a page as a reader.
func TestHarness(t *testing.T) {
	b := Start(t)
	t.Run("sees", func(t *testing.T) { testSees(t, b) })
	t.Run("drives", func(t *testing.T) { testDrives(t, b) })
}

// testSees opens one page per way to misbehave and checks what was
// recorded, in order.
func testSees(t *testing.T, b *Browser) {
	dir := t.TempDir()
	const quietScript = `document.getElementById('out').textContent = 'ran';`
	cases := []struct {
		name     string
		html     string
		requests []string // ends of Request.String(), in order
		problems []string // substrings, one per problem, in order
		// anyOrder: each of problems is said by one problem or more, in
		// any order, and every problem says one of them (how many times a
		// browser reports a blocked handler, and in which order, moved
		// between Chromium releases: 156.0.8078.114 reports the SVG
		// onload too, and the handlers before the image)
		anyOrder bool
		csp      bool     // the problems are CSP violations
		dialogs  []string // messages
	}{
		{name: "quiet", html: csp(quietScript) + `<p id=out></p><script>` + quietScript + `</script>`},
		{name: "image", html: `<img src="missing.png">`, requests: []string{"/missing.png"}, problems: []string{"ERR_FILE_NOT_FOUND"}},
		{name: "fetch", html: `<script>fetch('http://127.0.0.1:9/x').catch(() => {})</script>`, requests: []string{"http://127.0.0.1:9/x"}, problems: []string{"127.0.0.1:9"}},
		{name: "console error", html: `<script>console.error('bad', 42)</script>`, problems: []string{"bad 42"}},
		{name: "exception", html: `<script>null.x</script>`, problems: []string{"TypeError"}},
		{name: "rejection", html: `<script>Promise.reject(new Error('nope'))</script>`, problems: []string{"nope"}},
		{name: "alert", html: `<p id=out></p><script>alert('hi'); confirm('sure?'); document.getElementById('out').textContent = 'went on'</script>`, dialogs: []string{"hi", "sure?"}},
		{name: "csp image", html: csp("") + `<img src="blocked.png">`, requests: []string{"/blocked.png (blocked: csp)"}, problems: []string{"img-src", "img-src"}, csp: true},
		{name: "csp inline script", html: csp(quietScript) + `<p id=out></p><script>alert('not run')</script>`, problems: []string{"script-src", "script-src"}, csp: true},
		{name: "csp inline handler", html: csp("") + `<svg><rect width=9 height=9 onload="alert(2)"/></svg><img src=x onerror="alert(3)">`, requests: []string{"/x (blocked: csp)"}, problems: []string{"img-src", "script-src"}, anyOrder: true, csp: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Open(t, writePage(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".html", tc.html))
			p.Settle()
			t.Logf("requests %v\nproblems %q\ndialogs %v", p.Requests(), p.Problems(), p.Dialogs())
			if len(tc.requests)+len(tc.problems)+len(tc.dialogs) == 0 {
				p.AssertQuiet()
				var out string
				p.Eval(`document.getElementById('out').textContent`, &out)
				if out != "ran" {
					t.Errorf("the hashed inline script did not run: #out is %q", out)
				}
				return
			}
			reqs := p.Requests()
			if len(reqs) != len(tc.requests) {
				t.Errorf("requests %v, want %d", reqs, len(tc.requests))
			}
			for i := range min(len(reqs), len(tc.requests)) {
				if !strings.HasSuffix(reqs[i].String(), tc.requests[i]) {
					t.Errorf("request %d is %s, want …%s", i, reqs[i], tc.requests[i])
				}
			}
			probs := p.Problems()
			if tc.anyOrder {
				said := map[string]bool{}
				for i, pr := range probs {
					var which string
					for _, want := range tc.problems {
						if strings.Contains(pr.String(), want) {
							which = want
						}
					}
					if which == "" {
						t.Errorf("problem %d is %q, want it to say one of %q", i, pr, tc.problems)
					}
					said[which] = true
				}
				for _, want := range tc.problems {
					if !said[want] {
						t.Errorf("no problem says %q: %q", want, probs)
					}
				}
			} else if len(probs) != len(tc.problems) {
				t.Errorf("problems %q, want %d", probs, len(tc.problems))
			}
			for i := range min(len(probs), len(tc.problems)) {
				if !tc.anyOrder && !strings.Contains(probs[i].String(), tc.problems[i]) {
					t.Errorf("problem %d is %q, want it to say %q", i, probs[i], tc.problems[i])
				}
			}
			for i, pr := range probs {
				if tc.csp && !pr.CSP() {
					t.Errorf("problem %d is %q, want a CSP violation", i, pr)
				}
			}
			var kinds []string
			for _, pr := range probs {
				kinds = append(kinds, pr.Kind)
			}
			if tc.csp && !(strings.Contains(strings.Join(kinds, ","), "csp") && strings.Contains(strings.Join(kinds, ","), "log.error")) {
				t.Errorf("CSP violation seen as %v, want both the securitypolicyviolation event and the browser's log entry", kinds)
			}
			dialogs := p.Dialogs()
			if len(dialogs) != len(tc.dialogs) {
				t.Errorf("dialogs %v, want %q", dialogs, tc.dialogs)
			}
			for i := range min(len(dialogs), len(tc.dialogs)) {
				if dialogs[i].Message != tc.dialogs[i] {
					t.Errorf("dialog %d says %q, want %q", i, dialogs[i].Message, tc.dialogs[i])
				}
			}
			if len(tc.dialogs) > 0 {
				var out string
				p.Eval(`document.getElementById('out').textContent`, &out)
				if out != "went on" {
					t.Errorf("the page did not go on after its dialogs were dismissed: #out is %q", out)
				}
			}
		})
	}
}

// testDrives: hover, focus, click and a screenshot reach the page as a
// reader's would.
func testDrives(t *testing.T, b *Browser) {
	script := `
const out = document.getElementById('out');
for (const r of document.querySelectorAll('rect')) {
  r.addEventListener('mouseenter', () => { out.textContent = 'hover ' + r.id; });
  r.addEventListener('focus', () => { out.textContent = 'focus ' + r.id; });
  r.addEventListener('click', () => setTimeout(() => { document.body.dataset.late = r.id; }, 150));
}`
	html := csp(script) + `<style>body{margin:0} #far{margin-top:3000px}</style>
<p id=out>nothing</p>
<svg width=600 height=100><rect id=a x=10 y=10 width=100 height=30 tabindex=0 fill=teal /><rect id=b x=300 y=10 width=100 height=30 tabindex=0 fill=navy /></svg>
<p><a id=jump href="#far">jump</a></p><h2 id=far>far below</h2>
<script>` + script + `</script>`
	p := b.Open(t, writePage(t, t.TempDir(), "drive.html", html))
	out := func() string { return p.Texts("#out")[0] }
	p.Hover("#b")
	if got := out(); got != "hover b" {
		t.Errorf("after Hover(#b): %q", got)
	}
	p.Focus("#a")
	if got := out(); got != "focus a" {
		t.Errorf("after Focus(#a): %q", got)
	}
	p.Click("#a")
	if !p.WaitFor(`document.body.dataset.late === 'a'`, 2*time.Second) {
		t.Error("WaitFor did not see what the click set off 150 ms later")
	}
	if r := p.Rect("#far"); r.Top < Height {
		t.Fatalf("#far is already in view (top %.0f), the click would prove nothing", r.Top)
	}
	p.Click("#jump")
	if r := p.Rect("#far"); r.Top < -1 || r.Top >= Height {
		t.Errorf("after clicking the link #far is at top %.0f, want within the %d px viewport", r.Top, Height)
	}
	if got := p.Attrs("rect"); len(got) != 2 || got[1]["id"] != "b" || got[1]["tabindex"] != "0" {
		t.Errorf("Attrs(rect) = %v", got)
	}
	png := p.Screenshot("svg", 10)
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot is not a PNG: % x", png[:min(8, len(png))])
	}
	p.AssertQuiet()
}
