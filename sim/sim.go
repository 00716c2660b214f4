// Package sim owns slotaudit's cluster simulator: a discrete-event model of
// Flink's slot protocol — JM-driven up to 1.12, declarative from 1.13
// (declarative.go) — with its ResourceManager, JobMaster slot pool and
// TaskManager slot table of the version's semantics, that writes the logs a
// cluster of that version would write, with faults injected on purpose and
// the ground truth recorded beside them. Faults are delays, losses, restarts
// and leadership changes fed into the protocol; the FLINK-14589 race is one
// interleaving the protocol reaches, not a script.
package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"
)

// Faults the simulator can inject.
const (
	FaultOverwrite        = "overwrite"         // a stale request and a slow one make the RM send one AllocationID to two slots
	FaultDelayedRequest   = "delayed-request"   // a cancelled job's slot request lands late and times out
	FaultHeartbeatTimeout = "heartbeat-timeout" // a TaskManager loses its JobManager and reconnects
	FaultOfferReject      = "offer-reject"      // the JobManager rejects an offer it no longer needs
	FaultTMRestart        = "tm-restart"        // a TaskManager process dies and a new one starts
)

// Faults lists every injectable fault.
var Faults = []string{FaultOverwrite, FaultDelayedRequest, FaultHeartbeatTimeout, FaultOfferReject, FaultTMRestart,
	FaultTMLost, FaultSlotTimeout, FaultRequirementsShrink, FaultJMFailover, FaultNotEnoughResources}

// LegacyFaults are the faults every version can take.
var LegacyFaults = Faults[:5]

// Config describes one simulated incident.
type Config struct {
	Flink string // version, one of Versions
	// TMFlink, when set, is the version the TaskManagers run while the
	// JobManager runs Flink (a rolling upgrade); both must speak the same
	// slot protocol (legacy up to 1.12, declarative from 1.13).
	TMFlink      string
	TaskManagers int      // number of TaskManagers
	Slots        int      // taskmanager.numberOfTaskSlots
	Jobs         int      // ordinary jobs besides those the faults need
	Failovers    int      // task failures that restart a running job
	Inject       []string // faults, each at most once per kind and repeated by listing it again
	Seed         uint64
	Debug        bool   // write DEBUG records (slot reports, free causes, "No task slot allocated")
	Format       string // text or json
	Layout       string // text layout: default (the version's log4j layout) or logback
	// Deployment is standalone (TaskManager ResourceIDs: random hex up to
	// 1.11, host:port-6hex from 1.12) or kubernetes (native: pods named
	// <cluster>-taskmanager-1-N, a lost pod replaced under a new name).
	Deployment string
	// Minutes the cluster runs (default 15, at most 31 days). Beyond the
	// default, ordinary jobs are resubmitted when they end, so the cluster
	// stays busy: a long run is how benchmarks get gigabytes of realistic
	// logs.
	Minutes int
	// Once: ordinary jobs run once even in a longer run; the cluster then
	// idles (heartbeats, slot reports and chatter go on) with the same
	// allocations, which is how a long log of long-running jobs looks.
	Once bool
	// JobSeconds, when above 0, makes the ordinary jobs a session
	// cluster's: each runs this many seconds once deployed, then finishes,
	// and another job (a new JobID) is submitted in its place a moment
	// later, for the whole run. Jobs is then how many run at once. Every
	// job's slots go through their whole lifecycle (requested, allocated,
	// offered, activated, deployed into, released and freed), so the logs
	// are dense with allocations, as those of a SQL gateway or of batch
	// jobs on a session cluster are.
	JobSeconds int
	// StreamingJobs, with JobSeconds, runs this many long-running jobs (one
	// slot each) beside the short ones, from the start of the session's
	// workload to the end of the run: a session cluster that also hosts a
	// streaming job, whose slot stays allocated while thousands of others
	// come and go on the same TaskManagers.
	StreamingJobs int
	// CutBanners writes the logs of every other TaskManager without the
	// line that begins them naming its ResourceID, as a rotated or cut log
	// is: audit must then join them to their ResourceIDs by what the other
	// components say of their AllocationIDs and deployments.
	CutBanners bool
	// RotateMinutes, above 0, writes each TaskManager's log in a file per
	// this many minutes of its clock, named as log4j's RollingFileAppender
	// names them: taskmanager-N.log the newest, taskmanager-N.log.1 the
	// one before, and so on. Only a process's first file holds its banner;
	// the later ones begin in the middle of its story.
	RotateMinutes int
	// Noise is how many unrelated DEBUG records (Kafka fetches, heartbeats,
	// ZooKeeper pings, checkpoint acks) each process writes per second when
	// Debug is on; 0 writes none. Real DEBUG logs are mostly such records.
	Noise int
	// Create, when set, makes each log file (named jobmanager.log,
	// taskmanager-0.json, ...) when its process first logs, or at the end
	// of the run for one that never does. Records are written to it,
	// buffered, as they are emitted, and every file is closed before Run
	// returns, also when it fails: a benchmark corpus of gigabytes is
	// never in memory. The first error making, writing or closing a file
	// ends the run and is Run's. Result.Files then stays empty.
	Create func(name string) (io.WriteCloser, error)
	// Progress, when set, is told how far the simulation is: from the
	// event loop each time simulated time passes another 1% of the run,
	// and once more with simulatedMs == totalMs when the loop is done
	// (the last chatter is written and the files closed after that).
	Progress func(simulatedMs, totalMs int64)
	// CreateTruth, when set, makes the file the truth is written to at the
	// end of the run (truth.json): the bytes json.MarshalIndent(Truth, "",
	// "  ") and a newline give, with the allocations streamed into it
	// rather than held. Result.Truth.Allocations then stays empty. Until
	// then the allocations are kept as small records, and every 131,072 of
	// them are sorted and spilled to a scratch file, so that a run of
	// millions of allocations keeps only those of its last batch in memory.
	CreateTruth func() (io.WriteCloser, error)
	// CreateTemp makes a scratch file for CreateTruth's spilled batches
	// (default: os.CreateTemp in the system's temporary directory). Run
	// closes and removes every one before it returns.
	CreateTemp func() (*os.File, error)
}

// Result is what a run produced: the files and the truth.
type Result struct {
	Files map[string]string // file name → content, unless Config.Create made the files
	Truth Truth
}

// Base is the wall-clock time the simulated incidents start at.
var Base = time.Date(2021, 3, 14, 9, 0, 0, 0, time.UTC)

const (
	slotTimeout    = 10_000  // taskmanager.slot.timeout
	heartbeat      = 10_000  // slot report period
	requestTimeout = 300_000 // slot.request.timeout
	idleTimeout    = 30_000  // slot.idle.timeout
	defaultRun     = 900_000 // the simulation stops; what is held then stays held
	// maxMinutes is the longest run: a month of a busy session cluster
	// (millions of allocations) is what memory benchmarks need.
	maxMinutes = 31 * 24 * 60
)

// Run simulates one incident.
func Run(cfg Config) (*Result, error) {
	res, _, err := run(cfg)
	return res, err
}

// run is Run, and the simulation's state at its end (for tests of what
// it holds).
func run(cfg Config) (*Result, *sim, error) {
	f, err := flavorOf(cfg.Flink)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Minutes < 0 || cfg.Minutes > maxMinutes {
		return nil, nil, fmt.Errorf("minutes %d: want 0 (15 minutes) to %d (31 days)", cfg.Minutes, maxMinutes)
	}
	if cfg.Noise < 0 || cfg.Noise > 10_000 {
		return nil, nil, fmt.Errorf("noise %d: want 0 to 10000 records per second", cfg.Noise)
	}
	if cfg.RotateMinutes < 0 || cfg.RotateMinutes > maxMinutes {
		return nil, nil, fmt.Errorf("rotate-minutes %d: want 0 (no rotation) to %d", cfg.RotateMinutes, maxMinutes)
	}
	if cfg.JobSeconds < 0 || cfg.JobSeconds > 24*60*60 {
		return nil, nil, fmt.Errorf("job-seconds %d: want 0 (long-running jobs) to a day", cfg.JobSeconds)
	}
	if cfg.StreamingJobs < 0 || cfg.StreamingJobs > 0 && (cfg.JobSeconds == 0 || cfg.StreamingJobs >= cfg.TaskManagers*cfg.Slots) {
		return nil, nil, fmt.Errorf("streaming-jobs %d: want 0, or, with job-seconds, fewer than the cluster's %d slots", cfg.StreamingJobs, cfg.TaskManagers*cfg.Slots)
	}
	if cfg.JobSeconds > 0 && cfg.Once {
		return nil, nil, fmt.Errorf("job-seconds and once: short jobs keep being submitted, once runs each job once; choose one")
	}
	if cfg.TaskManagers < 1 || cfg.Slots < 1 {
		return nil, nil, fmt.Errorf("need at least one TaskManager with one slot")
	}
	for _, in := range cfg.Inject {
		if !contains(Faults, in) {
			return nil, nil, fmt.Errorf("inject %q: want one of %s", in, strings.Join(Faults, ", "))
		}
		if contains(ModernFaults, in) && !f.Declarative {
			return nil, nil, fmt.Errorf("inject %s needs the declarative protocol of Flink 1.13 or later, not %s", in, cfg.Flink)
		}
		if in == FaultOverwrite && cfg.Slots < 3 {
			return nil, nil, fmt.Errorf("inject overwrite needs at least 3 slots per TaskManager (the stale request, the first and the retried slot)")
		}
	}
	if cfg.Format == "" {
		cfg.Format = "text"
	}
	if cfg.Format != "text" && cfg.Format != "json" {
		return nil, nil, fmt.Errorf("format %q: want text or json", cfg.Format)
	}
	if cfg.Layout == "" {
		cfg.Layout = "default"
	}
	if cfg.Layout != "default" && cfg.Layout != "logback" {
		return nil, nil, fmt.Errorf("layout %q: want default or logback", cfg.Layout)
	}
	if cfg.Deployment == "" {
		cfg.Deployment = "standalone"
	}
	if cfg.Deployment != "standalone" && cfg.Deployment != "kubernetes" {
		return nil, nil, fmt.Errorf("deployment %q: want standalone or kubernetes", cfg.Deployment)
	}
	tf := f
	if cfg.TMFlink != "" && cfg.TMFlink != cfg.Flink {
		if tf, err = flavorOf(cfg.TMFlink); err != nil {
			return nil, nil, err
		}
		if tf.Declarative != f.Declarative {
			return nil, nil, fmt.Errorf("taskmanagers on %s with a JobManager on %s: a rolling upgrade stays within one slot protocol (up to 1.12, or from 1.13)", cfg.TMFlink, cfg.Flink)
		}
	}
	s := newSim(cfg, f)
	s.tmFlavor = tf
	var mem map[string]*strings.Builder
	if cfg.Create == nil {
		// tests read the files from Result.Files
		mem = map[string]*strings.Builder{}
		s.out.create = func(name string) (io.WriteCloser, error) {
			b := &strings.Builder{}
			mem[name] = b
			return nopCloser{b}, nil
		}
	}
	s.scenario()
	s.loop()
	res, err := s.finish()
	if err != nil {
		return nil, nil, err
	}
	for name, b := range mem {
		res.Files[name] = b.String()
	}
	return res, s, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

type event struct {
	at  int64
	seq int
	fn  func()
}

// queue is the events to come, a binary heap by time and then by the
// order they were scheduled in (seq is unique: the order is total, so
// any heap pops the same sequence). Typed rather than container/heap's
// interface: a month's run pops billions.
type queue []event

func (q queue) Len() int { return len(q) }

func (a event) before(b event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *queue) push(e event) {
	h := append(*q, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *queue) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = event{} // the closure is no longer reachable from here
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].before(h[l]) {
			c = r
		}
		if !h[c].before(h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	*q = h
	return top
}

type sim struct {
	cfg      Config
	f        *flavor // the JobManager's version
	tmFlavor *flavor // the TaskManagers' version
	rng      *rand.Rand
	now      int64
	q        queue
	seq      int
	out      *output
	jm       *logFile
	rm       *resourceManager
	pool     *jobMaster
	tms      []*taskManager
	truth    *truthBuilder
	// tickets numbers slot-timeout timers
	tickets int
	end     int64 // when the run stops (ms)
	// sessions counts the session workload's jobs, which name them
	sessions int
}

func newSim(cfg Config, f *flavor) *sim {
	s := &sim{cfg: cfg, f: f, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), end: defaultRun}
	if cfg.Minutes > 0 {
		s.end = int64(cfg.Minutes) * 60_000
	}
	s.out = &output{f: f, format: cfg.Format, layout: cfg.Layout, debug: cfg.Debug, base: Base, seed: cfg.Seed, noise: cfg.Noise, until: s.end, create: cfg.Create,
		rotate: int64(cfg.RotateMinutes) * 60_000}
	s.jm = s.logFile("jobmanager.log", false, 0)
	s.truth = newTruth(s)
	s.rm = newResourceManager(s)
	s.pool = newJobMaster(s)
	return s
}

// logFile is a new log file of the run.
func (s *sim) logFile(name string, tm bool, skew int64) *logFile {
	return &logFile{Name: name, out: s.out, tm: tm, skew: skew}
}

// after schedules fn delay ms from now. Time never runs back: a process's
// records are in time order, which writing the chatter of a process that
// logs seldom as time passes (catchUp) relies on.
func (s *sim) after(delay int64, fn func()) {
	if delay < 0 {
		panic(fmt.Sprintf("sim: an event %d ms in the past", -delay))
	}
	s.seq++
	s.q.push(event{at: s.now + delay, seq: s.seq, fn: fn})
}

// loop runs the events in time order until the end of the run or the
// first error writing a file. Each time simulated time passes another 1%
// of the run, the files catch up with their chatter and Progress is told.
func (s *sim) loop() {
	step := max(s.end/100, 1)
	tick := step
	for s.q.Len() > 0 && s.out.err == nil {
		e := s.q.pop()
		if e.at > s.end {
			break
		}
		s.now = e.at
		if s.now >= tick {
			tick = (s.now/step + 1) * step
			for _, l := range s.out.made {
				l.catchUp(s.now)
			}
			if s.cfg.Progress != nil {
				s.cfg.Progress(s.now, s.end)
			}
		}
		e.fn()
	}
	s.now = s.end
	if s.cfg.Progress != nil && s.out.err == nil {
		s.cfg.Progress(s.end, s.end)
	}
}

// hex returns a fresh 32-hex-digit id: two draws, the first printed first.
func (s *sim) hex() string {
	var b [32]byte
	putHex(b[:16], s.rng.Uint64())
	putHex(b[16:], s.rng.Uint64())
	return string(b[:])
}

// putHex writes v as 16 lowercase hex digits, as %016x does.
func putHex(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		dst[i] = digits[v&15]
		v >>= 4
	}
}

// rpc is a network delay: a few milliseconds.
func (s *sim) rpc() int64 { return 2 + s.rng.Int64N(8) }

// jmLog writes a record of the JobManager process (RM and JobMaster).
func (s *sim) jmLog(level, logger, msg string, thrown ...string) {
	s.jm.add(record{at: s.now, level: level, logger: logger, thread: s.f.thread(2 + s.rng.IntN(20)), msg: msg, thrown: thrown})
}

func contains(list []string, x string) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// finish ends the files — a file nothing was logged to is made empty —
// and builds the truth. Every file made is closed, whatever failed.
func (s *sim) finish() (*Result, error) {
	defer s.truth.allocs.close()
	files := []*logFile{s.jm}
	for _, t := range s.tms {
		files = append(files, t.oldFiles...)
		files = append(files, t.file)
	}
	for _, l := range files {
		if l.w == nil && !l.open(s.end) {
			break
		}
	}
	err := s.out.err
	for _, l := range s.out.made {
		if cerr := l.close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, err
	}
	tr, err := s.truth.build()
	if err != nil {
		return nil, err
	}
	if s.cfg.CreateTruth != nil {
		w, err := s.cfg.CreateTruth()
		if err != nil {
			return nil, err
		}
		err = writeTruth(w, tr, s.truth.allocs)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	return &Result{Files: map[string]string{}, Truth: tr}, nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
