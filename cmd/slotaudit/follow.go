package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/follow"
	"github.com/slotaudit/slotaudit/logstore"
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
func (e *env) follow(cmd *cobra.Command, paths []string, rf *readFlags, failOn string, interval time.Duration) error {
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

	session := &follow.Session{
		Paths: paths,
		Poll:  interval,
		Audit: func(ctx context.Context) (*report.Audit, error) { return e.followAudit(ctx, paths, rf, sev) },
		Out:   e.stdout,
		Log:   e.log,
		Stdin: followerStdin{e},
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
func (e *env) followAudit(ctx context.Context, paths []string, rf *readFlags, failOn rules.Severity) (*report.Audit, error) {
	if e.reported == nil {
		e.reported = map[string]bool{}
	}
	e.following = true
	res, err := e.read(ctx, paths, rf)
	if err != nil {
		return nil, err
	}
	if !hasEvidence(res) {
		e.unjudged = res.Inputs
		return nil, nil
	}
	m := reconstruct.Build(res)
	return &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: failOn, Rules: rules.All, Filter: e.filter}, nil
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
