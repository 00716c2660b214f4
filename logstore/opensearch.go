package logstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// OpenSearch and Elasticsearch: a point in time (PIT) on the index keeps
// one view of it while pages are read; each page is a _search of that
// PIT sorted on the time field and a tiebreaker, the next one
// search_after the sort values of the last hit. The tiebreaker is
// _shard_doc (Elasticsearch 7.12+, OpenSearch 3); an OpenSearch that
// refuses it gets _id instead. The first page asks for the exact
// hits.total (Stats.Matched); _count of the selector and time range
// without the pushdown gives Stats.Selected. The PIT is closed at the end,
// failed or not.
//
// The query is a bool filter of: the time range on the time field; the
// selector, a query-DSL object as given or a Lucene query string; and
// the pushdown, one case-insensitive regexp on the message field
// (.*(slot|allocation|…).*), which on an analysed text field matches a
// token: the pushdown words are letters, which analysers keep together.

const pitKeepAlive = "5m"

// openSearchQueries returns the query with and without the pushdown.
func openSearchQueries(src *Source, q *Query) (withWords, selected map[string]any, err error) {
	var filter []any
	filter = append(filter, map[string]any{"range": map[string]any{src.TimeField: map[string]any{
		"gte": stamp(q.Start), "lt": stamp(q.End), "format": "strict_date_optional_time_nanos",
	}}})
	if sel := strings.TrimSpace(q.Selector); sel != "" {
		if strings.HasPrefix(sel, "{") {
			var dsl map[string]any
			d := json.NewDecoder(strings.NewReader(sel))
			d.UseNumber()
			if err := d.Decode(&dsl); err != nil {
				return nil, nil, fmt.Errorf("--query is not a query-DSL JSON object: %v", err)
			}
			if inner, ok := dsl["query"].(map[string]any); ok && len(dsl) == 1 {
				dsl = inner // {"query": {...}} as a _search body has it
			}
			filter = append(filter, dsl)
		} else {
			filter = append(filter, map[string]any{"query_string": map[string]any{"query": sel}})
		}
	}
	selected = map[string]any{"bool": map[string]any{"filter": filter}}
	if len(q.Words) > 0 {
		filter = append(filter[:len(filter):len(filter)], map[string]any{"regexp": map[string]any{src.MessageField: map[string]any{
			"value": ".*(" + strings.Join(q.Words, "|") + ").*", "case_insensitive": true, "flags": "NONE",
		}}})
	}
	withWords = map[string]any{"bool": map[string]any{"filter": filter}}
	return withWords, selected, nil
}

func (src *Source) pitOpen() Request {
	v := url.Values{"keep_alive": {pitKeepAlive}}
	path := "/" + url.PathEscape(src.Index) + "/_pit"
	if src.Kind == OpenSearch {
		path = "/" + url.PathEscape(src.Index) + "/_search/point_in_time"
	}
	return Request{Method: "POST", URL: src.endpoint(path, v), Note: "open a point in time"}
}

func (src *Source) pitClose(id string) Request {
	if src.Kind == OpenSearch {
		b, _ := json.Marshal(map[string]any{"pit_id": []string{id}})
		return Request{Method: "DELETE", URL: src.endpoint("/_search/point_in_time", nil), Body: string(b), ContentType: "application/json", Note: "close the point in time"}
	}
	b, _ := json.Marshal(map[string]any{"id": id})
	return Request{Method: "DELETE", URL: src.endpoint("/_pit", nil), Body: string(b), ContentType: "application/json", Note: "close the point in time"}
}

func searchRequest(src *Source, q *Query, query map[string]any, pit, tiebreak string, after []json.RawMessage, first bool) Request {
	body := map[string]any{
		"size":  q.pageSize(),
		"query": query,
		"pit":   map[string]any{"id": pit, "keep_alive": pitKeepAlive},
		"sort": []any{
			map[string]any{src.TimeField: map[string]any{"order": "asc", "format": "strict_date_optional_time_nanos"}},
			map[string]any{tiebreak: map[string]any{"order": "asc"}},
		},
		"track_total_hits": first,
	}
	if after != nil {
		body["search_after"] = after
	}
	b, _ := json.MarshalIndent(body, "", "  ")
	return Request{Method: "POST", URL: src.endpoint("/_search", nil), Body: string(b), ContentType: "application/json"}
}

func countRequest(src *Source, query map[string]any) Request {
	b, _ := json.MarshalIndent(map[string]any{"query": query}, "", "  ")
	return Request{Method: "POST", URL: src.endpoint("/"+url.PathEscape(src.Index)+"/_count", nil), Body: string(b),
		ContentType: "application/json", Note: "count the documents the selector holds in the time range"}
}

func openSearchPlan(src *Source, q *Query) ([]Request, error) {
	with, sel, err := openSearchQueries(src, q)
	if err != nil {
		return nil, err
	}
	first := searchRequest(src, q, with, "<the point in time's id>", "_shard_doc", nil, true)
	first.Note = fmt.Sprintf("the first page; each next page is search_after the last hit's sort values, until a page holds fewer than %d hits", q.pageSize())
	return []Request{countRequest(src, sel), src.pitOpen(), first, src.pitClose("<the point in time's id>")}, nil
}

// searchPage is a _search response, read far enough to page.
type searchPage struct {
	TimedOut bool   `json:"timed_out"`
	PitID    string `json:"pit_id"`
	Shards   struct {
		Total, Failed int
	} `json:"_shards"`
	Hits *struct {
		Total *struct {
			Value    int64  `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Hits []struct {
			Sort []json.RawMessage `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
}

func (f *fetch) openSearch(ctx context.Context) error {
	with, sel, err := openSearchQueries(f.src, &f.q)
	if err != nil {
		return err
	}
	if f.stats.Selected, err = f.osCount(ctx, countRequest(f.src, sel)); err != nil {
		return err
	}
	pit, err := f.pitOpen(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// closed whatever happened, even when ctx was cancelled
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if resp, err := f.send(cctx, f.src.pitClose(pit)); err == nil {
			resp.Close()
		} else {
			f.c.notef("%s: closing the point in time: %v (it expires after %s)", f.src.Name, err, pitKeepAlive)
		}
	}()
	tiebreak := "_shard_doc"
	var after []json.RawMessage
	for first := true; ; first = false {
		req := searchRequest(f.src, &f.q, with, pit, tiebreak, after, first)
		resp, err := f.send(ctx, req)
		if err != nil && first && f.src.Kind == OpenSearch && strings.Contains(err.Error(), "_shard_doc") {
			f.c.notef("%s: this OpenSearch does not sort on _shard_doc; using _id as the tiebreaker", f.src.Name)
			tiebreak = "_id"
			req = searchRequest(f.src, &f.q, with, pit, tiebreak, after, first)
			resp, err = f.send(ctx, req)
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.body)
		resp.Close()
		from := "the first page"
		if after != nil {
			from = "the page after " + oneLine(mustJSON(after), 120)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", from, err)
		}
		var page searchPage
		if err := json.Unmarshal(body, &page); err != nil || page.Hits == nil {
			return fmt.Errorf("%s is not a _search response: %s", from, oneLine(body, 200))
		}
		if page.TimedOut || page.Shards.Failed > 0 {
			return fmt.Errorf("%s is partial (timed_out %v, %d of %d shards failed): the store could not search all of the index", from, page.TimedOut, page.Shards.Failed, page.Shards.Total)
		}
		if first {
			if t := page.Hits.Total; t != nil && t.Relation == "eq" {
				f.stats.Matched = t.Value
			}
		}
		f.stats.Pages++
		if page.PitID != "" {
			pit = page.PitID // the newest id is the one to use
		}
		if n := len(page.Hits.Hits); n > 0 {
			if _, err := f.w.Write(append(bytes.TrimSpace(body), '\n')); err != nil {
				return err
			}
			f.stats.Fetched += int64(n)
			last := page.Hits.Hits[n-1].Sort
			if len(last) == 0 {
				return fmt.Errorf("%s has hits without sort values: cannot page", from)
			}
			after = last
			if t, ok := sortTime(last[0]); ok {
				f.done = t
			}
		}
		if len(page.Hits.Hits) < f.q.pageSize() {
			f.done = f.q.End
			return nil
		}
	}
}

// sortTime reads a hit's first sort value: the time as formatted
// (strict_date_optional_time_nanos), or epoch milliseconds.
func sortTime(v json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		return t, err == nil
	}
	var ms int64
	if json.Unmarshal(v, &ms) == nil {
		return time.UnixMilli(ms), true
	}
	return time.Time{}, false
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (f *fetch) pitOpen(ctx context.Context) (string, error) {
	resp, err := f.send(ctx, f.src.pitOpen())
	if err != nil {
		return "", fmt.Errorf("opening a point in time: %w", err)
	}
	defer resp.Close()
	b, err := io.ReadAll(io.LimitReader(resp.body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("opening a point in time: %w", err)
	}
	var r struct {
		ID    string `json:"id"`
		PitID string `json:"pit_id"`
	}
	if json.Unmarshal(b, &r) != nil || r.ID+r.PitID == "" {
		return "", fmt.Errorf("opening a point in time: the store answered %s", oneLine(b, 200))
	}
	if r.PitID != "" {
		return r.PitID, nil
	}
	return r.ID, nil
}

func (f *fetch) osCount(ctx context.Context, req Request) (int64, error) {
	resp, err := f.send(ctx, req)
	if err != nil {
		return -1, fmt.Errorf("counting: %w", err)
	}
	defer resp.Close()
	b, err := io.ReadAll(io.LimitReader(resp.body, 1<<20))
	if err != nil {
		return -1, fmt.Errorf("counting: %w", err)
	}
	var r struct {
		Count *int64 `json:"count"`
	}
	if json.Unmarshal(b, &r) != nil || r.Count == nil {
		return -1, fmt.Errorf("counting: the store answered %s", oneLine(b, 200))
	}
	return *r.Count, nil
}
