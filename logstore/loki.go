package logstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Loki: GET /loki/api/v1/query_range with direction=forward and limit L
// answers the L earliest entries of [start, end) across every stream. The
// fetch walks the time range in windows of lokiWindow; in a window, a page
// of fewer than L entries ends it, and a full page goes on from the
// newest timestamp T it holds: entries older than T are all in, some at T
// may not be. The next page starts at T (start is inclusive) and drops the
// entries at T already written, known by stream, timestamp and line (Loki
// itself keeps one entry of a stream per timestamp and line), so a page
// boundary inside one nanosecond, or one millisecond of a shipper that
// stamps milliseconds, loses and repeats nothing. A full page whose
// entries are all at one timestamp cannot go on that way: that one
// nanosecond is asked for alone with larger limits, up to lokiMaxLimit.
//
// Each page is written as the store answered it, one JSON document a
// line; a page that lost entries to that deduplication is written again
// in the same shape without them. GET /loki/api/v1/index/stats estimates
// what the selector holds in the range (Stats.Selected).

const (
	lokiWindow   = 24 * time.Hour
	lokiMaxLimit = 16 // times the page size
)

func lokiFilter(q *Query) string {
	sel := strings.TrimSpace(q.Selector)
	if len(q.Words) > 0 {
		sel += " |~ " + strconv.Quote(wordsRegexp(q.Words))
	}
	return sel
}

func lokiRange(src *Source, q *Query, start, end time.Time, limit int) Request {
	v := url.Values{
		"query":     {lokiFilter(q)},
		"start":     {strconv.FormatInt(start.UnixNano(), 10)},
		"end":       {strconv.FormatInt(end.UnixNano(), 10)},
		"limit":     {strconv.Itoa(limit)},
		"direction": {"forward"},
	}
	return Request{Method: "GET", URL: src.endpoint("/loki/api/v1/query_range", v)}
}

func lokiStats(src *Source, q *Query) Request {
	v := url.Values{
		"query": {strings.TrimSpace(q.Selector)},
		"start": {strconv.FormatInt(q.Start.UnixNano(), 10)},
		"end":   {strconv.FormatInt(q.End.UnixNano(), 10)},
	}
	return Request{Method: "GET", URL: src.endpoint("/loki/api/v1/index/stats", v), Note: "estimate the entries the selector holds in the time range"}
}

func lokiPlan(src *Source, q *Query) []Request {
	first := lokiRange(src, q, q.Start, minTime(q.Start.Add(lokiWindow), q.End), q.pageSize())
	first.Note = fmt.Sprintf("the first page; a page of %d entries goes on from its newest timestamp, then windows of %s up to %s", q.pageSize(), lokiWindow, stamp(q.End))
	return []Request{lokiStats(src, q), first}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// lokiResponse is a query_range response, read far enough to page.
type lokiResponse struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string           `json:"resultType"`
		Result     []lokiStream     `json:"result"`
		Stats      *json.RawMessage `json:"stats,omitempty"`
	} `json:"data"`
}

type lokiStream struct {
	Stream map[string]string `json:"stream"`
	Values []json.RawMessage `json:"values"`
}

// lokiEntry is one entry of a page.
type lokiEntry struct {
	ts   int64
	line string
}

func parseLokiEntry(v json.RawMessage) (lokiEntry, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(v, &parts); err != nil || len(parts) < 2 {
		return lokiEntry{}, fmt.Errorf("an entry is not [timestamp, line]: %s", oneLine(v, 120))
	}
	var ts, line string
	if json.Unmarshal(parts[0], &ts) != nil || json.Unmarshal(parts[1], &line) != nil {
		return lokiEntry{}, fmt.Errorf("an entry is not [\"timestamp\", \"line\"]: %s", oneLine(v, 120))
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return lokiEntry{}, fmt.Errorf("an entry's timestamp %q is not nanoseconds", ts)
	}
	return lokiEntry{n, line}, nil
}

// streamKey is a stream's labels in one canonical string.
func streamKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[k]))
		b.WriteByte(',')
	}
	return b.String()
}

func (f *fetch) loki(ctx context.Context) error {
	if n, err := f.lokiSelected(ctx); err == nil {
		f.stats.Selected = n
	} else {
		f.c.notef("%s: no estimate of the entries the selector holds (%v); counting what is fetched", f.src.Name, err)
	}
	limit := f.q.pageSize()
	// seen: the entries written at the newest timestamp written (seenAt)
	seen := map[string]bool{}
	var seenAt int64 = -1
	for ws := f.q.Start; ws.Before(f.q.End); {
		we := minTime(ws.Add(lokiWindow), f.q.End)
		for {
			n, newest, err := f.lokiPage(ctx, ws, we, limit, seen, &seenAt)
			if err != nil {
				return err
			}
			if n < limit {
				break
			}
			if newest > ws.UnixNano() {
				ws = time.Unix(0, newest)
				f.done = ws
				continue
			}
			// a full page at one timestamp: that nanosecond alone, larger limits
			if err := f.lokiOneInstant(ctx, ws, limit, seen, &seenAt); err != nil {
				return err
			}
			ws = ws.Add(time.Nanosecond)
			f.done = ws
		}
		ws = we
		f.done = we
	}
	return nil
}

// lokiOneInstant fetches every entry at instant t, doubling the limit
// while a page comes back full.
func (f *fetch) lokiOneInstant(ctx context.Context, t time.Time, limit int, seen map[string]bool, seenAt *int64) error {
	for big := limit * 2; ; big *= 2 {
		if big > limit*lokiMaxLimit {
			return fmt.Errorf("more than %d entries at one instant (%s): Loki cannot page inside one nanosecond; narrow --query", limit*lokiMaxLimit, stamp(t))
		}
		f.c.notef("%s: %d entries at %s alone; asking for up to %d", f.src.Name, limit, stamp(t), big)
		n, _, err := f.lokiPage(ctx, t, t.Add(time.Nanosecond), big, seen, seenAt)
		if err != nil {
			return err
		}
		if n < big {
			return nil
		}
	}
}

// lokiPage fetches one page of [start, end), writes what was not written
// yet, and returns how many entries the store sent and the newest
// timestamp among them.
func (f *fetch) lokiPage(ctx context.Context, start, end time.Time, limit int, seen map[string]bool, seenAt *int64) (int, int64, error) {
	resp, err := f.send(ctx, lokiRange(f.src, &f.q, start, end, limit))
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.body)
	resp.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the page from %s: %w", stamp(start), err)
	}
	var page lokiResponse
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, 0, fmt.Errorf("the page from %s is not a query_range response (%v): %s", stamp(start), err, oneLine(body, 200))
	}
	if page.Status != "success" || page.Data.ResultType != "streams" {
		return 0, 0, fmt.Errorf("the page from %s says status %q, resultType %q: want success and streams (a log query, not a metric query)", stamp(start), page.Status, page.Data.ResultType)
	}
	f.stats.Pages++
	n, dropped := 0, 0
	newest := int64(-1)
	var atNewest []string
	for si := range page.Data.Result {
		st := &page.Data.Result[si]
		sk := streamKey(st.Stream)
		kept := st.Values[:0:0]
		for _, v := range st.Values {
			e, err := parseLokiEntry(v)
			if err != nil {
				return 0, 0, fmt.Errorf("the page from %s: %w", stamp(start), err)
			}
			n++
			key := sk + "\x00" + strconv.FormatInt(e.ts, 10) + "\x00" + e.line
			if e.ts == *seenAt && seen[key] {
				dropped++
				continue
			}
			kept = append(kept, v)
			switch {
			case e.ts > newest:
				newest, atNewest = e.ts, append(atNewest[:0], key)
			case e.ts == newest:
				atNewest = append(atNewest, key)
			}
		}
		st.Values = kept
	}
	if n > limit {
		return 0, 0, fmt.Errorf("the page from %s holds %d entries, more than the limit %d", stamp(start), n, limit)
	}
	written := n - dropped
	if written > 0 {
		out := body
		if dropped > 0 {
			result := page.Data.Result[:0]
			for _, st := range page.Data.Result {
				if len(st.Values) > 0 {
					result = append(result, st)
				}
			}
			page.Data.Result = result
			page.Data.Stats = nil
			if out, err = json.Marshal(page); err != nil {
				return 0, 0, err
			}
		}
		out = bytes.TrimSpace(out)
		if _, err := f.w.Write(append(out, '\n')); err != nil {
			return 0, 0, err
		}
		f.stats.Fetched += int64(written)
	}
	if newest >= 0 {
		if newest != *seenAt {
			clear(seen)
			*seenAt = newest
		}
		for _, k := range atNewest {
			seen[k] = true
		}
	}
	// the newest timestamp the store sent, dropped entries included
	if newest < *seenAt && dropped > 0 {
		newest = *seenAt
	}
	return n, newest, nil
}

// lokiSelected asks index/stats how many entries the selector holds.
func (f *fetch) lokiSelected(ctx context.Context) (int64, error) {
	resp, err := f.send(ctx, lokiStats(f.src, &f.q))
	if err != nil {
		return -1, err
	}
	defer resp.Close()
	var st struct {
		Entries *int64 `json:"entries"`
	}
	b, err := io.ReadAll(io.LimitReader(resp.body, 1<<20))
	if err != nil {
		return -1, err
	}
	if json.Unmarshal(b, &st) != nil || st.Entries == nil {
		return -1, fmt.Errorf("index/stats answered %s", oneLine(b, 120))
	}
	return *st.Entries, nil
}
