package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
)

func needPaths(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return &usageError{fmt.Errorf("%s needs at least one PATH (a file, a directory, or - for stdin)", name)}
		}
		return nil
	}
}

func checkFormat(f string) error {
	if f != "table" && f != "json" {
		return &usageError{fmt.Errorf("--format %q: want table or json", f)}
	}
	return nil
}

func (e *env) build(cmd *cobra.Command, paths []string, rf *readFlags) (*reconstruct.Model, error) {
	res, err := e.read(cmd.Context(), paths, rf)
	if err != nil {
		return nil, err
	}
	return e.buildFrom(res)
}

// writeInputTable writes the table of inputs that held nothing to judge,
// unless a follow is auditing its copies of them (it writes it at its end).
func (e *env) writeInputTable(inputs []parser.InputSummary) error {
	if e.spooling {
		return nil
	}
	return report.WriteInputTable(e.stderr, inputs, e.widthOf(e.stderr))
}

// buildFrom is build once the inputs are read.
func (e *env) buildFrom(res *parser.Result) (*reconstruct.Model, error) {
	if !hasEvidence(res) {
		// (a follow's audit of its copies says it at the end, if ever)
		if err := e.writeInputTable(res.Inputs); err != nil {
			return nil, err
		}
		return nil, &nothingToJudgeError{inputs: len(res.Inputs), res: res}
	}
	began := time.Now()
	m := reconstruct.Build(res)
	for _, st := range m.Stages {
		e.log.Debug().Str("began", st.Began.Round(time.Millisecond).String()).Str("took", st.Took.Round(time.Millisecond).String()).Msg("model: " + st.Name)
	}
	e.log.Debug().Str("took", time.Since(began).Round(time.Millisecond).String()).Int("allocations", len(m.Allocations)).Msg("model built")
	return m, nil
}

func newTimelineCmd(e *env) *cobra.Command {
	var rf readFlags
	var nf narrowFlags
	var format string
	cmd := &cobra.Command{
		Use:   "timeline [flags] PATH...",
		Short: "Per-AllocationID timelines across TaskManager, ResourceManager and JobManager",
		Long: `timeline joins every event that names an AllocationID across the TaskManager,
ResourceManager and JobManager logs. Within one input, events keep their line order;
across inputs they follow the timestamps, shifted by the clock skew the protocol forces
(a TaskManager cannot receive a slot request before the ResourceManager sent it). The
skew assumed is reported, and with a skew the table shows each time on the aligned clock too.
Each allocation lists the slots it held: index (and how it is known), whether it was freed,
left as a zombie, or dropped by a TaskManager restart.`,
		Args: needPaths("timeline"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			f, err := nf.filter()
			if err != nil {
				return err
			}
			if err := e.checkFoldMode(); err != nil {
				return err
			}
			// narrowed to allocations or to a time, a fold keeps them
			// (Filter.Pins, Filter.Outside); whole, it writes out each
			// story it lets go (fold.Narrow.Timelines)
			e.filter, e.narrow, e.foldFormat, e.listsAllocations = f, &nf, f.NarrowsAllocations() || f.Windowed() || !f.Active(), true
			m, folded, err := e.buildModel(cmd, args, &rf)
			if err != nil {
				return err
			}
			if m.FoldedTimelines != nil {
				defer m.FoldedTimelines.Close()
			}
			if err := e.checkNarrowed(cmd.Context(), args, &rf, m, folded); err != nil {
				return err
			}
			only := f.Allocations(m, m.Allocations)
			if len(only) == 0 && (m.FoldedTimelines == nil || m.FoldedTimelines.Len() == 0) && format != "json" {
				_, err := fmt.Fprintf(e.stdout, "no allocation matches %s (%d in the input)\n", report.Escape(f.String()), m.AllocationCount())
				return err
			}
			if format == "json" {
				return report.WriteTimelineJSON(e.stdout, m, only)
			}
			return report.WriteTimelineTable(e.stdout, m, only, e.width())
		},
	}
	rf.register(cmd)
	nf.register(cmd, true, false)
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	registerFold(cmd, e, "")
	return cmd
}

func newSlotsCmd(e *env) *cobra.Command {
	var rf readFlags
	var nf narrowFlags
	var tm, model, format, at, reports string
	cmd := &cobra.Command{
		Use:   "slots [flags] PATH...",
		Short: "Each TaskManager's slot table (at the end of its log, or --at a time) under the legacy and the fixed model",
		Long: `slots replays each TaskManager's slot table from its log under the legacy (Flink <= 1.9)
and the fixed (>= 1.10) semantics and prints the table at the end of the log; a TaskManager
restarted within the log (a second version banner) has one table per process, the earlier ones
as they stood when the process was replaced. An index that
no line printed is shown as '?' rather than guessed; a slot the AllocationID map no longer
reaches is marked ZOMBIE. Each index says whether a line printed it (observed) or it follows
from the table's rules (inferred), and from which line. DEBUG slot reports that the
ResourceManager logged are compared index by index with the table as it stood then.`,
		Args: needPaths("slots"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			var models []reconstruct.Semantics
			switch model {
			case "", "both":
				models = []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed}
			case "legacy":
				models = []reconstruct.Semantics{reconstruct.Legacy}
			case "fixed":
				models = []reconstruct.Semantics{reconstruct.Fixed}
			default:
				return &usageError{fmt.Errorf("--model %q: want legacy, fixed or both", model)}
			}
			if nf.since != "" {
				return &usageError{fmt.Errorf("slots shows each table at one time: --until (or --at) picks it; --since has no meaning here")}
			}
			if tm != "" {
				if nf.taskmanager != "" && nf.taskmanager != tm {
					return &usageError{fmt.Errorf("--tm and --taskmanager name different TaskManagers")}
				}
				nf.taskmanager = tm
			}
			if at == "" {
				at = nf.until
			} else if nf.until != "" {
				return &usageError{fmt.Errorf("give --at or --until, not both")}
			}
			f, err := nf.filter()
			if err != nil {
				return err
			}
			var atTime flinklog.Time
			if at != "" {
				t, err := parser.ParseTimeArg(at)
				if err != nil {
					return &usageError{fmt.Errorf("--at: %w", err)}
				}
				atTime = t
			}
			if err := e.checkFoldMode(); err != nil {
				return err
			}
			// the tables at the end of each log are the fold's (the
			// stories it drops are freed); a table at a time, of the
			// stories open then, which it keeps (foldNarrow)
			e.filter, e.narrow, e.foldFormat = f, &nf, true
			e.listsReports = reports != "none"
			if at != "" {
				given := atTime
				e.tableAt = func(b *parser.TimeBounds) flinklog.Time {
					t, _ := report.OnFirstDayIn(b, given)
					return t
				}
			}
			m, folded, err := e.buildModel(cmd, args, &rf)
			if err != nil {
				return err
			}
			if m.Compared != nil {
				defer m.Compared.Close()
			}
			if err := e.checkNarrowed(cmd.Context(), args, &rf, m, folded); err != nil {
				return err
			}
			if t, ok := report.OnFirstDay(m.Result, atTime); ok {
				atTime = t
			}
			var detail report.ReportDetail
			switch reports {
			case "differing":
				detail = report.ReportsDiffering
			case "all":
				detail = report.ReportsAll
			case "none":
				detail = report.ReportsNone
			default:
				return &usageError{fmt.Errorf("--reports %q: want differing, all or none", reports)}
			}
			var atOf *flinklog.Time
			if at != "" {
				atOf = &atTime
			}
			out, unplaced := report.SlotsTables(m, f, models, atOf, detail != report.ReportsNone)
			if unplaced != nil {
				return &usageError{fmt.Errorf("--at %q cannot be compared with the times of TaskManager %s's log (another form: a date, a time of day, a UTC instant or milliseconds since start); give it in the form the events print", at, unplaced.Resource)}
			}
			if len(out) == 0 && (f.Job.IsSet() || f.Alloc.IsSet()) {
				return fmt.Errorf("no TaskManager whose log is in the input held %s", f.String())
			}
			if len(out) == 0 && !f.Active() {
				why := "no TaskManager log among the inputs: a slot table is replayed from a TaskManager's own log"
				if ml := report.MissingLogs(m); len(ml) > 0 {
					var names []string
					for _, x := range ml {
						names = append(names, x.ResourceID)
					}
					why += fmt.Sprintf("; the other components name %s, whose logs are missing", listSome(names))
				}
				return &nothingToShowError{why}
			}
			if len(out) == 0 && f.TaskManager != "" {
				return fmt.Errorf("TaskManager %s is named in the input, but its own log is not there: 'slotaudit timeline --taskmanager %s' shows what the other components say of it", report.Escape(f.TaskManager), report.Escape(f.TaskManager))
			}
			if format == "json" {
				return report.WriteSlotsTablesJSON(e.stdout, out)
			}
			if f.TaskManager == "" && !f.Job.IsSet() && !f.Alloc.IsSet() {
				defer func() {
					for _, ml := range report.MissingLogs(m) {
						fmt.Fprintf(e.stdout, "\nTaskManager %s is named by %s (first at %s): its log was not among the inputs, so its table cannot be shown\n",
							report.Escape(ml.ResourceID), strings.ToUpper(strings.Join(ml.NamedBy, "+")), report.Escape(ml.First.String()))
					}
				}()
			}
			return report.WriteSlotsTablesText(e.stdout, out, detail, e.width())
		},
	}
	rf.register(cmd)
	nf.register(cmd, true, false)
	cmd.Flags().StringVar(&tm, "tm", "", "the same as --taskmanager")
	_ = cmd.Flags().MarkHidden("tm")
	cmd.Flags().Lookup("until").Usage = "the tables as they stood at this time (the same as --at)"
	_ = cmd.Flags().MarkHidden("since")
	cmd.Flags().StringVar(&model, "model", "both", "legacy, fixed or both")
	cmd.Flags().StringVar(&at, "at", "", "the table as it stood at this time of the TaskManager's own clock (2006-01-02T15:04:05.000, 15:04:05.000 or +12.345s)")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	registerFold(cmd, e, "")
	cmd.Flags().StringVar(&reports, "reports", "differing", "DEBUG slot reports compared index by index with the table: differing (a table shows only the reports that disagree; JSON has them all), all, or none")
	return cmd
}
