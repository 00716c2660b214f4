package parser

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
)

// A Layout decodes the first line of a text log record into its header
// fields. Layouts are compiled from log4j 1, log4j 2 or logback conversion
// patterns, so a user's own pattern (`--layout '%d %-5p %c - %m%n'`) is read
// by the same code as Flink's defaults.
type Layout struct {
	Name    string // short name shown in summaries
	Pattern string // the conversion pattern it was compiled from
	elems   []layoutElem
	hasLvl  bool
}

type elemKind uint8

const (
	elLiteral  elemKind = iota // exact bytes
	elSpace                    // a run of blanks in the pattern: matches zero or more blanks
	elDate                     // %d{...}
	elLevel                    // %p, %level
	elLogger                   // %c, %logger: one token
	elThread                   // %t, %thread: free text
	elNDC                      // %x: empty (log4j 1) or [..] (log4j 2)
	elMDC                      // %X without key: empty or {..}
	elText                     // any other field: free text, possibly empty
	elMessage                  // %m
	elRelative                 // %r: milliseconds since JVM start
)

type layoutElem struct {
	kind elemKind
	lit  []byte
	date *dateFormat
}

// header is what a layout extracts from a record's first line. Slices alias
// the line.
type header struct {
	time    flinklog.Time
	level   []byte
	logger  []byte
	thread  []byte
	msg     []byte
	ndcSeen bool // a log4j 2 "[...]" NDC was printed
}

// CompileLayout compiles a log4j/logback conversion pattern. Converters that
// slotaudit does not need (class, method, line, markers, ...) are accepted and
// matched as free text; colour wrappers such as %highlight{...} and
// %style{...}{...} are replaced by their content.
func CompileLayout(name, pattern string) (*Layout, error) {
	l := &Layout{Name: name, Pattern: pattern}
	p := pattern
	var lit []byte
	flush := func() {
		for len(lit) > 0 {
			i := 0
			if lit[0] == ' ' || lit[0] == '\t' {
				for i < len(lit) && (lit[i] == ' ' || lit[i] == '\t') {
					i++
				}
				l.elems = append(l.elems, layoutElem{kind: elSpace})
			} else {
				for i < len(lit) && lit[i] != ' ' && lit[i] != '\t' {
					i++
				}
				l.elems = append(l.elems, layoutElem{kind: elLiteral, lit: append([]byte(nil), lit[:i]...)})
			}
			lit = lit[i:]
		}
		lit = lit[:0]
	}
	for len(p) > 0 {
		c := p[0]
		if c != '%' {
			lit = append(lit, c)
			p = p[1:]
			continue
		}
		p = p[1:]
		if len(p) == 0 {
			return nil, fmt.Errorf("layout %q: pattern ends with %%", pattern)
		}
		if p[0] == '%' {
			lit = append(lit, '%')
			p = p[1:]
			continue
		}
		// format modifiers: -, digits, ., digits
		for len(p) > 0 && (p[0] == '-' || p[0] == '.' || p[0] >= '0' && p[0] <= '9') {
			p = p[1:]
		}
		j := 0
		for j < len(p) && (p[j] >= 'a' && p[j] <= 'z' || p[j] >= 'A' && p[j] <= 'Z') {
			j++
		}
		conv := p[:j]
		p = p[j:]
		var opts []string
		for len(p) > 0 && p[0] == '{' {
			end := matchBrace(p)
			if end < 0 {
				return nil, fmt.Errorf("layout %q: unbalanced { after %%%s", pattern, conv)
			}
			opts = append(opts, p[1:end])
			p = p[end+1:]
		}
		switch conv {
		case "highlight", "style", "enc", "encode", "notEmpty", "varsNotEmpty", "maxLen", "maxLength":
			// Colour and encoding wrappers print their content; ANSI codes are
			// stripped from lines before matching.
			if len(opts) > 0 {
				p = opts[0] + p
			}
			continue
		case "n":
			continue
		}
		flush()
		switch conv {
		case "d", "date":
			f := "yyyy-MM-dd HH:mm:ss,SSS"
			if len(opts) > 0 && opts[0] != "" {
				f = opts[0]
			}
			df, err := compileDateFormat(f)
			if err != nil {
				return nil, fmt.Errorf("layout %q: %w", pattern, err)
			}
			l.elems = append(l.elems, layoutElem{kind: elDate, date: df})
		case "p", "le", "level":
			l.elems = append(l.elems, layoutElem{kind: elLevel})
			l.hasLvl = true
		case "c", "lo", "logger":
			l.elems = append(l.elems, layoutElem{kind: elLogger})
		case "t", "thread", "tn", "threadName":
			l.elems = append(l.elems, layoutElem{kind: elThread})
		case "x", "NDC", "ndc":
			l.elems = append(l.elems, layoutElem{kind: elNDC})
		case "X", "mdc", "MDC":
			if len(opts) > 0 {
				l.elems = append(l.elems, layoutElem{kind: elText})
			} else {
				l.elems = append(l.elems, layoutElem{kind: elMDC})
			}
		case "m", "msg", "message":
			l.elems = append(l.elems, layoutElem{kind: elMessage})
		case "r", "relative":
			l.elems = append(l.elems, layoutElem{kind: elRelative})
		case "throwable", "ex", "exception", "xEx", "xException", "xThrowable", "rEx", "rException", "rThrowable", "wEx", "wex", "nopex":
			// Stack traces follow on later lines; they are continuation lines.
		case "":
			return nil, fmt.Errorf("layout %q: %% without a converter name", pattern)
		default:
			l.elems = append(l.elems, layoutElem{kind: elText})
		}
	}
	flush()
	// Trailing blanks and %n never reach a line (lines are read without the
	// newline and right-trimmed).
	for len(l.elems) > 0 && l.elems[len(l.elems)-1].kind == elSpace {
		l.elems = l.elems[:len(l.elems)-1]
	}
	hasMsg := false
	for _, e := range l.elems {
		if e.kind == elMessage {
			hasMsg = true
		}
	}
	if !hasMsg {
		return nil, fmt.Errorf("layout %q has no %%m (message) converter", pattern)
	}
	return l, nil
}

// MustCompileLayout is CompileLayout for the built-in patterns.
func MustCompileLayout(name, pattern string) *Layout {
	l, err := CompileLayout(name, pattern)
	if err != nil {
		panic(err)
	}
	return l
}

func matchBrace(p string) int {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// maxCandidates bounds backtracking per free-text field, so a hostile line
// cannot make matching quadratic.
const maxCandidates = 16

// timeOfDay reports whether the layout reads a timestamp without a date:
// such records are dated by counting midnights from the first, so a record
// depends on every one before it.
func (l *Layout) timeOfDay() bool {
	for _, e := range l.elems {
		if e.kind == elDate && (e.date == nil || !e.date.hasDate) {
			return true
		}
	}
	return false
}

// matchBudget bounds the steps one layout match may take: free-text
// elements backtrack, and nested backtracking on a hostile line must stay
// linear-ish (the bound flinklog's templates have too).
const matchBudget = 4096

// match decodes line with the layout.
func (l *Layout) match(line []byte) (header, bool) {
	var h header
	budget := matchBudget
	if !l.matchAt(line, 0, 0, &h, &budget) {
		return header{}, false
	}
	return h, true
}

func (l *Layout) matchAt(s []byte, ei, pos int, h *header, budget *int) bool {
	*budget--
	if *budget < 0 {
		return false
	}
	if ei == len(l.elems) {
		// Anything left after the last element (padding, a stray "\r") is
		// tolerated only if blank.
		return len(bytes.TrimSpace(s[pos:])) == 0
	}
	e := &l.elems[ei]
	switch e.kind {
	case elLiteral:
		if !bytes.HasPrefix(s[pos:], e.lit) {
			return false
		}
		return l.matchAt(s, ei+1, pos+len(e.lit), h, budget)
	case elSpace:
		for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
			pos++
		}
		return l.matchAt(s, ei+1, pos, h, budget)
	case elDate:
		t, n, ok := e.date.parse(s[pos:])
		if !ok {
			return false
		}
		h.time = t
		return l.matchAt(s, ei+1, pos+n, h, budget)
	case elRelative:
		start := pos
		var v int64
		for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' && pos-start < 15 {
			v = v*10 + int64(s[pos]-'0')
			pos++
		}
		if pos == start {
			return false
		}
		h.time = flinklog.Time{Kind: flinklog.TimeRelative, N: v * 1e6}
		return l.matchAt(s, ei+1, pos, h, budget)
	case elLevel:
		start := pos
		for pos < len(s) && (s[pos] >= 'A' && s[pos] <= 'Z' || s[pos] >= 'a' && s[pos] <= 'z') {
			pos++
		}
		lv := s[start:pos]
		if !isLevel(lv) {
			return false
		}
		h.level = lv
		return l.matchAt(s, ei+1, pos, h, budget)
	case elLogger:
		start := pos
		for pos < len(s) && s[pos] != ' ' && s[pos] != '\t' {
			pos++
		}
		if pos == start {
			return false
		}
		// A logger is a Java name: letters, digits, '.', '$', '_'. This keeps
		// stray lines from being taken for records.
		for _, c := range s[start:pos] {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '$' || c == '_' || c == '-') {
				// A following literal may be glued to the logger ("%c:"):
				// retry with the logger ending before that literal.
				return l.matchFree(s, ei, start, h, func(v []byte) { h.logger = v }, false, budget)
			}
		}
		h.logger = s[start:pos]
		return l.matchAt(s, ei+1, pos, h, budget)
	case elNDC:
		if pos < len(s) && s[pos] == '[' {
			if end := bytes.IndexByte(s[pos:], ']'); end >= 0 {
				save := h.ndcSeen
				h.ndcSeen = true
				if l.matchAt(s, ei+1, pos+end+1, h, budget) {
					return true
				}
				h.ndcSeen = save
			}
		}
		return l.matchAt(s, ei+1, pos, h, budget)
	case elMDC:
		if pos < len(s) && s[pos] == '{' {
			if end := bytes.IndexByte(s[pos:], '}'); end >= 0 && l.matchAt(s, ei+1, pos+end+1, h, budget) {
				return true
			}
		}
		return l.matchAt(s, ei+1, pos, h, budget)
	case elThread:
		return l.matchFree(s, ei, pos, h, func(v []byte) { h.thread = bytes.TrimSpace(v) }, false, budget)
	case elText:
		return l.matchFree(s, ei, pos, h, func([]byte) {}, false, budget)
	case elMessage:
		return l.matchFree(s, ei, pos, h, func(v []byte) { h.msg = v }, true, budget)
	}
	return false
}

// matchFree matches a free-text element ending at a place where the rest of
// the pattern matches. The end candidates are the occurrences of the next
// literal (or blank, when the next element is a field); longest first for the
// message (text after it is usually a trailer), shortest first otherwise.
func (l *Layout) matchFree(s []byte, ei, pos int, h *header, set func([]byte), longest bool, budget *int) bool {
	next := ei + 1
	for next < len(l.elems) && l.elems[next].kind == elSpace {
		next++
	}
	if ei+1 == len(l.elems) {
		set(s[pos:])
		return true
	}
	var sep []byte
	if next < len(l.elems) && l.elems[next].kind == elLiteral {
		sep = l.elems[next].lit
	} else {
		sep = []byte{' '}
	}
	var cands [maxCandidates]int
	n := 0
	if longest {
		end := len(s)
		for n < maxCandidates {
			i := bytes.LastIndex(s[pos:end], sep)
			if i < 0 {
				break
			}
			cands[n] = pos + i
			n++
			end = pos + i
		}
	} else {
		from := pos
		for n < maxCandidates {
			i := bytes.Index(s[from:], sep)
			if i < 0 {
				break
			}
			cands[n] = from + i
			n++
			from += i + 1
		}
	}
	for _, c := range cands[:n] {
		end := c
		// a blank between the field and the separator belongs to the pattern
		for end > pos && ei+1 < next && (s[end-1] == ' ' || s[end-1] == '\t') {
			end--
		}
		set(s[pos:end])
		if l.matchAt(s, ei+1, end, h, budget) {
			return true
		}
	}
	return false
}

func isLevel(b []byte) bool {
	switch string(b) {
	case "TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "SEVERE", "FINE", "FINER", "FINEST", "CONFIG",
		"trace", "debug", "info", "warn", "warning", "error", "fatal":
		return true
	}
	return false
}

// builtinLayouts are tried, in this order, when a file's layout is detected.
// More specific patterns come first so a tie goes to them.
var builtinLayouts = []*Layout{
	// Flink's shipped log4j.properties / log4j-console.properties, 1.5-2.x
	// (log4j 1 prints an empty NDC as nothing, log4j 2 as "[]").
	MustCompileLayout("flink", "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n"),
	// The same without a date (IDE runs, MiniCluster).
	MustCompileLayout("flink-time", "%d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n"),
	// Flink's logback.xml.
	MustCompileLayout("logback", "%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] %-5level %logger{60} %X{sourceThread} - %msg%n"),
	MustCompileLayout("logback-time", "%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} %X{sourceThread} - %msg%n"),
	// Flink's CI layout (tools/ci/log4j.properties).
	MustCompileLayout("flink-ci", "%d{HH:mm:ss,SSS} [%20t] %-5p %-60c %x - %m%n"),
	MustCompileLayout("dated-thread", "%d{yyyy-MM-dd HH:mm:ss,SSS} [%t] %-5p %c %x - %m%n"),
	// Flink's test layout: milliseconds since JVM start.
	MustCompileLayout("relative", "%-4r [%t] %-5p %c %x - %m%n"),
}

// builtinLayout returns the built-in layout called name.
func builtinLayout(name string) *Layout {
	for _, l := range builtinLayouts {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// LayoutNames lists the names accepted by --layout besides a pattern.
func LayoutNames() []string {
	names := []string{"json"}
	for _, l := range builtinLayouts {
		names = append(names, l.Name)
	}
	return names
}

// ResolveLayout turns a --layout value into a layout: a built-in name, "json",
// or a conversion pattern (anything containing '%').
func ResolveLayout(v string) (*Layout, bool, error) {
	if v == "" {
		return nil, false, nil
	}
	if v == "json" {
		return nil, true, nil
	}
	if l := builtinLayout(v); l != nil {
		return l, false, nil
	}
	if !strings.Contains(v, "%") {
		return nil, false, fmt.Errorf("unknown layout %q: give one of %s, or a log4j conversion pattern such as '%%d %%-5p %%c - %%m%%n'", v, strings.Join(LayoutNames(), ", "))
	}
	l, err := CompileLayout("custom", v)
	return l, false, err
}
