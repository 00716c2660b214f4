package fold

import (
	"encoding/binary"

	"github.com/slotaudit/slotaudit/flinklog"
)

// idSet is the AllocationIDs a fold dropped, as 64-bit fingerprints in an
// open-addressed table: 11 to 21 bytes an ID, where a Go map of IDs took
// about 50 (five million dropped stories: 64 MB, not 250). Two IDs of one
// fingerprint (about one chance in 10^12 among five million) make has say
// yes of an ID never added: the fold then gives way to the batch audit, as
// for an allocation named again — never a wrong answer.
type idSet struct {
	slots []uint64 // 0: empty (a fingerprint of 0 is stored as 1)
	n     int
}

func fingerprint(id flinklog.ID) uint64 {
	b := id.Bytes()
	// AllocationIDs are random: their own bits mixed are a good hash
	x := binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:])*0xc2b2ae3d27d4eb4f
	if x == 0 {
		x = 1
	}
	return x
}

func (s *idSet) add(id flinklog.ID) {
	// filled up to three quarters: at half, five million dropped stories
	// took a table of 16 M slots (128 MB, and 192 while it grew), the
	// fold's largest holding; the fingerprints are evenly spread, and a
	// probe at three quarters full looks at a few slots
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	if s.insert(fingerprint(id)) {
		s.n++
	}
}

func (s *idSet) has(id flinklog.ID) bool {
	if s.n == 0 {
		return false
	}
	x := fingerprint(id)
	mask := uint64(len(s.slots) - 1)
	for i := x & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case x:
			return true
		case 0:
			return false
		}
	}
}

// insert puts x in, reporting whether it was not there.
func (s *idSet) insert(x uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := x & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case x:
			return false
		case 0:
			s.slots[i] = x
			return true
		}
	}
}

func (s *idSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(1024, 2*len(old)))
	for _, x := range old {
		if x != 0 {
			s.insert(x)
		}
	}
}
