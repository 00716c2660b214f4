package reconstruct_test

import (
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/sim"
)

// TestReplayStreamOnIncidents: the streamed replays of the simulated
// incidents of every version (with faults: overwrites, refusals, lost
// TaskManagers, restarts, mid-story logs) are their batch replays without
// the allocations the streams let go, compacting rarely and at every drop.
func TestReplayStreamOnIncidents(t *testing.T) {
	seeds := uint64(20)
	if testing.Short() {
		seeds = 5
	}
	for _, v := range sim.Versions {
		t.Run(v, func(t *testing.T) {
			dropped, kept := 0, 0
			for seed := uint64(1); seed <= seeds; seed++ {
				cfg := sim.Faulty(v, seed)
				cfg.Debug = seed%2 == 0 // slot reports to compare, now and then
				m := simulatedModel(t, cfg)
				for _, every := range []int{64, 1} {
					d, k := reconstruct.CheckReplayStreams(t, m, every)
					dropped += d
					kept += k
				}
			}
			if dropped == 0 {
				t.Errorf("no allocation dropped in %d incidents", seeds)
			}
			t.Logf("%s: %d dropped, %d kept", v, dropped, kept)
		})
	}
}

// TestStreamedReportsOnSessionClusters: DEBUG session clusters (short jobs,
// a long-running one beside them, an overwrite where the version can have
// one), their TaskManagers replayed as streams that take the slot reports
// as they come, are their batch replays without the allocations the
// streams let go — the same checks, indexes and conflicts — and the
// streams let go of most allocations: a report is compared once its
// window's slots have indexes, and holds on to nothing after.
func TestStreamedReportsOnSessionClusters(t *testing.T) {
	for _, v := range []string{"1.9.3", "1.10.3", "1.12.7", "1.14.6", "1.18.1", "2.1.0"} {
		t.Run(v, func(t *testing.T) {
			cfg := sim.Config{Flink: v, TaskManagers: 3, Slots: 4, Jobs: 4, JobSeconds: 5, StreamingJobs: 1, Minutes: 20, Seed: 7, Debug: true,
				Inject: []string{sim.FaultOverwrite}}
			m := simulatedModel(t, cfg)
			reports := 0
			for _, tm := range m.TaskManagers {
				for _, p := range tm.Processes {
					reports += p.Replay.CheckCount()
				}
			}
			for _, late := range []int64{0, 4e9} {
				dropped, kept := reconstruct.CheckStreamedReports(t, m, late)
				t.Logf("%s, reports %v late: %d reports compared, %d allocations dropped, %d kept", v, time.Duration(late), reports, dropped, kept)
				if reports < 100 {
					t.Errorf("only %d reports compared", reports)
				}
				// (kept: those of a story a stream keeps, and those freed in
				// the last ReportHorizon of the log, whose states a report
				// may still come for)
				if dropped < 85*(dropped+kept)/100 {
					t.Errorf("%d allocations dropped, %d kept", dropped, kept)
				}
			}
		})
	}
}

// simulatedModel is the batch model of the logs cfg simulates.
func simulatedModel(t *testing.T, cfg sim.Config) *reconstruct.Model {
	t.Helper()
	dir := t.TempDir()
	if _, err := sim.RunInto(cfg, dir); err != nil {
		t.Fatal(err)
	}
	res, err := parser.Read([]string{dir}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return reconstruct.Build(res)
}
