package reconstruct

import (
	"math/rand/v2"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestActivatedHashesAreTheKeys: an input's activations of an
// AllocationID are filtered under the hashes of the key whose text is the
// input's four bytes, as when that key was made as a string.
func TestActivatedHashesAreTheKeys(t *testing.T) {
	var b bloom
	for i := range 1000 {
		var raw [16]byte
		for j := range raw {
			raw[j] = byte(i*31 + j*7)
		}
		k := skewKey{space: keyMatched, id: flinklog.IDFromBytes(raw)}
		file := int32(i * 65537)
		asText := k
		asText.text = string([]byte{byte(file), byte(file >> 8), byte(file >> 16), byte(file >> 24)})
		x1, y1 := b.hashes(asText)
		x2, y2 := activatedHashes(k, file)
		if x1 != x2 || y1 != y2 {
			t.Fatalf("key %d, input %d: %x %x, as a text key %x %x", i, file, x2, y2, x1, y1)
		}
	}
}

// testKeys are n random keys of every space (attempts as text too), made
// from seed.
func testKeys(seed uint64, n int) []skewKey {
	rng := rand.New(rand.NewPCG(seed, 26))
	var out []skewKey
	for i := range n {
		var raw [16]byte
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		id := flinklog.IDFromBytes(raw)
		switch i % 4 {
		case 0:
			out = append(out, skewKey{space: keyAlloc, id: id})
		case 1:
			out = append(out, skewKey{space: keyMatched, id: id})
		case 2:
			out = append(out, skewKey{space: keyAttempt, id: id})
		default:
			out = append(out, skewKey{space: keyAttemptText, text: id.String() + "_3_1"})
		}
	}
	return out
}

// TestSkewFiltersGrow: the filter of requests let go and the set of
// receipts that stopped waiting hold every key added, through every
// growth; of as many never added, the filter says yes of few (its layers'
// false chances summed: below 1.2e-3 by design) and the set of none.
func TestSkewFiltersGrow(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int // the filter's first layer
		n    int
	}{
		{"sized", 200_000, 200_000},
		{"grown from small", 0, 200_000},
		{"grown from a tenth", 20_000, 200_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBloom(tc.size)
			var s keySet
			in := testKeys(1, tc.n)
			for i, k := range in {
				b.add(k)
				s.add(k)
				if !b.has(k) || !s.has(k) {
					t.Fatalf("key %d not held right after it was added", i)
				}
			}
			for i, k := range in {
				if !b.has(k) || !s.has(k) {
					t.Fatalf("key %d lost as they grew", i)
				}
			}
			if s.n != len(in) {
				t.Errorf("the set counts %d keys, %d added", s.n, len(in))
			}
			if tc.size < tc.n && len(b.layers) < 2 {
				t.Errorf("%d layers for %d keys from %d", len(b.layers), tc.n, tc.size)
			}
			falseYes := 0
			for _, k := range testKeys(2, 100_000) {
				if b.has(k) {
					falseYes++
				}
				if s.has(k) {
					t.Fatalf("the set holds %v, never added", k)
				}
			}
			if rate := float64(falseYes) / 100_000; rate > 1.2e-3 {
				t.Errorf("the filter says yes of %.2g of the keys never added", rate)
			}
		})
	}
}
