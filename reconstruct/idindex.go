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

// allocIndex is idIndex for the model's allocations, which hold their own
// ID: an entry is the pointer alone (16 bytes a slot with its key, where
// an idIndex entry would also hold the ID), for an index kept to the end.
type allocIndex struct {
	byLo map[uint64]*Allocation
	rest map[flinklog.ID]*Allocation
}

func newAllocIndex(n int) *allocIndex {
	return &allocIndex{byLo: make(map[uint64]*Allocation, n)}
}

// get returns the allocation of id, or nil.
func (x *allocIndex) get(id flinklog.ID) *Allocation {
	if a := x.byLo[idLow(id)]; a != nil && a.ID == id {
		return a
	}
	return x.rest[id]
}

// add indexes a, whose ID the index does not hold yet.
func (x *allocIndex) add(a *Allocation) {
	lo := idLow(a.ID)
	if x.byLo[lo] == nil {
		x.byLo[lo] = a
		return
	}
	if x.rest == nil {
		x.rest = map[flinklog.ID]*Allocation{}
	}
	x.rest[a.ID] = a
}
