package reconstruct

// This file holds the ResourceManager's slot reports, assigned to the
// process and the moment of the table each one shows.

import (
	"slices"
	"sort"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// ReportWindow is how long before the ResourceManager logged a slot report
// the TaskManager may have built it: the heartbeat's round trip plus the
// error of a skew estimate that is only a lower bound.
const ReportWindow = 2 * int64(time.Second)

// ReportLead is how far after a slot report's (skew-corrected) time a
// TaskManager line may still describe the state the report shows: the skew
// estimate of a TaskManager whose clock runs ahead is only as good as the
// network latency and the noise floor below which it is not applied.
const ReportLead = 250 * int64(time.Millisecond)

// assignReports gives every slot report's entries to the TaskManager
// process they describe: by the ResourceID in their SlotIDs, then by time
// on the TaskManager's clock (the report's time moved by both inputs'
// skew). A report that no process's clock can place is left out. Each
// process gets its reports in time order, kept as series (see
// reportProbes).
func (m *Model) assignReports() {
	res := m.Result
	byRes := map[string]*TaskManager{}
	for _, tm := range m.TaskManagers {
		byRes[tm.Resource] = tm
	}
	type placed struct {
		at    int64           // on the process's clock
		v     parser.EventRef // the report
		slots int32           // its entries for the process: index into slotSets
	}
	got := map[*Process][]placed{}
	var slotSets [][]flinklog.SlotStatus
	// a report's entries for one TaskManager, the same slice for the
	// repeats of one report
	type setKey struct {
		ev  parser.EventRef // the report as read (see BaseRef)
		res string
	}
	setOf := map[setKey]int32{}
	// the reports written out, by their ref as read: a report's repeats
	// share it (written out again for each, they were most of this walk
	// on a DEBUG log)
	bases := map[parser.EventRef]*flinklog.Event{}
	for i := range res.AllOf(flinklog.KindRMSlotReport) {
		ev := bases[res.BaseRef(i)]
		if ev == nil {
			ev = res.Base(i)
			bases[res.BaseRef(i)] = ev
		}
		if len(ev.Slots) == 0 {
			continue
		}
		pos, when := res.Pos(i), res.Time(i)
		var resources []string
		if oneResource(ev.Slots) {
			resources = []string{ev.Slots[0].Resource}
		} else {
			for _, st := range ev.Slots {
				if !slices.Contains(resources, st.Resource) {
					resources = append(resources, st.Resource)
				}
			}
		}
		for _, tmRes := range resources {
			tm := byRes[tmRes]
			if tm == nil {
				continue
			}
			var target *Process
			var at flinklog.Time
			for _, p := range tm.Processes {
				first := res.Time(p.Events[0])
				if first.Kind != when.Kind || when.Kind == flinklog.TimeNone {
					continue
				}
				t := flinklog.Time{Kind: when.Kind, N: when.N + m.Skew[pos.File].Offset - m.Skew[p.Input].Offset}
				if first.N <= t.N {
					target, at = p, t
				}
			}
			if target == nil {
				continue
			}
			k, ok := setOf[setKey{res.BaseRef(i), tmRes}]
			if !ok {
				k = int32(len(slotSets))
				setOf[setKey{res.BaseRef(i), tmRes}] = k
				if len(resources) == 1 {
					// A TaskManager's report names only itself: its
					// probes read the event's slots (read-only).
					slotSets = append(slotSets, ev.Slots)
				} else {
					var mine []flinklog.SlotStatus
					for _, st := range ev.Slots {
						if st.Resource == tmRes {
							mine = append(mine, st)
						}
					}
					slotSets = append(slotSets, mine)
				}
			}
			got[target] = append(got[target], placed{at.N, i, k})
		}
	}
	for _, tm := range m.TaskManagers {
		for _, p := range tm.Processes {
			reps := got[p]
			// in time order (reports from several ResourceManager inputs)
			sort.SliceStable(reps, func(a, b int) bool { return reps[a].at < reps[b].at })
			probes := &reportProbes{res: res}
			for _, r := range reps {
				shift := r.at - res.Time(r.v).N
				if n := len(probes.series); n > 0 {
					last := &probes.series[n-1]
					if last.v+parser.EventRef(last.n) == r.v && last.slots == r.slots && last.shift == shift {
						last.n++
						probes.n++
						continue
					}
				}
				probes.series = append(probes.series, reportSeries{v: r.v, n: 1, shift: shift, slots: r.slots, start: int32(probes.n)})
				probes.n++
			}
			probes.sets = slotSets
			p.Config.Probes, p.reports = probes, probes
			delete(got, p)
		}
	}
}

// reportProbes is a process's slot reports as probes, in time order. A
// TaskManager at rest is sent the same report every heartbeat, which a
// read keeps as repeats of one event (parser.Repeat) whose refs follow
// one another: such reports are one series here, and each
// Probe is made when the replay asks for it (a probe each was 64 bytes a
// heartbeat).
type reportProbes struct {
	res    *parser.Result
	series []reportSeries
	sets   [][]flinklog.SlotStatus
	n      int
}

// reportSeries is the reports v, v+1, … v+n-1, the probes start,
// start+1, …: their times moved by shift, their entries sets[slots].
type reportSeries struct {
	v               parser.EventRef
	n, start, slots int32
	shift           int64
}

// Len returns the number of probes.
func (p *reportProbes) Len() int { return p.n }

// seriesOf returns the series probe k is in.
func (p *reportProbes) seriesOf(k int) *reportSeries {
	r := sort.Search(len(p.series), func(r int) bool { return int(p.series[r].start) > k }) - 1
	return &p.series[r]
}

// Report returns probe k's report.
func (p *reportProbes) Report(k int) parser.EventRef {
	r := p.seriesOf(k)
	return r.v + parser.EventRef(k-int(r.start))
}

// Probe returns probe k.
func (p *reportProbes) Probe(k int) Probe {
	r := p.seriesOf(k)
	v := r.v + parser.EventRef(k-int(r.start))
	t := p.res.Time(v)
	return Probe{At: flinklog.Time{Kind: t.Kind, N: t.N + r.shift}, Window: ReportWindow, Slots: p.sets[r.slots], Pos: p.res.Pos(v)}
}

// reportSource is a process's slot reports: each probe, and the report
// it is.
type reportSource interface {
	Probes
	Report(k int) parser.EventRef
}

// keptReports are the reports a fold kept of a process's (SetReports):
// those its checks name, by probe number.
type keptReports struct {
	n      int
	refs   map[int]parser.EventRef
	probes map[int]Probe
}

func (k *keptReports) Len() int                     { return k.n }
func (k *keptReports) Probe(i int) Probe            { return k.probes[i] }
func (k *keptReports) Report(i int) parser.EventRef { return k.refs[i] }

// SetReports gives a process that a fold replayed (Model.Assemble) its
// slot reports: n in all, of which those its replay's checks name, with
// their refs in the model's read and their probes.
func (p *Process) SetReports(n int, refs map[int]parser.EventRef, probes map[int]Probe) {
	kr := &keptReports{n: n, refs: refs, probes: probes}
	p.Config.Probes, p.reports = kr, kr
}
