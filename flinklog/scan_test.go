package flinklog

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"unsafe"
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
		{"slotID=r_1, allocationID=a, jobID=j", "slotID="},
		{"allocationID=a, IDallocationID=b", "allocationID="},
		{"jobID=", "jobID="},
		{"obID=", "jobID="},
		{"state:ACTIVE, state:", "state:"},
		{"::::", "index:"},
		{"I", "jobId: "},
	}
	for _, c := range cases {
		checkLabelled(t, c.s, c.label)
	}
	// every place the looked-for byte can sit, near the edges and in runs
	rng := rand.New(rand.NewPCG(14589, 1))
	labels := []string{"index:", "state:", "allocationId: ", "jobId: ", "slotID=", "allocationID=", "jobID=", "aa"}
	for range 20000 {
		label := labels[rng.IntN(len(labels))]
		alphabet := label + "x ,I:="
		b := make([]byte, rng.IntN(3*len(label)))
		for k := range b {
			b[k] = alphabet[rng.IntN(len(alphabet))]
		}
		checkLabelled(t, string(b), label)
	}
}

func checkLabelled(t *testing.T, s, label string) {
	t.Helper()
	got, ok := labelled([]byte(s), label)
	i := bytes.LastIndex([]byte(s), []byte(label))
	if ok != (i >= 0) || ok && string(got) != s[i+len(label):] {
		t.Fatalf("labelled(%q, %q) = %q, %v; want what follows index %d", s, label, got, ok, i)
	}
}

// TestBalancedEnd: the close that balances the first open, found close to
// close, as a walk of every byte finds it (unbalanced and leading closes
// included).
func TestBalancedEnd(t *testing.T) {
	byByte := func(s []byte) int {
		depth := 0
		for i, c := range s {
			switch c {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					return i
				}
			}
		}
		return -1
	}
	rng := rand.New(rand.NewPCG(14589, 2))
	for _, s := range []string{"", "(", ")", "()", ")()", "(()", "(a(b)c)d)", "x(y)"} {
		if got, want := balancedEnd([]byte(s), '(', ')'), byByte([]byte(s)); got != want {
			t.Errorf("balancedEnd(%q) = %d, want %d", s, got, want)
		}
	}
	for range 20000 {
		b := make([]byte, rng.IntN(24))
		for k := range b {
			b[k] = "(()x"[rng.IntN(4)]
		}
		if got, want := balancedEnd(b, '(', ')'), byByte(b); got != want {
			t.Fatalf("balancedEnd(%q) = %d, want %d", b, got, want)
		}
	}
}

// TestExceptionSummary: the root "Caused by:" of a body, else its first
// exception line, else a cause on the message line; stack frames, blank
// lines and a last line without its newline read as lines.
func TestExceptionSummary(t *testing.T) {
	cases := []struct{ msg, body, want string }{
		{"", "", ""},
		{"Job x switched from state RUNNING to FAILING.", "", ""},
		{"", "org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat org.apache.flink.X.y(X.java:1)\n", "JobException: Recovery is suppressed"},
		{"", "java.lang.RuntimeException: outer\n\tat a.b(C.java:1)\nCaused by: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.\n\t... 3 more",
			"NoResourceAvailableException: Could not acquire the minimum required resources."},
		{"", "java.lang.RuntimeException: a\r\nCaused by: java.lang.IllegalStateException: b\r\nCaused by: java.io.IOException: root", "IOException: root"},
		{"", "\n\n   \njava.lang.Exception: late first line", "Exception: late first line"},
		{"Task failed with failure cause: java.lang.Exception: on the message line", "", "java.lang.Exception: on the message line"},
		{"", "not an exception\nat all", ""},
	}
	for _, c := range cases {
		if got := exceptionSummary([]byte(c.msg), []byte(c.body)); got != c.want {
			t.Errorf("exceptionSummary(%q, %q) = %q, want %q", c.msg, c.body, got, c.want)
		}
	}
}

// TestInternText: the free texts templates read come back equal to their
// bytes whatever the cache held, from many goroutines at once (go test
// -race), and a text read again while the cache holds it is the same
// string, not a copy.
func TestInternText(t *testing.T) {
	texts := [][]byte{nil, []byte("tm-1"), []byte("container_e01_1600000000000_0001_01_000002"),
		bytes.Repeat([]byte("long cause "), 40), []byte("Source: orders (1/2)")}
	for i := range 5000 {
		texts = append(texts, fmt.Appendf(nil, "task-%d", i))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for k := range 20000 {
				v := texts[(k*(w+3))%len(texts)]
				if got := internText(v); got != string(v) {
					t.Errorf("internText(%q) = %q", v, got)
					return
				}
			}
		})
	}
	wg.Wait()
	a, b := internText([]byte("tm-1")), internText([]byte("tm-1"))
	if unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("a text read twice in a row was made twice")
	}
}
