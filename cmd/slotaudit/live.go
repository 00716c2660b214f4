package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/logstore"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/report"
)

// A PATH may name a log store (victorialogs+http://HOST:9428,
// loki+https://HOST, opensearch+https://HOST/INDEX,
// elasticsearch+https://HOST/INDEX): its records are fetched into a
// temporary file, read by the parser as any input (by their content, in
// the store's shape) and named after the source. --query is the store's
// selector; --since and --until are the time range asked for (the last
// hour without them); only the records that hold a pushdown word
// (flinklog.PushdownWords) are asked for. A fetch that fails ends the run
// with exit 2 before anything is audited.

// liveDefaultRange is the time range asked for without --since.
const liveDefaultRange = time.Hour

// dryRunDone: --dry-run printed the requests; nothing was fetched or read.
type dryRunDone struct{}

func (dryRunDone) Error() string { return "dry run" }

// liveInputs are the sources of one read, fetched into temporary files.
type liveInputs struct {
	dir     string
	names   map[string]string          // temporary file → source name
	fetched map[string]*parser.Fetched // source name → how
}

func (li *liveInputs) cleanup() {
	if li != nil && li.dir != "" {
		_ = os.RemoveAll(li.dir)
	}
}

// name is the name of a path as read: a source's for its temporary file.
func (li *liveInputs) name(path string) string {
	if n, ok := li.names[path]; ok {
		return n
	}
	return path
}

// rename names the inputs of res after their sources.
func (li *liveInputs) rename(res *parser.Result) {
	for i := range res.Files {
		res.Files[i].Path = li.name(res.Files[i].Path)
	}
	for i := range res.Inputs {
		in := &res.Inputs[i]
		in.Path = li.name(in.Path)
		in.DuplicateOf = li.name(in.DuplicateOf)
		in.Fetched = li.fetched[in.Path]
	}
	for i := range res.Skipped {
		res.Skipped[i].Path = li.name(res.Skipped[i].Path)
	}
}

// liveRange is the time range asked of the stores: --since and --until
// as a date and time (UTC unless they say a zone) or a duration back from
// now; without --since, the hour before --until (or now).
func liveRange(cmd *cobra.Command, now time.Time) (start, end time.Time, why string, err error) {
	get := func(name string) string {
		if cmd == nil || cmd.Flags().Lookup(name) == nil {
			return ""
		}
		v, _ := cmd.Flags().GetString(name)
		return v
	}
	at := func(flag, v string, dflt time.Time) (time.Time, error) {
		if v == "" {
			return dflt, nil
		}
		b, err := report.ParseBound(flag, v)
		if err != nil {
			return time.Time{}, err
		}
		if b.Back > 0 {
			return now.Add(-b.Back), nil
		}
		switch b.At.Kind {
		case flinklog.TimeLocal, flinklog.TimeUTC:
			return time.Unix(0, b.At.N).UTC(), nil
		}
		return time.Time{}, fmt.Errorf("%s %q: a log store is asked for a date and time (2020-03-17T13:59, UTC) or a duration back from now (2h)", flag, v)
	}
	if end, err = at("--until", get("until"), now); err != nil {
		return
	}
	since := get("since")
	if start, err = at("--since", since, end.Add(-liveDefaultRange)); err != nil {
		return
	}
	why = "--since/--until"
	if since == "" {
		why = "no --since: the hour before " + map[bool]string{true: "now", false: "--until"}[get("until") == ""]
	}
	if !start.Before(end) {
		err = fmt.Errorf("--since %s is not before --until %s: the time range asked of the log stores is empty", start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	}
	return
}

// fetchLive fetches the log stores among paths; it returns the paths to
// read (a temporary file for each store) and the sources, or nil when no
// path is a store.
func (e *env) fetchLive(ctx context.Context, paths []string, f *readFlags) ([]string, *liveInputs, error) {
	var sources []*logstore.Source
	for _, p := range paths {
		if !logstore.IsSource(p) {
			continue
		}
		src, err := logstore.ParseSource(p)
		if err != nil {
			return nil, nil, &usageError{err}
		}
		sources = append(sources, src)
	}
	if len(sources) == 0 {
		if f.dryRun {
			return nil, nil, &usageError{errors.New("--dry-run prints the requests to log stores, and no PATH names one (victorialogs+http://HOST:9428, loki+https://HOST, opensearch+https://HOST/INDEX, elasticsearch+https://HOST/INDEX)")}
		}
		if f.query != "" {
			return nil, nil, &usageError{errors.New("--query is the selector of a log store, and no PATH names one")}
		}
		return paths, nil, nil
	}
	if e.following {
		return nil, nil, &usageError{errors.New("--follow watches files and standard input; a log store is fetched once: leave out --follow")}
	}
	start, end, why, err := liveRange(e.running, time.Now())
	if err != nil {
		return nil, nil, &usageError{err}
	}
	q := logstore.Query{Selector: f.query, Start: start, End: end, Words: flinklog.PushdownWords()}
	c := logstore.NewClient()
	c.Credentials = func(host string) (logstore.Credentials, error) { return logstore.CredentialsFor(host, os.Getenv) }
	c.UserAgent = "slotaudit/" + strings.Fields(versionString())[0]
	if f.dryRun {
		return nil, nil, e.printPlan(sources, q, why)
	}
	if !e.quiet {
		c.Notef = func(format string, args ...any) {
			fmt.Fprintf(e.stderr, "slotaudit: %s\n", report.Escape(fmt.Sprintf(format, args...)))
		}
	}
	dir, err := os.MkdirTemp("", "slotaudit-fetch-")
	if err != nil {
		return nil, nil, err
	}
	li := &liveInputs{dir: dir, names: map[string]string{}, fetched: map[string]*parser.Fetched{}}
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if !logstore.IsSource(p) {
			out = append(out, p)
		}
	}
	for i, src := range sources {
		path := filepath.Join(dir, fmt.Sprintf("%02d-%s", i, src.Kind))
		st, err := e.fetchOne(ctx, c, src, q, path)
		if err != nil {
			li.cleanup()
			return nil, nil, err
		}
		if !e.quiet {
			fmt.Fprintf(e.stderr, "slotaudit: %s: %s\n", report.Escape(src.Name), st.Summary())
		}
		if st.Matched >= 0 && st.Fetched != st.Matched {
			e.log.Warn().Str("source", src.Name).Msgf("the store sent %d record(s) and counted %d: records arrived or expired during the fetch", st.Fetched, st.Matched)
		}
		li.names[path] = src.Name
		li.fetched[src.Name] = &parser.Fetched{Query: f.query, Start: start, End: end, Records: st.Fetched, Matched: st.Matched, Selected: st.Selected, Summary: st.Summary()}
		out = append(out, path)
	}
	return out, li, nil
}

// fetchOne fetches one source into path; a failed fetch leaves nothing.
func (e *env) fetchOne(ctx context.Context, c *logstore.Client, src *logstore.Source, q logstore.Query, path string) (logstore.Stats, error) {
	if !e.quiet {
		fmt.Fprintf(e.stderr, "slotaudit: fetching %s: %s..%s\n", report.Escape(src.Name), q.Start.Format(time.RFC3339Nano), q.End.Format(time.RFC3339Nano))
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return logstore.Stats{}, err
	}
	st, err := c.Fetch(ctx, src, q, file)
	if cerr := file.Close(); err == nil && cerr != nil {
		err = &logstore.FetchError{Source: src.Name, Err: fmt.Errorf("keeping what was fetched: %w", cerr)}
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return st, err
}

// printPlan prints, for --dry-run, the requests each source would be sent
// first.
func (e *env) printPlan(sources []*logstore.Source, q logstore.Query, why string) error {
	w := e.stdout
	fmt.Fprintf(w, "# time range %s..%s (%s)\n", q.Start.Format(time.RFC3339Nano), q.End.Format(time.RFC3339Nano), why)
	fmt.Fprintf(w, "# pushdown: records holding one of %s (any case)\n", strings.Join(q.Words, ", "))
	for _, src := range sources {
		reqs, err := logstore.Plan(src, q)
		if err != nil {
			return &usageError{fmt.Errorf("%s: %w", src.Name, err)}
		}
		creds, err := logstore.CredentialsFor(src.Base.Hostname(), os.Getenv)
		if err != nil {
			return &usageError{err}
		}
		fmt.Fprintf(w, "\n# %s: %s\n", report.Escape(src.Name), creds.Describe())
		for _, r := range reqs {
			if r.Note != "" {
				fmt.Fprintf(w, "# %s\n", r.Note)
			}
			fmt.Fprint(w, r.String())
		}
	}
	return dryRunDone{}
}
