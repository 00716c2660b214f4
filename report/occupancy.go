package report

// This file holds the occupancy model of the HTML report: each
// TaskManager's slot table over time, as bars per slot row, built from the
// replays under both semantics.

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

// Bar ends: why a period of occupancy stops where it is drawn.
const (
	endFreed    = reconstruct.PeriodFreed
	endEvidence = reconstruct.PeriodEvidence
	endRestart  = reconstruct.PeriodRestart
	endReplaced = reconstruct.PeriodReplaced
)

// occupancy is one TaskManager's slot table over time under one semantics.
type occupancy struct {
	TM   string
	Sem  reconstruct.Semantics
	Ran  bool // the table the TaskManager really ran (else: what the other would have done)
	Kind flinklog.TimeKind
	From int64 // aligned nanoseconds
	To   int64
	Rows []occRow
	Bars []*occBar
	// Marks are findings and refusals at a time on a row.
	Marks  []occMark
	Breaks []occBreak
	// Agg: occupancy of the bars drawn in aggregate, per row and bucket
	// (fraction of the bucket held); nil when every bar is drawn.
	Agg        [][]float64
	Aggregated int // bars folded into Agg
	Untimed    int // periods that could not be placed: their lines carry no time
	// Dynamic counts the distinct dynamic indexes packed into lanes.
	Dynamic int
	// chart: the fold's chart the bars come from (Model.Charts), whose
	// bars of periods it let go (Bar.Period nil, drawn in aggregate) are
	// read in place, lightRow holding the row of each; rowOf is the row
	// of each slot index
	chart    *reconstruct.Chart
	lightRow []int32
	rowOf    map[int]int
}

// occRow is one slot index of the table, a lane of dynamic slots, or the
// row of slots whose index no line printed.
type occRow struct {
	Label string
	Index int // the slot index; -1 for unknown, dynamicRow+k for dynamic lane k
}

// dynamicRow numbers the lanes of dynamic slots: a dynamic slot (Flink
// 1.13+ hands out indexes past the configured ones, one per request) has
// no place of its own, so dynamic slots are packed into as few lanes as
// never overlap; a day of a session cluster had 2,500 distinct indexes on
// one TaskManager.
const dynamicRow = 1 << 30

// occBar is one period during which an AllocationID held a slot, on its
// row.
type occBar struct {
	*reconstruct.Period
	Row      int
	Findings []string
	dynamic  bool // a dynamic slot: drawn in a lane (see dynamicRow)
}

// occMark is a finding or a table refusal on a row at a time.
type occMark struct {
	Row     int
	At      int64
	Kind    string // overwrite, refusal, timeout, tm-lost, deploy-failed, finding
	Finding string // its ID, "" for a refusal without one
	Alloc   flinklog.ID
	Says    string
}

// occBreak is a restart or a rotated log: a new process, or a process's
// events continuing in another input.
type occBreak struct {
	At    int64
	Kind  string // restart, rotation
	Label string
}

// markKind maps a rule to the marker it is drawn as.
var markKind = map[string]string{
	rules.SlotMapOverwrite.ID:  "overwrite",
	rules.SlotTimeout.ID:       "timeout",
	rules.AllocationTimeout.ID: "timeout",
	rules.TaskManagerLost.ID:   "tm-lost",
	rules.TaskWithoutSlot.ID:   "deploy-failed",
}

// maxBarsDrawn: a chart with more periods than this draws the quiet ones
// (not a zombie, in no finding) in aggregate.
const maxBarsDrawn = reconstruct.ChartBarsDrawn

// aggBuckets: the time buckets of an aggregated row.
const aggBuckets = 120

// occupancies builds the charts of every TaskManager with a log: under the
// semantics it ran, and for a legacy TaskManager under the fixed ones too.
// A fold's model that walked them as it replayed (Model.Charts) gives
// them laid out the same way.
func occupancies(m *reconstruct.Model, findings []rules.Finding) []*occupancy {
	res := m.Result
	aligned := func(ref parser.EventRef) (flinklog.Time, bool) {
		t := res.Time(ref)
		if t.Kind == flinklog.TimeNone {
			return t, false
		}
		t.N += m.Skew[res.Pos(ref).File].Offset
		return t, true
	}
	// the end of the evidence, per time kind: the latest aligned time
	end := m.AlignedEnd
	if m.Charts == nil {
		end = map[flinklog.TimeKind]int64{}
		for ref := range parser.EventRef(res.Len()) {
			if t, ok := aligned(ref); ok {
				if e, seen := end[t.Kind]; !seen || t.N > e {
					end[t.Kind] = t.N
				}
			}
		}
	}
	// an "Allocated slot" line names no job: its allocation's timeline does
	jobOf := make(map[flinklog.ID]flinklog.ID, len(m.Allocations))
	for _, a := range m.Allocations {
		jobOf[a.ID] = a.Job
	}
	var out []*occupancy
	for _, tm := range m.TaskManagers {
		if m.Charts != nil {
			for _, c := range m.Charts[tm] {
				o := newOccupancy(tm, c.Sem, c.Kind, c.From, end)
				o.addChart(m, tm, c, jobOf)
				o.layout(m, tm, findings)
				out = append(out, o)
			}
			continue
		}
		for _, sem := range tm.ChartSemantics() {
			if o := buildOccupancy(m, tm, sem, aligned, end, jobOf); o != nil {
				o.layout(m, tm, findings)
				out = append(out, o)
			}
		}
	}
	// a bar's index provenance is a line of its own: found in one pass
	want := map[flinklog.Pos][]*occBar{}
	for _, o := range out {
		for _, b := range o.Bars {
			if b.IndexSet {
				continue // let go by a fold: its lines hold it
			}
			if pos := b.Index.Pos; pos.Line > 0 && !slices.ContainsFunc(b.Evidence, func(r parser.EventRef) bool { return res.Pos(r) == pos }) &&
				!slices.ContainsFunc(b.Lines, func(l reconstruct.FoldedEvent) bool { return l.Pos == pos }) {
				want[pos] = append(want[pos], b)
			}
		}
	}
	if len(want) > 0 {
		for ref := range res.All() {
			if bars, ok := want[res.Pos(ref)]; ok {
				for _, b := range bars {
					b.Evidence = append(b.Evidence, ref)
				}
				delete(want, res.Pos(ref))
			}
		}
	}
	return out
}

// newOccupancy is the empty chart of tm under sem on the clock kind, from
// from to the end of the evidence on that clock.
func newOccupancy(tm *reconstruct.TaskManager, sem reconstruct.Semantics, kind flinklog.TimeKind, from int64, end map[flinklog.TimeKind]int64) *occupancy {
	return &occupancy{TM: tm.Resource, Sem: sem, Kind: kind, From: from, To: max(end[kind], from), rowOf: map[int]int{}}
}

// row is the chart's row of a slot index (-1: unknown; dynamicRow+k:
// dynamic lane k), made when first asked for.
func (o *occupancy) row(index int) int {
	if r, ok := o.rowOf[index]; ok {
		return r
	}
	label := strconv.Itoa(index)
	switch {
	case index >= dynamicRow:
		label = "dyn " + strconv.Itoa(index-dynamicRow+1)
	case index < 0:
		label = "unknown"
	}
	o.Rows = append(o.Rows, occRow{Label: label, Index: index})
	o.rowOf[index] = len(o.Rows) - 1
	return len(o.Rows) - 1
}

// buildOccupancy walks tm's processes' replays under sem into bars.
func buildOccupancy(m *reconstruct.Model, tm *reconstruct.TaskManager, sem reconstruct.Semantics,
	aligned func(parser.EventRef) (flinklog.Time, bool), end map[flinklog.TimeKind]int64,
	jobOf map[flinklog.ID]flinklog.ID) *occupancy {
	res := m.Result
	// the chart's clock: the kind of the TaskManager's first timed event
	kind, from := flinklog.TimeNone, int64(0)
	for _, p := range tm.Processes {
		for _, ref := range p.Events {
			if t, ok := aligned(ref); ok {
				kind, from = t.Kind, t.N
				break
			}
		}
		if kind != flinklog.TimeNone {
			break
		}
	}
	if kind == flinklog.TimeNone {
		return nil
	}
	o := newOccupancy(tm, sem, kind, from, end)
	at := func(ref parser.EventRef) (int64, bool) {
		t, ok := aligned(ref)
		if !ok || t.Kind != o.Kind {
			return 0, false
		}
		return t.N, true
	}
	for pi, p := range tm.Processes {
		o.Ran = o.Ran || p.Runs == sem
		for i := range p.Config.Slots {
			o.row(i)
		}
		r := p.Replay
		start, _ := at(p.Events[0])
		if pi > 0 {
			o.Breaks = append(o.Breaks, occBreak{At: start, Kind: "restart", Label: "restart: a new process, an empty table"})
		}
		for k := 1; k < len(p.Events); k++ {
			if f := res.Pos(p.Events[k]).File; f != res.Pos(p.Events[k-1]).File {
				if t, ok := at(p.Events[k]); ok {
					o.rotation(m, t, f)
				}
			}
		}
		w := reconstruct.NewPeriodWalk(sem, start)
		for _, st := range r.Steps {
			t, timed := at(st.Event)
			ev := res.Base(st.Event)
			job := ev.Job
			if !job.IsSet() && (st.Op == reconstruct.OpPrior || st.Op == reconstruct.OpAllocate) {
				// an "Allocated slot" line names no job: its
				// allocation's timeline does
				job = jobOf[r.AllocOf(st)]
			}
			w.Step(st, r.AllocOf(st), reconstruct.PeriodLine{T: t, Timed: timed, Job: job, Active: ev.SlotState == "ACTIVE"})
		}
		// what is still held when the process ends
		stop, why := o.To, endEvidence
		if pi+1 < len(tm.Processes) {
			if t, ok := at(tm.Processes[pi+1].Events[0]); ok {
				stop, why = t, endRestart
			}
		}
		w.End(stop, why, r.ZombieKeys(sem))
		o.addWalk(w, r.IndexOfKey, p.Config.Slots)
		for _, per := range w.Periods {
			o.addPeriod(per, r.IndexOfKey, p.Config.Slots, nil)
		}
	}
	return o
}

// rotation marks where a process's log continues in input f.
func (o *occupancy) rotation(m *reconstruct.Model, t int64, f int32) {
	o.Breaks = append(o.Breaks, occBreak{At: t, Kind: "rotation", Label: "the log continues in " + m.Result.Files[f].Name()})
}

// addChart adds the processes of a chart a fold walked (Model.Charts).
func (o *occupancy) addChart(m *reconstruct.Model, tm *reconstruct.TaskManager, c *reconstruct.Chart, jobOf map[flinklog.ID]flinklog.ID) {
	o.chart = c
	for pi, p := range tm.Processes {
		o.Ran = o.Ran || p.Runs == c.Sem
		for i := range p.Config.Slots {
			o.row(i)
		}
		cp := &c.Processes[pi]
		if pi > 0 {
			o.Breaks = append(o.Breaks, occBreak{At: cp.Walk.Start, Kind: "restart", Label: "restart: a new process, an empty table"})
		}
		for _, rot := range cp.Rotations {
			o.rotation(m, rot.At, rot.File)
		}
		o.addWalk(cp.Walk, p.Replay.IndexOfKey, p.Config.Slots)
		for k := range cp.Bars {
			b := &cp.Bars[k]
			if b.Period == nil {
				// let go by the fold, drawn in aggregate
				row := int32(-1)
				if !b.Dynamic {
					row = int32(o.row(int(b.Index)))
				}
				o.lightRow = append(o.lightRow, row)
				continue
			}
			o.addPeriod(b.Period, p.Replay.IndexOfKey, p.Config.Slots, jobOf)
		}
	}
}

// addWalk adds a process's walked refusals as marks (on the row of the
// index indexOf gives, once the process has ended) and its periods that
// could not be placed.
func (o *occupancy) addWalk(w *reconstruct.PeriodWalk, indexOf func(key int) reconstruct.IndexInfo, slots int) {
	for _, mk := range w.Marks {
		o.Marks = append(o.Marks, occMark{Row: o.row(indexOf(mk.Key).Index), At: mk.At, Kind: "refusal", Alloc: mk.Alloc, Says: mk.Says})
	}
	o.Untimed += w.Untimed
}

// addPeriod adds a period as a bar on the row of its index (known once
// its process has ended, or as a fold let it go) or, a dynamic slot's,
// left for a lane; jobOf names the job of a period a fold walked before
// its story's lines named one.
func (o *occupancy) addPeriod(p *reconstruct.Period, indexOf func(key int) reconstruct.IndexInfo, slots int, jobOf map[flinklog.ID]flinklog.ID) {
	b := &occBar{Period: p}
	if !p.IndexSet {
		p.Index = indexOf(p.Key)
	}
	if !p.Job.IsSet() && jobOf != nil {
		p.Job = jobOf[p.Alloc]
	}
	if b.dynamic = p.Index.How == "dynamic index counter" || slots > 0 && p.Index.Index >= slots; !b.dynamic {
		b.Row = o.row(p.Index.Index)
	}
	o.Bars = append(o.Bars, b)
}

// inOrder calls full for every whole bar and light for every bar of a
// period a fold let go (with its row), in the order the walks made them.
func (o *occupancy) inOrder(full func(*occBar), light func(b *reconstruct.Bar, row *int32)) {
	if o.chart == nil {
		for _, b := range o.Bars {
			full(b)
		}
		return
	}
	i, l := 0, 0
	for pi := range o.chart.Processes {
		bars := o.chart.Processes[pi].Bars
		for k := range bars {
			if bars[k].Period != nil {
				full(o.Bars[i])
				i++
			} else {
				light(&bars[k], &o.lightRow[l])
				l++
			}
		}
	}
}

// layout packs the dynamic slots into lanes, puts the findings on the
// bars and rows, orders the rows and draws a crowded chart's quiet bars
// in aggregate.
func (o *occupancy) layout(m *reconstruct.Model, tm *reconstruct.TaskManager, findings []rules.Finding) {
	// dynamic slots into lanes, first fit by start
	type dynBar struct {
		start, end int64
		full       *occBar // or
		light      *int32  // a light bar's row
	}
	var dyn []dynBar
	indexes := map[int]bool{}
	o.inOrder(func(b *occBar) {
		if b.dynamic {
			dyn = append(dyn, dynBar{b.Start, b.End, b, nil})
			indexes[b.Index.Index] = true
		}
	}, func(b *reconstruct.Bar, row *int32) {
		if b.Dynamic {
			dyn = append(dyn, dynBar{b.Start, b.End, nil, row})
			indexes[int(b.Index)] = true
		}
	})
	o.Dynamic = len(indexes)
	slices.SortStableFunc(dyn, func(a, b dynBar) int { return cmp.Compare(a.start, b.start) })
	var laneEnd []int64
	for _, b := range dyn {
		lane := slices.IndexFunc(laneEnd, func(e int64) bool { return e <= b.start })
		if lane < 0 {
			lane = len(laneEnd)
			laneEnd = append(laneEnd, 0)
		}
		laneEnd[lane] = b.end
		if r := o.row(dynamicRow + lane); b.full != nil {
			b.full.Row = r
		} else {
			*b.light = int32(r)
		}
	}
	// findings: the bars they are about, and markers
	for _, f := range findings {
		if f.Resource != tm.Resource {
			continue
		}
		for _, b := range o.Bars {
			if f.Alloc.IsSet() && b.Alloc == f.Alloc && !slices.Contains(b.Findings, f.ID) {
				b.Findings = append(b.Findings, f.ID)
			}
		}
		kind, ok := markKind[f.Rule]
		if !ok {
			if f.Rule == rules.ZombieSlot.ID {
				continue // the hatched bar is its mark
			}
			kind = "finding"
		}
		t := f.Time
		if t.Kind == flinklog.TimeNone {
			continue
		}
		t.N += m.Skew[f.Pos.File].Offset
		if t.Kind != o.Kind {
			continue
		}
		r := -1
		for _, b := range o.Bars { // the row of the bar it is about
			if f.Alloc.IsSet() && b.Alloc == f.Alloc && b.Start <= t.N && (b.Index.Index == f.SlotIndex || f.SlotIndex < 0) {
				r = b.Row
			}
		}
		if r < 0 {
			r = o.row(f.SlotIndex)
		}
		o.Marks = append(o.Marks, occMark{Row: r, At: t.N, Kind: kind, Finding: f.ID, Alloc: f.Alloc, Says: f.Message})
	}
	// rows in index order, unknown last
	order := make([]int, len(o.Rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ia, ib := o.Rows[a].Index, o.Rows[b].Index
		if (ia < 0) != (ib < 0) {
			if ia < 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(ia, ib)
	})
	moved := make([]int, len(o.Rows))
	rows := make([]occRow, len(o.Rows))
	for to, from := range order {
		moved[from] = to
		rows[to] = o.Rows[from]
	}
	o.Rows = rows
	for _, b := range o.Bars {
		b.Row = moved[b.Row]
	}
	for i, r := range o.lightRow {
		o.lightRow[i] = int32(moved[r])
	}
	for i := range o.Marks {
		o.Marks[i].Row = moved[o.Marks[i].Row]
	}
	slices.SortStableFunc(o.Marks, func(a, b occMark) int { return cmp.Compare(a.At, b.At) })
	o.aggregate()
}

// aggregate folds the quiet bars of a crowded chart into per-row buckets:
// a thousand short allocations of a session cluster are a texture, not a
// story, while zombies and the allocations of findings stay bars.
func (o *occupancy) aggregate() {
	if len(o.Bars)+len(o.lightRow) <= maxBarsDrawn || o.To <= o.From {
		return
	}
	o.Agg = make([][]float64, len(o.Rows))
	for i := range o.Agg {
		o.Agg[i] = make([]float64, aggBuckets)
	}
	width := float64(o.To-o.From) / aggBuckets
	sum := func(row int, start, end int64) {
		o.Aggregated++
		for k := max(0, int(float64(start-o.From)/width)); k < aggBuckets; k++ {
			lo, hi := o.From+int64(float64(k)*width), o.From+int64(float64(k+1)*width)
			if lo >= end {
				break
			}
			if overlap := min(hi, end) - max(lo, start); overlap > 0 {
				o.Agg[row][k] += float64(overlap) / width
			}
		}
	}
	var kept []*occBar
	o.inOrder(func(b *occBar) {
		if b.Zombie || len(b.Findings) > 0 {
			kept = append(kept, b)
			return
		}
		sum(b.Row, b.Start, b.End)
	}, func(b *reconstruct.Bar, row *int32) {
		sum(int(*row), b.Start, b.End)
	})
	o.Bars, o.chart, o.lightRow = kept, nil, nil
}
