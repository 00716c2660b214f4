package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"testing"
	"time"
)

// sessionCases are small session-cluster runs (Config.JobSeconds) of both
// slot protocols, static and dynamic slots, with and without DEBUG, in
// JSON, and with the faults each protocol takes.
var sessionCases = []struct {
	name string
	cfg  Config
}{
	{"1.12.7", Config{Flink: "1.12.7", TaskManagers: 4, Slots: 4, Jobs: 4, JobSeconds: 10, Minutes: 20, Seed: 1}},
	{"1.12.7-debug", Config{Flink: "1.12.7", TaskManagers: 4, Slots: 4, Jobs: 4, JobSeconds: 10, Minutes: 20, Seed: 2, Debug: true}},
	{"1.9.3-legacy-table", Config{Flink: "1.9.3", TaskManagers: 3, Slots: 4, Jobs: 3, JobSeconds: 5, Minutes: 20, Seed: 3, Debug: true}},
	{"1.6.2-json", Config{Flink: "1.6.2", TaskManagers: 3, Slots: 3, Jobs: 2, JobSeconds: 20, Minutes: 20, Seed: 4, Format: "json"}},
	{"1.13.6", Config{Flink: "1.13.6", TaskManagers: 3, Slots: 4, Jobs: 4, JobSeconds: 10, Minutes: 20, Seed: 5, Debug: true}},
	{"1.18.1-dynamic", Config{Flink: "1.18.1", TaskManagers: 4, Slots: 4, Jobs: 5, JobSeconds: 10, Minutes: 20, Seed: 6}},
	{"1.18.1-dynamic-debug-kubernetes", Config{Flink: "1.18.1", TaskManagers: 3, Slots: 4, Jobs: 4, JobSeconds: 3, Minutes: 20, Seed: 7, Debug: true, Deployment: "kubernetes"}},
	{"2.1.0-json", Config{Flink: "2.1.0", TaskManagers: 3, Slots: 3, Jobs: 3, JobSeconds: 10, Minutes: 20, Seed: 8, Format: "json", Debug: true}},
	{"1.12.7-legacy-faults", Config{Flink: "1.12.7", TaskManagers: 3, Slots: 4, Jobs: 3, Failovers: 2, JobSeconds: 10, Minutes: 30, Seed: 9, Debug: true, Inject: LegacyFaults}},
	{"1.9.3-overwrite", Config{Flink: "1.9.3", TaskManagers: 3, Slots: 4, Jobs: 3, JobSeconds: 10, Minutes: 30, Seed: 11, Debug: true, Inject: []string{FaultOverwrite}}},
	{"1.18.1-every-fault", Config{Flink: "1.18.1", TaskManagers: 4, Slots: 4, Jobs: 3, Failovers: 2, JobSeconds: 10, Minutes: 30, Seed: 10, Debug: true, Inject: Faults}},
	{"1.16.3-modern-faults", Config{Flink: "1.16.3", TaskManagers: 4, Slots: 3, Jobs: 3, Failovers: 1, JobSeconds: 15, Minutes: 30, Seed: 12, Inject: ModernFaults}},
}

// TestSessionWorkloadAudit: a session cluster's short jobs make many
// allocations, each through its whole lifecycle, and audit reports exactly
// the findings the truth holds (none when nothing was injected), with
// every table right.
func TestSessionWorkloadAudit(t *testing.T) {
	for _, c := range sessionCases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Run(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(r.Truth.Allocations); n < 100 {
				t.Errorf("%d allocations: a session cluster of %d jobs at a time, %d s each, for %d minutes makes more", n, c.cfg.Jobs, c.cfg.JobSeconds, c.cfg.Minutes)
			}
			got, want := auditRun(t, r)
			if _, fp, fn, extra, missing := diff(got, want); fp+fn > 0 {
				t.Errorf("audit differs from the truth:\n extra   %v\n missing %v", extra, missing)
			}
			if len(c.cfg.Inject) == 0 && c.cfg.Failovers == 0 && len(want) > 0 {
				t.Errorf("a healthy session cluster expects findings: %v", want)
			}
		})
	}
}

// TestSessionWorkloadLifecycle: in a healthy session cluster every
// allocation is used and given back, on both protocols: each AllocationID
// is allocated once, activated, deployed into and freed, so its log lines
// span the three components.
func TestSessionWorkloadLifecycle(t *testing.T) {
	for _, v := range []string{"1.12.7", "1.18.1"} {
		r, err := Run(Config{Flink: v, TaskManagers: 3, Slots: 4, Jobs: 3, JobSeconds: 10, Minutes: 10, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var all bytes.Buffer
		for _, name := range sortedKeys(r.Files) {
			all.WriteString(r.Files[name])
		}
		logs := all.Bytes()
		held := map[string]bool{} // at the end of the run: not freed yet
		for _, p := range r.Truth.Processes {
			for _, sl := range p.Slots {
				held[sl.AllocationID] = true
			}
		}
		for k, a := range r.Truth.Allocations {
			if len(a.Indexes) != 1 {
				t.Errorf("%s: %s allocated %d times", v, a.AllocationID, len(a.Indexes))
			}
			if k%25 != 0 || held[a.AllocationID] {
				continue // a sample: each check is a search of every log
			}
			for _, want := range []string{"Allocated slot for " + a.AllocationID, "Activate slot " + a.AllocationID, "allocation id " + a.AllocationID, "allocationId: " + a.AllocationID} {
				if !bytes.Contains(logs, []byte(want)) {
					t.Errorf("%s: no %q", v, want)
				}
			}
			if n := bytes.Count(logs, []byte(a.AllocationID)); n < 8 {
				t.Errorf("%s: %s is on %d lines, want its whole lifecycle (8 or more)", v, a.AllocationID, n)
			}
		}
	}
}

// TestSessionWorkloadDeterministic: the same seed and flags give the same
// files and truth, whether written to memory or streamed to files.
func TestSessionWorkloadDeterministic(t *testing.T) {
	for _, c := range sessionCases[:6] {
		a, err := Run(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Run(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Files, b.Files) || !reflect.DeepEqual(a.Truth, b.Truth) {
			t.Errorf("%s: two runs of the same configuration differ", c.name)
		}
		// another seed is another run
		cfg := c.cfg
		cfg.Seed += 100
		d, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(a.Files, d.Files) {
			t.Errorf("%s: seeds %d and %d give the same files", c.name, c.cfg.Seed, cfg.Seed)
		}
	}
}

// TestSessionAllocationsScale: a lane makes about (mean parallelism)
// allocations per job, a job every job-seconds plus about a second (its
// deployment and the gap before the next), so a run makes about
//
//	jobs × mean parallelism × 60 × minutes / (job-seconds + 1)
//
// allocations: twice as many for twice the minutes, and for a shorter job
// as many more as that formula says.
func TestSessionAllocationsScale(t *testing.T) {
	count := func(cfg Config) int {
		t.Helper()
		r, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Truth.Allocations)
	}
	for _, v := range []string{"1.12.7", "1.18.1"} {
		// 160 slots for 4 jobs of 1 to 3 slots (mean 2): room for every
		// job, also for 1.12, whose ended jobs hold their slots 30 s more
		// (with less room jobs ask for fewer slots)
		base := Config{Flink: v, TaskManagers: 20, Slots: 8, Jobs: 4, Seed: 1}
		for _, c := range []struct{ minutes, seconds int }{{30, 10}, {60, 10}, {60, 4}, {60, 30}} {
			cfg := base
			cfg.Minutes, cfg.JobSeconds = c.minutes, c.seconds
			got := count(cfg)
			want := float64(cfg.Jobs) * 2 * 60 * float64(c.minutes) / float64(c.seconds+1)
			t.Logf("%s --minutes %d --job-seconds %d: %d allocations, the formula says %.0f", v, c.minutes, c.seconds, got, want)
			if r := float64(got) / want; r < 0.85 || r > 1.15 {
				t.Errorf("%s --minutes %d --job-seconds %d: %d allocations, the formula says %.0f (%.2f×)", v, c.minutes, c.seconds, got, want, r)
			}
		}
		cfg := base
		cfg.Minutes, cfg.JobSeconds = 40, 10
		once := count(cfg)
		cfg.Minutes = 80
		twice := count(cfg)
		if r := float64(twice) / float64(once); r < 1.9 || r > 2.1 {
			t.Errorf("%s: %d allocations in 40 minutes, %d in 80 (%.2f×, want 2×)", v, once, twice, r)
		}
	}
}

// TestStreamedTruthIsMarshalIndent: with CreateTruth, the truth written
// (its allocations spilled in sorted batches and merged back) is the bytes
// json.MarshalIndent gives the truth held in memory, and every scratch
// file is gone when Run returns.
func TestStreamedTruthIsMarshalIndent(t *testing.T) {
	defer func(n int) { spillEvery = n }(spillEvery)
	for _, every := range []int{1, 7, 100, 1 << 17} {
		spillEvery = every
		for _, c := range []Config{sessionCases[0].cfg, sessionCases[2].cfg, sessionCases[8].cfg, sessionCases[10].cfg,
			{Flink: "1.12.7", TaskManagers: 2, Slots: 3, Seed: 1},                                                                       // no allocation at all: no job
			{Flink: "1.9.3", TaskManagers: 2, Slots: 3, Jobs: 2, Failovers: 1, Inject: []string{FaultOverwrite}, Seed: 11, Debug: true}, // one AllocationID on two indexes
		} {
			mem, err := Run(c)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.MarshalIndent(mem.Truth, "", "  ")
			want = append(want, '\n')
			dir := t.TempDir()
			var got bytes.Buffer
			closed := 0
			c.Create = func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }
			c.CreateTruth = func() (io.WriteCloser, error) { return closeCounter{&got, &closed}, nil }
			c.CreateTemp = func() (*os.File, error) { return os.CreateTemp(dir, "spill-*") }
			r, err := Run(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("spilling every %d of %s (%d allocations): the streamed truth differs from json.MarshalIndent's", every, c.Flink, len(mem.Truth.Allocations))
			}
			if closed != 1 {
				t.Errorf("the truth's file closed %d times", closed)
			}
			if len(r.Truth.Allocations) != 0 {
				t.Errorf("Result.Truth holds %d allocations that were streamed", len(r.Truth.Allocations))
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("%d scratch files left", len(left))
			}
		}
	}
}

type closeCounter struct {
	io.Writer
	n *int
}

func (c closeCounter) Close() error { *c.n++; return nil }

// TestSessionStateBounded: what the simulator holds at the end of a long
// session run is what is open then — jobs running, slots held, the last
// batch of the truth's allocations — not what happened: a run four times
// as long holds no more.
func TestSessionStateBounded(t *testing.T) {
	defer func(n int) { spillEvery = n }(spillEvery)
	spillEvery = 1000
	held := func(cfg Config) (allocations int, state []int) {
		t.Helper()
		cfg.Create = func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }
		cfg.CreateTruth = func() (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }
		dir := t.TempDir()
		cfg.CreateTemp = func() (*os.File, error) { return os.CreateTemp(dir, "spill-*") }
		_, s, err := run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		slots, joined := 0, 0
		for _, tm := range s.tms {
			tm.slots.each(func(_ int, sl *tmSlot) {
				if sl.state != "" {
					slots++
				}
			})
			slots += len(tm.slots.dyn) // and, of dynamic slots, the entries: only those held
			joined += len(tm.joining) + len(tm.jobs) + len(tm.jmLost) + len(tm.attempts) + len(tm.byAlloc) + len(tm.tickets)
		}
		return int(s.truth.allocs.seq), []int{len(s.pool.jobs), len(s.pool.order), len(s.rm.jobs), len(s.rm.pending),
			len(s.truth.active), len(s.truth.allocs.batch), slots, joined, s.q.Len()}
	}
	for _, v := range []string{"1.12.7", "1.18.1"} {
		cfg := Config{Flink: v, TaskManagers: 4, Slots: 4, Jobs: 4, JobSeconds: 5, Minutes: 30, Seed: 1}
		n1, short := held(cfg)
		cfg.Minutes = 120
		n4, long := held(cfg)
		if n4 < 3*n1 {
			t.Fatalf("%s: %d allocations in 30 minutes, %d in 120", v, n1, n4)
		}
		names := []string{"jobs", "job order", "slot manager jobs", "pending requests", "activations", "truth batch", "slots", "TaskManager job entries", "events"}
		for k := range short {
			// each is bounded by what is open at the end: the cluster's
			// slots and jobs, a batch of the truth (1000 here)
			if limit := max(2*short[k], 1000); long[k] > limit {
				t.Errorf("%s: %s: %d after 30 minutes (%d allocations), %d after 120 (%d)", v, names[k], short[k], n1, long[k], n4)
			}
		}
		if long[6] > 2*4*4 {
			t.Errorf("%s: %d slots held and dynamic entries in the tables of 4 TaskManagers of 4 slots", v, long[6])
		}
	}
}

// BenchmarkSessionWorkload measures how fast a session cluster's logs are
// written (to io.Discard) and how much is allocated per allocation; the
// live heap after the run shows what stayed.
func BenchmarkSessionWorkload(b *testing.B) {
	for _, v := range []string{"1.12.7", "1.18.1"} {
		b.Run(v, func(b *testing.B) {
			b.ReportAllocs()
			cfg := Config{Flink: v, TaskManagers: 20, Slots: 8, Jobs: 20, JobSeconds: 10, Minutes: 120, Seed: 7,
				Create:      func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil },
				CreateTruth: func() (io.WriteCloser, error) { return nopCloser{io.Discard}, nil },
				CreateTemp:  func() (*os.File, error) { return os.CreateTemp(b.TempDir(), "spill-*") },
			}
			allocations := 0
			start := time.Now()
			for b.Loop() {
				_, s, err := run(cfg)
				if err != nil {
					b.Fatal(err)
				}
				allocations += int(s.truth.allocs.seq)
			}
			b.ReportMetric(float64(allocations)/time.Since(start).Seconds(), "allocations/s")
			b.ReportMetric(float64(allocations)/float64(b.N), "allocations/op")
		})
	}
}
