package reconstruct

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/sim"
)

// TestReportProbesEqualOnePerReport: a model keeps each process's slot
// reports as runs and makes a probe when asked (reportProbes), and merges
// the checks of consecutive probes that came out the same. On simulated
// DEBUG runs (two ResourceManager inputs, restarts, an overwrite, logback)
// every probe must be what a probe per report gave (the definition below,
// the code before), and the replay with them must compare every report as
// a replay with those probes one by one does. Runs and merged checks must
// be far fewer than reports, or the case tests nothing.
func TestReportProbesEqualOnePerReport(t *testing.T) {
	for _, cfg := range []sim.Config{
		{Flink: "1.9.3", TaskManagers: 3, Slots: 3, Jobs: 2, Seed: 3, Debug: true, Minutes: 90, Once: true, Inject: []string{sim.FaultOverwrite}},
		{Flink: "1.11.6", TaskManagers: 2, Slots: 2, Jobs: 2, Failovers: 2, Seed: 8, Debug: true, Minutes: 60, Inject: []string{sim.FaultTMRestart, sim.FaultHeartbeatTimeout}},
		{Flink: "1.12.7", TaskManagers: 2, Slots: 4, Jobs: 3, Seed: 5, Debug: true, Minutes: 45, Once: true, Layout: "logback"},
	} {
		run, err := sim.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for name, content := range run.Files {
			if name == "jobmanager.log" && cfg.Flink == "1.9.3" {
				// two ResourceManager inputs: their reports are merged by time
				cut := strings.Index(content[len(content)/2:], "\n") + len(content)/2 + 1
				if err := os.WriteFile(filepath.Join(dir, "jobmanager-b.log"), []byte(content[cut:]), 0o644); err != nil {
					t.Fatal(err)
				}
				content = content[:cut]
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		res, err := parser.Read([]string{dir}, parser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := Build(res)
		want := probesOneByOne(m)
		reports, runs, checks := 0, 0, 0
		for _, tm := range m.TaskManagers {
			for _, p := range tm.Processes {
				w := want[p]
				if p.Config.Probes.Len() != len(w.probes) {
					t.Fatalf("%s: %d probes, want %d", cfg.Flink, p.Config.Probes.Len(), len(w.probes))
				}
				for k := range w.probes {
					if got := p.Config.Probes.Probe(k); !reflect.DeepEqual(got, w.probes[k]) || p.SlotReport(k) != w.reports[k] {
						t.Fatalf("%s: probe %d %+v (report %d), want %+v (report %d)", cfg.Flink, k, got, p.SlotReport(k), w.probes[k], w.reports[k])
					}
				}
				// the same replay with the probes one by one
				cfgList := p.Config
				cfgList.Probes = ProbeList(w.probes)
				mergeChecks = false
				ref := replayIndexed(m.Result, p.Events, cfgList)
				mergeChecks = true
				if len(ref.checks) != len(w.probes) {
					t.Fatalf("%d checks unmerged, want one per report", len(ref.checks))
				}
				if p.Replay.CheckCount() != ref.CheckCount() || p.Replay.CheckCount() != len(w.probes) {
					t.Fatalf("%s: %d checks, one by one %d, probes %d", cfg.Flink, p.Replay.CheckCount(), ref.CheckCount(), len(w.probes))
				}
				var got, exp []SlotReportCheck
				for _, c := range p.Replay.Checks() {
					got = append(got, *c)
				}
				for _, c := range ref.Checks() {
					exp = append(exp, *c)
				}
				for k := range got {
					after := exp[k].After // both name events by ref
					if got[k].After != after || got[k].Agrees != exp[k].Agrees || !slices.Equal(got[k].Rows(Legacy), exp[k].Rows(Legacy)) || !slices.Equal(got[k].Rows(Fixed), exp[k].Rows(Fixed)) {
						t.Fatalf("%s: report %d compares as %+v, one by one %+v", cfg.Flink, k, got[k], exp[k])
					}
				}
				reports += len(w.probes)
				runs += len(p.reports.(*reportProbes).series)
				checks += len(p.Replay.checks)
			}
		}
		t.Logf("%s: %d reports in %d runs, %d checks", cfg.Flink, reports, runs, checks)
		if reports < 200 || runs*2 > reports || checks*2 > reports {
			t.Fatalf("%s: %d reports in %d runs and %d checks: the case does not test runs", cfg.Flink, reports, runs, checks)
		}
	}
}

type oneByOne struct {
	probes  []Probe
	reports []parser.EventRef
}

// probesOneByOne is assignReports as it was: a probe per report, sorted
// by time.
func probesOneByOne(m *Model) map[*Process]*oneByOne {
	res := m.Result
	out := map[*Process]*oneByOne{}
	byRes := map[string]*TaskManager{}
	for _, tm := range m.TaskManagers {
		byRes[tm.Resource] = tm
		for _, p := range tm.Processes {
			out[p] = &oneByOne{}
		}
	}
	for i := range res.All() {
		ev := res.Event(i)
		if ev.Kind != flinklog.KindRMSlotReport || len(ev.Slots) == 0 {
			continue
		}
		var resources []string
		per := map[string][]flinklog.SlotStatus{}
		for _, st := range ev.Slots {
			if _, ok := per[st.Resource]; !ok {
				resources = append(resources, st.Resource)
			}
			per[st.Resource] = append(per[st.Resource], st)
		}
		for _, r := range resources {
			tm := byRes[r]
			if tm == nil {
				continue
			}
			var target *Process
			var at flinklog.Time
			for _, p := range tm.Processes {
				first := res.Event(p.Events[0])
				if first.Time.Kind != ev.Time.Kind || ev.Time.Kind == flinklog.TimeNone {
					continue
				}
				t := flinklog.Time{Kind: ev.Time.Kind, N: ev.Time.N + m.Skew[ev.Pos.File].Offset - m.Skew[p.Input].Offset}
				if first.Time.N <= t.N {
					target, at = p, t
				}
			}
			if target != nil {
				o := out[target]
				o.probes = append(o.probes, Probe{At: at, Window: ReportWindow, Slots: per[r], Pos: ev.Pos})
				o.reports = append(o.reports, i)
			}
		}
	}
	for _, o := range out {
		idx := make([]int, len(o.probes))
		for k := range idx {
			idx[k] = k
		}
		sort.SliceStable(idx, func(a, b int) bool { return o.probes[idx[a]].At.N < o.probes[idx[b]].At.N })
		probes, reports := make([]Probe, len(idx)), make([]parser.EventRef, len(idx))
		for k, j := range idx {
			probes[k], reports[k] = o.probes[j], o.reports[j]
		}
		o.probes, o.reports = probes, reports
	}
	return out
}
