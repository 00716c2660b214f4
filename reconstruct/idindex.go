package reconstruct

import (
	"encoding/binary"

	"github.com/slotaudit/slotaudit/flinklog"
)

// idIndex maps IDs to values, as a map[flinklog.ID]V does, through the
// first 8 of their 16 bytes: Flink's IDs are random, so those tell them
// apart, and a map keyed by a uint64 hashes and compares one word where
// one keyed by an ID hashes 17 bytes. The joins of an allocation-dense
// read look IDs up millions of times (estimateSkew's were most of its
// time). Two IDs that share the first 8 bytes (hand-made ones, a hostile
// log) are told apart by the second map.
//
// The zero value is empty and ready; make sizes it.
type idIndex[V any] struct {
	byLo map[uint64]idEntry[V]
	rest map[flinklog.ID]V // IDs whose first 8 bytes another ID has
}

type idEntry[V any] struct {
	id flinklog.ID
	v  V
}

// newIDIndex returns an index with room for n IDs.
func newIDIndex[V any](n int) *idIndex[V] {
	return &idIndex[V]{byLo: make(map[uint64]idEntry[V], n)}
}

func idLow(id flinklog.ID) uint64 {
	b := id.Bytes()
	return binary.LittleEndian.Uint64(b[:8])
}

// get returns id's value and whether id is in the index.
func (x *idIndex[V]) get(id flinklog.ID) (V, bool) {
	if e, ok := x.byLo[idLow(id)]; ok && e.id == id {
		return e.v, true
	}
	v, ok := x.rest[id]
	return v, ok
}

// set gives id the value v.
func (x *idIndex[V]) set(id flinklog.ID, v V) {
	if x.byLo == nil {
		x.byLo = map[uint64]idEntry[V]{}
	}
	lo := idLow(id)
	if e, ok := x.byLo[lo]; !ok || e.id == id {
		x.byLo[lo] = idEntry[V]{id, v}
		return
	}
	if x.rest == nil {
		x.rest = map[flinklog.ID]V{}
	}
	x.rest[id] = v
}

// len returns how many IDs the index holds.
func (x *idIndex[V]) len() int { return len(x.byLo) + len(x.rest) }
