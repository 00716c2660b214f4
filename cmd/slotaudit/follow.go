package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// inputState is what --follow watches of one input file.
type inputState struct {
	path  string
	size  int64
	mtime time.Time
	ends  [2]uint64 // fingerprints of its first and last 4 KiB
	ended bool      // standard input: it has ended
	gone  bool      // a named path that does not exist (now)
}

// watch returns the state of every file the paths name (directories
// expanded again, so files that appear are picked up).
func watch(paths []string) ([]inputState, []string, error) {
	var files, missing []string
	for _, p := range paths {
		if p == "-" {
			continue
		}
		fs, err := parser.ExpandPaths([]string{p})
		if err != nil {
			if _, serr := os.Lstat(p); errors.Is(serr, os.ErrNotExist) {
				missing = append(missing, p)
				continue
			}
			return nil, nil, err
		}
		files = append(files, fs...)
	}
	out := make([]inputState, 0, len(files)+len(missing))
	for _, m := range missing {
		out = append(out, inputState{path: m, gone: true})
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			// gone between listing and stat (rotation): seen next time
			continue
		}
		out = append(out, inputState{path: f, size: st.Size(), mtime: st.ModTime(), ends: ends(f, st.Size())})
	}
	return out, missing, nil
}

// ends fingerprints a file's first and last 4 KiB: a file rewritten with
// the same size and modification time is noticed by its content.
func ends(path string, size int64) [2]uint64 {
	f, err := os.Open(path)
	if err != nil {
		return [2]uint64{}
	}
	defer f.Close()
	var out [2]uint64
	for k, off := range []int64{0, max(0, size-4096)} {
		buf := make([]byte, min(4096, size))
		n, _ := f.ReadAt(buf, off)
		h := fnv.New64a()
		h.Write(buf[:n])
		out[k] = h.Sum64()
	}
	return out
}

func sameState(a, b []inputState) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

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
	onlyStdin := true
	for _, p := range paths {
		onlyStdin = onlyStdin && p == "-"
	}
	if interval <= 0 {
		return &usageError{fmt.Errorf("--poll %s: want a positive duration such as 250ms", interval)}
	}
	enc := report.NewJSONEncoder(e.stdout)
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
	ended := func(current *report.Audit) error {
		var err error
		if current != nil {
			err = e.followSummary(enc, current)
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

	var told report.FindingStream
	var last []inputState
	var current *report.Audit
	first := true
	gone := map[string]bool{} // named inputs missing now, said once
	wait := interval
	for {
		state, missing, err := watch(paths)
		if err == nil && len(missing) > 0 && first {
			// an input missing from the start is a mistake, as for audit
			err = &parser.InputError{Path: missing[0], Err: errors.New("no such file or directory")}
		}
		for _, m := range missing {
			if !gone[m] {
				gone[m] = true
				e.log.Warn().Str("path", m).Msg("--follow: the input is gone; what was read of it is kept, the others are followed, and it is read again if it returns")
			}
		}
		for m := range gone {
			if !slices.Contains(missing, m) {
				delete(gone, m)
				e.log.Warn().Str("path", m).Msg("--follow: the input is back; its new content is read as it comes")
			}
		}
		if e.follower != nil {
			// standard input (a pipe from kubectl logs -f): how much came
			if n, ended := e.follower.Stdin(); n > 0 || ended {
				state = append(state, inputState{path: "-", size: n, ended: ended})
			}
		}
		if err != nil {
			if first {
				return err
			}
			e.log.Warn().Err(err).Msg("--follow: inputs could not be listed; retrying")
		} else if first || !sameState(state, last) {
			last = state
			began := time.Now()
			// the audit runs aside, so that a signal need not wait for it
			type result struct {
				a   *report.Audit
				err error
			}
			out := make(chan result, 1)
			go func() {
				a, err := e.followAudit(ctx, paths, rf, sev)
				out <- result{a, err}
			}()
			var r result
			select {
			case r = <-out:
			case <-ctx.Done():
				return ended(current)
			}
			a, err := r.a, r.err
			if err != nil {
				if ctx.Err() != nil {
					return ended(current)
				}
				return err
			}
			// A re-audit reads only what was appended, but builds the
			// model again from every event (and reads gzip inputs whole):
			// on big logs that grow all the time, wait at least as long as
			// it took, so following takes at most half the machine. A full
			// standard input does not wait (StdinFull below).
			wait = max(interval, time.Since(began))
			first = false
			if a != nil {
				current = a
				added, retracted := told.Update(a.JSON().Findings)
				for _, f := range added {
					if err := enc.Encode(struct {
						Type string `json:"type"`
						report.FindingJSON
					}{"finding", f}); err != nil {
						return err
					}
				}
				for _, f := range retracted {
					if err := enc.Encode(map[string]string{"type": "retracted", "id": f.ID, "fingerprint": f.Fingerprint, "rule": f.Rule}); err != nil {
						return err
					}
				}
			}
		}
		// Standard input alone has ended, and everything it brought is
		// audited: the follow ends as an audit of it would.
		if onlyStdin && len(last) == 1 && last[0].ended {
			if current == nil {
				if err := report.WriteInputTable(e.stderr, e.unjudged, e.widthOf(e.stderr)); err != nil {
					return err
				}
				return &nothingToJudgeError{inputs: len(e.unjudged)}
			}
			return e.followSummary(enc, current)
		}
		var stdinFull <-chan struct{} // nil (never ready) without stdin
		if e.follower != nil {
			stdinFull = e.follower.StdinFull()
		}
		select {
		case <-ctx.Done():
			return ended(current)
		case <-time.After(wait):
		case <-stdinFull: // a pipe that writes fast (kubectl logs -f prints the whole log first)
		}
	}
}

// followSummary writes the "summary" line that ends a follow, and says
// with the exit code whether findings reached --fail-on.
func (e *env) followSummary(enc *json.Encoder, current *report.Audit) error {
	if err := enc.Encode(struct {
		Type string `json:"type"`
		report.SummaryJSON
	}{"summary", current.JSON().Summary}); err != nil {
		return err
	}
	if current.Failed() {
		return findingsError{}
	}
	return nil
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
