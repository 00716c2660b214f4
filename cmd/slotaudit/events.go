package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/flinklog"
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

func runEvents(cmd *cobra.Command, e *env, opts *eventsOptions) error {
	f, err := opts.narrow.filter()
	if err != nil {
		return err
	}
	// One allocation's or one job's events, out of a month of logs: the
	// read keeps those only. (A time bound counted back from the logs' end
	// needs every event's time, and a TaskManager's ResourceID is settled
	// by the read itself: those filter what a full read kept.)
	if (f.Alloc.IsSet() || f.Job.IsSet()) && f.Since.Arg == "" && f.Until.Arg == "" {
		opts.read.keep = func(ev *flinklog.Event) bool {
			return (!f.Alloc.IsSet() || ev.Alloc == f.Alloc || ev.Other == f.Alloc) && (!f.Job.IsSet() || ev.Job == f.Job)
		}
	}
	res, err := e.read(cmd.Context(), opts.paths, &opts.read)
	if err != nil {
		return err
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
