// Package browsertest runs pages in a real headless Chromium for tests: it
// opens a local file (never a server: a file:// URL from t.TempDir()),
// records what the page did that a self-contained report must never do, and
// drives it as a reader would (hover, focus, click).
//
// It is for tests only; nothing outside _test.go files imports it.
//
// What a [Page] records, from the moment its tab opens:
//
//   - every network request ([Page.Requests]): any request whose URL is not
//     the page's own file:// URL (fragment aside) or a data: URL, also one
//     the browser then blocked (by the page's Content-Security-Policy…);
//   - problems ([Page.Problems]): console.error and console.assert calls,
//     uncaught exceptions and unhandled rejections, browser log entries of
//     level error, and Content-Security-Policy violations — both as the
//     browser logs them and as securitypolicyviolation events, caught in an
//     isolated world the page cannot see;
//   - JavaScript dialogs ([Page.Dialogs]): alert, confirm, prompt and
//     beforeunload, each dismissed as it opens so the page goes on.
//
// [Page.AssertQuiet] fails the test on any of them.
//
// The browser ([Find]): $CHROMIUM, else the first of /usr/bin/chromium and
// chromium, chromium-browser, google-chrome, google-chrome-stable on PATH,
// started with chromedp's exec allocator: headless, --no-sandbox (CI runs as
// root), --disable-gpu, a 1400x900 window at device scale factor 1, so that
// layouts and screenshots do not depend on the machine's screen. One
// browser serves a test and its subtests; each [Browser.Open] is a new tab.
//
// [Start] skips the test under go test -short, and when no browser is
// found — unless $SLOTAUDIT_BROWSER_REQUIRED is set (.ci/run sets it): then
// a missing browser fails the test. -short always skips.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Environment variables the harness reads.
const (
	// BrowserEnv names the browser binary to run, before any default.
	BrowserEnv = "CHROMIUM"
	// RequiredEnv, set to anything but "" or "0", turns "no browser found"
	// from a skip into a failure: CI sets it so the browser tests cannot
	// pass by not running.
	RequiredEnv = "SLOTAUDIT_BROWSER_REQUIRED"
)

// Width and Height are the window's size in CSS pixels, fixed so that
// layouts and screenshots do not depend on the machine.
const (
	Width  = 1400
	Height = 900
)

// Timeout bounds every single action on a page (an evaluation, a hover, a
// load); a page that hangs fails its test instead of the whole run.
var Timeout = 30 * time.Second

// candidates are tried in order when $CHROMIUM is not set: Debian's
// chromium first, then what other distributions and Google ship.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of the browser to run: $CHROMIUM if set (an error if
// it does not run), else the first candidate found.
func Find() (string, error) {
	if p := os.Getenv(BrowserEnv); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("$%s=%s: %w", BrowserEnv, p, err)
		}
		return path, nil
	}
	for _, c := range candidates {
		if path, err := exec.LookPath(c); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no browser found (tried $%s, %s)", BrowserEnv, strings.Join(candidates, ", "))
}

// Required reports whether $SLOTAUDIT_BROWSER_REQUIRED asks that a missing
// browser fail the tests.
func Required() bool {
	v := os.Getenv(RequiredEnv)
	return v != "" && v != "0"
}

// Browser is one headless browser process; every [Browser.Open] is a new tab
// in it. It stops when the test that started it ends.
type Browser struct {
	Path string // the binary that runs
	ctx  context.Context
}

// Start starts a browser for t and its subtests, or skips t: under -short,
// and when no browser is found and [Required] is false. A browser that is
// found but does not start, three times over, fails t.
func Start(t testing.TB) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests need chromium: apt-get install chromium; skipped with -short")
	}
	path, err := Find()
	if err != nil {
		if Required() {
			t.Fatalf("browser tests need chromium: apt-get install chromium, or set $%s; $%s is set, so this fails: %v", BrowserEnv, RequiredEnv, err)
		}
		t.Skipf("browser tests need chromium: apt-get install chromium, or set $%s (%v); skipped because $%s is not set", BrowserEnv, err, RequiredEnv)
	}
	// A browser that dies while it starts (seen once in about a hundred starts
	// on a loaded machine, with nothing in its output but D-Bus noise) gets two
	// more tries; one that does not start three times fails the test.
	var errs []string
	for try := 1; try <= 3; try++ {
		start := time.Now()
		ctx, stop, err := launch(path, t.TempDir())
		if err == nil {
			t.Cleanup(stop)
			t.Logf("browser %s started in %v", path, time.Since(start).Round(time.Millisecond))
			return &Browser{Path: path, ctx: ctx}
		}
		stop()
		errs = append(errs, fmt.Sprintf("try %d: %v", try, err))
		t.Logf("starting %s, try %d: %v", path, try, err)
	}
	t.Fatalf("starting %s:\n%s", path, strings.Join(errs, "\n"))
	return nil
}

// launch starts the browser at path with its profile in dir, and returns
// its context and what stops it.
func launch(path, dir string) (context.Context, func(), error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.WindowSize(Width, Height),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(dir),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stop := func() { cancel(); cancelAlloc() }
	// Start the browser now, and with no timeout: the first run's context
	// is the browser's life.
	return ctx, stop, chromedp.Do(ctx)
}

// Request is a network request a page made (or tried to: a request the
// browser blocked still counts).
type Request struct {
	ID      string
	URL     string
	Type    string // the resource type: Image, Script, Fetch…
	Blocked string // why the browser blocked it ("csp"…), when it did
}

func (r Request) String() string {
	s := r.Type + " " + r.URL
	if r.Blocked != "" {
		s += " (blocked: " + r.Blocked + ")"
	}
	return s
}

// Problem is something a page reported that a healthy page does not.
type Problem struct {
	// Kind: "console.error", "console.assert", "exception", "log.error"
	// (a browser log entry: blocked loads, CSP…) or "csp" (a
	// securitypolicyviolation event).
	Kind string
	Text string
}

func (p Problem) String() string { return p.Kind + ": " + p.Text }

// CSP reports whether the problem is a Content-Security-Policy violation.
func (p Problem) CSP() bool {
	return p.Kind == "csp" || strings.Contains(p.Text, "Content Security Policy")
}

// Dialog is a JavaScript dialog a page opened; the harness dismissed it.
type Dialog struct {
	Type    string // alert, confirm, prompt, beforeunload
	Message string
}

// Page is one tab showing one file, and what it did since the tab opened;
// p.URL is the file:// URL it opened. Its methods report failures to the
// test that opened it; [Page.With] hands it to a subtest.
type Page struct {
	t testing.TB
	*tab
}

// tab is the tab behind a Page and its recordings.
type tab struct {
	// URL is the file:// URL the tab opened.
	URL string

	ctx context.Context

	mu       sync.Mutex
	requests []Request
	problems []Problem
	dialogs  []Dialog
}

// With returns the same page (same tab, same recordings) reporting its
// failures to t: a subtest that uses a page its parent opened must use it
// through With, as a test may only be stopped from its own goroutine.
func (p *Page) With(t testing.TB) *Page { return &Page{t: t, tab: p.tab} }

// cspWorld is the isolated world that listens for securitypolicyviolation
// events: the page cannot see or remove the listener, and it adds no
// element to the page.
const cspWorld = "browsertest"

// cspBinding is the function the listener calls; it exists only in cspWorld.
const cspBinding = "browsertestCSPViolation"

const cspListener = `document.addEventListener('securitypolicyviolation', e => ` + cspBinding + `(
  e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + (e.sample ? ' (' + e.sample + ')' : '')), true);`

// Open opens the file at path in a new tab, waits for it to load, and
// returns the page; the tab closes when t ends. Recording starts before the
// navigation, so nothing the page does while loading is missed.
func (b *Browser) Open(t testing.TB, path string) *Page {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &Page{t: t, tab: &tab{URL: (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()}}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(p.record))
	t.Cleanup(cancel)
	p.ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no timeout: it would close the tab
		t.Fatalf("opening a tab: %v", err)
	}
	p.call(func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: cspBinding, ExecutionContextName: cspWorld}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener, WorldName: cspWorld}); err != nil {
			return err
		}
		return chromedp.Do(ctx,
			chromedp.EmulateViewport(Width, Height, chromedp.EmulateScale(1)),
			chromedp.Navigate(p.URL),
		)
	}, "loading %s", p.URL)
	p.Settle()
	return p
}

// record runs for every event of the tab, in the order the browser sent
// them. It runs in chromedp's read loop, so it must be quick and must not
// send commands: dismissing a dialog goes to a goroutine.
func (p *tab) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil && p.isRequest(ev.Request.URL) {
			p.requests = append(p.requests, Request{ID: string(ev.RequestID), URL: ev.Request.URL, Type: string(ev.Type)})
		}
	case *network.EventLoadingFailed:
		for i := range p.requests {
			if p.requests[i].ID == string(ev.RequestID) && ev.BlockedReason != "" {
				p.requests[i].Blocked = string(ev.BlockedReason)
			}
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.problems = append(p.problems, Problem{"console." + string(ev.Type), consoleText(ev.Args)})
		}
	case *runtime.EventExceptionThrown:
		p.problems = append(p.problems, Problem{"exception", exceptionText(ev.ExceptionDetails)})
	case *log.EventEntryAdded:
		if ev.Entry != nil && ev.Entry.Level == log.EntryLevelError {
			text := string(ev.Entry.Source) + ": " + ev.Entry.Text
			if ev.Entry.URL != "" && !strings.Contains(text, ev.Entry.URL) {
				text += " (" + ev.Entry.URL + ")"
			}
			p.problems = append(p.problems, Problem{"log.error", text})
		}
	case *runtime.EventBindingCalled:
		if ev.Name == cspBinding {
			p.problems = append(p.problems, Problem{"csp", ev.Payload})
		}
	case *page.EventJavascriptDialogOpening:
		p.dialogs = append(p.dialogs, Dialog{Type: string(ev.Type), Message: ev.Message})
		go func() {
			// Dismiss it, or the page (and the action that waits on it)
			// stalls; an error means the tab is gone, and then so is the dialog.
			_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	}
}

// isRequest reports whether loading u counts as a network request: anything
// but the page itself and data: URLs.
func (p *tab) isRequest(u string) bool {
	if strings.HasPrefix(u, "data:") {
		return false
	}
	base, _, _ := strings.Cut(u, "#")
	return base != p.URL
}

func consoleText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			} else {
				parts = append(parts, string(a.Value))
			}
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// Requests returns the network requests the page made so far.
func (p *Page) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// Problems returns the console errors, exceptions and CSP violations so far.
func (p *Page) Problems() []Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Problem(nil), p.problems...)
}

// Dialogs returns the JavaScript dialogs the page opened so far.
func (p *Page) Dialogs() []Dialog {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Dialog(nil), p.dialogs...)
}

// AssertQuiet fails the test (without stopping it) for every network
// request, problem and dialog recorded so far, after letting pending events
// arrive.
func (p *Page) AssertQuiet() {
	t := p.t
	t.Helper()
	p.Settle()
	for _, r := range p.Requests() {
		t.Errorf("network request: %s", r)
	}
	for _, pr := range p.Problems() {
		t.Errorf("%s", pr)
	}
	for _, d := range p.Dialogs() {
		t.Errorf("%s dialog opened: %q", d.Type, d.Message)
	}
}

// Settle returns once the page has rendered two frames and run the tasks
// queued before them, and their events have arrived: what a hover or a click
// set off has happened.
func (p *Page) Settle() {
	p.t.Helper()
	p.Eval(`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))))`, nil, chromedp.EvalAwaitPromise)
}

// call runs f with a context limited by Timeout and fails the test with what
// it was doing when f fails.
func (p *Page) call(f func(ctx context.Context) error, what string, args ...any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, Timeout)
	defer cancel()
	if err := f(ctx); err != nil {
		p.t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// Eval evaluates the JavaScript expression js in the page and decodes its
// JSON value into out (nil: the value is ignored). It fails the test if js
// throws. The evaluation is the harness's, not the page's: it is not
// subject to the page's Content-Security-Policy.
func (p *Page) Eval(js string, out any, opts ...chromedp.EvaluateOption) {
	p.t.Helper()
	p.call(func(ctx context.Context) error {
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, opts...))
		if err != nil || out == nil {
			return err
		}
		if len(raw) == 0 {
			return errors.New("the expression's value is undefined")
		}
		return json.Unmarshal(raw, out)
	}, "evaluating %.200s", js)
}

// WaitFor evaluates the JavaScript condition js until it is true, for at
// most timeout, and reports whether it became true: for what a page does a
// little later (a debounced hover, a smooth scroll).
func (p *Page) WaitFor(js string, timeout time.Duration) bool {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		p.Eval(`!!(`+js+`)`, &ok)
		if ok || time.Now().After(deadline) {
			return ok
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// JSString returns s as a JavaScript string literal, to put a Go value in
// an expression for [Page.Eval] or [Page.WaitFor].
func JSString(s string) string { return jsString(s) }

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Count returns how many elements match the CSS selector.
func (p *Page) Count(selector string) int {
	p.t.Helper()
	var n int
	p.Eval(`document.querySelectorAll(`+jsString(selector)+`).length`, &n)
	return n
}

// Attrs returns the attributes of every element that matches the selector,
// in document order.
func (p *Page) Attrs(selector string) []map[string]string {
	p.t.Helper()
	var out []map[string]string
	p.Eval(`Array.from(document.querySelectorAll(`+jsString(selector)+`), e =>
		Object.fromEntries(Array.from(e.attributes, a => [a.name, a.value])))`, &out)
	return out
}

// Texts returns the textContent of every element that matches the selector.
func (p *Page) Texts(selector string) []string {
	p.t.Helper()
	var out []string
	p.Eval(`Array.from(document.querySelectorAll(`+jsString(selector)+`), e => e.textContent)`, &out)
	return out
}

// Rect is an element's bounding box in CSS pixels, relative to the viewport.
type Rect struct {
	Left, Top, Width, Height float64
}

// Right returns the right edge.
func (r Rect) Right() float64 { return r.Left + r.Width }

// Bottom returns the bottom edge.
func (r Rect) Bottom() float64 { return r.Top + r.Height }

// Rect returns the bounding box of the first element that matches the
// selector, relative to the viewport as it is scrolled now.
func (p *Page) Rect(selector string) Rect {
	p.t.Helper()
	p.mustMatch(selector, 0)
	var r Rect
	p.Eval(`(() => { const b = document.querySelector(`+jsString(selector)+`).getBoundingClientRect();
		return {Left: b.left, Top: b.top, Width: b.width, Height: b.height}; })()`, &r)
	return r
}

// mustMatch fails the test at once when fewer than i+1 elements match the
// selector, rather than letting a query wait for them until Timeout.
func (p *Page) mustMatch(selector string, i int) {
	p.t.Helper()
	if n := p.Count(selector); n <= i {
		p.t.Fatalf("%d elements match %s, want at least %d", n, selector, i+1)
	}
}

// center scrolls element i (0-based, in document order) of those that
// match the selector into the middle of the viewport and returns a point
// where the mouse reaches it, in viewport coordinates: the centre of its
// box, or when something covers the centre, the first point of a 5x5 grid
// over the box that the element (or a descendant) is on top at. It fails
// the test when no such point exists: a reader's mouse could not reach it.
func (p *Page) center(selector string, i int) (x, y float64) {
	p.t.Helper()
	p.mustMatch(selector, i)
	var c struct {
		X, Y    float64
		Covered string
	}
	p.Eval(`(() => { const e = document.querySelectorAll(`+jsString(selector)+`)[`+fmt.Sprint(i)+`];
		e.scrollIntoView({block: 'center', inline: 'center'});
		const b = e.getBoundingClientRect();
		const on = (x, y) => { const h = document.elementFromPoint(x, y); return h && (h === e || e.contains(h)); };
		const points = [[0.5, 0.5]];
		for (const fy of [0.1, 0.3, 0.5, 0.7, 0.9]) for (const fx of [0.1, 0.3, 0.5, 0.7, 0.9]) points.push([fx, fy]);
		for (const [fx, fy] of points) {
			const x = b.left + b.width * fx, y = b.top + b.height * fy;
			if (on(x, y)) return {X: x, Y: y, Covered: ''};
		}
		const x = b.left + b.width / 2, y = b.top + b.height / 2, h = document.elementFromPoint(x, y);
		return {X: x, Y: y, Covered: h ? h.outerHTML.slice(0, 160) : '(nothing: outside the viewport)'}; })()`, &c)
	if c.Covered != "" {
		p.t.Fatalf("%s #%d: no point of its box reaches it; at its centre (%.0f, %.0f) is %s", selector, i, c.X, c.Y, c.Covered)
	}
	return c.X, c.Y
}

// Hover moves the mouse onto the first element that matches the selector.
func (p *Page) Hover(selector string) { p.t.Helper(); p.HoverNth(selector, 0) }

// HoverNth scrolls element i (0-based, in document order) of those that
// match the selector into view and moves the mouse onto it, at the centre of
// its box unless something covers that (an Input.dispatchMouseEvent
// mouseMoved, as a real mouse sends), then lets the page react.
func (p *Page) HoverNth(selector string, i int) {
	p.t.Helper()
	x, y := p.center(selector, i)
	p.call(func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, x, y))
	}, "hovering %s #%d at (%.0f, %.0f)", selector, i, x, y)
	p.Settle()
}

// Focus focuses the first element that matches the selector.
func (p *Page) Focus(selector string) { p.t.Helper(); p.FocusNth(selector, 0) }

// FocusNth focuses element i (0-based) of those that match the selector,
// as the Tab key would reach it (chromedp.Focus, DOM.focus), then lets the
// page react.
func (p *Page) FocusNth(selector string, i int) {
	p.t.Helper()
	p.mustMatch(selector, i)
	p.call(func(ctx context.Context) error {
		ids, err := chromedp.Run(ctx, chromedp.QueryNodeIDs(chromedp.CSSAll(selector)))
		if err != nil {
			return err
		}
		if i >= len(ids) {
			return fmt.Errorf("%d elements match", len(ids))
		}
		return chromedp.Do(ctx, chromedp.Focus(chromedp.NodeIDs{ids[i]}))
	}, "focusing %s #%d", selector, i)
	p.Settle()
}

// Click clicks the first element that matches the selector.
func (p *Page) Click(selector string) { p.t.Helper(); p.ClickNth(selector, 0) }

// ClickNth scrolls element i (0-based) of those that match the selector
// into view and clicks it with the left mouse button, where HoverNth would
// put the mouse, then lets the page react.
func (p *Page) ClickNth(selector string, i int) {
	p.t.Helper()
	x, y := p.center(selector, i)
	p.call(func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.MouseClickXY(x, y))
	}, "clicking %s #%d at (%.0f, %.0f)", selector, i, x, y)
	p.Settle()
}

// Screenshot returns a PNG of the smallest box holding every element that
// matches the selector, grown by pad CSS pixels on each side (within the
// page), whether or not it is scrolled into view.
func (p *Page) Screenshot(selector string, pad float64) []byte {
	p.t.Helper()
	p.mustMatch(selector, 0)
	var clip page.Viewport
	p.Eval(`(() => {
		let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
		for (const e of document.querySelectorAll(`+jsString(selector)+`)) {
			const b = e.getBoundingClientRect();
			x0 = Math.min(x0, b.left + scrollX); y0 = Math.min(y0, b.top + scrollY);
			x1 = Math.max(x1, b.right + scrollX); y1 = Math.max(y1, b.bottom + scrollY);
		}
		const pad = `+fmt.Sprint(pad)+`, w = document.documentElement.scrollWidth, h = document.documentElement.scrollHeight;
		x0 = Math.max(0, Math.floor(x0 - pad)); y0 = Math.max(0, Math.floor(y0 - pad));
		x1 = Math.min(w, Math.ceil(x1 + pad)); y1 = Math.min(h, Math.ceil(y1 + pad));
		return {x: x0, y: y0, width: x1 - x0, height: y1 - y0, scale: 1};
	})()`, &clip)
	var png []byte
	p.call(func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			Clip:                  &clip,
			CaptureBeyondViewport: new(true),
			FromSurface:           new(true),
		})
		png = res.Data
		return err
	}, "screenshot of %s", selector)
	return png
}
