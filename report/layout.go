package report

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slotaudit/slotaudit/parser"
)

// Human output is laid out for the width it is given: a boxed table when
// it fits, else borderless columns, else one record per row ("- key value
// key value", wrapped). A width of 0 or less is unknown (a pipe, a file):
// nothing is wrapped and every table gets the columns its content needs.
//
// Text is wrapped between words only. A word is never cut, whatever its
// length: a 32-digit AllocationID, a pod name, a file:line. A path with
// spaces in it is kept whole by gluing its spaces (glue) before wrapping;
// the glue becomes a space again only as the text is written (unglue).
// The glue is NUL, which text that went through Escape never holds raw.

const glueByte = '\x00'

// glue makes s one word for wrapping: its spaces are glued.
func glue(s string) string { return strings.ReplaceAll(s, " ", string(rune(glueByte))) }

// ungluer writes what it is given with the glue turned back into spaces.
type ungluer struct{ w io.Writer }

func (u ungluer) Write(b []byte) (int, error) {
	if bytes.IndexByte(b, glueByte) < 0 {
		return u.w.Write(b)
	}
	c := make([]byte, len(b))
	for i, x := range b {
		if x == glueByte {
			x = ' '
		}
		c[i] = x
	}
	if _, err := u.w.Write(c); err != nil {
		return 0, err
	}
	return len(b), nil
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// fits reports whether n columns fit in width (width ≤ 0: any).
func fits(n, width int) bool { return width <= 0 || n <= width }

// token is a word of a text and the spaces before it.
type token struct{ sep, word string }

func tokens(s string) []token {
	var out []token
	for len(s) > 0 {
		i := 0
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
			j++
		}
		if j > i {
			out = append(out, token{strings.ReplaceAll(s[:i], "\n", " "), s[i:j]})
		}
		s = s[j:]
	}
	return out
}

// para wraps text into lines of at most width runes: the first starts with
// first, the others with cont (spaces). It breaks only where text has
// spaces (a run of them stays inside a line and goes at a break). A word
// that does not fit even on a line of its own starts a line, without the
// indent if the indent is what it does not fit with, and overflows it; or,
// with split (log text quoted, not an ID or a path), is cut after a
// punctuation mark where possible. Width ≤ 0 does not wrap.
func para(first, cont, text string, width int, split bool) []string {
	if width <= 0 {
		return []string{first + text}
	}
	var lines []string
	cur, n, empty := first, runes(first), true
	flush := func() {
		lines = append(lines, strings.TrimRight(cur, " "))
		cur, n, empty = cont, runes(cont), true
	}
	for _, t := range tokens(text) {
		wl := runes(t.word)
		if split && wl > width-runes(cont) && width-runes(cont) >= 8 {
			for _, piece := range splitWord(t.word, width-runes(cont)) {
				pl := runes(piece)
				if !empty && n+runes(t.sep)+pl > width {
					flush()
				}
				if !empty {
					cur += t.sep
					n += runes(t.sep)
				}
				cur += piece
				n += pl
				empty = false
				t.sep = ""
			}
			continue
		}
		if !empty && n+runes(t.sep)+wl > width {
			flush()
		}
		if empty {
			if n+wl > width && n > 0 {
				if strings.TrimSpace(cur) != "" {
					flush() // the prefix says something: it gets a line of its own
				}
				cur, n = "", 0
			}
		} else {
			cur += t.sep
			n += runes(t.sep)
		}
		cur += t.word
		n += wl
		empty = false
	}
	if !empty || len(lines) == 0 {
		lines = append(lines, strings.TrimRight(cur, " "))
	}
	return lines
}

// splitWord cuts a word of log text into pieces of at most n runes, each
// ending after a punctuation mark in its second half where there is one.
func splitWord(word string, n int) []string {
	var out []string
	r := []rune(word)
	for len(r) > n {
		cut := n
		for i := n; i > n/2; i-- {
			if strings.ContainsRune(",;:=({[/.-_>", r[i-1]) {
				cut = i
				break
			}
		}
		out = append(out, string(r[:cut]))
		r = r[cut:]
	}
	return append(out, string(r))
}

// writePara writes para's lines.
func writePara(w io.Writer, first, cont, text string, width int) {
	for _, l := range para(first, cont, text, width, false) {
		io.WriteString(w, l+"\n")
	}
}

// field is one "key value" of a record; whole keeps the value on one line
// (an ID, a file:line), else it wraps between words.
type field struct {
	key, value string
	whole      bool
}

func (f field) text() string {
	v := f.value
	if f.whole {
		v = glue(v)
	}
	if f.key == "" {
		return v
	}
	return f.key + " " + v
}

// fieldLines lays out a record: lead, then its fields ("key value", two
// spaces apart; empty values left out) in lines of at most width runes,
// each field whole on a line where it fits, the lines after the first
// indented by two spaces; a field longer than a line wraps between its
// words, indented by four.
func fieldLines(lead string, fields []field, width int) []string {
	var lines []string
	cur, n := lead, runes(lead)
	empty := true // no field on cur yet
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		t := f.text()
		tl := runes(t)
		sep := "  "
		if empty {
			sep = ""
		}
		if fits(n+runes(sep)+tl, width) {
			cur, n, empty = cur+sep+t, n+runes(sep)+tl, false
			continue
		}
		if !empty {
			lines = append(lines, cur)
			cur, n, empty = "  ", 2, true
		}
		if fits(n+tl, width) {
			cur, n, empty = cur+t, n+tl, false
			continue
		}
		lines = append(lines, para(cur, "    ", t, width, false)...)
		cur, n, empty = "  ", 2, true
	}
	if !empty || len(lines) == 0 {
		lines = append(lines, strings.TrimRight(cur, " "))
	}
	return lines
}

func writeFields(w io.Writer, width int, fields ...field) {
	for _, l := range fieldLines("", fields, width) {
		io.WriteString(w, l+"\n")
	}
}

// grid is a table of text: a header and rows of cells (escaped already).
// A column whose wrap is set holds prose that may wrap between words;
// the others hold values kept on one line (IDs, file:line, numbers).
type grid struct {
	heads []string
	wrap  []bool
	// reserve is, where set, the width a column that does not wrap takes
	// at least, so that tables of the same kind are laid out alike
	// whatever rows they hold (32 for an ID that may be "-").
	reserve []int
	rows    [][]string
}

func (g *grid) add(cells ...string) { g.rows = append(g.rows, cells) }

// write lays the grid out in width columns, in the first of these that
// fits: a boxed table, borderless columns, a boxed table whose prose
// columns wrap, borderless columns whose prose columns wrap, and last one
// record per row ("- key value  key value", wrapped between fields). Width ≤ 0:
// the boxed table.
func (g *grid) write(w io.Writer, width int) error {
	g.dropEmpty()
	natural, least := g.widths()
	boxed, bare := 3*len(g.heads)+1, 2*(len(g.heads)-1)
	switch {
	case width <= 0 || sum(natural)+boxed <= width:
		return g.render(w, natural, true)
	case sum(natural)+bare <= width:
		return g.render(w, natural, false)
	case sum(least)+boxed <= width:
		return g.render(w, g.spread(natural, least, width-boxed), true)
	case sum(least)+bare <= width:
		return g.render(w, g.spread(natural, least, width-bare), false)
	}
	var b strings.Builder
	for _, row := range g.rows {
		var fs []field
		for i, c := range row {
			fs = append(fs, field{key: g.heads[i], value: c, whole: !g.wrap[i]})
		}
		for _, l := range fieldLines("- ", fs, width) {
			b.WriteString(l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dropEmpty leaves out the columns that have rows but no value in any.
func (g *grid) dropEmpty() {
	if len(g.rows) == 0 {
		return
	}
	var keep []int
	for i := range g.heads {
		for _, row := range g.rows {
			if row[i] != "" {
				keep = append(keep, i)
				break
			}
		}
	}
	if len(keep) == len(g.heads) {
		return
	}
	pick := func(xs []string) []string {
		out := make([]string, len(keep))
		for k, i := range keep {
			out[k] = xs[i]
		}
		return out
	}
	out := grid{heads: pick(g.heads)}
	for _, i := range keep {
		out.wrap = append(out.wrap, g.wrap[i])
		r := 0
		if i < len(g.reserve) {
			r = g.reserve[i]
		}
		out.reserve = append(out.reserve, r)
	}
	for _, row := range g.rows {
		out.rows = append(out.rows, pick(row))
	}
	*g = out
}

// widths returns each column's natural width (its widest cell and
// header, on one line) and the least it can take (its widest word for a
// column that wraps, its widest cell for one that does not; a header
// wraps between its words).
func (g *grid) widths() (natural, least []int) {
	natural, least = make([]int, len(g.heads)), make([]int, len(g.heads))
	for i, h := range g.heads {
		natural[i] = runes(h)
		for _, t := range tokens(h) {
			least[i] = max(least[i], runes(t.word))
		}
	}
	for i, r := range g.reserve {
		if !g.wrap[i] {
			natural[i], least[i] = max(natural[i], r), max(least[i], r)
		}
	}
	for _, row := range g.rows {
		for i, c := range row {
			natural[i] = max(natural[i], runes(c))
			if !g.wrap[i] {
				least[i] = max(least[i], runes(c))
				continue
			}
			for _, t := range tokens(c) {
				least[i] = max(least[i], runes(t.word))
			}
		}
	}
	return natural, least
}

// spread gives the columns their least widths and the room left, a
// column at a time, to the one that lacks the most of its natural width
// (the leftmost of equals).
func (g *grid) spread(natural, least []int, room int) []int {
	out := append([]int(nil), least...)
	for extra := room - sum(least); extra > 0; extra-- {
		best := -1
		for i := range out {
			if out[i] < natural[i] && (best < 0 || natural[i]-out[i] > natural[best]-out[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out[best]++
	}
	return out
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// render writes the grid with the given column widths, boxed in ASCII
// (headers centred) or as bare columns two spaces apart.
func (g *grid) render(w io.Writer, widths []int, boxed bool) error {
	var b strings.Builder
	rule := func() {
		if !boxed {
			return
		}
		b.WriteByte('+')
		for _, cw := range widths {
			b.WriteString(strings.Repeat("-", cw+2))
			b.WriteByte('+')
		}
		b.WriteByte('\n')
	}
	line := func(cells []string, centre bool) {
		cols := make([][]string, len(widths))
		height := 1
		for i, c := range cells {
			if g.wrap[i] || centre {
				cols[i] = para("", "", c, widths[i], false)
			} else {
				cols[i] = []string{c}
			}
			height = max(height, len(cols[i]))
		}
		for k := 0; k < height; k++ {
			var l strings.Builder
			if boxed {
				l.WriteString("|")
			}
			for i, cw := range widths {
				s := ""
				if k < len(cols[i]) {
					s = cols[i][k]
				}
				pad := cw - runes(s)
				left := 0
				if centre && boxed {
					left = pad / 2
				}
				if boxed {
					l.WriteString(" ")
				} else if i > 0 {
					l.WriteString("  ")
				}
				l.WriteString(strings.Repeat(" ", left) + s + strings.Repeat(" ", pad-left))
				if boxed {
					l.WriteString(" |")
				}
			}
			b.WriteString(strings.TrimRight(l.String(), " "))
			b.WriteByte('\n')
		}
	}
	rule()
	line(g.heads, true)
	rule()
	for _, row := range g.rows {
		line(row, false)
	}
	if len(g.rows) > 0 {
		rule()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sharedDir returns the directory every path is in ("testdata/logs/"),
// with its final slash, or "" when they share none worth saying ("/",
// "./", a path without a directory).
func sharedDir(paths []string) string {
	dir, first := "", true
	for _, p := range paths {
		i := strings.LastIndexByte(p, '/')
		if i < 0 || strings.Contains(p, "://") {
			return "" // a log store's URL is shown whole
		}
		d := p[:i+1]
		if first {
			dir, first = d, false
			continue
		}
		n := 0
		for n < len(dir) && n < len(d) && dir[n] == d[n] {
			n++
		}
		dir = dir[:strings.LastIndexByte(dir[:n], '/')+1]
		if dir == "" {
			return ""
		}
	}
	if dir == "/" || dir == "./" {
		return ""
	}
	return dir
}

// places shows input paths relative to the directory they share.
type places struct{ dir string }

func newPlaces(files []string) places { return places{sharedDir(files)} }

// path is a path as shown, escaped and glued: relative to the shared
// directory, with its stream.
func (p places) path(path, stream string) string {
	s := strings.TrimPrefix(path, p.dir)
	if stream != "" {
		s += "#" + stream
	}
	return glue(Escape(s))
}

// at is "file:line" as shown.
func (p places) at(pl *PlaceJSON) string {
	if pl == nil {
		return ""
	}
	return p.path(pl.Path, pl.Stream) + ":" + strconv.FormatInt(pl.Line, 10)
}

// header writes, once, which directory the paths are relative to.
func (p places) header(w io.Writer, what string, width int) {
	if p.dir != "" {
		writePara(w, "", "  ", what+" in "+glue(Escape(p.dir)), width)
		io.WriteString(w, "\n")
	}
}

// dayAndTime splits a time as the JSON prints it into its day
// ("2020-03-17", "2021-03-14 UTC") and its time of day ("14:00:00.110");
// ok is false for times without a date.
func dayAndTime(t string) (day, clock string, ok bool) {
	if len(t) < 19 || t[4] != '-' || t[7] != '-' || t[10] != 'T' {
		return "", t, false
	}
	day, clock = t[:10], t[11:]
	if strings.HasSuffix(clock, "Z") {
		day, clock = day+" UTC", strings.TrimSuffix(clock, "Z")
	}
	return day, clock, true
}

// oneDay returns the day every dated time is on when all of them are on
// the same one (and at least one is dated), else "".
func oneDay(times []string) string {
	day := ""
	for _, t := range times {
		if t == "" {
			continue
		}
		d, _, ok := dayAndTime(t)
		if !ok || day != "" && d != day {
			return ""
		}
		day = d
	}
	return day
}

// clockOn shows t as its time of day when it is on day (dates said once).
func clockOn(t, day string) string {
	if d, c, ok := dayAndTime(t); ok && d == day {
		return c
	}
	return t
}

// inText returns a function that shows, in escaped text a rule wrote,
// every "file:line" of the inputs as the places do (relative to the
// shared directory, kept whole), so that a story names a line one way.
func (p places) inText(files parser.Files) func(string) string {
	shown := map[string]string{} // name as written → as shown
	for _, f := range files {
		as := Escape(f.Name())
		if s := p.path(f.Path, f.Stream); s != as {
			shown[as] = s
		}
	}
	if len(shown) == 0 {
		return func(s string) string { return s }
	}
	dir := Escape(p.dir)
	// at returns the name of the file:line that starts s[i:], if one does:
	// the longest (of a.log and a.log.1, a.log.1:3 is a.log.1's line).
	at := func(s string, i int) (string, bool) {
		if i > 0 && strings.IndexByte(" ([\"'=,", s[i-1]) < 0 || !strings.HasPrefix(s[i:], dir) {
			return "", false
		}
		name := ""
		for j := i + len(dir); j+1 < len(s); j++ {
			if s[j] == ':' && s[j+1] >= '0' && s[j+1] <= '9' {
				if _, ok := shown[s[i:j]]; ok {
					name = s[i:j]
				}
			}
		}
		return name, name != ""
	}
	return func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); {
			if name, ok := at(s, i); ok {
				b.WriteString(shown[name])
				i += len(name)
				continue
			}
			b.WriteByte(s[i])
			i++
		}
		return b.String()
	}
}
