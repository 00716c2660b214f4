package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Escape makes untrusted log text safe to print on a terminal: C0 and C1
// control characters (escape sequences among them), DEL and invalid UTF-8
// bytes become visible \xNN or \u00NN forms; tabs stay. A log line can
// therefore never move the cursor, change colours or retitle the window of
// the person reading slotaudit's output.
func Escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteByte('\t')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f || isBidiControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isBidiControl reports the Unicode bidirectional formatting characters
// (LRM, RLM, ALM, the embeddings, overrides and isolates): raw in a file
// name or log text they reorder what a reader sees ("Trojan Source").
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// escapeUnsafe rewrites, in already encoded JSON or XML text, every DEL, C1
// control and bidi control with form(r) (encoding/json and encoding/xml
// leave them raw: both formats allow them). Outside strings these formats
// hold only ASCII, so the rewrite never touches their structure. It
// returns b itself when nothing needs rewriting.
func escapeUnsafe(b []byte, form func(r rune) string) []byte {
	i := 0
	for ; i < len(b); i++ {
		if c := b[i]; c == 0x7f || c == 0xc2 || c == 0xd8 || c == 0xe2 {
			break
		}
	}
	if i == len(b) {
		return b
	}
	out := append([]byte(nil), b[:i]...)
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || r >= 0x80 && r <= 0x9f || isBidiControl(r) {
			out = append(out, form(r)...)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// EscapeJSON rewrites encoded JSON so that DEL, C1 controls and bidi
// controls appear as \u escapes: the same text, never raw.
func EscapeJSON(b []byte) []byte {
	return escapeUnsafe(b, func(r rune) string { return fmt.Sprintf(`\u%04x`, r) })
}

// EscapeXML rewrites encoded XML so that DEL, C1 controls and bidi
// controls appear as numeric character references.
func EscapeXML(b []byte) []byte {
	return escapeUnsafe(b, func(r rune) string { return fmt.Sprintf(`&#x%x;`, r) })
}

// escapingWriter applies an escape to everything written through it. The
// formats it carries end every write on an ASCII byte (a value, a line, a
// closing tag), so a rune is never split between two writes.
type escapingWriter struct {
	w      io.Writer
	escape func([]byte) []byte
}

func (e escapingWriter) Write(b []byte) (int, error) {
	if _, err := e.w.Write(e.escape(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// NewJSONEncoder is the one JSON encoder of every output: HTML left alone,
// DEL, C1 and bidi controls escaped (EscapeJSON).
func NewJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(escapingWriter{w, EscapeJSON})
	enc.SetEscapeHTML(false)
	return enc
}
