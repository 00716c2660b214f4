package flinklog

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestParseIDBytesAgreesWithHex: the table-driven hex decoding accepts
// exactly what encoding/hex accepts (either case), byte by byte at every
// position.
func TestParseIDBytesAgreesWithHex(t *testing.T) {
	base := []byte("0123456789abcdefABCDEF0123456789")
	for pos := range base {
		for c := 0; c < 256; c++ {
			s := bytes.Clone(base)
			s[pos] = byte(c)
			want, err := hex.DecodeString(string(s))
			id, ok := parseIDBytes(s)
			if ok != (err == nil) {
				t.Fatalf("%q: parsed %v, encoding/hex says %v", s, ok, err)
			}
			if ok && !bytes.Equal(id.b[:], want) {
				t.Fatalf("%q: %x, want %x", s, id.b, want)
			}
			if isHex(byte(c)) != (bytes.IndexByte([]byte("0123456789abcdefABCDEF"), byte(c)) >= 0) {
				t.Fatalf("isHex(%q) wrong", byte(c))
			}
		}
	}
}

// TestLabelled: what follows the label's last occurrence, as
// bytes.LastIndex finds it, including overlaps and labels at the edges.
func TestLabelled(t *testing.T) {
	cases := []struct{ s, label string }{
		{"index:4, state:ACTIVE", "index:"},
		{"index:4, extra index:5", "index:"},
		{"index:", "index:"},
		{"ndex:", "index:"},
		{"", "index:"},
		{"aaaa", "aa"},
		{"xallocationId: 1, allocationId: 2", "allocationId: "},
		{"jobId: x jobId", "jobId: "},
		{"iiindex:", "index:"},
	}
	for _, c := range cases {
		got, ok := labelled([]byte(c.s), c.label)
		i := bytes.LastIndex([]byte(c.s), []byte(c.label))
		if ok != (i >= 0) || ok && string(got) != c.s[i+len(c.label):] {
			t.Errorf("labelled(%q, %q) = %q, %v; want what follows index %d", c.s, c.label, got, ok, i)
		}
	}
}
