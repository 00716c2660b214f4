package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/follow"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/report"
)

// Exit codes, as the design's command-line contract fixes them.
const (
	exitOK       = 0 // analysed, nothing at or above --fail-on
	exitFindings = 1 // findings at or above --fail-on
	exitUsage    = 2 // usage or input error
	exitNothing  = 3 // the input held no slot-lifecycle evidence at all
	exitPartial  = 5 // an input could not be read; nothing at or above --fail-on in the rest
)

// nothingToShowError: the input holds evidence, but nothing of what the
// command shows (slots without any TaskManager log). Exit 3, as audit's
// nothing to judge, with the reason on stderr.
type nothingToShowError struct{ why string }

func (e *nothingToShowError) Error() string { return e.why }

// partialError: an input could not be read (or only in part) and the rest
// held nothing at or above --fail-on. The output says which; the exit code
// keeps a CI step from passing on half the logs.
type partialError struct{}

func (partialError) Error() string { return "partial audit: an input could not be read" }

// env is what every command needs from the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            zerolog.Logger
	// foldMode is audit's --fold; foldFormat: the format asked for reads
	// only the findings and the summaries, which a fold gives (folds)
	foldMode   string
	foldFormat bool
	// listsAllocations: the output lists the allocations a filter
	// narrows to (a timeline), which a fold must keep (Filter.Pins)
	listsAllocations bool
	// drawsCharts: the output is the HTML page, whose charts a fold walks
	// as it replays (fold.Narrow.Charts)
	drawsCharts bool
	// listsReports: the output lists every slot report compared with a
	// table (slots --reports differing|all), which a fold writes out as it
	// compares them (fold.Narrow.Reports)
	listsReports bool
	// tableAt places the time slots --at shows the tables at in logs
	// whose times span the bounds given (nil: the tables at the end)
	tableAt func(*parser.TimeBounds) flinklog.Time
	// foldFirst, foldOpts: the first read of the fold the model was built
	// as, and its options (nil when it was built the batch way)
	foldFirst *parser.Result
	foldOpts  parser.Options
	// reported holds the diagnostics already logged, when inputs are read
	// again and again (--follow); nil otherwise.
	reported map[string]bool
	// following: inputs are read again and again through follower.
	following bool
	follower  *parser.Follower
	// spool: a follow's copy of its inputs (follow.Spool), which it audits
	// the way audit does (folded when large) once spoolAudits — when the
	// copies weigh spoolFrom, or the follower holds many events, unless
	// spoolFutile (an audit of the copies kept every event of many: a fold
	// refused); spooling while such an audit runs
	spool       *follow.Spool
	spoolAudits bool
	spoolFrom   int64
	spoolFutile bool
	spooling    bool
	// spoolDir is audit's --spool-dir: where copies of inputs go ("": the
	// default, follow.SpoolDir)
	spoolDir string
	// renames: the paths a read reads in others' place (copies, fetches),
	// and the names it shows them under (and sorts them as)
	renames map[string]string
	// stdinCopy: standard input copied into the spool, which the follower
	// reads on as a file, or into stdinSpool, which a command that may fold
	// reads in its place (stdinAsFile)
	stdinCopy  *follow.StdinCopy
	stdinSpool *follow.Spool
	// live: the log stores fetched before the read, for a command that may
	// fold (fetchFirst); removed when the command ends
	live *liveInputs
	// spill: the events of the fold's first read, which its reads again
	// decode (parser.Options.Spill); closed when the command ends, or
	// when a follow's next audit makes its own
	spill *parser.Spill
	// what the last read of a follow that found no evidence yet read
	unjudged []parser.InputSummary
	// guard ends the run before it runs out of memory (see memguard.go)
	guard *memoryGuard
	// color: human output on stdout may use ANSI colour (--color)
	color bool
	// quiet: human output holds only the findings (--quiet)
	quiet bool
	// filter and narrow: what --since, --job, --only… keep (nil: all)
	filter *report.Filter
	narrow *narrowFlags
	// ran is the command that ran ("slotaudit audit"), for hints
	ran string
	// running is the command that runs, for the flags a log store's time
	// range is read from (--since, --until). Not kept in readFlags: cobra
	// keeps flags with completions in a global map, and through them
	// whatever their values point to, for the life of the process.
	running *cobra.Command
}

// narrowWith parses a command's narrowing flags into e.filter.
func (e *env) narrowWith(nf *narrowFlags) error {
	f, err := nf.filter()
	if err != nil {
		return err
	}
	e.filter, e.narrow = f, nf
	return nil
}

// usageError is a bad flag or argument; the command's usage hint follows it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// nothingToJudgeError means the inputs were read but held no slot evidence.
type nothingToJudgeError struct {
	inputs int
	res    *parser.Result // what was read, for the documents that name it
}

func (e *nothingToJudgeError) Error() string {
	return fmt.Sprintf("no slot-lifecycle evidence in %d input(s)", e.inputs)
}

// Main runs slotaudit with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// a fold holds the heap to a soft limit for the rest of its command
	// (buildFolded): not for the next run in the same process (tests)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	e.log = newLogger(stderr, zerolog.WarnLevel)
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ran, err := root.ExecuteContextC(ctx)
	if e.stdinSpool != nil {
		_ = e.stdinSpool.Close()
	}
	e.live.cleanup()
	_ = e.spill.Close()
	if e.guard != nil {
		e.guard.stop()
	}
	if ran != nil {
		e.ran = ran.CommandPath()
	}
	return e.exitCode(err)
}

func newLogger(w io.Writer, level zerolog.Level) zerolog.Logger {
	cw := zerolog.ConsoleWriter{Out: w, NoColor: true, PartsExclude: []string{zerolog.TimestampFieldName}}
	cw.FormatMessage = func(i any) string { return report.Escape(fmt.Sprint(i)) }
	cw.FormatFieldValue = func(i any) string { return report.Escape(fmt.Sprint(i)) }
	return zerolog.New(cw).Level(level)
}

// colorWanted decides --color: auto colours a terminal unless NO_COLOR is
// set (to anything, https://no-color.org) or TERM is dumb.
func colorWanted(mode string, terminal bool, getenv func(string) string) (bool, error) {
	switch mode {
	case "auto":
		return terminal && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb", nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	return false, fmt.Errorf("--color %q: want auto, always or never", mode)
}

// helpFor is the command whose help a hint points to: the one that ran.
func (e *env) helpFor() string {
	if e.ran == "" {
		return "slotaudit"
	}
	return e.ran
}

// unknownCommand rewrites cobra's "unknown command" error, whose
// suggestions come on lines of their own, into one line and a hint.
func unknownCommand(err error) (string, string, bool) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "unknown command ") {
		return "", "", false
	}
	head, rest, _ := strings.Cut(msg, "\n")
	var sugg []string
	for _, l := range strings.Split(rest, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Did you mean") {
			sugg = append(sugg, "'slotaudit "+l+"'")
		}
	}
	hint := "run 'slotaudit --help' for the commands"
	if len(sugg) > 0 {
		hint = "did you mean " + strings.Join(sugg, " or ") + "?"
	}
	return head, hint, true
}

// exitCode is the one place where errors become exit codes and messages.
func (e *env) exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var nothing *nothingToJudgeError
	var usage *usageError
	var found findingsError
	var input *parser.InputError
	var sig signalError
	var partial partialError
	if head, hint, ok := unknownCommand(err); ok {
		fmt.Fprintf(e.stderr, "slotaudit: error: %s\nslotaudit: hint: %s\n", report.Escape(head), report.Escape(hint))
		return exitUsage
	}
	switch {
	case errors.As(err, new(dryRunDone)):
		return exitOK
	case errors.As(err, &found):
		return exitFindings
	case errors.As(err, &partial):
		return exitPartial
	case errors.As(err, &sig):
		return signalCode(sig.sig)
	case errors.As(err, new(*nothingToShowError)):
		fmt.Fprintf(e.stderr, "slotaudit: %s\n", report.Escape(err.Error()))
		return exitNothing
	case errors.As(err, &nothing):
		fmt.Fprintf(e.stderr, "slotaudit: %s\n", err)
		fmt.Fprintf(e.stderr, "slotaudit: hint: are these Flink TaskManager/JobManager logs? the summary above shows what each input held\n")
		return exitNothing
	case errors.As(err, &usage):
		fmt.Fprintf(e.stderr, "slotaudit: error: %s\n", report.Escape(err.Error()))
		fmt.Fprintf(e.stderr, "slotaudit: hint: run '%s --help' for usage and examples\n", report.Escape(e.helpFor()))
		return exitUsage
	case errors.As(err, &input):
		fmt.Fprintf(e.stderr, "slotaudit: error: %s\n", report.Escape(err.Error()))
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "slotaudit: error: %s\n", report.Escape(err.Error()))
	return exitUsage
}

func newRootCmd(e *env) *cobra.Command {
	var logLevel, memLimit, color string
	root := &cobra.Command{
		Use:   "slotaudit",
		Short: "Audit Apache Flink slot allocations from TaskManager, ResourceManager and JobManager logs",
		Long: `slotaudit reads Flink TaskManager, ResourceManager and JobManager logs and tells what
happened to every slot allocation, with the log lines that prove it.

PATH is a file, a directory (read recursively) or - for stdin; .gz is read transparently.
A PATH may also name a log store to fetch from: victorialogs+http://HOST:9428,
loki+https://HOST, opensearch+https://HOST/INDEX or elasticsearch+https://HOST/INDEX
(--query selects, --since/--until bound the time range, --dry-run shows the requests).

Exit codes: 0 analysed and nothing at or above --fail-on; 1 findings at or above it;
2 usage error, or no input could be read; 3 the input held no slot-lifecycle evidence at all;
4 stopped before running out of memory (--memory-limit); 5 partial: an input could not be
read and the rest held nothing at or above --fail-on.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			e.running = cmd
			lvl, err := zerolog.ParseLevel(strings.ToLower(logLevel))
			if err != nil || logLevel == "" {
				return &usageError{fmt.Errorf("--log-level %q: want debug, info, warn, error or disabled", logLevel)}
			}
			if e.quiet && !cmd.Flags().Changed("log-level") {
				lvl = zerolog.ErrorLevel
			}
			e.log = newLogger(e.stderr, lvl)
			if e.color, err = colorWanted(color, e.stdoutIsTerminal(), os.Getenv); err != nil {
				return &usageError{err}
			}
			var limits []memoryLimit
			switch strings.ToLower(strings.TrimSpace(memLimit)) {
			case "auto":
				limits = discoverLimits("/sys/fs/cgroup", readSelfCgroup())
			default:
				n, err := parseByteSize(memLimit)
				if err != nil {
					return &usageError{fmt.Errorf("--memory-limit %w", err)}
				}
				if n > 0 {
					limits = []memoryLimit{{bytes: n, source: "--memory-limit"}}
				}
			}
			e.guard = startMemoryGuard(limits, e.stderr, os.Exit)
			return nil
		},
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "warn", "diagnostics on stderr: debug, info, warn, error or disabled")
	root.PersistentFlags().StringVar(&color, "color", "auto", "colour severities: auto (on a terminal, unless NO_COLOR is set), always or never")
	root.PersistentFlags().BoolVarP(&e.quiet, "quiet", "q", false, "print only the findings (no summary, hints or inputs table) and only errors on stderr")
	root.PersistentFlags().StringVar(&memLimit, "memory-limit", "auto", "stop with exit 4 and one line before using more memory than this (e.g. 2GiB); auto: the cgroup's limit and ulimit -v; 0: no limit")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newEventsCmd(e),
		newAuditCmd(e),
		newTimelineCmd(e),
		newSlotsCmd(e),
		newExplainCmd(e),
		newReportCmd(e),
		newSimulateCmd(e),
		newVersionCmd(e),
		newManCmd(e),
	)
	finishCommands(root, e)
	return root
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print slotaudit's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(e.stdout, "slotaudit version %s\n", versionString())
			return err
		},
	}
}

// readFlags are the flags of every command that reads logs.
type readFlags struct {
	layout       string
	flinkVersion string
	// query and dryRun: for PATHs that name a log store (live.go)
	query  string
	dryRun bool
	// keep, when set, is the only events the command will look at (the
	// read drops the others as it goes: parser.Options.Keep)
	keep func(*flinklog.Event) bool
	// deferIdentities: with keep, the read does not read everything again
	// to name TaskManagers from other components' lines (a fold names
	// them: parser.Options.DeferIdentities)
	deferIdentities bool
	// spill: where the read spills every event (a fold's first read:
	// parser.Options.Spill)
	spill *parser.Spill
}

func (f *readFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.query, "query", "", "for a PATH that names a log store: its selector (LogsQL for VictoriaLogs, a LogQL stream selector for Loki, a query-DSL JSON object or a Lucene query string for OpenSearch/Elasticsearch); --since/--until are the time range asked for (default: the last hour)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the requests that would be sent to the log stores among the PATHs (method, URL, body; no credentials) and exit 0 without fetching")
	cmd.Flags().StringVar(&f.layout, "layout", "", "force the layout of every input: json, a built-in name ("+strings.Join(parser.LayoutNames()[1:], ", ")+"), or a log4j conversion pattern such as '%d %-5p %c - %m%n'")
	cmd.Flags().StringVar(&f.flinkVersion, "flink-version", "", "force the Flink version of every input (MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 1.14 or 1.9.1) instead of reading it from the banner or inferring it (reads faster: no version hints are looked for)")
}

// read reads the paths and logs the parser's diagnostics.
func (e *env) read(ctx context.Context, paths []string, f *readFlags) (*parser.Result, error) {
	if _, _, err := parser.ResolveLayout(f.layout); err != nil {
		return nil, &usageError{err}
	}
	var live *liveInputs
	var err error
	if e.live == nil { // (fetched already, for a fold: fetchFirst)
		if paths, live, err = e.fetchLive(ctx, paths, f); err != nil {
			return nil, err
		}
		defer live.cleanup()
	}
	opts := parser.Options{Layout: f.layout, FlinkVersion: f.flinkVersion, Stdin: e.stdin, SortAs: e.renames}
	var res *parser.Result
	if e.following {
		// --follow: the same paths again and again; read what was appended
		if e.follower == nil {
			e.follower = parser.NewFollower(paths, opts)
		}
		res, err = e.follower.Read()
		settleGC()
	} else {
		counter, prog := e.readProgress(paths)
		opts.Progress = counter
		opts.Keep, opts.DeferIdentities, opts.Spill = f.keep, f.deferIdentities, f.spill
		began := time.Now()
		res, err = parser.Read(paths, opts)
		prog.stop()
		settleGC()
		if err == nil {
			e.log.Debug().Str("took", time.Since(began).Round(time.Millisecond).String()).Int("inputs", len(res.Inputs)).Int("events", res.Len()).Msg("read")
		}
	}
	if err != nil {
		var input *parser.InputError
		if errors.As(err, &input) {
			if live != nil {
				input.Path = live.name(input.Path)
			}
			if e.renames != nil {
				input.Path = (&liveInputs{names: e.renames}).name(input.Path)
			}
			return nil, err
		}
		return nil, &usageError{err}
	}
	if live != nil {
		live.rename(res)
	}
	if e.renames != nil {
		li := &liveInputs{names: e.renames}
		if e.live != nil {
			li.fetched = e.live.fetched
		}
		li.rename(res)
		e.noteStdinError(res)
	}
	for _, sk := range res.Skipped {
		if e.reported != nil {
			if e.reported["skip\x00"+sk.Path] {
				continue
			}
			e.reported["skip\x00"+sk.Path] = true
		}
		if sk.Lost {
			e.log.Error().Str("path", sk.Path).Msg("not read: " + sk.Reason + "; the other inputs are audited")
			continue
		}
		e.log.Warn().Str("path", sk.Path).Msg("not read: " + sk.Reason)
	}
	for _, d := range res.Diagnostics {
		if e.reported != nil {
			key := res.Files.Position(d.Pos) + "\x00" + d.Summary
			if e.reported[key] {
				continue
			}
			e.reported[key] = true
		}
		ev := e.log.Info()
		if d.Severity == "warning" {
			ev = e.log.Warn()
		}
		ev = ev.Str("at", res.Files.Position(d.Pos))
		if d.Detail != "" {
			ev = ev.Str("text", d.Detail)
		}
		ev.Msg(d.Summary)
	}
	return res, nil
}

// hasEvidence reports whether any event is about slots (not only file facts).
func hasEvidence(res *parser.Result) bool {
	for i := range res.All() {
		if !strings.HasPrefix(string(res.Kind(i)), "meta.") {
			return true
		}
	}
	return false
}
