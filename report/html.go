package report

// This file writes the HTML incident report: one self-contained page
// (no network, no fonts, nothing fetched) with each TaskManager's slot
// occupancy over time drawn as SVG, the findings and their stories, and
// the inputs summary. Every piece of log text goes through html/template,
// which escapes it for the context it lands in (text, attribute, URL); a
// Content Security Policy allows the one inline script and style by hash
// and nothing else.

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// Chart geometry, in SVG user units (the charts scale to the page).
const (
	pairWidth   = 720  // a chart beside another
	singleWidth = 1100 // a chart alone on its line
	chartLeft   = 56   // the row labels
	chartRight  = 12
	chartTop    = 30 // the time axis
	rowHeight   = 26
	barHeight   = 16
	maxTextShow = 400 // bytes of a log line shown in the page
)

// htmlScript shows a bar's story in the detail panel when the bar is
// hovered or focused. It copies a prepared, escaped fragment: no string
// from the logs is ever parsed as HTML.
const htmlScript = `(function () {
  var detail = document.getElementById("detail");
  function show(bar) {
    var src = document.getElementById(bar.getAttribute("data-ev"));
    if (!src) { return; }
    var copy = src.cloneNode(true);
    copy.removeAttribute("id");
    detail.replaceChildren(copy);
    detail.hidden = false;
  }
  document.querySelectorAll(".bar").forEach(function (bar) {
    bar.addEventListener("mouseenter", function () { show(bar); });
    bar.addEventListener("focus", function () { show(bar); });
  });
})();`

// htmlStyle is the page's only style sheet (job colours j0…j11).
const htmlStyle = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1400px; padding: 0 16px 240px; color: #1d1d1f; }
h1 { font-size: 22px; margin: 16px 0 4px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; margin: 18px 0 6px; }
code, .mono { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.verdict { font-weight: 600; } .sev-error { color: #b00020; } .sev-warning { color: #9a5b00; } .sev-info { color: #35608c; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; } .single { display: grid; grid-template-columns: 1fr; }
figure { margin: 0; } figcaption { font-size: 12px; color: #555; margin-bottom: 2px; }
svg.occupancy { width: 100%; height: auto; background: #fafafa; border: 1px solid #e3e3e3; }
.axis text, .row-label { font: 11px ui-monospace, monospace; fill: #444; } .axis line { stroke: #ccc; } .row-line { stroke: #eee; }
.bar { stroke: #333; stroke-width: 0.6; cursor: pointer; } .bar:focus, .bar:hover { stroke: #000; stroke-width: 2; outline: none; }
.allocated { fill-opacity: 0.45; } .active-seg { pointer-events: none; }
.zombie { stroke: #b00020; stroke-width: 2.2; } .zombie-hatch { fill: url(#hatch); pointer-events: none; }
.zombie-label { font: 11px sans-serif; fill: #b00020; font-weight: 600; }
.agg { fill: #6b7b8c; pointer-events: none; }
.break { stroke: #222; stroke-width: 1.2; stroke-dasharray: 4 3; } .break.rotation { stroke: #888; }
.marker path, .key path { stroke: #000; stroke-width: 0.8; } .key { vertical-align: middle; }
.marker[data-kind="overwrite"] path, .key[data-kind="overwrite"] path { fill: #ff2d55; } .marker[data-kind="refusal"] path, .key[data-kind="refusal"] path { fill: #0a84ff; }
.marker[data-kind="timeout"] path, .key[data-kind="timeout"] path { fill: #ff9f0a; } .marker[data-kind="tm-lost"] path, .key[data-kind="tm-lost"] path { fill: #5e5ce6; }
.marker[data-kind="deploy-failed"] path, .key[data-kind="deploy-failed"] path { fill: #bf5af2; } .marker[data-kind="finding"] path, .key[data-kind="finding"] path { fill: #8e8e93; }
.j0 { fill: #4e79a7; } .j1 { fill: #f28e2b; } .j2 { fill: #59a14f; } .j3 { fill: #e15759; } .j4 { fill: #76b7b2; } .j5 { fill: #edc948; }
.j6 { fill: #b07aa1; } .j7 { fill: #ff9da7; } .j8 { fill: #9c755f; } .j9 { fill: #bab0ac; } .j10 { fill: #8cd17d; } .j11 { fill: #d4a6c8; }
#finding-list ul { max-height: 30vh; overflow: auto; margin: 0; padding-left: 22px; border: 1px solid #eee; }
#detail { position: fixed; right: 12px; bottom: 12px; width: 560px; max-height: 44vh; overflow: auto; background: #fff; border: 1px solid #999; box-shadow: 0 2px 10px rgba(0,0,0,.2); padding: 8px 12px; font-size: 13px; }
.evidence-line { margin: 3px 0; } .where { color: #35608c; margin-right: 6px; } .evidence-line code, .story code { white-space: pre-wrap; word-break: break-all; }
article.finding { border-left: 4px solid #ccc; padding: 2px 12px; margin: 14px 0; } article.finding.edge-error { border-color: #b00020; } article.finding.edge-warning { border-color: #9a5b00; } article.finding.edge-info { border-color: #35608c; }
article.finding:target { background: #fffbe6; }
.story li { margin: 4px 0; } .note { color: #555; font-size: 12px; }
table { border-collapse: collapse; font-size: 12px; } td, th { border: 1px solid #ddd; padding: 3px 6px; text-align: left; } td.num { text-align: right; }
svg.sequence { width: 100%; max-width: 1000px; height: auto; background: #fcfcfc; border: 1px solid #eee; }
.lifeline { stroke: #bbb; stroke-dasharray: 3 3; } .head { fill: #eef3f8; stroke: #7a8ca0; } .head-label { font: 11px sans-serif; fill: #223; }
.arrow { stroke: #333; stroke-width: 1.2; } .arrow-label, .note-text { font: 10.5px sans-serif; fill: #222; } .seq-time { font: 9.5px ui-monospace, monospace; fill: #777; }
.note-box { fill: #fff8d6; stroke: #d8c16a; } .message:hover .arrow-label, .message:hover .note-text { font-weight: 600; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
`

// cspHash is the Content-Security-Policy source of an inline block.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// htmlCSP forbids everything but the page's own script and style: no
// fetch, no image, no frame, no font, no form, no other script.
// (frame-ancestors is not here: a browser ignores it in a meta tag, and
// says so on the console.)
var htmlCSP = "default-src 'none'; script-src " + cspHash(htmlScript) + "; style-src " + cspHash(htmlStyle) +
	"; img-src 'none'; base-uri 'none'; form-action 'none'"

// WriteHTML writes the audit as one self-contained HTML page.
func (a *Audit) WriteHTML(w io.Writer) error {
	page := a.htmlPage()
	return writePage(w, &page)
}

type htmlPage struct {
	CSP     string
	Title   string
	Doc     AuditJSON
	Charts  []htmlTM
	Notes   []string
	Stories []htmlFinding
	Store   []htmlDetail
	// MarkKinds are the markers the legend explains.
	MarkKinds []htmlKey
}

type htmlKey struct{ Kind, Label string }

var markKeys = []htmlKey{{"overwrite", "map overwritten"}, {"refusal", "refused by the fixed table"}, {"timeout", "timeout"},
	{"tm-lost", "TaskManager lost"}, {"deploy-failed", "failed deployment"}, {"finding", "other finding"}}

// htmlTM is one TaskManager's charts (two side by side for a legacy one).
type htmlTM struct {
	Resource string
	Charts   []htmlChart
	Pair     bool
}

type htmlChart struct {
	TM, Semantics, Caption string
	Width                  int    // of the viewBox
	Span                   string // the time axis, from and to
	Height                 int
	Axis                   []htmlTick
	Rows                   []htmlRow
	Bars                   []htmlBar
	Aggs                   []htmlAgg
	Marks                  []htmlMark
	Breaks                 []htmlBreak
	Note                   string
}

type htmlTick struct {
	X      float64
	Y2     int
	Label  string
	Anchor string
}

type htmlRow struct {
	Y, X2 int
	Label string
	Slot  string
}

type htmlBar struct {
	X, W               float64
	Y                  int
	Class              string
	Alloc, Job         string
	State              string
	Zombie             bool
	Start, End, EndWhy string
	Detail             string
	Active             []htmlSpan
	Label              string
	LabelX             float64
}

type htmlSpan struct{ X, W float64 }

// htmlAgg is one shade of a row drawn in aggregate: an SVG path of the
// buckets of that shade.
type htmlAgg struct {
	D       string
	Opacity string
}

// aggShades: how many shades an aggregated bucket is drawn in.
const aggShades = 5

// shadeOf is the shade (0: empty, 1…aggShades) of a bucket held for the
// fraction v of its time.
func shadeOf(v float64) int {
	if v <= 0 {
		return 0
	}
	return min(aggShades, 1+int(v*aggShades))
}

type htmlMark struct {
	X       float64
	Y       int
	Kind    string
	Finding string
	Alloc   string
	Says    string
}

type htmlBreak struct {
	X     float64
	Y2    int
	Kind  string
	Label string
}

// htmlDetail is what the detail panel shows of one bar.
type htmlDetail struct {
	ID         string
	Alloc, Job string
	Semantics  string
	Slot       string
	Provenance string
	Held       string
	Evidence   []htmlEvidence
	Findings   []string
}

type htmlEvidence struct {
	Where, Time, Says, Text string
}

type htmlFinding struct {
	FindingJSON
	Story []htmlEvidence
	// Seq is the sequence diagram of the finding's AllocationID, drawn
	// under the first finding that names it; SeqAt names that finding for
	// the later ones.
	Seq   *SequenceJSON
	SeqAt string
	// Brief: past maxStories, a finding is shown without its story.
	Brief bool
}

// maxStories: the findings told in full, with their sequence diagrams
// (about 5 KB each); the rest are shown briefly, so that a cluster with
// thousands of findings still makes a page a browser opens at once.
var maxStories = 200

// htmlPage prepares everything the template shows.
func (a *Audit) htmlPage() htmlPage {
	doc := a.JSON()
	shown := a.Shown()
	p := htmlPage{CSP: htmlCSP, Doc: doc, MarkKinds: markKeys,
		Title: fmt.Sprintf("slotaudit: %d finding(s)", doc.Summary.Findings)}
	m := a.Model
	jobs := map[flinklog.ID]int{}
	jobClass := func(j flinklog.ID) string {
		n, ok := jobs[j]
		if !ok {
			n = len(jobs)
			jobs[j] = n
		}
		return fmt.Sprintf("j%d", n%12)
	}
	occs := occupancies(m, shown)
	for i := 0; i < len(occs); {
		n := 1
		for i+n < len(occs) && occs[i+n].TM == occs[i].TM {
			n++
		}
		t := htmlTM{Resource: occs[i].TM, Pair: n > 1}
		width := singleWidth
		if t.Pair {
			width = pairWidth
		}
		for _, o := range occs[i : i+n] {
			t.Charts = append(t.Charts, p.chart(m, o, jobClass, width))
		}
		p.Charts = append(p.Charts, t)
		i += n
	}
	allocs := make(map[string]*reconstruct.Allocation, len(m.Allocations))
	for _, a := range m.Allocations {
		allocs[a.ID.String()] = a
	}
	drawn := map[string]string{} // AllocationID → the finding its diagram is under
	for _, f := range doc.Findings {
		hf := htmlFinding{FindingJSON: f, Brief: len(p.Stories) >= maxStories}
		if a := allocs[f.AllocationID]; a != nil && !hf.Brief {
			if at, ok := drawn[f.AllocationID]; ok {
				hf.SeqAt = at
			} else if seq := NewSequenceJSON(m, a); len(seq.Steps) > 0 {
				hf.Seq, drawn[f.AllocationID] = &seq, f.ID
			}
		}
		for _, e := range f.Evidence {
			ev := htmlEvidence{Says: e.Says, Time: e.Time, Text: capShown(e.Text)}
			if e.Path != "" {
				ev.Where = (&PlaceJSON{Path: e.Path, Stream: e.Stream, Line: e.Line}).String()
			}
			hf.Story = append(hf.Story, ev)
		}
		p.Stories = append(p.Stories, hf)
	}
	return p
}

// chart lays one occupancy out.
func (p *htmlPage) chart(m *reconstruct.Model, o *occupancy, jobClass func(flinklog.ID) string, width int) htmlChart {
	c := htmlChart{TM: o.TM, Semantics: o.Sem.String(), Width: width, Height: chartTop + len(o.Rows)*rowHeight + 8,
		Span: flinklog.Time{Kind: o.Kind, N: o.From}.String() + " to " + flinklog.Time{Kind: o.Kind, N: o.To}.String()}
	switch {
	case o.Ran && o.Sem == reconstruct.Legacy:
		c.Caption = "the legacy table (Flink ≤ 1.9), as the TaskManager ran it"
	case o.Ran:
		c.Caption = "the fixed table (Flink ≥ 1.10), as the TaskManager ran it"
	default:
		c.Caption = "what the fixed table (Flink ≥ 1.10) would have done with the same lines"
	}
	span := float64(o.To - o.From)
	x := func(t int64) float64 {
		if span <= 0 {
			return chartLeft
		}
		return chartLeft + float64(t-o.From)/span*float64(c.Width-chartLeft-chartRight)
	}
	for k := 0; k <= 4; k++ {
		t := o.From + int64(float64(k)/4*span)
		anchor := "middle"
		switch k {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		c.Axis = append(c.Axis, htmlTick{X: x(t), Y2: c.Height - 4, Label: tickLabel(o.Kind, t, o.To-o.From), Anchor: anchor})
	}
	for i, r := range o.Rows {
		label := r.Label
		if r.Index >= 0 && r.Index < dynamicRow {
			label = "slot " + label
		}
		c.Rows = append(c.Rows, htmlRow{Y: chartTop + i*rowHeight, X2: c.Width - chartRight, Label: label, Slot: r.Label})
	}
	tstr := func(t int64) string { return flinklog.Time{Kind: o.Kind, N: t}.String() }
	for _, b := range o.Bars {
		id := fmt.Sprintf("ev-%d", len(p.Store))
		x0, x1 := x(b.Start), x(b.End)
		hb := htmlBar{X: x0, W: max(x1-x0, 2), Y: chartTop + b.Row*rowHeight + (rowHeight-barHeight)/2,
			Alloc: b.Alloc.String(), Job: b.Job.String(), Zombie: b.Zombie, Start: tstr(b.Start), End: tstr(b.End), EndWhy: b.EndReason, Detail: id}
		hb.Class = "bar " + jobClass(b.Job)
		hb.State = "allocated"
		if n := len(b.Active); n > 0 && b.Active[n-1][1] == b.End {
			hb.State = "active"
		}
		if len(b.Active) == 0 {
			hb.Class += " allocated"
		}
		for _, s := range b.Active {
			a0, a1 := x(s[0]), x(s[1])
			hb.Active = append(hb.Active, htmlSpan{X: a0, W: max(a1-a0, 1)})
		}
		if b.Zombie {
			hb.Class += " zombie"
			hb.Label, hb.LabelX = "zombie to the end of the evidence", max(x0+4, chartLeft+4)
		}
		c.Bars = append(c.Bars, hb)
		p.Store = append(p.Store, p.detail(m, o, b, id))
	}
	if o.Agg != nil {
		// one path per row and shade, adjacent buckets of a shade joined:
		// a rect per bucket was 7 MB for a day of a 20-TaskManager cluster
		w := float64(c.Width-chartLeft-chartRight) / aggBuckets
		for r, buckets := range o.Agg {
			y := chartTop + r*rowHeight + (rowHeight-barHeight)/2
			var paths [aggShades]strings.Builder
			for k := 0; k < len(buckets); {
				level := shadeOf(buckets[k])
				n := 1
				for k+n < len(buckets) && shadeOf(buckets[k+n]) == level {
					n++
				}
				if level > 0 {
					fmt.Fprintf(&paths[level-1], "M%.1f %dh%.1fv%dh-%.1fZ", chartLeft+float64(k)*w, y, float64(n)*w, barHeight, float64(n)*w)
				}
				k += n
			}
			for l := range paths {
				if paths[l].Len() > 0 {
					c.Aggs = append(c.Aggs, htmlAgg{D: paths[l].String(), Opacity: fmt.Sprintf("%.2f", float64(l+1)/aggShades)})
				}
			}
		}
		c.Note = fmt.Sprintf("%d allocation period(s) in no finding are drawn in aggregate: %d time buckets per slot, darker where the slot was held longer. Zombies and the allocations of findings are drawn as bars.", o.Aggregated, aggBuckets)
	}
	if o.Dynamic > 0 {
		lanes := 0
		for _, r := range o.Rows {
			if r.Index >= dynamicRow {
				lanes++
			}
		}
		c.Note = strings.TrimSpace(c.Note + fmt.Sprintf(" %d dynamic slot index(es) (handed out one per request past the configured slots) are packed into %d lane(s), \"dyn\"; a bar's own index is in its details.", o.Dynamic, lanes))
	}
	if o.Untimed > 0 {
		c.Note = strings.TrimSpace(c.Note + fmt.Sprintf(" %d period(s) are not drawn: their lines carry no time.", o.Untimed))
	}
	for _, mk := range o.Marks {
		c.Marks = append(c.Marks, htmlMark{X: x(mk.At), Y: chartTop + mk.Row*rowHeight + rowHeight/2, Kind: mk.Kind, Finding: mk.Finding,
			Alloc: allocString(mk.Alloc), Says: mk.Says})
	}
	for _, br := range o.Breaks {
		c.Breaks = append(c.Breaks, htmlBreak{X: x(br.At), Y2: c.Height - 4, Kind: br.Kind, Label: br.Label})
	}
	return c
}

// detail is the detail panel's fragment for one bar.
func (p *htmlPage) detail(m *reconstruct.Model, o *occupancy, b *occBar, id string) htmlDetail {
	d := htmlDetail{ID: id, Alloc: b.Alloc.String(), Job: orDash(allocString(b.Job)), Semantics: o.Sem.String(), Findings: b.Findings}
	if b.Index.Index >= 0 {
		d.Slot = fmt.Sprint(b.Index.Index)
	} else {
		d.Slot = "unknown"
	}
	d.Provenance = b.Index.Source.String()
	if b.Index.How != "" {
		d.Provenance += " from the " + b.Index.How
	}
	if pl := place(m, b.Index.Pos); pl != nil {
		d.Provenance += " at " + pl.String()
	}
	tstr := func(t int64) string { return flinklog.Time{Kind: o.Kind, N: t}.String() }
	d.Held = fmt.Sprintf("held from %s to %s (%s)", tstr(b.Start), tstr(b.End), b.EndReason)
	if b.Prior {
		d.Held = "held before the log begins; " + d.Held
	}
	if b.Zombie {
		d.Held += "; a zombie: the AllocationID map no longer leads to it, so nothing can free it"
	}
	res := m.Result
	for _, ref := range b.Evidence {
		if ref < 0 {
			continue
		}
		ev := res.Event(ref)
		d.Evidence = append(d.Evidence, htmlEvidence{Where: res.Files.Position(ev.Pos), Time: ev.Time.String(), Text: capShown(res.Text(ref))})
	}
	for _, l := range b.Lines {
		// (a period a fold let go: its lines as it kept them)
		text := l.Text
		if l.TextAway {
			text = res.TextAt(l.Pos, l.TextSum)
		}
		d.Evidence = append(d.Evidence, htmlEvidence{Where: res.Files.Position(l.Pos), Time: l.Time.String(), Text: capShown(text)})
	}
	return d
}

// tickLabel prints an axis time short: the time of day (with the date
// when the axis spans days); the caption gives the whole span.
func tickLabel(kind flinklog.TimeKind, t, span int64) string {
	switch kind {
	case flinklog.TimeLocal, flinklog.TimeUTC:
		layout := "15:04:05"
		switch {
		case span < 20e9:
			layout = "15:04:05.000"
		case span > int64(24*time.Hour):
			layout = "01-02 15:04"
		}
		return time.Unix(0, t).UTC().Format(layout)
	}
	return flinklog.Time{Kind: kind, N: t}.String()
}

func allocString(id flinklog.ID) string {
	if !id.IsSet() {
		return ""
	}
	return id.String()
}

// capShown cuts a log line for the page.
func capShown(s string) string {
	if len(s) <= maxTextShow {
		return s
	}
	cut := maxTextShow
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// esc makes any text safe in HTML text and in a double-quoted attribute
// (of HTML or SVG): control characters become visible first, as on a
// terminal, then the five markup characters become entities.
func esc(s string) string { return html.EscapeString(Escape(s)) }

// writePage writes the page. Every string that is not a constant of this
// file goes through esc; numbers are formatted; links are "#finding-" and a
// finding ID.
func writePage(w io.Writer, p *htmlPage) error {
	b := bufio.NewWriterSize(w, 64<<10)
	pf := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	s := p.Doc.Summary
	pf(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="%s">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>%s</title>
<style>%s</style>
</head>
<body>
<header>
<h1>%s</h1>
`, esc(p.CSP), esc(p.Title), htmlStyle, esc(p.Title))
	verdict := "passed"
	if s.Failed {
		verdict = "failed"
	}
	pf(`<p class="verdict">%d error, %d warning, %d info; %d allocation(s) on %d TaskManager(s); fails on %s: %s`,
		s.BySeverity["error"], s.BySeverity["warning"], s.BySeverity["info"], s.Allocations, s.TaskManagers, esc(s.FailOn), verdict)
	if s.Reason != "" {
		pf(` — %s: %s`, esc(s.Status), esc(s.Reason))
	}
	pf("</p>\n</header>\n<nav id=\"finding-list\">\n<h2>Findings</h2>\n")
	if len(p.Stories) == 0 {
		pf("<p>No finding.</p>\n")
	} else {
		pf("<ul>\n")
		for _, f := range p.Stories {
			pf(`<li><a href="#finding-%s"><span class="sev-%s">%s</span> %s %s</a>: %s</li>`+"\n",
				esc(f.ID), esc(f.Severity), esc(f.Severity), esc(f.Rule), esc(f.ID), esc(f.Message))
		}
		pf("</ul>\n")
	}
	pf(`</nav>
<svg width="0" height="0" aria-hidden="true" focusable="false"><defs><marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#333"></path></marker><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="2.5" height="6" fill="#b00020"></rect></pattern></defs></svg>
<section id="charts">
<h2>Slot occupancy over time</h2>
<p class="legend"><span>bars: one allocation period per slot, coloured by job; pale while ALLOCATED, solid while ACTIVE</span><span>hatched, red outline: a zombie, held to the end of the evidence</span><span>dashed line: a restart (or, grey, a rotated log)</span><span>markers: `)
	for _, k := range p.MarkKinds {
		pf(`<svg class="key" data-kind="%s" width="12" height="12" viewBox="-7 -7 14 14" aria-hidden="true"><path d="M0 -6 L5 0 L0 6 L-5 0 Z"></path></svg> %s `, k.Kind, esc(k.Label))
	}
	pf("</span><span>times are on the clock-skew-aligned clock; hover or focus a bar for its lines</span></p>\n")
	if len(p.Charts) == 0 {
		pf("<p>No TaskManager log with timed events: nothing to draw.</p>\n")
	}
	for _, t := range p.Charts {
		layout := "single"
		if t.Pair {
			layout = "pair"
		}
		pf("<h3>TaskManager <code>%s</code></h3>\n<div class=\"%s\">\n", esc(t.Resource), layout)
		for i := range t.Charts {
			writeChart(pf, &t.Charts[i])
		}
		pf("</div>\n")
	}
	pf("</section>\n<section id=\"findings\">\n<h2>Stories</h2>\n")
	if n := len(p.Stories) - maxStories; n > 0 {
		pf("<p class=\"note\">The first %d findings are told in full; the other %d are shown briefly: <code>slotaudit explain --finding ID</code> tells any of them.</p>\n", maxStories, n)
	}
	for _, f := range p.Stories {
		writeStory(pf, &f)
	}
	pf("</section>\n")
	writeInputs(pf, &p.Doc)
	pf("<div id=\"evidence-store\" hidden>\n")
	for _, d := range p.Store {
		pf(`<div id="%s" class="bar-detail">
<p><strong>AllocationID</strong> <code>%s</code> · job <code>%s</code> · %s table</p>
<p>slot index %s — %s</p>
<p>%s</p>
`, esc(d.ID), esc(d.Alloc), esc(d.Job), esc(d.Semantics), esc(d.Slot), esc(d.Provenance), esc(d.Held))
		for _, e := range d.Evidence {
			pf(`<div class="evidence-line"><span class="where mono">%s</span><code>%s</code></div>`+"\n", esc(e.Where), esc(e.Text))
		}
		if len(d.Findings) > 0 {
			pf("<p>findings: ")
			for i, id := range d.Findings {
				if i > 0 {
					pf(", ")
				}
				pf(`<a href="#finding-%s">%s</a>`, esc(id), esc(id))
			}
			pf("</p>\n")
		}
		pf("</div>\n")
	}
	pf("</div>\n<div id=\"detail\" role=\"status\" aria-live=\"polite\" hidden></div>\n<script>%s</script>\n</body>\n</html>\n", htmlScript)
	return b.Flush()
}

// writeChart writes one occupancy chart as an SVG figure.
func writeChart(pf func(string, ...any), c *htmlChart) {
	pf("<figure>\n<figcaption>%s, %s", esc(c.Caption), esc(c.Span))
	if c.Note != "" {
		pf(" — %s", esc(c.Note))
	}
	pf("</figcaption>\n")
	pf(`<svg class="occupancy" data-tm="%s" data-semantics="%s" viewBox="0 0 %d %d" role="img" aria-label="slot table of TaskManager %s, %s semantics">`+"\n",
		esc(c.TM), esc(c.Semantics), c.Width, c.Height, esc(c.TM), esc(c.Semantics))
	pf(`<g class="axis">`)
	for _, t := range c.Axis {
		pf(`<line x1="%.1f" x2="%.1f" y1="18" y2="%d"></line><text x="%.1f" y="13" text-anchor="%s">%s</text>`, t.X, t.X, t.Y2, t.X, t.Anchor, esc(t.Label))
	}
	pf("</g>\n")
	for _, r := range c.Rows {
		pf(`<g class="slot-row" data-slot="%s"><text class="row-label" x="4" y="%d" dy="17">%s</text><line class="row-line" x1="%d" x2="%d" y1="%d" y2="%d"></line></g>`+"\n",
			esc(r.Slot), r.Y, esc(r.Label), chartLeft, r.X2, r.Y, r.Y)
	}
	for _, a := range c.Aggs {
		pf(`<path class="agg" d="%s" fill-opacity="%s"></path>`, a.D, a.Opacity)
	}
	for _, bar := range c.Bars {
		pf(`<rect class="%s" x="%.1f" y="%d" width="%.1f" height="%d" tabindex="0" data-alloc="%s" data-job="%s" data-state="%s" data-zombie="%t" data-start="%s" data-end="%s" data-end-reason="%s" data-ev="%s"><title>%s</title></rect>`,
			esc(bar.Class), bar.X, bar.Y, bar.W, barHeight, esc(bar.Alloc), esc(bar.Job), bar.State, bar.Zombie, esc(bar.Start), esc(bar.End), esc(bar.EndWhy), esc(bar.Detail), esc(bar.Alloc))
		for _, a := range bar.Active {
			pf(`<rect class="active-seg %s" x="%.1f" y="%d" width="%.1f" height="%d"></rect>`, esc(bar.Class), a.X, bar.Y, a.W, barHeight)
		}
		if bar.Zombie {
			pf(`<rect class="zombie-hatch" x="%.1f" y="%d" width="%.1f" height="%d"></rect><text class="zombie-label" x="%.1f" y="%d" dy="-2">%s</text>`,
				bar.X, bar.Y, bar.W, barHeight, bar.LabelX, bar.Y, esc(bar.Label))
		}
		pf("\n")
	}
	for _, br := range c.Breaks {
		pf(`<line class="break %s" x1="%.1f" x2="%.1f" y1="18" y2="%d"><title>%s</title></line>`, esc(br.Kind), br.X, br.X, br.Y2, esc(br.Label))
	}
	pf("\n")
	for _, mk := range c.Marks {
		if mk.Finding != "" {
			pf(`<a href="#finding-%s">`, esc(mk.Finding))
		}
		pf(`<g class="marker" data-kind="%s" data-finding="%s" data-alloc="%s" transform="translate(%.1f %d)"><path d="M0 -7 L6 0 L0 7 L-6 0 Z"></path><title>%s: %s</title></g>`,
			esc(mk.Kind), esc(mk.Finding), esc(mk.Alloc), mk.X, mk.Y, esc(mk.Kind), esc(mk.Says))
		if mk.Finding != "" {
			pf("</a>")
		}
		pf("\n")
	}
	pf("</svg>\n</figure>\n")
}

// writeStory writes one finding with its story.
func writeStory(pf func(string, ...any), f *htmlFinding) {
	pf(`<article class="finding edge-%s" id="finding-%s" data-rule="%s">
<h3><span class="sev-%s">%s</span> %s <code>%s</code></h3>
<p>%s</p>
<p class="note">`, esc(f.Severity), esc(f.ID), esc(f.Rule), esc(f.Severity), esc(f.Severity), esc(f.Rule), esc(f.ID), esc(f.Message))
	var facts []string
	if f.ResourceID != "" {
		facts = append(facts, "TaskManager <code>"+esc(f.ResourceID)+"</code>")
	}
	if f.AllocationID != "" {
		facts = append(facts, "AllocationID <code>"+esc(f.AllocationID)+"</code>")
	}
	if f.JobID != "" {
		facts = append(facts, "job <code>"+esc(f.JobID)+"</code>")
	}
	if f.Where != nil {
		facts = append(facts, "at "+esc(f.Where.String()))
	}
	if f.IndexNote != "" {
		facts = append(facts, "slot index: "+esc(f.IndexNote))
	}
	pf("%s</p>\n", strings.Join(facts, "; "))
	if len(f.Causes) > 0 {
		pf("<p>Follows from ")
		for i, c := range f.Causes {
			if i > 0 {
				pf(", ")
			}
			pf(`<a href="#finding-%s">%s</a>`, esc(c), esc(c))
		}
		pf(".</p>\n")
	}
	if f.Brief {
		pf("</article>\n")
		return
	}
	pf(`<ol class="story">`)
	for _, e := range f.Story {
		pf("<li>%s", esc(e.Says))
		if e.Where != "" {
			pf(` <span class="where mono">%s</span>`, esc(e.Where))
		} else {
			pf(` <span class="note">(no line shows this step)</span>`)
		}
		if e.Text != "" {
			pf("<br><code>%s</code>", esc(e.Text))
		}
		pf("</li>")
	}
	pf("</ol>\n")
	if f.FixedModel != "" {
		pf("<p><strong>The fixed table:</strong> %s</p>\n", esc(f.FixedModel))
	}
	switch {
	case f.Seq != nil:
		writeSequence(pf, f.Seq)
	case f.SeqAt != "":
		pf(`<p class="note">The messages of %s are drawn under <a href="#finding-%s">%s</a>.</p>`+"\n", esc(f.AllocationID), esc(f.SeqAt), esc(f.SeqAt))
	}
	pf("</article>\n")
}

// Sequence diagram geometry.
const (
	seqWidth  = 760
	seqMargin = 90
	seqHead   = 40
	seqRow    = 24
)

// writeSequence draws an allocation's messages between the components:
// a lifeline per participant, an arrow per message, a note per local
// step, capped like the Mermaid diagram (the first and last steps, and a
// count of those between). Each step's full line is in its title.
func writeSequence(pf func(string, ...any), seq *SequenceJSON) {
	steps := seq.Steps
	skipped := 0
	if len(steps) > maxDiagramSteps {
		skipped = len(steps) - maxDiagramSteps
		steps = append(append([]SequenceStepJSON(nil), steps[:diagramHead]...), steps[len(steps)-(maxDiagramSteps-diagramHead):]...)
	}
	n := len(seq.Participants)
	col := map[string]float64{}
	for i, p := range seq.Participants {
		x := float64(seqWidth) / 2
		if n > 1 {
			x = seqMargin + float64(i)*float64(seqWidth-2*seqMargin)/float64(n-1)
		}
		col[p] = x
	}
	rows := len(steps)
	if skipped > 0 {
		rows++
	}
	height := seqHead + rows*seqRow + 12
	pf(`<figure><figcaption>The messages of AllocationID <code>%s</code> between the components, in causal order (hover a step for its line)</figcaption>`+"\n", esc(seq.AllocationID))
	pf(`<svg class="sequence" data-alloc="%s" viewBox="0 0 %d %d" role="img" aria-label="sequence of %s">`+"\n", esc(seq.AllocationID), seqWidth, height, esc(seq.AllocationID))
	for _, p := range seq.Participants {
		x := col[p]
		pf(`<g class="participant"><line class="lifeline" x1="%.1f" x2="%.1f" y1="%d" y2="%d"></line><rect class="head" x="%.1f" y="4" width="160" height="24" rx="3"></rect><text class="head-label" x="%.1f" y="20" text-anchor="middle">%s</text><title>%s</title></g>`+"\n",
			x, x, 28, height-4, x-80, x, esc(cutText(p, 26)), esc(p))
	}
	y := seqHead
	draw := func(st SequenceStepJSON) {
		y += seqRow
		title := st.Time
		if st.Where != nil {
			title += " " + st.Where.String()
		}
		if st.Text != "" {
			title += "\n" + capShown(st.Text)
		}
		x1, x2 := col[st.From], col[st.To]
		pf(`<g class="message" data-from="%s" data-to="%s" data-kind="%s"><title>%s</title>`, esc(st.From), esc(st.To), esc(st.Kind), esc(title))
		pf(`<text class="seq-time" x="4" y="%d">%s</text>`, y, esc(clockOf(st.Time)))
		if st.From == st.To {
			says := cutText(st.Says, 52)
			w := min(float64(len([]rune(says)))*5.6+14, 300)
			nx := min(max(x1-w/2, 4), seqWidth-4-w) // on its lifeline, inside the drawing
			pf(`<rect class="note-box" x="%.1f" y="%d" width="%.1f" height="18" rx="2"></rect><text class="note-text" x="%.1f" y="%d">%s</text>`,
				nx, y-13, w, nx+6, y, esc(says))
		} else {
			pf(`<line class="arrow" x1="%.1f" x2="%.1f" y1="%d" y2="%d" marker-end="url(#arrowhead)"></line><text class="arrow-label" x="%.1f" y="%d" text-anchor="middle">%s</text>`,
				x1, x2, y, y, (x1+x2)/2, y-4, esc(cutText(st.Says, 60)))
		}
		pf("</g>\n")
	}
	for i, st := range steps {
		if skipped > 0 && i == diagramHead {
			y += seqRow
			pf(`<text class="note-text" x="%d" y="%d" text-anchor="middle">… %d more steps …</text>`+"\n", seqWidth/2, y, skipped)
		}
		draw(st)
	}
	pf("</svg></figure>\n")
}

// clockOf is the time of day of a time as report prints it (the aligned
// one when there is one).
func clockOf(t string) string {
	if i := strings.Index(t, "aligned "); i >= 0 {
		t = strings.TrimSuffix(t[i+len("aligned "):], ")")
	}
	if i := strings.IndexByte(t, 'T'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

// cutText shortens s to n runes, with an ellipsis.
func cutText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// writeInputs writes the inputs summary: nothing read is hidden.
func writeInputs(pf func(string, ...any), doc *AuditJSON) {
	pf(`<section id="inputs">
<h2>Inputs</h2>
<table>
<thead><tr><th>input</th><th>layout</th><th>flink</th><th>components</th><th>ResourceID</th><th>lines</th><th>records</th><th>events</th><th>irrelevant</th><th>unparsed</th><th>stray</th></tr></thead>
<tbody>`)
	for _, in := range doc.Inputs {
		name := in.Path
		if in.Stream != "" {
			name += "#" + in.Stream
		}
		version := in.FlinkVersion
		if version == "" {
			version = "?"
		}
		pf(`<tr><td class="mono">%s</td><td>%s</td><td>%s</td><td>%s</td><td class="mono">%s</td><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td class="num">%d</td></tr>`,
			esc(name), esc(in.Layout), esc(version), esc(strings.Join(in.Components, ", ")), esc(in.ResourceID), in.Lines, in.Records, in.Events, in.Irrelevant, in.Unparsed, in.Stray)
	}
	pf("</tbody>\n</table>\n")
	for _, sk := range doc.Skipped {
		pf("<p class=\"note\">Not read: %s (%s)</p>\n", esc(sk.Path), esc(sk.Reason))
	}
	for _, ml := range doc.MissingLogs {
		pf("<p class=\"note\">TaskManager <code>%s</code> is named by the other components, but its log is not among the inputs: its slot table cannot be drawn.</p>\n", esc(ml.ResourceID))
	}
	pf("</section>\n")
}
