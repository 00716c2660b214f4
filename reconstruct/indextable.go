package reconstruct

import (
	"cmp"
	"iter"
	"maps"
	"slices"
)

// IndexTable says, for each slot key of a replay, what index the slot has
// and how that is known. A replay gives every allocation on a TaskManager
// that prints no index a placeholder key, -1, -2, … in allocation order:
// those are kept in a slice by -key-1, the rest (printed indexes a test or
// a caller sets, a placeholder far past the others) in a map. As a map
// of every placeholder it cost about 100 bytes an allocation, the most of
// any part of a replay after its steps; the slice costs 49.
//
// The zero value is empty and ready.
type IndexTable struct {
	held  []IndexInfo // placeholder -1-i at i, when has[i]
	has   []bool
	other map[int]IndexInfo
	n     int
	// sparse: every key is kept in the map, from which Delete takes
	// it (a ReplayStream's table, whose keys come and go)
	sparse bool
}

// placeholderSlot returns where key lies in held, or false when the map
// keeps it: a key at or above zero, or one so far below the placeholders
// so far that a slice up to it would be mostly empty.
func (t *IndexTable) placeholderSlot(key int) (int, bool) {
	if key >= 0 || t.sparse {
		return 0, false
	}
	i := -(key + 1)
	return i, i < 2*len(t.held)+1024
}

// Get returns what is known of key's index, and whether key is in the
// table (a map's comma-ok).
func (t *IndexTable) Get(key int) (IndexInfo, bool) {
	// (a key the map took stays there when the slice grows past it)
	if i, ok := t.placeholderSlot(key); ok && i < len(t.held) && t.has[i] {
		return t.held[i], true
	}
	info, ok := t.other[key]
	return info, ok
}

// At returns what is known of key's index: the zero IndexInfo when key
// is not in the table (a map's index expression).
func (t *IndexTable) At(key int) IndexInfo {
	info, _ := t.Get(key)
	return info
}

// Set puts key in the table with info.
func (t *IndexTable) Set(key int, info IndexInfo) {
	if _, inMap := t.other[key]; inMap {
		t.other[key] = info
		return
	}
	if i, ok := t.placeholderSlot(key); ok {
		for len(t.held) <= i {
			t.held = append(t.held, IndexInfo{})
			t.has = append(t.has, false)
		}
		if !t.has[i] {
			t.n++
		}
		t.held[i], t.has[i] = info, true
		return
	}
	if t.other == nil {
		t.other = map[int]IndexInfo{}
	}
	t.n++
	t.other[key] = info
}

// Len returns how many keys the table holds.
func (t *IndexTable) Len() int { return t.n }

// Keys returns the table's keys in descending order: placeholders from
// -1 down, oldest first.
func (t *IndexTable) Keys() []int {
	keys := make([]int, 0, t.n)
	for i, ok := range t.has {
		if ok {
			keys = append(keys, -1-i)
		}
	}
	if len(t.other) > 0 {
		keys = append(keys, slices.Collect(maps.Keys(t.other))...)
		slices.SortFunc(keys, func(a, b int) int { return cmp.Compare(b, a) })
	}
	return keys
}

// All yields every key and what is known of its index, in Keys' order.
func (t *IndexTable) All() iter.Seq2[int, IndexInfo] {
	return func(yield func(int, IndexInfo) bool) {
		for _, key := range t.Keys() {
			if !yield(key, t.At(key)) {
				return
			}
		}
	}
}

// fit gives back what the slice grew past its length.
func (t *IndexTable) fit() {
	if cap(t.held)-len(t.held) > len(t.held)/8 {
		t.held = slices.Clip(slices.Clone(t.held))
		t.has = slices.Clip(slices.Clone(t.has))
	}
}

// Delete takes key out of a sparse table.
func (t *IndexTable) Delete(key int) {
	if _, ok := t.other[key]; ok {
		delete(t.other, key)
		t.n--
	}
}
