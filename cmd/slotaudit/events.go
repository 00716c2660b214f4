package main

import (
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/logstore"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/report"
)

type eventsOptions struct {
	read      readFlags
	narrow    narrowFlags
	noSummary bool
	paths     []string
}

func newEventsCmd(e *env) *cobra.Command {
	opts := &eventsOptions{}
	cmd := &cobra.Command{
		Use:   "events [flags] PATH...",
		Short: "Print the normalized slot-lifecycle events, one JSON object a line",
		Long: `events prints every slot-lifecycle event read from the logs, one JSON object a line,
in input order (inputs sorted by path), then on stderr a summary of every input: its
layout, Flink version, components, TaskManager, and what became of its records.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{errors.New("events needs at least one PATH (a file, a directory, or - for stdin)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.paths = args
			return runEvents(cmd, e, opts)
		},
	}
	opts.read.register(cmd)
	opts.narrow.register(cmd, true, false)
	cmd.Flags().BoolVar(&opts.noSummary, "no-summary", false, "do not print the per-input summary on stderr")
	return cmd
}

// eventsKeep: a narrowed events keeps only what it shows as it reads (a
// test turns it off, for the full read to compare with).
var eventsKeep = true

func runEvents(cmd *cobra.Command, e *env, opts *eventsOptions) error {
	if e.reported == nil {
		e.reported = map[string]bool{} // a read for the time bounds first logs nothing twice
	}
	f, err := opts.narrow.filter()
	if err != nil {
		return err
	}
	// One allocation's or one job's events, or the last hour's, out of a
	// month of logs: the read keeps those only. A time bound counted back
	// from the logs' end (or a time of day, placed on their first day)
	// needs every event's time: a first read keeps none and notes them
	// all. (A TaskManager's ResourceID is settled by the read itself: that
	// filters what a full read kept.)
	// Every event of a month of logs (or a TaskManager's): a first read
	// keeps none, and each input is read again as they are written.
	if eventsKeep && !f.Alloc.IsSet() && !f.Job.IsSet() && !f.Windowed() && !slices.Contains(opts.paths, "-") &&
		!slices.ContainsFunc(opts.paths, logstore.IsSource) && inputBytes(opts.paths) >= foldAbove {
		if done, err := e.streamEvents(cmd, opts, f); done {
			return err
		}
	}
	var bounds *parser.TimeBounds
	if f.Windowed() && f.TaskManager == "" && !slices.Contains(opts.paths, "-") && eventsKeep {
		b, err := e.readTimeBounds(cmd, opts)
		if err != nil {
			return err
		}
		bounds = &b
	}
	if (f.Alloc.IsSet() || f.Job.IsSet() || bounds != nil) && f.TaskManager == "" && eventsKeep {
		in := f.EventFilterIn(bounds)
		opts.read.keep = func(ev *flinklog.Event) bool {
			return in(ev)
		}
	}
	res, err := e.read(cmd.Context(), opts.paths, &opts.read)
	if err != nil {
		return err
	}
	if bounds != nil {
		res.SetTimeBounds(*bounds)
	}
	if err := report.WriteEvents(e.stdout, res, f.EventFilter(res)); err != nil {
		return err
	}
	if !opts.noSummary {
		if err := report.WriteInputTable(e.stderr, res.Inputs, e.widthOf(e.stderr)); err != nil {
			return err
		}
	}
	if !hasEvidence(res) {
		return &nothingToJudgeError{inputs: len(res.Inputs)}
	}
	return nil
}

// streamEvents writes every event f keeps from a first read that keeps
// none, each input read again as its events are written (the full read
// held them all: 383 MB for 300,000 allocations); done=false, having
// written nothing, where an input cannot be read again event for event
// (a slot report repeated word for word), for the full read to write
// them.
func (e *env) streamEvents(cmd *cobra.Command, opts *eventsOptions, f *report.Filter) (done bool, err error) {
	if e.reported == nil {
		e.reported = map[string]bool{} // the full read after a refusal logs nothing twice
	}
	first := opts.read
	first.keep = func(*flinklog.Event) bool { return false }
	// the events spilled as they are read: written out, they are decoded
	// from it and their lines read back by position, not parsed from the
	// files a second time
	first.spill = e.newSpill()
	defer e.dropSpill()
	res, err := e.read(cmd.Context(), opts.paths, &first)
	if err != nil {
		return true, err
	}
	for k, in := range res.Inputs {
		if in.DuplicateOf == "" && in.EventCount > 0 && res.CanReadAgain(k) != nil {
			e.log.Debug().Str("why", res.CanReadAgain(k).Error()).Msg("events read whole")
			return false, nil
		}
	}
	evidence := false
	all := func(yield func(*flinklog.Event) error) error {
		return res.AllAgain(parser.Options{Layout: opts.read.layout, FlinkVersion: opts.read.flinkVersion}, func(ev *flinklog.Event) error {
			evidence = evidence || !strings.HasPrefix(string(ev.Kind), "meta.")
			return yield(ev)
		})
	}
	if err := report.WriteEventsFrom(e.stdout, res.Files, all, f.EventFilter(res)); err != nil {
		return true, err
	}
	if !opts.noSummary {
		if err := report.WriteInputTable(e.stderr, res.Inputs, e.widthOf(e.stderr)); err != nil {
			return true, err
		}
	}
	if !evidence {
		return true, &nothingToJudgeError{inputs: len(res.Inputs)}
	}
	return true, nil
}

// readTimeBounds reads the inputs keeping no event, for the bounds of
// every event's time (what a filter's window is placed by).
func (e *env) readTimeBounds(cmd *cobra.Command, opts *eventsOptions) (parser.TimeBounds, error) {
	var mu sync.Mutex
	var b parser.TimeBounds
	first := opts.read
	first.deferIdentities = true // (times are all it wants)
	first.keep = func(ev *flinklog.Event) bool {
		mu.Lock()
		b.Note(ev.Time)
		mu.Unlock()
		return false
	}
	res, err := e.read(cmd.Context(), opts.paths, &first)
	if err != nil {
		return b, err
	}
	// (a read keeps each input's first events whatever Keep says)
	for i := range res.All() {
		b.Note(res.Time(i))
	}
	return b, nil
}
