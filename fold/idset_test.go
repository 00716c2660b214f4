package fold

import (
	"math/rand/v2"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestIDSet: every ID added is in the set, through every growth; of as
// many never added, none is (a fingerprint shared by two of 200,000
// random IDs has a chance of about 10^-9).
func TestIDSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	id := func() flinklog.ID {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return flinklog.IDFromBytes(b)
	}
	var s idSet
	in := make([]flinklog.ID, 100_000)
	for i := range in {
		in[i] = id()
		s.add(in[i])
		if !s.has(in[i]) {
			t.Fatalf("ID %d not in the set right after it was added", i)
		}
	}
	s.add(in[0]) // again: counted once
	if s.n != len(in) {
		t.Errorf("%d IDs counted, %d added", s.n, len(in))
	}
	for i, x := range in {
		if !s.has(x) {
			t.Fatalf("ID %d lost as the set grew", i)
		}
	}
	for range 100_000 {
		if x := id(); s.has(x) {
			t.Fatalf("%s is in the set, never added", x)
		}
	}
}
