package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/follow"
	"github.com/slotaudit/slotaudit/logstore"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// follow is `audit --follow`: it audits the inputs, writes every finding as
// an ndjson line, and then re-audits whenever an input grows, shrinks
// (truncated or rotated), or a file appears in a directory given, or
// standard input brings more, writing the findings not written before, and
// a "retracted" line for a finding that later lines disproved (a zombie
// slot freed after all). On SIGINT or SIGTERM, or when standard input was
// the only input and has ended, it writes the summary and exits as audit
// would.
//
// Each change reads only what was appended (parser.Follower; gzip inputs
// are read whole); the audit itself is made again from all events.
func (e *env) follow(cmd *cobra.Command, paths []string, rf *readFlags, failOn string, interval time.Duration, spoolDir string) error {
	sev, ok := rules.ParseSeverity(failOn)
	if !ok {
		return &usageError{fmt.Errorf("--fail-on %q: want info, warning or error", failOn)}
	}
	if interval <= 0 {
		return &usageError{fmt.Errorf("--poll %s: want a positive duration such as 250ms", interval)}
	}
	for _, p := range paths {
		if logstore.IsSource(p) {
			return &usageError{fmt.Errorf("--follow watches files and standard input; a log store (%s) is fetched once: leave out --follow", report.Escape(p))}
		}
	}
	// The first SIGINT or SIGTERM ends the follow at once, even in the
	// middle of a long read: the summary of the last complete audit is
	// written and the exit code says which signal (130, 143). A second one
	// exits without a word.
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	caught := make(chan os.Signal, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sigs:
			caught <- s
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			if spool := exitSpool.Load(); spool != nil {
				_ = spool.Close() // (the deferred removal never runs)
			}
			os.Exit(signalCode(s))
		case <-done:
		}
	}()
	ended := func(session *follow.Session) error {
		var err error
		if session.Current != nil {
			err = followSummary(session)
		} else {
			fmt.Fprintln(e.stderr, "slotaudit: the follow ended before its first audit was complete: no summary")
		}
		select {
		case s := <-caught:
			return signalError{s}
		default:
			return err
		}
	}

	followPaths := paths // what the follower reads: standard input's copy for "-"
	var stdin follow.Stdin = followerStdin{e}
	if e.foldMode != "never" {
		// a copy of what is read, to audit in bounded memory once the
		// events are many (spoolAudit)
		given := spoolDir != ""
		if !given {
			var inMem bool
			if spoolDir, inMem = follow.SpoolDir(); inMem {
				e.log.Warn().Str("dir", spoolDir).Msg("the follow's copy of its inputs goes in a directory held in memory: give --spool-dir on a disk to bound the memory a large follow takes")
			}
		}
		spool, err := follow.NewSpool(spoolDir)
		switch {
		case err != nil && given:
			return &usageError{fmt.Errorf("--spool-dir %s: %w", report.Escape(spoolDir), err)}
		case err != nil:
			e.log.Warn().Err(err).Msg("the follow cannot keep a copy of its inputs: it holds every event it reads in memory")
		default:
			e.spool = spool
			if need, free := inputBytes(paths), spool.Free(); free >= 0 && need > free {
				e.log.Warn().Str("dir", spoolDir).Int64("inputs_bytes", need).Int64("free_bytes", free).
					Msg("the follow's copy of its inputs will not fit where it goes: give --spool-dir on a larger disk, or --fold never to hold every event in memory instead")
			}
			exitSpool.Store(spool)
			defer func() { exitSpool.Store(nil); e.dropSpool() }()
			// the copies are audited once they weigh what an audit folds
			// (spoolFrom), or hold as many events
			e.spoolFrom = foldAbove
			if e.foldMode == "always" {
				e.spoolFrom = 0
			}
			if slices.Contains(paths, "-") {
				if copied := e.copyStdin(spool); copied != nil {
					stdin, e.stdinCopy = copied, copied
					followPaths = slices.Clone(paths)
					followPaths[slices.Index(paths, "-")] = copied.Path()
				}
			}
		}
	}
	session := &follow.Session{
		Paths: paths,
		Poll:  interval,
		Audit: func(ctx context.Context) (*report.Audit, error) { return e.followAudit(ctx, cmd, followPaths, rf, sev) },
		Out:   e.stdout,
		Log:   e.log,
		Stdin: stdin,
	}
	ending, err := session.Run(ctx)
	if err != nil {
		return err
	}
	if ending == follow.Stopped {
		return ended(session)
	}
	// Standard input alone has ended, and everything it brought is
	// audited: the follow ends as an audit of it would.
	if session.Current == nil {
		if err := report.WriteInputTable(e.stderr, e.unjudged, e.widthOf(e.stderr)); err != nil {
			return err
		}
		return &nothingToJudgeError{inputs: len(e.unjudged)}
	}
	return followSummary(session)
}

// followerStdin shows a session standard input as the follower reads it
// (once the first read has made the follower).
type followerStdin struct{ e *env }

func (f followerStdin) Stdin() (int64, bool) {
	if f.e.follower == nil {
		return 0, false
	}
	return f.e.follower.Stdin()
}

func (f followerStdin) StdinFull() <-chan struct{} {
	if f.e.follower == nil {
		return nil
	}
	return f.e.follower.StdinFull()
}

// followSummary writes the "summary" line that ends a follow, and says
// with the exit code, as audit does, whether findings reached --fail-on
// or else an input could not be read (or only in part).
func followSummary(session *follow.Session) error {
	if err := session.WriteSummary(); err != nil {
		return err
	}
	return auditExit(session.Current, nil)
}

// followAudit audits the inputs as they are now; nil (no error) while they
// hold no slot evidence yet. Diagnostics already reported are not repeated.
//
// It reads what was appended (parser.Follower) and builds the model of every
// event read, until the spool, its copy of the inputs, weighs what an audit
// folds (spoolFrom: foldAbove; from the start with --fold always) or the
// events are more than an audit would fold (followSpoolEvents): from then
// on it audits the copies as audit would audit them — folded, in memory
// bounded by what is open, each audit reading the copies again.
func (e *env) followAudit(ctx context.Context, cmd *cobra.Command, paths []string, rf *readFlags, failOn rules.Severity) (*report.Audit, error) {
	if e.reported == nil {
		e.reported = map[string]bool{}
	}
	e.following = true
	if e.spool != nil {
		if err := e.syncSpool(paths); err != nil && e.stdinCopy != nil {
			// standard input, read once, is only in the copy
			return nil, fmt.Errorf("the follow's copy of its inputs: %w", err)
		} else if err != nil {
			// (in spool audits the follower was let go: a new one reads
			// everything again)
			e.log.Warn().Err(err).Msg("the follow can no longer keep a copy of its inputs: it reads them again and holds every event in memory")
			e.dropSpool()
		}
	}
	if e.spool != nil && !e.spoolAudits && !e.spoolFutile && e.spoolSize() >= e.spoolFrom {
		// the copies are as large as an audit folds: audit them, and let
		// go of what the follower holds
		e.log.Debug().Str("spool", e.spool.String()).Msg("the follow audits its copy of the inputs from now on")
		e.spoolAudits, e.follower = true, nil
	}
	var res *parser.Result
	for switched := false; ; switched = true {
		if e.spool != nil && e.spoolAudits {
			a, folded, err := e.spoolAudit(cmd, rf, failOn)
			if err != nil || folded || e.spool.Rotated() {
				// (the copies of logs rotated away hold what no follower
				// could read now: the follow audits them as long as it
				// runs)
				return a, err
			}
			// The audit of the copies read them all and kept every event
			// (few of them, or a fold refused): the follower, which reads
			// only what is appended, does as well. It reads the inputs
			// now, as the copies were just made (a log rotated before its
			// first read would be lost to it); if the events are many, it
			// stays; else the copies are tried again when twice as large.
			e.spoolAudits, e.follower = false, nil
			e.spoolFutile = eventsOf(a) > followSpoolEvents
			e.spoolFrom = 2 * e.spoolSize()
			e.log.Debug().Int("events", eventsOf(a)).Msg("the audit of the follow's copy was not folded: the follow reads what is appended from now on")
		}
		if c := e.stdinCopy; c != nil {
			e.renames = map[string]string{c.Path(): "-"} // (read on as a file)
		}
		var err error
		res, err = e.read(ctx, paths, rf)
		e.renames = nil
		if err != nil {
			return nil, err
		}
		if !hasEvidence(res) {
			e.unjudged = res.Inputs
			return nil, nil
		}
		if switched || e.spool == nil || e.spoolFutile || res.Len() <= followSpoolEvents {
			break
		}
		// as many events as an audit folds (in fewer bytes than it
		// weighs): the copies are audited now, not these events' batch
		// model (which would be held beside the fold until it is done)
		e.log.Debug().Int("events", res.Len()).Str("spool", e.spool.String()).Msg("the follow audits its copy of the inputs from now on")
		e.spoolAudits, e.follower, res = true, nil, nil
	}
	m := reconstruct.Build(res)
	return &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: failOn, Rules: rules.All, Filter: e.filter}, nil
}

// exitSpool is the spool a second signal removes before it exits at once
// (the goroutine that waits for it does not read env).
var exitSpool atomic.Pointer[follow.Spool]

// followSpoolEvents is how many events a follow holds before it audits its
// copy of the inputs instead: as many as an audit of them would fold. (A
// variable for the test that switches on few.)
var followSpoolEvents = foldEvents

// copyStdin starts copying standard input into spool (a gzip stream
// decompressed: the follower reads the copy as it grows).
func (e *env) copyStdin(spool *follow.Spool) *follow.StdinCopy {
	c, err := spool.CopyStdin(e.stdin, true)
	if err != nil {
		e.log.Warn().Err(err).Msg("the follow cannot keep a copy of standard input: it holds every event it reads in memory")
		e.dropSpool()
		return nil
	}
	return c
}

// noteStdinError gives the input read from standard input's copy what a
// read of standard input says of it: that it was gzip (copied
// decompressed), and the error that ended it early.
func (e *env) noteStdinError(res *parser.Result) {
	c := e.stdinCopy
	if c == nil {
		return
	}
	for i := range res.Inputs {
		in := &res.Inputs[i]
		if in.Path != "-" {
			continue
		}
		in.Gzip = in.Gzip || c.Gunzipped()
		if err := c.Err(); err != nil && in.Err == "" {
			msg := err.Error()
			if errors.Is(err, io.ErrUnexpectedEOF) {
				msg = "input ends unexpectedly (truncated gzip?)" // as parser says it
			}
			in.Err = fmt.Sprintf("read stopped after line %d: %s", in.Lines, msg)
		}
	}
}

// syncSpool brings the spool up to date with the inputs paths name now (a
// path gone is left out: its copy becomes a rotated segment; standard
// input's copy is made as it comes).
func (e *env) syncSpool(paths []string) error {
	var present []string
	for _, p := range paths {
		if e.stdinCopy != nil && p == e.stdinCopy.Path() {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			present = append(present, p)
		}
	}
	var files []string
	if len(present) > 0 {
		var err error
		if files, err = parser.ExpandPaths(present); err != nil {
			return nil // nothing readable now: the copies stay as they are
		}
	}
	return e.spool.Sync(files)
}

// spoolAudit audits the spool's copies of the inputs as audit would audit
// the inputs (folded when they are large), naming each after its input;
// folded says whether the model was a fold's.
func (e *env) spoolAudit(cmd *cobra.Command, rf *readFlags, failOn rules.Severity) (_ *report.Audit, folded bool, _ error) {
	paths, names := e.spool.Inputs()
	if len(paths) == 0 {
		return nil, false, nil
	}
	e.following, e.spooling, e.renames, e.foldFirst = false, true, names, nil
	defer func() { e.following, e.spooling, e.renames, e.foldFirst = true, false, nil, nil }()
	var m *reconstruct.Model
	var err error
	if e.folds(paths, rf) {
		m, err = e.buildFolded(cmd, paths, rf)
	} else {
		m, err = e.build(cmd, paths, rf)
	}
	var nothing *nothingToJudgeError
	if errors.As(err, &nothing) {
		if nothing.res != nil {
			e.unjudged = nothing.res.Inputs
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	a := &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: failOn, Rules: rules.All, Filter: e.filter}
	return a, e.foldFirst != nil, nil
}

// spoolSize is what the spool's copies hold, standard input's included.
func (e *env) spoolSize() int64 {
	n := e.spool.Bytes()
	if c := e.stdinCopy; c != nil {
		copied, _ := c.Stdin()
		n += copied
	}
	return n
}

// dropSpool removes the spool, if any.
func (e *env) dropSpool() {
	if e.spool == nil {
		return
	}
	if err := e.spool.Close(); err != nil {
		e.log.Warn().Err(err).Msg("the follow's copy of its inputs could not be removed")
	}
	e.spool, e.spoolAudits = nil, false
}

// signalError ends a follow that a signal stopped: exit 128 + the signal's
// number, as a shell reports it.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "stopped by " + e.sig.String() }

func signalCode(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 128 + int(syscall.SIGTERM)
	}
	return 128 + int(syscall.SIGINT)
}

// eventsOf is how many events an audit's model holds (none for no audit).
func eventsOf(a *report.Audit) int {
	if a == nil {
		return 0
	}
	return a.Model.Result.Len()
}
