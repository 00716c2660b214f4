package main

import (
	"sync/atomic"

	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/sim"
)

func newSimulateCmd(e *env) *cobra.Command {
	var cfg sim.Config
	var inject, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "simulate [flags] --out DIR",
		Short: "Realistic multi-component logs with injected faults and ground truth",
		Long: `simulate runs a model of Flink's slot protocol (ResourceManager, JobMaster slot pool,
TaskManager slot tables of the version's semantics) and writes the logs such a cluster would
write into DIR/logs: jobmanager.log (RM and JM) and one taskmanager-N.log per TaskManager (one
log per pod with --deployment kubernetes), in that version's messages and layout, with clock
skew between hosts; and DIR/truth.json: every allocation, every process's final slot table,
and the findings a correct audit reports. 'slotaudit audit DIR/logs' is then expected to
report exactly those findings.

Up to 1.12 the JobMaster asks for each slot under an AllocationID of its own and the
ResourceManager retries it elsewhere on failure. From 1.13 the protocol is declarative: the
JobMaster declares how many slots a job needs, the ResourceManager mints a fresh AllocationID
for every slot it assigns (dynamic slot indexes from 1.18), and the slot pool matches offers
to requirements.

Faults (--inject, comma-separated): ` + strings.Join(sim.LegacyFaults, ", ") + `; from 1.13 also
` + strings.Join(sim.ModernFaults, ", ") + `.
Faults are reached through the protocol, not scripted: the overwrite (FLINK-14589) comes from
a cancelled job's delayed request and a held-up request for the next job; on 1.13+, where no
protocol path sends one AllocationID to two slots, it is a duplicated requestSlot delivery that
the fixed table must refuse. tm-lost kills a TaskManager without a word (heartbeats time out,
a replacement registers under a new ResourceID); slot-timeout makes the JobMaster answer an
offer only as the slot times out; jm-failover moves a job to a new JobMaster leader.

A longer run (--minutes, up to 31 days) keeps the cluster busy: each ordinary job is
submitted again when it ends. --job-seconds S makes it a session cluster (a SQL gateway,
batch jobs): --jobs jobs at a time, each running S seconds, then replaced a moment later by
a new job under a new JobID, each asking for 1 to 3 slots (fewer when the cluster has no room
for that: up to 1.12 an ended job's slots are held 30 s more); --streaming-jobs N runs N
long-running jobs (a slot each) beside them for the whole run. Every allocation goes through
its whole lifecycle across the three components, over and over: about jobs x 2 x 60 / (S + 1)
allocations a simulated minute. Faults combine with it. A month of it, millions of
allocations, is written in bounded memory: the logs as they are made, and the allocations of
truth.json kept in sorted batches spilled beside the output and merged into it at the end.

Versions: ` + strings.Join(sim.Versions, ", ") + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &usageError{fmt.Errorf("simulate needs --out DIR")}
			}
			if inject != "" {
				cfg.Inject = strings.Split(inject, ",")
			}
			// Benchmark corpora run to gigabytes: each file is made when
			// its process first logs and written as the simulation runs.
			// The directory is made then, so that bad flags leave nothing
			// behind; files are staged and moved into place at the end.
			logs := filepath.Join(out, "logs")
			var dir *outDir
			var names []string
			open := func() error {
				if dir != nil {
					return nil
				}
				var err error
				if dir, err = openOutDir(out, force, "logs/ and truth.json"); err != nil {
					return err
				}
				return dir.mkdir("logs")
			}
			cfg.Create = func(name string) (io.WriteCloser, error) {
				if err := open(); err != nil {
					return nil, err
				}
				f, err := dir.create(filepath.Join("logs", name))
				if err != nil {
					return nil, err // not a nil *os.File in a non-nil interface
				}
				names = append(names, name)
				return f, nil
			}
			// A month of allocations is streamed into truth.json; the
			// batches spilled until then go to the staging directory, on
			// the disk the logs go to (not a /tmp that may be memory).
			cfg.CreateTruth = func() (io.WriteCloser, error) {
				if err := open(); err != nil {
					return nil, err
				}
				f, err := dir.create("truth.json")
				if err != nil {
					return nil, err
				}
				return f, nil
			}
			cfg.CreateTemp = func() (*os.File, error) {
				if err := open(); err != nil {
					return nil, err
				}
				return os.CreateTemp(dir.stage, ".truth-*")
			}
			var prog *progress
			if f, ok := e.stderr.(*os.File); ok && progressWanted(term.IsTerminal(int(f.Fd())), e.quiet, os.Getenv) {
				// simulated milliseconds of the run, on a terminal only
				var done atomic.Int64
				total := int64(max(cfg.Minutes, 15)) * 60_000
				cfg.Progress = func(ms, of int64) { done.Store(ms * total / max(of, 1)) }
				prog = startProgress(e.stderr, "simulating", total, false, &done, progressDelay)
			}
			res, err := sim.Run(cfg)
			prog.stop()
			if err != nil {
				if dir != nil {
					dir.abort()
				}
				var pe *os.PathError
				var oe *errOutDir
				switch {
				case errors.As(err, &oe):
					return &usageError{err}
				case errors.As(err, &pe):
					return err
				}
				return &usageError{err}
			}
			sort.Strings(names)
			if err := dir.commit(); err != nil {
				dir.abort()
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "wrote %s to %s and truth.json (%d findings expected) to %s\n", strings.Join(names, ", "), logs, len(res.Truth.Findings), out)
			return err
		},
	}
	cmd.Flags().StringVar(&cfg.Flink, "flink", "1.9.3", "Flink version to write ("+strings.Join(sim.Versions, ", ")+")")
	cmd.Flags().StringVar(&cfg.TMFlink, "tm-flink", "", "Flink version the TaskManagers run, when it differs from the JobManager's (a rolling upgrade within one slot protocol)")
	cmd.Flags().IntVar(&cfg.TaskManagers, "taskmanagers", 2, "number of TaskManagers")
	cmd.Flags().IntVar(&cfg.Slots, "slots", 3, "slots per TaskManager")
	cmd.Flags().IntVar(&cfg.Jobs, "jobs", 2, "ordinary jobs besides those the faults need")
	cmd.Flags().IntVar(&cfg.Failovers, "failovers", 1, "task failures that restart a running job")
	cmd.Flags().IntVar(&cfg.Noise, "noise", 0, "unrelated DEBUG records (Kafka fetches, heartbeats, ZooKeeper pings) per process and second, with --debug: real DEBUG logs are mostly these")
	cmd.Flags().IntVar(&cfg.Minutes, "minutes", 0, "how long the cluster runs, up to 44640 (31 days; 0: 15 minutes); longer runs keep resubmitting jobs, for benchmark corpora")
	cmd.Flags().IntVar(&cfg.StreamingJobs, "streaming-jobs", 0, "with --job-seconds: this many long-running jobs (one slot each) beside the short ones, for the whole run")
	cmd.Flags().BoolVar(&cfg.Once, "once", false, "ordinary jobs run once even when --minutes is longer: the same allocations, a longer log")
	cmd.Flags().IntVar(&cfg.JobSeconds, "job-seconds", 0, "a session cluster's short jobs: each ordinary job runs this many seconds, then the next is submitted in its place, for the whole run; --jobs is how many run at once (0: long-running jobs)")
	cmd.Flags().StringVar(&inject, "inject", "", "faults to inject: "+strings.Join(sim.Faults, ","))
	cmd.Flags().StringVar(&cfg.Format, "format", "text", "text or json")
	cmd.Flags().StringVar(&cfg.Layout, "layout", "default", "text layout: default (the version's log4j layout) or logback")
	cmd.Flags().StringVar(&cfg.Deployment, "deployment", "standalone", "standalone (TaskManager ResourceIDs host:port-6hex from 1.12) or kubernetes (native: pod names, a lost pod replaced under a new name)")
	cmd.Flags().IntVar(&cfg.RotateMinutes, "rotate-minutes", 0, "write each TaskManager's log in a file per this many minutes, named as log4j rotates them (taskmanager-N.log the newest, .1 the one before, …): only a process's first file names its ResourceID")
	cmd.Flags().BoolVar(&cfg.CutBanners, "cut-banners", false, "write every other TaskManager's log without the line that names its ResourceID, as a rotated or cut log is")
	cmd.Flags().BoolVar(&cfg.Debug, "debug", false, "write DEBUG records (slot reports, free causes)")
	cmd.Flags().Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same seed and flags give the same files")
	cmd.Flags().StringVar(&out, "out", "", "directory to write to: absent or empty (a symlink is refused)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the logs/ and truth.json an earlier run wrote into --out")
	return cmd
}
