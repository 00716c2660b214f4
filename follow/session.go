// Package follow owns `slotaudit audit --follow`: watching the inputs,
// deciding when a new audit can see something new, and turning the run of
// audits into what a reader of the stream is told — each finding once, as
// soon as it is proven, and its retraction when later lines disprove it.
//
// It does not read logs or judge them: the caller's [Session.Audit] does
// (reading only what was appended, through parser.Follower, or auditing
// a [Spool] — the package's copy of the inputs, standard input's included
// ([StdinCopy]), kept so that a large follow can be audited folded, in
// bounded memory), and the caller maps an [Ending] to an exit code and
// handles signals.
//
// The stream is ndjson: {"type":"finding", …} per finding (the audit
// document's finding object), {"type":"retracted","id","fingerprint","rule"}
// per retraction, and at the end {"type":"summary", …}.
package follow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/report"
)

// Stdin is what a session watches of standard input, when it is an input.
type Stdin interface {
	// Stdin returns how many bytes standard input has brought so far and
	// whether it has ended.
	Stdin() (n int64, ended bool)
	// StdinFull is ready when standard input holds more than the session
	// should wait for before the next audit; nil never is.
	StdinFull() <-chan struct{}
}

// Ending says why [Session.Run] returned without an error.
type Ending int

// The endings of a session.
const (
	// Stopped: the context was cancelled (a signal). The last complete
	// audit, if any, is [Session.Current].
	Stopped Ending = iota + 1
	// StdinEnded: standard input was the only input, it has ended, and
	// everything it brought was audited.
	StdinEnded
)

// Session is one follow: it audits the inputs, writes every finding, and
// audits again whenever an input grows, shrinks (truncated or rotated), is
// rewritten in place, appears in a directory given, or standard input
// brings more.
type Session struct {
	// Paths are the inputs as given ("-" for standard input).
	Paths []string
	// Poll is the least time between two looks at the inputs.
	Poll time.Duration
	// Audit audits the inputs as they are now; a nil audit without an
	// error means they hold no slot evidence yet.
	Audit func(ctx context.Context) (*report.Audit, error)
	// Stdin watches standard input; nil when it is not an input.
	Stdin Stdin
	// Out receives the ndjson stream.
	Out io.Writer
	// Log receives warnings: an input gone, back, or not listable.
	Log zerolog.Logger

	// Current is the last complete audit (nil before the first).
	Current *report.Audit

	told Told
	enc  *json.Encoder
}

// Run follows until ctx is cancelled ([Stopped]), standard input alone has
// ended ([StdinEnded]), or an error: an input missing or unlistable at the
// start, an audit that failed, or a write that failed.
func (s *Session) Run(ctx context.Context) (Ending, error) {
	if s.Poll <= 0 {
		return 0, errors.New("follow: the poll interval must be positive")
	}
	s.enc = report.NewJSONEncoder(s.Out)
	onlyStdin := true
	for _, p := range s.Paths {
		onlyStdin = onlyStdin && p == "-"
	}
	var last snapshot
	first := true
	gone := map[string]bool{} // named inputs missing now, said once
	wait := s.Poll
	for {
		state, missing, err := watch(s.Paths)
		if err == nil && len(missing) > 0 && first {
			// an input missing from the start is a mistake, as for audit
			err = &parser.InputError{Path: missing[0], Err: errors.New("no such file or directory")}
		}
		for _, m := range missing {
			if !gone[m] {
				gone[m] = true
				s.Log.Warn().Str("path", m).Msg("--follow: the input is gone; what was read of it is kept, the others are followed, and it is read again if it returns")
			}
		}
		for m := range gone {
			if !slices.Contains(missing, m) {
				delete(gone, m)
				s.Log.Warn().Str("path", m).Msg("--follow: the input is back; its new content is read as it comes")
			}
		}
		if s.Stdin != nil {
			// standard input (a pipe from kubectl logs -f): how much came
			if n, ended := s.Stdin.Stdin(); n > 0 || ended {
				state = append(state, input{path: "-", size: n, ended: ended})
			}
		}
		if err != nil {
			if first {
				return 0, err
			}
			s.Log.Warn().Err(err).Msg("--follow: inputs could not be listed; retrying")
		} else if first || !state.equal(last) {
			last = state
			began := time.Now()
			a, stopped, err := s.auditAside(ctx)
			if stopped {
				return Stopped, nil
			}
			if err != nil {
				return 0, err
			}
			// A re-audit reads only what was appended, but builds the
			// model again from every event (and reads gzip inputs whole):
			// on big logs that grow all the time, wait at least as long as
			// it took, so following takes at most half the machine. A full
			// standard input does not wait (StdinFull below).
			wait = max(s.Poll, time.Since(began))
			first = false
			if a != nil {
				s.Current = a
				if err := s.tell(a); err != nil {
					return 0, err
				}
			}
		}
		// Standard input alone has ended, and everything it brought is
		// audited: the follow ends as an audit of it would.
		if onlyStdin && len(last) == 1 && last[0].ended {
			return StdinEnded, nil
		}
		var stdinFull <-chan struct{} // nil (never ready) without stdin
		if s.Stdin != nil {
			stdinFull = s.Stdin.StdinFull()
		}
		select {
		case <-ctx.Done():
			return Stopped, nil
		case <-time.After(wait):
		case <-stdinFull: // a pipe that writes fast (kubectl logs -f prints the whole log first)
		}
	}
}

// auditAside runs an audit aside, so that a signal need not wait for a
// long read: stopped reports that ctx ended first (or ended the audit).
func (s *Session) auditAside(ctx context.Context) (a *report.Audit, stopped bool, err error) {
	type result struct {
		a   *report.Audit
		err error
	}
	out := make(chan result, 1)
	go func() {
		a, err := s.Audit(ctx)
		out <- result{a, err}
	}()
	select {
	case r := <-out:
		if r.err != nil && ctx.Err() != nil {
			return nil, true, nil
		}
		return r.a, false, r.err
	case <-ctx.Done():
		return nil, true, nil
	}
}

// tell writes the findings of a complete audit that were not told yet,
// then the retractions of those it no longer holds.
func (s *Session) tell(a *report.Audit) error {
	added, retracted := s.told.Update(a.JSON().Findings)
	for _, f := range added {
		if err := s.enc.Encode(struct {
			Type string `json:"type"`
			report.FindingJSON
		}{"finding", f}); err != nil {
			return err
		}
	}
	for _, f := range retracted {
		if err := s.enc.Encode(map[string]string{"type": "retracted", "id": f.ID, "fingerprint": f.Fingerprint, "rule": f.Rule}); err != nil {
			return err
		}
	}
	return nil
}

// WriteSummary writes the "summary" line that ends a follow: the summary
// of the last complete audit.
func (s *Session) WriteSummary() error {
	if s.Current == nil {
		return errors.New("follow: no complete audit to summarise")
	}
	if s.enc == nil {
		s.enc = report.NewJSONEncoder(s.Out)
	}
	return s.enc.Encode(struct {
		Type string `json:"type"`
		report.SummaryJSON
	}{"summary", s.Current.JSON().Summary})
}
