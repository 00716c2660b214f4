package sim

import "sort"

// slotTable is a TaskManager process's slots by index: every static index
// (0 to numberOfTaskSlots-1), free or not, and the dynamic ones (1.18+:
// each allocation gets the next index, never reused) only while they are
// held. A long run on dynamic slots gives out millions of indexes; a slice
// of them all would grow with every allocation, and the slot report walks
// the table at every heartbeat. Iteration is in index order, as a slice of
// every index would be, so the logs do not change.
type slotTable struct {
	static []tmSlot
	dyn    []dynSlot // held dynamic slots, by index ascending
}

type dynSlot struct {
	index int
	tmSlot
}

func newSlotTable(n int) slotTable { return slotTable{static: make([]tmSlot, n)} }

// find returns where dynamic index i is or would go in dyn.
func (st *slotTable) find(i int) (int, bool) {
	k := sort.Search(len(st.dyn), func(k int) bool { return st.dyn[k].index >= i })
	return k, k < len(st.dyn) && st.dyn[k].index == i
}

// get returns slot i (the zero slot, free, for a dynamic index not held).
func (st *slotTable) get(i int) tmSlot {
	if i < len(st.static) {
		return st.static[i]
	}
	if k, ok := st.find(i); ok {
		return st.dyn[k].tmSlot
	}
	return tmSlot{}
}

// ptr returns slot i to change in place: a static index, or a dynamic one
// that is held (set puts one in the table). The pointer is good until the
// table is next set or cleared.
func (st *slotTable) ptr(i int) *tmSlot {
	if i < len(st.static) {
		return &st.static[i]
	}
	k, ok := st.find(i)
	if !ok {
		panic("sim: a free dynamic slot changed in place")
	}
	return &st.dyn[k].tmSlot
}

// set makes slot i sl; a free slot is cleared.
func (st *slotTable) set(i int, sl tmSlot) {
	if sl.state == "" {
		st.clear(i)
		return
	}
	if i < len(st.static) {
		st.static[i] = sl
		return
	}
	k, ok := st.find(i)
	if ok {
		st.dyn[k].tmSlot = sl
		return
	}
	st.dyn = append(st.dyn, dynSlot{})
	copy(st.dyn[k+1:], st.dyn[k:])
	st.dyn[k] = dynSlot{index: i, tmSlot: sl}
}

// clear frees slot i: a dynamic index leaves the table.
func (st *slotTable) clear(i int) {
	if i < len(st.static) {
		st.static[i] = tmSlot{}
		return
	}
	if k, ok := st.find(i); ok {
		st.dyn = append(st.dyn[:k], st.dyn[k+1:]...)
	}
}

// each calls fn for every static slot and every held dynamic one, in index
// order; fn must not set or clear slots.
func (st *slotTable) each(fn func(i int, sl *tmSlot)) {
	for i := range st.static {
		fn(i, &st.static[i])
	}
	for k := range st.dyn {
		fn(st.dyn[k].index, &st.dyn[k].tmSlot)
	}
}

// size is how many slots each visits.
func (st *slotTable) size() int { return len(st.static) + len(st.dyn) }
