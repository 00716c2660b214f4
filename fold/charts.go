package fold

// The HTML report's charts on a fold (Narrow.Charts): each TaskManager's
// slot table over time, a bar a period an AllocationID held a slot, under
// the table it ran and, for a legacy one, the fixed table too. A batch
// model walks each process's replay after the fact (reconstruct's
// PeriodWalk); a fold lets the steps of a story go at its close, so it
// walks them as its replays make them. A period of a story let go is
// settled then — its index as the replay knows it (a slot's key goes with
// the story), its job — and, on a chart of more periods than are drawn
// one by one, kept only as where it lies (reconstruct.Bar: the report
// draws such periods in aggregate); on a smaller chart it is kept whole,
// its lines with it, since the page shows each one's lines.

import (
	"maps"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// tmCharts are one TaskManager's charts as the fold walks them.
type tmCharts struct {
	tm     *reconstruct.TaskManager
	procs  []*procState         // its processes', in its order
	charts []*reconstruct.Chart // one a table, in Semantics order
	// kindSet: its first timed line has come (the charts' clock)
	kindSet bool
	// created counts each chart's periods; wholeDropped are the periods
	// of stories let go kept whole while the chart has no more than
	// reconstruct.ChartBarsDrawn
	created      []int
	wholeDropped [][]barAt
}

// barAt is a bar of chart k of process ps's TaskManager: bar i of the
// process's part.
type barAt struct {
	ps   *procState
	k, i int
}

func (b barAt) bar() *reconstruct.Bar { return &b.ps.chartPart(b.k).Bars[b.i] }

// chartPart is ps's part of its TaskManager's chart k.
func (ps *procState) chartPart(k int) *reconstruct.ChartProcess {
	return &ps.tmc.charts[k].Processes[ps.pi]
}

// restsOnPrune: past this many lines kept for the indexes that rest on
// them, a process's are pruned to those some index still rests on.
var restsOnPrune = 4096

// pendingBar is a bar let go with its index unknown, which the dynamic
// counter may give it when its process ends.
type pendingBar struct {
	at  barAt
	ord int
}

// prepareCharts sets up the charts of every TaskManager.
func (f *folder) prepareCharts() {
	for _, tm := range f.skeleton.TaskManagers {
		sems := tm.ChartSemantics()
		tc := &tmCharts{tm: tm, procs: make([]*procState, len(tm.Processes)), created: make([]int, len(sems)), wholeDropped: make([][]barAt, len(sems))}
		for _, sem := range sems {
			tc.charts = append(tc.charts, &reconstruct.Chart{Sem: sem, Kind: flinklog.TimeNone,
				Processes: make([]reconstruct.ChartProcess, len(tm.Processes))})
		}
		f.tmCharts = append(f.tmCharts, tc)
		for pi, p := range tm.Processes {
			for _, ps := range f.procs {
				if ps.p == p {
					ps.tmc, ps.pi, ps.barsOf = tc, pi, map[flinklog.ID][]barAt{}
					tc.procs[pi] = ps
				}
			}
		}
	}
}

// chartLine is what ps's line ev says to its charts' walks; the line
// sets the charts' clock if it is their TaskManager's first timed one,
// begins the process's walks if it is its first, and marks where its
// log moves to another file.
func (f *folder) chartLine(ps *procState, ev *flinklog.Event) reconstruct.PeriodLine {
	tc := ps.tmc
	aligned := ev.Time
	if aligned.Kind != flinklog.TimeNone {
		aligned.N += f.offsets[ev.Pos.File]
		if !tc.kindSet {
			tc.kindSet = true
			for _, c := range tc.charts {
				c.Kind, c.From = aligned.Kind, aligned.N
			}
		}
	}
	timed := tc.kindSet && aligned.Kind == tc.charts[0].Kind
	for k := range tc.charts {
		cp := ps.chartPart(k)
		if cp.Walk == nil {
			var start int64
			if timed {
				start = aligned.N
			}
			cp.Walk = reconstruct.NewPeriodWalk(tc.charts[k].Sem, start)
			cp.StartTimed = timed
		} else if ev.Pos.File != ps.chartFile && timed {
			cp.Rotations = append(cp.Rotations, reconstruct.ChartRotation{At: aligned.N, File: ev.Pos.File})
		}
	}
	ps.chartFile = ev.Pos.File
	return reconstruct.PeriodLine{T: aligned.N, Timed: timed, Job: ev.Job, Active: ev.SlotState == "ACTIVE"}
}

// chartStep hands a replay step of ps, about alloc (s its story, nil for
// none), to its charts' walks, and takes the periods it began as bars.
func (f *folder) chartStep(ps *procState, st reconstruct.Step, alloc flinklog.ID, s *story, line reconstruct.PeriodLine) {
	tc := ps.tmc
	if (st.Op == reconstruct.OpPrior || st.Op == reconstruct.OpAllocate) && !line.Job.IsSet() && s != nil {
		// an "Allocated slot" line names no job: its story's lines do
		line.Job = s.job
	}
	for k := range tc.charts {
		cp := ps.chartPart(k)
		w := cp.Walk
		w.Step(st, alloc, line)
		for _, p := range w.Periods {
			cp.Bars = append(cp.Bars, reconstruct.Bar{Period: p})
			if alloc.IsSet() {
				ps.barsOf[alloc] = append(ps.barsOf[alloc], barAt{ps, k, len(cp.Bars) - 1})
			}
			if tc.created[k]++; tc.created[k] == reconstruct.ChartBarsDrawn+1 {
				// more than are drawn one by one: those let go whole are
				// drawn in aggregate
				for _, at := range tc.wholeDropped[k] {
					at.lighten()
				}
				tc.wholeDropped[k] = nil
			}
		}
		w.Periods = w.Periods[:0]
	}
}

// lighten keeps of a bar let go only where it lies.
func (b barAt) lighten() {
	bar := b.bar()
	p := bar.Period
	bar.Period, bar.Start, bar.End, bar.Index = nil, p.Start, p.End, int32(p.Index.Index)
	bar.Dynamic = isDynamic(p.Index, b.ps.p.Config.Slots)
}

// isDynamic is whether a slot of index info is a dynamic one, which the
// report packs into lanes (as its addWalk tells).
func isDynamic(info reconstruct.IndexInfo, slots int) bool {
	return info.How == "dynamic index counter" || slots > 0 && info.Index >= slots
}

// settleBars settles the bars of story s as it is let go: each one's index
// as the replay knows it now, its job, and, on a chart of no more periods
// than are drawn one by one, its lines (the model will not hold them).
func (f *folder) settleBars(s *story) {
	for _, ps := range s.procs {
		if ps.tmc == nil {
			continue
		}
		for _, k := range s.evs {
			// a line of its that another slot's index rests on: that
			// slot's bar shows it, if nothing else prints its index later
			if ev := k.ev; ev.Component == flinklog.ComponentTM && ev.SlotIndex >= 0 && slices.Contains(ps.inputs, ev.Pos.File) && ps.stream.IndexRestsOn(ev.Pos) {
				if ps.restsOn == nil {
					ps.restsOn = map[flinklog.Pos]reconstruct.FoldedEvent{}
				}
				ps.restsOn[ev.Pos] = foldedEvent(k, s.id)
			}
		}
		if len(ps.restsOn) > restsOnPrune {
			// those no index rests on any more (a static slot's index is
			// printed again at each free)
			live := map[flinklog.Pos]bool{}
			ps.stream.IndexLines(func(pos flinklog.Pos) { live[pos] = true })
			maps.DeleteFunc(ps.restsOn, func(pos flinklog.Pos, _ reconstruct.FoldedEvent) bool { return !live[pos] })
			ps.restsOnPruned = true
		}
		for _, at := range ps.barsOf[s.id] {
			bar := at.bar()
			p := bar.Period
			if p.EndReason == "" {
				// still open when its story closed (a free with no time)
				f.chartsLost = first(f.chartsLost, "a period of "+s.id.String()+" was open when its story closed")
				continue
			}
			p.Index, p.IndexSet = ps.stream.IndexOfKey(p.Key), true
			if p.Index.Source == reconstruct.IndexUnknown {
				if ord, ok := ps.stream.CounterOrdinal(p.Key); ok {
					f.pendingBars = append(f.pendingBars, pendingBar{at, ord})
				}
			}
			if !p.Job.IsSet() {
				p.Job = s.job
			}
			if ps.tmc.created[at.k] > reconstruct.ChartBarsDrawn {
				at.lighten()
				continue
			}
			f.lineBar(s, p)
			ps.tmc.wholeDropped[at.k] = append(ps.tmc.wholeDropped[at.k], at)
		}
		delete(ps.barsOf, s.id)
	}
}

// lineBar gives a period of story s its lines in place of their refs: the
// lines that made it, and the one its index rests on.
func (f *folder) lineBar(s *story, p *reconstruct.Period) {
	find := func(match func(keptEvent) bool) (reconstruct.FoldedEvent, bool) {
		for _, k := range s.evs {
			if match(k) {
				return foldedEvent(k, s.id), true
			}
		}
		return reconstruct.FoldedEvent{}, false
	}
	p.Lines = p.Lines[:0]
	for _, ref := range p.Evidence {
		e, ok := find(func(k keptEvent) bool { return k.ref == ref })
		if !ok {
			f.chartsLost = first(f.chartsLost, "a line of a period of "+s.id.String()+" is not its story's")
			return
		}
		p.Lines = append(p.Lines, e)
	}
	if pos := p.Index.Pos; pos.Line > 0 && !slices.ContainsFunc(p.Lines, func(e reconstruct.FoldedEvent) bool { return e.Pos == pos }) {
		e, ok := find(func(k keptEvent) bool { return k.ev.Pos == pos })
		if !ok {
			f.chartsLost = first(f.chartsLost, "the line the index of a period of "+s.id.String()+" rests on is not its story's")
			return
		}
		p.Lines = append(p.Lines, e)
	}
	p.Evidence = nil
}

// endCharts ends the charts once the replays have: each process's walk
// closes what it still holds (at the next process's first line, or at
// the end of the evidence), the bars of the stories kept name the lines
// the model numbers (to), and the bars let go with their index unknown
// take the dynamic counter's.
func (f *folder) endCharts(to func(parser.EventRef) parser.EventRef, kept map[flinklog.Pos]bool) (map[*reconstruct.TaskManager][]*reconstruct.Chart, error) {
	if f.chartsLost != "" {
		return nil, notFoldable("the charts: %s", f.chartsLost)
	}
	need := map[flinklog.Pos]bool{}
	for _, pb := range f.pendingBars {
		ps := pb.at.ps
		witness, applied := ps.p.Replay.DynamicCounter()
		if !applied {
			continue
		}
		info := reconstruct.IndexInfo{Index: ps.p.Config.Slots + pb.ord, Source: reconstruct.IndexInferred, How: "dynamic index counter", Pos: witness}
		if bar := pb.at.bar(); bar.Period != nil {
			bar.Period.Index = info
		} else {
			bar.Index, bar.Dynamic = int32(info.Index), isDynamic(info, ps.p.Config.Slots)
		}
	}
	out := map[*reconstruct.TaskManager][]*reconstruct.Chart{}
	for _, tc := range f.tmCharts {
		for k, c := range tc.charts {
			end := max(f.alignedEnd[c.Kind], c.From)
			for pi := range c.Processes {
				cp := &c.Processes[pi]
				if cp.Walk == nil {
					return nil, notFoldable("the charts: a process of %s has no line", tc.tm.Resource)
				}
				stop, why := end, reconstruct.PeriodEvidence
				if pi+1 < len(c.Processes) && c.Processes[pi+1].StartTimed {
					stop, why = c.Processes[pi+1].Walk.Start, reconstruct.PeriodRestart
				}
				cp.Walk.End(stop, why, tc.tm.Processes[pi].Replay.ZombieKeys(c.Sem))
				replay, ps := tc.tm.Processes[pi].Replay, tc.procs[pi]
				for i := range cp.Bars {
					p := cp.Bars[i].Period
					if p == nil || p.IndexSet {
						continue
					}
					for e, ref := range p.Evidence {
						if p.Evidence[e] = to(ref); p.Evidence[e] < 0 {
							return nil, notFoldable("the charts: a line of a period of %s was not kept", p.Alloc)
						}
					}
					pos := replay.IndexOfKey(p.Key).Pos
					if l, ok := ps.restsOn[pos]; ok {
						p.Lines = append(p.Lines, l)
					} else if pos.Line > 0 && ps.restsOnPruned {
						// (a line let go may have been pruned before an
						// index came to rest on it again: kept lines
						// are checked at the end)
						need[pos] = true
					}
				}
			}
			if c.Kind == flinklog.TimeNone {
				continue
			}
			if tc.created[k] > reconstruct.ChartBarsDrawn && end <= c.From {
				// a chart of no span draws every period one by one
				return nil, notFoldable("the charts: %s's lines span no time", tc.tm.Resource)
			}
			out[tc.tm] = append(out[tc.tm], c)
		}
	}
	for pos := range need {
		if !kept[pos] {
			return nil, notFoldable("the charts: the line a slot's index rests on was let go (%s)", f.first.Files.Position(pos))
		}
	}
	return out, nil
}
