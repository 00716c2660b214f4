package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// findingsError: the audit found something at or above --fail-on. It is no
// failure of slotaudit: nothing is printed, the exit code says it.
type findingsError struct{}

func (findingsError) Error() string { return "findings at or above --fail-on" }

func (e *env) audit(cmd *cobra.Command, args []string, rf *readFlags, failOn string) (*report.Audit, error) {
	sev, ok := rules.ParseSeverity(failOn)
	if !ok {
		return nil, &usageError{fmt.Errorf("--fail-on %q: want info, warning or error", failOn)}
	}
	var m *reconstruct.Model
	var err error
	args = e.stdinAsFile(args)
	if args, err = e.fetchFirst(cmd, args, rf); err != nil {
		return nil, err
	}
	folded := e.folds(args, rf)
	if folded {
		m, err = e.buildFolded(cmd, args, rf)
	} else {
		m, err = e.build(cmd, args, rf)
	}
	var nothing *nothingToJudgeError
	if errors.As(err, &nothing) {
		// the documents still name every input and say why nothing was judged
		return &report.Audit{Model: reconstruct.Build(nothing.res), FailOn: sev, Rules: rules.All, NothingToJudge: true}, err
	}
	if err != nil {
		return nil, err
	}
	began := time.Now()
	findings := rules.Run(m, rules.All)
	e.log.Debug().Str("took", time.Since(began).Round(time.Millisecond).String()).Int("findings", len(findings)).Msg("rules run")
	if ev := e.log.Debug(); ev.Enabled() && !folded {
		// what a streaming audit would fold of these logs (docs/folding-plan.md)
		began := time.Now()
		stories, plan := fold.Plan(m)
		// and whether the rules find the same in what it would keep
		lean, leanEvents := fold.Lean(m, stories)
		ev.Str("took", time.Since(began).Round(time.Millisecond).String()).Int("allocations", plan.Allocations).
			Int("healthy", plan.Healthy).Int("kept", plan.Kept).Int("open", plan.Open).Int("reopened", plan.Reopened).
			Int("peak", plan.Peak).Int("contradicted", len(fold.Contradictions(m, stories, findings))).
			Int("events", m.Result.Len()).Int("lean_events", leanEvents).
			Str("lean_findings", leanFindings(rules.Run(lean, rules.All), findings)).Msg("fold plan")
	}
	if e.filter != nil && e.narrow != nil {
		if err := e.checkNarrowed(cmd.Context(), args, rf, m, folded); err != nil {
			return nil, err
		}
	}
	a := &report.Audit{Model: m, Findings: findings, FailOn: sev, Rules: rules.All, Filter: e.filter}
	if first := e.foldFirst; first != nil {
		// the model holds only what the fold kept: an output that lists
		// every event reads them again (the Timesketch export)
		a.AllEvents = fold.AllEvents(m, first, e.foldOpts)
	}
	writeHeapProfile(e)
	return a, nil
}

// writeHeapProfile writes SLOTAUDIT_MEMPROFILE=file: the heap when the
// audit is complete (model, findings; before rendering), which is what
// stays alive for the run's length. Like SLOTAUDIT_CPUPROFILE it is for
// whoever chases memory, not part of the contract; a failure is only
// logged.
func writeHeapProfile(e *env) {
	path := os.Getenv("SLOTAUDIT_MEMPROFILE")
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "slotaudit: SLOTAUDIT_MEMPROFILE: %v\n", err)
	}
}

// stdoutIsTerminal: standard output is a terminal (not a pipe or a file).
func (e *env) stdoutIsTerminal() bool {
	f, ok := e.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// width is the width human output must fit: $COLUMNS when set, else the
// terminal's own; 0 when neither is known (output into a pipe or a file),
// which means "do not wrap": piped output never depends on a guessed width.
func (e *env) width() int { return e.widthOf(e.stdout) }

// widthOf is width for output written to w (standard error has its own
// terminal, or none).
func (e *env) widthOf(w io.Writer) int {
	if w, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && w > 0 {
		return max(w, 40)
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return max(w, 40)
		}
	}
	return 0
}

func newAuditCmd(e *env) *cobra.Command {
	var rf readFlags
	var nf narrowFlags
	var format, failOn string
	var follow bool
	e.foldMode = "auto"
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "audit [flags] PATH...",
		Short: "The verdict: findings with proof, summary and exit code",
		Long: `audit reconstructs every slot allocation and applies the rules (slotaudit audit --rules
lists them). Each finding carries the log lines that prove it and what the fixed slot table
(Flink >= 1.10) would have done.

Formats: text (default: a finding per head line, its explanation indented below), table
(boxed), json, ndjson, sarif (2.1.0), junit, github (workflow annotations, at
most 10 errors and 10 warnings; the whole report goes to $GITHUB_STEP_SUMMARY when it is set),
markdown (a Mermaid sequence diagram per finding's allocation), html (one self-contained page, as
slotaudit report --html), timesketch (JSONL of every event and finding for Timesketch's import).
Every format includes the per-input summary.

--follow keeps watching the inputs (files, directories for new files, and standard input, as in
kubectl logs -f POD | slotaudit audit --follow -) and writes ndjson as they grow: a "finding"
line the first time a finding is proven, a "retracted" line if later lines disprove it (a slot
freed after all), and on SIGINT/SIGTERM the "summary" line. When standard input is the only
input, the follow ends when it does, with the summary line and the exit code of an audit.
Each change reads only what was appended to an uncompressed log: logs in JSON or in a layout
with dated timestamps (bare or in CRI, Docker or kubectl --timestamps lines) are cut at record
starts; others (kubectl --prefix, YARN, time-of-day layouts) are read on by a reader kept from
change to change. Only gzip inputs and log-store exports (static files) are read again whole.
Unless --fold never, the follow keeps a copy of what it reads (standard input too, a gzip
stream decompressed) in a temporary directory (--spool-dir), removed when it ends; once the events are as many as an
audit folds (or from the start, for inputs of ` + foldAboveText + ` and more, or --fold always), each
change audits that copy as audit would, folded: memory bounded by what is open, each audit
reading the copy again, and a log rotated away still read from its copy.

Every machine format is a complete document whatever the exit code: with nothing to judge
(exit 3) it names every input and the reason (summary.status, summary.reason).

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage error, or
no input could be read; 3 the input held no slot-lifecycle evidence; 5 partial: an input could
not be read (it is named on stderr and in every format) and the rest held nothing at or above
--fail-on.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list, _ := cmd.Flags().GetBool("rules"); list {
				return writeRules(e, format)
			}
			if len(args) == 0 {
				return &usageError{fmt.Errorf("audit needs at least one PATH (a file, a directory, or - for stdin)")}
			}
			out, ok := report.AuditFormat(format)
			if !ok {
				return &usageError{fmt.Errorf("--format %q: want %s", format, strings.Join(report.AuditFormatNames(), ", "))}
			}
			if err := e.checkFoldMode(); err != nil {
				return err
			}
			e.foldFormat, e.drawsCharts = foldFormats[format], format == "html"
			if err := e.narrowWith(&nf); err != nil {
				return err
			}
			if follow {
				if cmd.Flags().Changed("format") && format != "ndjson" {
					return &usageError{fmt.Errorf("--follow writes ndjson; --format %s cannot stream", format)}
				}
				return e.follow(cmd, args, &rf, failOn, poll, e.spoolDir)
			}
			a, err := e.audit(cmd, args, &rf, failOn)
			if a == nil || (a.NothingToJudge && !out.Machine) {
				// people get the input table on stderr and the hint
				return err
			}
			verdict := err
			err = out.Write(a, e.stdout, report.FormatOptions{Width: e.width(), Color: e.color, Quiet: e.quiet, StepSummary: os.Getenv("GITHUB_STEP_SUMMARY")})
			if err != nil {
				return err
			}
			return auditExit(a, verdict)
		},
	}
	rf.register(cmd)
	nf.register(cmd, true, true)
	var formatHelp []string
	for _, f := range report.AuditFormats {
		formatHelp = append(formatHelp, f.Name+" ("+f.Doc+")")
	}
	cmd.Flags().StringVar(&format, "format", report.AuditFormats[0].Name, strings.Join(formatHelp, "; "))
	cmd.Flags().StringVar(&failOn, "fail-on", "error", "exit 1 when a finding is at least this severe: info, warning or error")
	cmd.Flags().Bool("rules", false, "list the rules and exit")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep watching the inputs and stream findings as ndjson while they grow, until interrupted")
	cmd.Flags().DurationVar(&poll, "poll", 250*time.Millisecond, "with --follow: how often the inputs are checked for growth")
	cmd.Flags().StringVar(&e.spoolDir, "spool-dir", "", "the directory the copy of standard input goes in, a fold's spill of the events it read first (about 80 bytes an event; none by default where $TMPDIR is held in memory), and with --follow the copy of every input (default: $TMPDIR, or /var/tmp when that is held in memory)")
	cmd.Flags().StringVar(&e.foldMode, "fold", "auto", "build the audit as a fold (read twice, holding only the allocations still open and those the findings need): auto (for inputs of "+foldAboveText+" and more), always (wherever it can), never; output is the same either way")
	return cmd
}

// auditExit is the exit an audit ends with once its output is written:
// the reading's own verdict (nothing to judge), else findings at or above
// --fail-on (1), else a partial read (5), else success.
func auditExit(a *report.Audit, verdict error) error {
	switch status, _ := a.Status(); {
	case verdict != nil:
		return verdict
	case a.Failed():
		return findingsError{}
	case status == report.StatusPartial:
		return partialError{}
	}
	return nil
}

func writeRules(e *env, format string) error {
	if format == "json" {
		type ruleJSON struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Doc      string `json:"doc"`
		}
		var out []ruleJSON
		for _, r := range rules.All {
			out = append(out, ruleJSON{ID: r.ID, Severity: r.Severity.String(), Doc: strings.Join(strings.Fields(r.Doc), " ")})
		}
		enc := report.NewJSONEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"rules": out})
	}
	width := e.width()
	if width > 0 {
		width = max(width-4, 20)
	}
	for _, r := range rules.All {
		fmt.Fprintf(e.stdout, "%s (%s)\n", r.ID, r.Severity)
		doc := report.Wrap(strings.Join(strings.Fields(r.Doc), " "), min(width, 100))
		if width <= 0 {
			doc = r.Doc // into a pipe: the lines as written
		}
		for _, line := range strings.Split(doc, "\n") {
			fmt.Fprintf(e.stdout, "    %s\n", line)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

func newExplainCmd(e *env) *cobra.Command {
	var rf readFlags
	var nf narrowFlags
	var finding string
	cmd := &cobra.Command{
		Use:   "explain [--finding ID | --alloc A] PATH...",
		Short: "The step-by-step story of one finding or allocation",
		Long: `explain tells the story of a finding (its ID from 'slotaudit audit'), or of every finding
about an AllocationID, as numbered steps: each one sentence with the log line that justifies it
(file:line, time, component). A finding that follows from another (a failed deployment from a
zombie slot) is told after its cause. Each story ends with what the fixed slot table
(Flink >= 1.10) would have done. Without --finding or --alloc, every finding is told.`,
		Args: needPaths("explain"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if finding != "" && nf.alloc != "" {
				return &usageError{fmt.Errorf("give --finding or --alloc, not both")}
			}
			if err := e.checkFoldMode(); err != nil {
				return err
			}
			if err := e.narrowWith(&nf); err != nil {
				return err
			}
			// (an explanation tells findings' stories, which a fold keeps)
			e.foldFormat = true
			a, err := e.audit(cmd, args, &rf, "error")
			if err != nil {
				return err
			}
			var ids []string
			switch {
			case finding != "":
				// IDs are printed in lower case; a pasted one may not be
				want := strings.ToLower(strings.TrimSpace(finding))
				var all []string
				for _, f := range a.Findings {
					all = append(all, f.ID)
					if f.ID == want || f.Fingerprint == want {
						ids = append(ids, f.ID)
					}
				}
				if len(ids) == 0 {
					return fmt.Errorf("no finding %s in this input%s; its findings are %s ('slotaudit audit' lists them)", report.Escape(finding), didYouMean(want, all), listSome(all))
				}
			case nf.alloc != "":
				want := e.filter.Alloc
				ids = a.FindingsAbout(want)
				if len(ids) == 0 {
					_, err := fmt.Fprintf(e.stdout, "no finding about %s; 'slotaudit timeline --alloc %s' shows its lines\n", want, want)
					return err
				}
			default:
				ids = a.FindingIDs()
				if len(ids) == 0 {
					_, err := fmt.Fprintln(e.stdout, "no findings")
					return err
				}
			}
			return a.WriteExplain(e.stdout, ids, e.width())
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&finding, "finding", "", "the finding's ID (or fingerprint) from 'slotaudit audit'")
	nf.register(cmd, true, true)
	cmd.Flags().Lookup("alloc").Usage = "every finding about this AllocationID"
	registerFold(cmd, e, "")
	return cmd
}

// leanFindings says whether the rules found the same in the model a fold
// would keep as in the whole one, to the byte of their JSON.
func leanFindings(lean, whole []rules.Finding) string {
	x, errX := json.Marshal(lean)
	y, errY := json.Marshal(whole)
	if errX != nil || errY != nil || !bytes.Equal(x, y) {
		return "differ"
	}
	return "same"
}
