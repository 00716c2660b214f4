package logstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Query is what to fetch from a source.
type Query struct {
	// Selector is the store's own selector (--query): a LogsQL filter for
	// VictoriaLogs ("" for every log), a LogQL stream selector for Loki
	// (required), a query-DSL JSON object or a Lucene query string for
	// OpenSearch and Elasticsearch ("" for every document).
	Selector string
	// Start and End bound the records' times: from Start, up to End.
	Start, End time.Time
	// Words: the store returns only records holding one of them (as a
	// substring, without case); flinklog.PushdownWords. None: no pushdown.
	Words []string
	// PageSize is the records one page holds (Loki's limit, OpenSearch's
	// size); 0 is DefaultPageSize.
	PageSize int
}

// DefaultPageSize is Loki's default max_entries_limit_per_query, which
// OpenSearch's default max_result_window also allows.
const DefaultPageSize = 5000

func (q *Query) pageSize() int {
	if q.PageSize > 0 {
		return q.PageSize
	}
	return DefaultPageSize
}

// Stats tells how a fetch went.
type Stats struct {
	// Fetched is the records written.
	Fetched int64
	// Matched is the store's count of the records the query (pushdown
	// included) matches, -1 when the store does not say: VictoriaLogs'
	// count(), OpenSearch's hits.total. A fetch that completes has
	// Fetched == Matched, unless records arrived meanwhile.
	Matched int64
	// Selected is the store's count of the records the selector alone
	// holds in the time range, -1 when unknown (Loki's index/stats,
	// which estimates). Selected - Matched records were left out by the
	// pushdown: none of them can change a verdict.
	Selected int64
	// Requests and Pages: requests made (a retry is not another) and pages of
	// records read.
	Requests, Pages int
}

// Summary says in one line how a fetch went, for stderr and reports.
func (s Stats) Summary() string {
	msg := fmt.Sprintf("fetched %d record(s)", s.Fetched)
	if s.Matched >= 0 {
		msg += fmt.Sprintf(" of %d the store matched", s.Matched)
	}
	if s.Selected >= 0 {
		msg += fmt.Sprintf("; the query selects %d in the time range", s.Selected)
		if n := s.Selected - max(s.Matched, s.Fetched); n > 0 {
			msg += fmt.Sprintf(", the other %d hold none of the words slotaudit reads", n)
		}
	}
	if s.Pages > 1 {
		msg += fmt.Sprintf(" (%d pages)", s.Pages)
	}
	return msg
}

// Fetch asks src for the records of q and writes them to w in the store's
// shape (see the package doc). On failure it returns a *FetchError, and
// what was written is to be thrown away.
func (c *Client) Fetch(ctx context.Context, src *Source, q Query, w io.Writer) (Stats, error) {
	if err := q.check(src); err != nil {
		return Stats{Matched: -1, Selected: -1}, &FetchError{Source: src.Name, Err: err}
	}
	f := &fetch{c: c, src: src, q: q, w: w, stats: Stats{Matched: -1, Selected: -1}}
	var err error
	switch src.Kind {
	case VictoriaLogs:
		err = f.victoriaLogs(ctx)
	case Loki:
		err = f.loki(ctx)
	case OpenSearch, Elasticsearch:
		err = f.openSearch(ctx)
	default:
		err = fmt.Errorf("unknown kind %q", src.Kind)
	}
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) {
			return f.stats, err
		}
		return f.stats, &FetchError{Source: src.Name, Range: f.doneRange(), Err: err}
	}
	return f.stats, nil
}

// Plan returns the requests a fetch sends first, for --dry-run: paging
// goes on from what the store answers, which Notes say.
func Plan(src *Source, q Query) ([]Request, error) {
	if err := q.check(src); err != nil {
		return nil, err
	}
	switch src.Kind {
	case VictoriaLogs:
		return victoriaPlan(src, &q), nil
	case Loki:
		return lokiPlan(src, &q), nil
	case OpenSearch, Elasticsearch:
		return openSearchPlan(src, &q)
	}
	return nil, fmt.Errorf("unknown kind %q", src.Kind)
}

// check refuses a query the store would not run.
func (q *Query) check(src *Source) error {
	if q.Start.IsZero() || q.End.IsZero() || !q.Start.Before(q.End) {
		return fmt.Errorf("the time range %s..%s is empty", stamp(q.Start), stamp(q.End))
	}
	for _, w := range q.Words {
		if !plainWord.MatchString(w) {
			return fmt.Errorf("pushdown word %q is not lower-case letters", w)
		}
	}
	if src.Kind == Loki && !strings.HasPrefix(strings.TrimSpace(q.Selector), "{") {
		return fmt.Errorf("a Loki source needs --query with a LogQL stream selector, such as --query '{namespace=\"flink\"}'")
	}
	return nil
}

var plainWord = regexp.MustCompile(`^[a-z]+$`)

// fetch is one Fetch under way.
type fetch struct {
	c     *Client
	src   *Source
	q     Query
	w     io.Writer
	stats Stats
	// done is how far the records written reach: from q.Start to done.
	done time.Time
}

// doneRange is the time range fetched so far, for an error.
func (f *fetch) doneRange() string {
	if f.done.IsZero() {
		return ""
	}
	return stamp(f.q.Start) + ".." + stamp(f.done)
}

// send is c.do for one request of this fetch, counted.
func (f *fetch) send(ctx context.Context, req Request) (*response, error) {
	f.stats.Requests++
	return f.c.do(ctx, f.src, req)
}

// stamp prints a time as the stores and errors take it.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// wordsRegexp is the pushdown as one case-insensitive alternation of
// the words (letters only: nothing to escape).
func wordsRegexp(words []string) string {
	return "(?i)(" + strings.Join(words, "|") + ")"
}
