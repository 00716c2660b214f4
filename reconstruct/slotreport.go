package reconstruct

import (
	"cmp"
	"iter"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// SlotReportCheck is one slot report compared, index by index, with the
// replayed table of each model. A DEBUG log holds one per heartbeat per
// TaskManager: it is kept small (24 bytes), and a TaskManager at rest
// compares the same report with the same table for hours, so its checks
// share their rows.
type SlotReportCheck struct {
	Probe int32 // index into Config.Probes (whose Pos is the report's line)
	N     int32 // the probes Probe, Probe+1, … that came out the same
	// After is the event (-1: before any) after which the table was
	// compared: the latest state inside the report's window that agrees,
	// else the state at the report's time.
	After  [2]parser.EventRef
	Agrees [2]bool
	rows   *[2][]SlotReportRow
}

// Rows returns the report's slots lined up with model m's table (read
// only: checks share them).
func (c *SlotReportCheck) Rows(m Semantics) []SlotReportRow { return c.rows[m] }

// mergeChecks is off only for the test that compares merged checks with
// a check per report.
var mergeChecks = true

func (c *SlotReportCheck) sameAs(d *SlotReportCheck) bool {
	return c.After == d.After && c.Agrees == d.Agrees && c.rows == d.rows
}

// Checks yields every probe compared with the tables, in probe order, with
// its check (shared by the probes of a run: read only).
func (r *Replay) Checks() iter.Seq2[int, *SlotReportCheck] {
	return func(yield func(int, *SlotReportCheck) bool) {
		for c := range r.checks {
			chk := &r.checks[c]
			for k := chk.Probe; k < chk.Probe+chk.N; k++ {
				if !yield(int(k), chk) {
					return
				}
			}
		}
	}
}

// ChecksBackward yields what Checks yields, last first.
func (r *Replay) ChecksBackward() iter.Seq2[int, *SlotReportCheck] {
	return func(yield func(int, *SlotReportCheck) bool) {
		for c := len(r.checks) - 1; c >= 0; c-- {
			chk := &r.checks[c]
			for k := chk.Probe + chk.N - 1; k >= chk.Probe; k-- {
				if !yield(int(k), chk) {
					return
				}
			}
		}
	}
}

// CheckCount counts the probes compared with the tables.
func (r *Replay) CheckCount() int {
	n := 0
	for c := range r.checks {
		n += int(r.checks[c].N)
	}
	return n
}

// SlotReportRow is one slot as the report shows it and as the replay holds it.
type SlotReportRow struct {
	Index    int         // the slot's index; -1 for a dynamic slot the report names without one
	Reported flinklog.ID // AllocationID the report shows (unset: free)
	Job      flinklog.ID // JobID the report shows
	Replayed Slot        // the replayed slot (Index is its key; State Free when the replay holds none)
	Agrees   bool
}

// resolveFromReports: a slot report prints which index holds which
// AllocationID. When the table at the report's time holds an AllocationID
// in as many slots as the report shows, and exactly one of those slots has
// no index yet while exactly one reported index is unaccounted for, that
// is its index.
func (r *Replay) resolveFromReports() {
	var snaps []*snapshot
	for p := range r.cfg.Probes.Len() {
		pr := r.cfg.Probes.Probe(p)
		for _, h := range r.reportedHolders(pr, func() []*snapshot { snaps = r.statesOf(p, snaps); return snaps }) {
			r.resolveHolding(h)
		}
	}
}

// reportHolding is what a slot report says of one AllocationID, and the
// slots the table held it in at the report's time: what resolveHolding
// needs, once the window's states are taken, to settle an index.
type reportHolding struct {
	alloc flinklog.ID
	idxs  []int // the indexes the report shows it holding
	keys  []int // its slots in the latest state of the window holding as many
	pos   flinklog.Pos
	ref   parser.EventRef // the report's (a stream's: see settle)
}

// reportedHolders returns, for every AllocationID probe pr shows holding
// an index, the slots a state of its window (states, asked for once
// needed) held it in as many slots as the report shows; AllocationIDs no
// state holds so are left out (nothing to settle). In the order the report
// names them.
func (r *Replay) reportedHolders(pr Probe, states func() []*snapshot) []reportHolding {
	var out []reportHolding
	// (each holding's first index from one array for the report: a slice
	// made for each was a third of this; capped, an AllocationID shown
	// twice grows its own)
	var first []int
	for _, st := range pr.Slots {
		if !st.Alloc.IsSet() || st.Index < 0 {
			continue
		}
		if k := slices.IndexFunc(out, func(h reportHolding) bool { return h.alloc == st.Alloc }); k >= 0 {
			out[k].idxs = append(out[k].idxs, st.Index)
			continue
		}
		if first == nil {
			first = make([]int, 0, len(pr.Slots))
			out = make([]reportHolding, 0, len(pr.Slots))
		}
		first = append(first, st.Index)
		n := len(first)
		out = append(out, reportHolding{alloc: st.Alloc, idxs: first[n-1 : n : n], pos: pr.Pos})
	}
	if len(out) == 0 {
		return nil
	}
	snaps := states()
	kept := out[:0]
	for _, h := range out {
		snap, ok := snapshotHolding(snaps, h.alloc, len(h.idxs))
		if !ok {
			continue
		}
		for _, s := range snap {
			if s.Alloc == h.alloc {
				h.keys = append(h.keys, s.Index)
			}
		}
		kept = append(kept, h)
	}
	return kept
}

// resolveHolding settles the index of h's one slot of unknown index when
// exactly one index the report shows is held by none of h's other slots.
// It reads only h's slots' indexes and sets at most one of them, so the
// holdings of different AllocationIDs may be settled in any order; those
// of one AllocationID, in the order of their reports.
func (r *Replay) resolveHolding(h reportHolding) {
	// (nearly always every slot's index is known already: nothing to
	// settle, and no set of the indexes left is made for it)
	open, opens := 0, 0
	for _, key := range h.keys {
		if r.IndexOf(key) < 0 {
			open, opens = key, opens+1
		}
	}
	if opens != 1 {
		return
	}
	left, lefts := 0, 0
	for i, idx := range h.idxs {
		if slices.Contains(h.idxs[:i], idx) {
			continue
		}
		held := false
		for _, key := range h.keys {
			if r.IndexOf(key) == idx {
				held = true
				break
			}
		}
		if !held {
			left, lefts = idx, lefts+1
		}
	}
	if lefts == 1 {
		r.resolve(open, left, IndexObserved, "slot report", h.pos)
	}
}

// snapshotHolding returns the latest legacy-table state of snaps (a
// probe's window) in which alloc holds exactly n slots.
func snapshotHolding(snaps []*snapshot, alloc flinklog.ID, n int) ([]Slot, bool) {
	for s := len(snaps) - 1; s >= 0; s-- {
		slots := snaps[s].Slots[Legacy]
		held := 0
		for _, sl := range slots {
			if sl.Alloc == alloc {
				held++
			}
		}
		if held == n {
			return slots, true
		}
	}
	return nil, false
}

// compareReports compares every probe with each model's table: the latest
// state in the window that agrees wins; without one, the state at the
// report's time is shown with its differences.
func (r *Replay) compareReports() {
	var snaps []*snapshot
	var rows *[2][]SlotReportRow // the last check's
	for p := range r.cfg.Probes.Len() {
		snaps = r.statesOf(p, snaps)
		r.compareProbe(p, r.cfg.Probes.Probe(p), snaps, &rows)
	}
}

// compareProbe compares probe p (pr) with the states of its window
// (snaps, oldest first) and adds its check; rows are the last check's,
// which a check that comes out the same shares.
func (r *Replay) compareProbe(p int, pr Probe, snaps []*snapshot, rows **[2][]SlotReportRow) {
	if len(snaps) == 0 {
		return
	}
	chk := SlotReportCheck{Probe: int32(p), N: 1}
	var pair [2][]SlotReportRow
	// The table as it stood at the report's time, else the nearest
	// state inside the window that agrees with it (the report may be
	// older than its line; the skew estimate is approximate).
	at := len(snaps) - 1
	for s, snap := range snaps {
		if snap.Until.Kind == flinklog.TimeNone || snap.Until.N > pr.At.N {
			at = s
			break
		}
	}
	for m := range r.Tables {
		chosen := at
		for d := 0; d < len(snaps); d++ {
			if s := at - d; s >= 0 {
				if r.agrees(pr.Slots, snaps[s].Slots[m]) {
					chosen = s
					break
				}
			}
			if s := at + d; d > 0 && s < len(snaps) {
				if r.agrees(pr.Slots, snaps[s].Slots[m]) {
					chosen = s
					break
				}
			}
		}
		pair[m], chk.Agrees[m] = r.compareKept(m, pr.Slots, snaps[chosen].Slots[m])
		chk.After[m] = parser.EventRef(snaps[chosen].After)
	}
	if *rows == nil || !sameRows((*rows)[Legacy], pair[Legacy]) || !sameRows((*rows)[Fixed], pair[Fixed]) {
		*rows = &pair
	}
	chk.rows = *rows
	// the same outcome as the report before: one check for both
	if n := len(r.checks); n > 0 && mergeChecks && r.checks[n-1].sameAs(&chk) && int(r.checks[n-1].Probe+r.checks[n-1].N) == p {
		r.checks[n-1].N++
		return
	}
	r.checks = append(r.checks, chk)
}

// sameRows reports whether a and b are the same rows (one slice, as
// compareKept shares them), not merely equal ones.
func sameRows(a, b []SlotReportRow) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// compareKept is compare for the rows a check keeps. A TaskManager at rest
// sends the same report against the same table every heartbeat, for
// hours: such a check shares the rows of the one before (rows are only
// read), so a long log's checks cost what its changes cost, not what its
// heartbeats do.
func (r *Replay) compareKept(m int, reported []flinklog.SlotStatus, slots []Slot) ([]SlotReportRow, bool) {
	last := &r.lastKept[m]
	if last.rows != nil && slices.Equal(last.reported, reported) && slices.Equal(last.slots, slots) {
		return last.rows, last.agrees
	}
	rows, agrees := r.compare(reported, slots)
	*last = keptCompare{reported, slots, rows, agrees}
	return rows, agrees
}

// keptCompare is the last compareKept of one model.
type keptCompare struct {
	reported []flinklog.SlotStatus
	slots    []Slot
	rows     []SlotReportRow
	agrees   bool
}

// agrees is compare's verdict without its rows. The search for a state
// that agrees calls it for every report and model, and compare's rows and
// maps were a quarter of all the bytes an audit of a DEBUG log allocated;
// here a report is lined up on the stack. TestAgreesEqualsCompare checks
// that the verdicts are the same.
func (r *Replay) agrees(reported []flinklog.SlotStatus, slots []Slot) bool {
	const most = 64
	if len(slots) > most {
		_, ok := r.compare(reported, slots)
		return ok
	}
	var claimed [most]bool
	var known [most]int
	for i, s := range slots {
		known[i] = r.IndexOf(s.Index)
	}
	for _, st := range reported {
		i := -1
		if st.Index >= 0 {
			// compare's byIndex keeps the last slot of an index
			for k := len(slots) - 1; k >= 0; k-- {
				if known[k] == st.Index {
					i = k
					break
				}
			}
		}
		if i < 0 && st.Alloc.IsSet() {
			for k, s := range slots {
				if !claimed[k] && s.Alloc == st.Alloc && known[k] < 0 {
					i = k
					break
				}
			}
		}
		switch {
		case i >= 0:
			claimed[i] = true
			if slots[i].Alloc != st.Alloc {
				return false
			}
		case st.Alloc.IsSet():
			return false
		}
	}
	for k := range slots {
		if !claimed[k] {
			return false
		}
	}
	return true
}

// compare lines up a report with one table state, index by index.
func (r *Replay) compare(reported []flinklog.SlotStatus, slots []Slot) ([]SlotReportRow, bool) {
	claimed := make([]bool, len(slots))
	// each slot's index as known now; a report's index finds the last
	// slot of it (a table holds a few dozen slots at most: looked for in
	// a row, not through a map made for every comparison)
	known := make([]int, len(slots))
	for i, s := range slots {
		known[i] = r.IndexOf(s.Index)
	}
	byIndex := func(idx int) (int, bool) {
		for k := len(known) - 1; k >= 0; k-- {
			if known[k] == idx {
				return k, true
			}
		}
		return -1, false
	}
	claimUnindexed := func(alloc flinklog.ID) int {
		for i, s := range slots {
			if !claimed[i] && s.Alloc == alloc && known[i] < 0 {
				return i
			}
		}
		return -1
	}
	rows := make([]SlotReportRow, 0, len(reported))
	all := true
	for _, st := range reported {
		row := SlotReportRow{Index: st.Index, Reported: st.Alloc, Job: st.Job}
		i, ok := -1, false
		if st.Index >= 0 {
			i, ok = byIndex(st.Index)
		}
		if !ok && st.Alloc.IsSet() {
			i = claimUnindexed(st.Alloc)
			ok = i >= 0
		}
		if ok {
			claimed[i] = true
			row.Replayed = slots[i]
			row.Agrees = slots[i].Alloc == st.Alloc
		} else {
			row.Replayed = Slot{Index: st.Index, State: Free}
			row.Agrees = !st.Alloc.IsSet()
		}
		all = all && row.Agrees
		rows = append(rows, row)
	}
	for i, s := range slots {
		if !claimed[i] {
			// held in the replay, absent from (or free in) the report
			rows = append(rows, SlotReportRow{Index: known[i], Replayed: s})
			all = false
		}
	}
	// (indexes in order, the unknown last; stable)
	slices.SortStableFunc(rows, func(a, b SlotReportRow) int {
		if (a.Index < 0) != (b.Index < 0) {
			if a.Index < 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Index, b.Index)
	})
	return rows, all
}
