package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\twith tab", "plain text\twith tab"},
		{"red \x1b[31mALERT\x1b[0m", `red \x1b[31mALERT\x1b[0m`},
		{"title \x1b]0;pwned\x07", `title \x1b]0;pwned\x07`},
		{"cr\rlf\n", `cr\x0dlf\x0a`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bad utf8 \xff\xfe", `bad utf8 \xff\xfe`},
		{"ünïcödé ok", "ünïcödé ok"},
		{"bidi \u202eevil\u202c", `bidi \u202eevil\u202c`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeJSONAndXML: DEL, C1 and bidi controls never appear raw in JSON
// or XML output, and the escaped text decodes back to the same string.
func TestEscapeJSONAndXML(t *testing.T) {
	for _, s := range []string{
		"plain", "tab\tok", "csi \u009b2J osc \u009d0;t\u009c del \x7f",
		"bidi \u202eevil\u202c \u2066iso\u2069 \u200e\u200f \u061c", "é ü 漢字 \u2028", "\u00a0nbsp",
	} {
		var b bytes.Buffer
		if err := NewJSONEncoder(&b).Encode(map[string]string{"s": s}); err != nil {
			t.Fatal(err)
		}
		if msg, ok := rawControl(b.String()); !ok {
			t.Errorf("JSON of %q: %s", s, msg)
		}
		var back map[string]string
		if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["s"] != s {
			t.Errorf("JSON of %q decodes to %q (%v)", s, back["s"], err)
		}
		var x bytes.Buffer
		if err := xml.NewEncoder(escapingWriter{&x, EscapeXML}).Encode(struct {
			XMLName xml.Name `xml:"t"`
			A       string   `xml:"a,attr"`
			S       string   `xml:"s"`
		}{A: s, S: s}); err != nil {
			t.Fatal(err)
		}
		if msg, ok := rawControl(x.String()); !ok {
			t.Errorf("XML of %q: %s", s, msg)
		}
		var xback struct {
			A string `xml:"a,attr"`
			S string `xml:"s"`
		}
		if err := xml.Unmarshal(x.Bytes(), &xback); err != nil || xback.S != s {
			t.Errorf("XML of %q decodes to %q (%v)", s, xback.S, err)
		}
		if msg, ok := rawControl(Escape(s)); !ok {
			t.Errorf("Escape(%q): %s", s, msg)
		}
	}
}

// rawControl finds a DEL, C1 or bidi control left raw.
func rawControl(s string) (string, bool) {
	for i, r := range s {
		if r == 0x7f || r >= 0x80 && r <= 0x9f || isBidiControl(r) {
			return fmt.Sprintf("raw %U at %d", r, i), false
		}
	}
	return "", true
}
