package reconstruct

import (
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
