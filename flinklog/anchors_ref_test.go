package flinklog

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// hasAnchorReference is HasAnchor by its definition: one of Anchors
// anywhere in b, or an RPC scheme right before "://", read '/' by '/' as
// the first HasAnchor read it.
func hasAnchorReference(b []byte) bool {
	for _, w := range Anchors() {
		if bytes.Contains(b, []byte(w)) {
			return true
		}
	}
	return rpcSchemeReference(b)
}

// rpcSchemeReference is the check for the RPC addresses (akka://,
// pekko.tcp://, …) that HasAnchor has always made by their '/'.
func rpcSchemeReference(b []byte) bool {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '/')
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if i < 1 || i+1 >= len(b) || b[i-1] != ':' || b[i+1] != '/' {
			continue
		}
		for _, sch := range []string{"pekko.tcp", "akka.tcp", "pekko", "akka"} {
			if q := i - 1 - len(sch); q >= 0 && string(b[q:i-1]) == sch {
				return true
			}
		}
	}
}

// rpcForms: the RPC addresses HasAnchor finds besides Anchors.
var rpcForms = []string{"akka://", "akka.tcp://", "pekko://", "pekko.tcp://"}

// checkHasAnchor fails t unless HasAnchor (the kernel where there is one),
// the portable code and the reference all say want of b.
func checkHasAnchor(t *testing.T, name string, b []byte, want bool) {
	t.Helper()
	if got := hasAnchorReference(b); got != want {
		t.Errorf("%s: the reference says %v of %q, want %v", name, got, b, want)
	}
	if got := HasAnchor(b); got != want {
		t.Errorf("%s: HasAnchor says %v of %q, want %v", name, got, b, want)
	}
	if got := hasAnchorFrom(b, 0); got != want {
		t.Errorf("%s: the portable code says %v of %q, want %v", name, got, b, want)
	}
}

// noise is chatter that holds no anchor, to embed anchors in.
const noise = "[Consumer clientId=consumer-3, groupId=flink-events] Fetch READ_UNCOMMITTED at offset 632756606 for partition events-4 returned fetch data (error=NONE, highWaterMark=632761623, lastStableOffset = -1) Received heartbeat request from 861ef3e8f7038a6775e842a376565d67. "

// TestHasAnchorEdges: anchors and RPC addresses at the edges of b and of
// the sampling, in inputs too short to hold them, and near misses.
func TestHasAnchorEdges(t *testing.T) {
	if hasAnchorReference([]byte(noise + noise)) {
		t.Fatal("the noise holds an anchor")
	}
	t.Logf("kernel: %v", haveAnchorKernel)
	long := noise[:200]
	cases := []struct {
		name string
		text string
		want bool
	}{
		{"empty", "", false},
		{"noise", long, false},
		{"anchor at 0", "Deploying Map (1/2) (attempt #0) to 10.0.0.5:40123-6b1e3c", true},
		{"anchor at 0 of long text", "Free slot " + long, true},
		{"anchor at the very end", long + "Received task ", true},
		{"anchor alone", "AllocationID{", true},
		{"anchor at the end of 56 bytes", long[:46] + "Free slot " + long, true},
		{"anchor across 56 bytes", long[:50] + "Free slot " + long, true},
		{"anchor across the stride", long[:5] + "Deploying " + long, true},
		{"anchor less its last byte", "Deploying", false},
		{"anchor less its first byte", "eploying ", false},
		{"anchor less a byte, long", long + "Free slo" + long, false},
		{"anchor in another case", long + "deploying " + long, false},
		{"anchor one byte off", long + "Deploying_" + long, false},
		{"anchor one byte off at 0", "Fre3 slot " + long, false},
		{"pair of AllocationID{ alone", long + "D{" + long, false},
		{"AllocationID{ near miss", long + "AllocationId{" + long, false},
		{"akka:// at 0", "akka://flink@jobmanager:6123/user/rpc", true},
		{"pekko.tcp:// at the very end", long + "pekko.tcp://", true},
		{"akka.tcp:// alone", "akka.tcp://", true},
		{"pekko:// in long text", long + "pekko://flink@jm:6123" + long, true},
		{"http://", long + "http://example.com/" + long, false},
		{"akka:/", long + "akka:/" + long, false},
		{"akka:/ at the end", long + "akka:/", false},
		{"akka//", long + "akka//x" + long, false},
		{"Akka://", long + "Akka://" + long, false},
		{"akka.tc://", long + "akka.tc://" + long, false},
		{"kka://", "kka://" + long, false},
		{"://", "://", false},
		{"short text", "Free slo", false},
	}
	for _, c := range cases {
		checkHasAnchor(t, c.name, []byte(c.text), c.want)
	}
}

// TestHasAnchorEveryPlace: every anchor and RPC address, alone, and in
// noise at every offset 0..127 (every alignment to the sampling, and to
// the kernel's blocks of 28 or 56 bytes) with noise of lengths that end b
// in every way the kernel ends it; and with each of its bytes changed
// (another case, a neighbour), which the reference decides.
func TestHasAnchorEveryPlace(t *testing.T) {
	for _, w := range append(Anchors(), rpcForms...) {
		checkHasAnchor(t, "alone", []byte(w), true)
		for pre := 0; pre < 128; pre++ {
			for _, post := range []int{0, 1, 3, 7, 29, 64} {
				text := noise[:pre] + w + noise[len(noise)-post:]
				checkHasAnchor(t, "in noise", []byte(text), true)
			}
		}
		for i := range len(w) {
			for _, c := range []byte{w[i] ^ 0x20, w[i] + 1, w[i] - 1} {
				for _, pre := range []int{0, 5, 31, 57} {
					b := []byte(noise[:pre] + w + noise[:40])
					b[pre+i] = c
					checkHasAnchor(t, "near miss", b, hasAnchorReference(b))
				}
			}
		}
	}
}

// TestHasAnchorLogs: the messages of the test logs and of a simulated
// chatty log, whole and cut at random places.
func TestHasAnchorLogs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	found := 0
	for _, in := range []func() ([][]byte, error){testdataMessages, simMessages} {
		msgs, err := in()
		if err != nil {
			t.Fatal(err)
		}
		for k, m := range msgs {
			want := hasAnchorReference(m)
			if want {
				found++
			}
			checkHasAnchor(t, "message", m, want)
			if k%8 == 0 && len(m) > 0 {
				i := rng.IntN(len(m))
				j := i + rng.IntN(len(m)-i+1)
				checkHasAnchor(t, "cut message", m[i:j], hasAnchorReference(m[i:j]))
			}
		}
	}
	if found < 100 {
		t.Errorf("only %d messages hold an anchor", found)
	}
}

// TestHasAnchorRandom: random texts made of pieces of anchors and noise.
func TestHasAnchorRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := append(Anchors(), rpcForms...)
	for range 20000 {
		var sb strings.Builder
		for sb.Len() < rng.IntN(400) {
			switch w := pieces[rng.IntN(len(pieces))]; rng.IntN(4) {
			case 0:
				sb.WriteString(w)
			case 1:
				i := rng.IntN(len(w))
				sb.WriteString(w[i:])
			case 2:
				sb.WriteString(w[:rng.IntN(len(w))])
			default:
				i := rng.IntN(len(noise))
				sb.WriteString(noise[i : i+rng.IntN(len(noise)-i)])
			}
		}
		b := []byte(sb.String())
		checkHasAnchor(t, "random", b, hasAnchorReference(b))
	}
}
