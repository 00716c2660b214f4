package logstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLoki answers query_range as Loki documents it: the limit earliest
// entries of [start, end) across the streams that match, direction
// forward, each stream's values in time order; the line filter is applied
// as a regexp. It also answers index/stats.
type fakeLoki struct {
	mu      sync.Mutex
	streams map[string][]lokiEntry // by a label value (pod)
	calls   []url.Values
	// before, when set, may answer a request instead (status != 0)
	before func(n int, w http.ResponseWriter, r *http.Request) bool
}

func (f *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.URL.Query())
	if f.before != nil && f.before(len(f.calls), w, r) {
		return
	}
	q := r.URL.Query()
	start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
	end, _ := strconv.ParseInt(q.Get("end"), 10, 64)
	switch r.URL.Path {
	case "/loki/api/v1/index/stats":
		n := 0
		for _, es := range f.streams {
			for _, e := range es {
				if e.ts >= start && e.ts < end {
					n++
				}
			}
		}
		fmt.Fprintf(w, `{"streams":%d,"chunks":1,"bytes":100,"entries":%d}`, len(f.streams), n)
		return
	case "/loki/api/v1/query_range":
	default:
		http.NotFound(w, r)
		return
	}
	if q.Get("direction") != "forward" {
		http.Error(w, "want forward", 400)
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	var filter *regexp.Regexp
	if _, re, ok := strings.Cut(q.Get("query"), "|~ "); ok {
		s, err := strconv.Unquote(re)
		if err != nil {
			http.Error(w, "bad filter", 400)
			return
		}
		filter = regexp.MustCompile(s)
	}
	type hit struct {
		pod string
		e   lokiEntry
		i   int
	}
	var all []hit
	for pod, es := range f.streams {
		for i, e := range es {
			if e.ts >= start && e.ts < end && (filter == nil || filter.MatchString(e.line)) {
				all = append(all, hit{pod, e, i})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].e.ts != all[j].e.ts {
			return all[i].e.ts < all[j].e.ts
		}
		if all[i].pod != all[j].pod {
			return all[i].pod < all[j].pod
		}
		return all[i].i < all[j].i
	})
	if len(all) > limit {
		all = all[:limit]
	}
	byPod := map[string][][2]string{}
	var pods []string
	for _, h := range all {
		if _, ok := byPod[h.pod]; !ok {
			pods = append(pods, h.pod)
		}
		byPod[h.pod] = append(byPod[h.pod], [2]string{strconv.FormatInt(h.e.ts, 10), h.e.line})
	}
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][2]string       `json:"values"`
	}
	var result []stream
	for _, p := range pods {
		result = append(result, stream{map[string]string{"pod": p, "namespace": "flink"}, byPod[p]})
	}
	resp := map[string]any{"status": "success", "data": map[string]any{"resultType": "streams", "result": result,
		"stats": map[string]any{"summary": map[string]any{"totalEntriesReturned": len(all)}}}}
	_ = json.NewEncoder(w).Encode(resp)
}

// lokiWritten reads what a fetch wrote: concatenated query_range
// documents, one a line, each entry as "pod ts line".
func lokiWritten(t *testing.T, out []byte) []string {
	t.Helper()
	var got []string
	d := json.NewDecoder(bytes.NewReader(out))
	for d.More() {
		var page lokiResponse
		if err := d.Decode(&page); err != nil {
			t.Fatalf("the output is not concatenated query_range responses: %v", err)
		}
		if page.Status != "success" || page.Data.ResultType != "streams" {
			t.Fatalf("a page is not in Loki's shape: %+v", page)
		}
		for _, st := range page.Data.Result {
			for _, v := range st.Values {
				e, err := parseLokiEntry(v)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %d %s", st.Stream["pod"], e.ts, e.line))
			}
		}
	}
	if n := bytes.Count(out, []byte("\n")); n == 0 && len(out) > 0 {
		t.Errorf("pages are not one a line")
	}
	return got
}

func testClient() (*Client, *[]time.Duration) {
	c := NewClient()
	var slept []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	c.Idle = 2 * time.Second
	return c, &slept
}

var base = time.Date(2020, 3, 17, 13, 59, 0, 0, time.UTC)

func ms(n int) int64 { return base.Add(time.Duration(n) * time.Millisecond).UnixNano() }

func lokiSource(t *testing.T, srv *httptest.Server) *Source {
	t.Helper()
	s, err := ParseSource("loki+" + srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func lokiQuery() Query {
	return Query{Selector: `{namespace="flink"}`, Start: base, End: base.Add(time.Hour), Words: []string{"slot", "allocation"}, PageSize: 4}
}

// TestLokiPagesAcrossOneMillisecond: a shipper that stamps milliseconds
// puts many entries, of several streams, at one timestamp; pages of 4
// break inside it. Every matching entry comes once, none is lost, and
// entries the pushdown excludes are not asked for.
func TestLokiPagesAcrossOneMillisecond(t *testing.T) {
	fl := &fakeLoki{streams: map[string][]lokiEntry{
		"tm-0": {{ms(1), "slot a"}, {ms(2), "slot b"}, {ms(2), "slot c"}, {ms(2), "slot d"}, {ms(2), "noise"}, {ms(2), "slot e"}, {ms(3), "slot f"}},
		"jm-0": {{ms(2), "allocation x"}, {ms(2), "allocation y"}, {ms(2), "slot b"}, {ms(5), "Slot z"}},
	}}
	srv := httptest.NewServer(fl)
	defer srv.Close()
	c, _ := testClient()
	var out bytes.Buffer
	st, err := c.Fetch(context.Background(), lokiSource(t, srv), lokiQuery(), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := lokiWritten(t, out.Bytes())
	var want []string
	for pod, es := range fl.streams {
		for _, e := range es {
			if e.line != "noise" {
				want = append(want, fmt.Sprintf("%s %d %s", pod, e.ts, e.line))
			}
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fetched:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Fetched != int64(len(want)) || st.Selected != 11 || st.Matched != -1 || st.Pages < 3 {
		t.Errorf("stats %+v", st)
	}
	// the pages after the first start at the newest timestamp of the one before
	var starts []string
	for _, q := range fl.calls[1:] {
		starts = append(starts, q.Get("start"))
		if !strings.Contains(q.Get("query"), `{namespace="flink"} |~ "(?i)(slot|allocation)"`) {
			t.Errorf("query %q has no pushdown", q.Get("query"))
		}
	}
	if starts[0] != strconv.FormatInt(base.UnixNano(), 10) || starts[1] != strconv.FormatInt(ms(2), 10) {
		t.Errorf("page starts %v", starts)
	}
}

// TestLokiFullPageAtOneInstant: more entries at one nanosecond than a
// page holds: that instant is asked for alone with a larger limit.
func TestLokiFullPageAtOneInstant(t *testing.T) {
	var es []lokiEntry
	for i := range 10 {
		es = append(es, lokiEntry{ms(7), fmt.Sprintf("slot %d", i)})
	}
	es = append(es, lokiEntry{ms(8), "slot after"})
	fl := &fakeLoki{streams: map[string][]lokiEntry{"tm-0": es}}
	srv := httptest.NewServer(fl)
	defer srv.Close()
	c, _ := testClient()
	var notes []string
	c.Notef = func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }
	var out bytes.Buffer
	st, err := c.Fetch(context.Background(), lokiSource(t, srv), lokiQuery(), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := lokiWritten(t, out.Bytes())
	if len(got) != 11 || st.Fetched != 11 {
		t.Fatalf("fetched %d (%d): %v", len(got), st.Fetched, got)
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Errorf("twice: %s", g)
		}
		seen[g] = true
	}
	if len(notes) == 0 || !strings.Contains(notes[0], "asking for up to 8") {
		t.Errorf("notes %q", notes)
	}
	// too many at one instant for any limit: an error, not a loop
	es = nil
	for i := range 70 {
		es = append(es, lokiEntry{ms(7), fmt.Sprintf("slot %d", i)})
	}
	fl.streams = map[string][]lokiEntry{"tm-0": es}
	_, err = c.Fetch(context.Background(), lokiSource(t, srv), lokiQuery(), &out)
	if err == nil || !strings.Contains(err.Error(), "more than 64 entries at one instant") {
		t.Errorf("err %v", err)
	}
}

// TestLokiRetryAfter: a 429 with Retry-After is waited for, then the page
// is asked for again.
func TestLokiRetryAfter(t *testing.T) {
	fl := &fakeLoki{streams: map[string][]lokiEntry{"tm-0": {{ms(1), "slot a"}}}}
	fl.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 2 {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "too many outstanding requests", http.StatusTooManyRequests)
			return true
		}
		return false
	}
	srv := httptest.NewServer(fl)
	defer srv.Close()
	c, slept := testClient()
	var out bytes.Buffer
	st, err := c.Fetch(context.Background(), lokiSource(t, srv), lokiQuery(), &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(*slept) != 1 || (*slept)[0] != 7*time.Second {
		t.Errorf("slept %v, want the 7s of Retry-After", *slept)
	}
	if st.Fetched != 1 {
		t.Errorf("stats %+v", st)
	}
	// a Retry-After longer than the client waits is an error at once
	fl.calls = nil
	fl.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return true
	}
	_, err = c.Fetch(context.Background(), lokiSource(t, srv), lokiQuery(), &out)
	var fe *FetchError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "HTTP 429") || !strings.Contains(err.Error(), "wait 1h0m0s") || len(fl.calls) != 2 {
		t.Errorf("err %v after %d calls", err, len(fl.calls))
	}
}

// TestLokiServerErrorsRetriedThenGivenUp: 503s are retried with growing
// backoff, and after Attempts tries the error names the source.
func TestLokiServerErrorsRetriedThenGivenUp(t *testing.T) {
	fl := &fakeLoki{streams: map[string][]lokiEntry{"tm-0": {{ms(1), "slot a"}}}}
	fl.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/loki/api/v1/query_range" {
			http.Error(w, "ingester not ready", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	srv := httptest.NewServer(fl)
	defer srv.Close()
	c, slept := testClient()
	c.Attempts = 4
	src := lokiSource(t, srv)
	_, err := c.Fetch(context.Background(), src, lokiQuery(), &bytes.Buffer{})
	if err == nil || !strings.HasPrefix(err.Error(), src.Name+": HTTP 503") || !strings.Contains(err.Error(), "after 4 tries") {
		t.Fatalf("err %v", err)
	}
	if len(*slept) != 3 {
		t.Fatalf("slept %v", *slept)
	}
	for i, d := range *slept {
		lo := c.Backoff << i / 2
		if d < lo || d > c.Backoff<<i {
			t.Errorf("backoff %d: %s, want %s..%s", i, d, lo, c.Backoff<<i)
		}
	}
}

// TestLokiTruncatedPage: a page cut short (the connection closes before
// Content-Length is sent) ends the fetch with an error that names the
// source and how far it got.
func TestLokiTruncatedPage(t *testing.T) {
	fl := &fakeLoki{streams: map[string][]lokiEntry{"tm-0": {{ms(1), "slot a"}, {ms(2), "slot b"}, {ms(3), "slot c"}, {ms(4), "slot d"}, {ms(9), "slot e"}}}}
	fl.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 3 {
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"pod":"tm-0"},"values":[["`))
			return true
		}
		return false
	}
	srv := httptest.NewServer(fl)
	defer srv.Close()
	c, _ := testClient()
	src := lokiSource(t, srv)
	_, err := c.Fetch(context.Background(), src, lokiQuery(), &bytes.Buffer{})
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("err %v", err)
	}
	want := src.Name + ": reading the page from " + stamp(time.Unix(0, ms(4)))
	if !strings.HasPrefix(err.Error(), want) || fe.Range != stamp(base)+".."+stamp(time.Unix(0, ms(4))) {
		t.Errorf("err %q (range %q), want it to start %q", err, fe.Range, want)
	}
	// a page that is not JSON at all
	fl.calls = nil
	fl.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 2 {
			_, _ = w.Write([]byte("<html>proxy error</html>"))
			return true
		}
		return false
	}
	_, err = c.Fetch(context.Background(), src, lokiQuery(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "is not a query_range response") || !strings.Contains(err.Error(), "nothing was fetched") {
		t.Errorf("err %v", err)
	}
}

// TestLokiUnauthorized: a 401 is not retried; the error says what to set.
func TestLokiUnauthorized(t *testing.T) {
	var auth []string
	fl := &fakeLoki{}
	fl.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		auth = append(auth, r.Header.Get("Authorization"))
		http.Error(w, "no org id", http.StatusUnauthorized)
		return true
	}
	srv := httptest.NewServer(fl)
	defer srv.Close()
	c, slept := testClient()
	src := lokiSource(t, srv)
	_, err := c.Fetch(context.Background(), src, lokiQuery(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401 Unauthorized: no org id (the store wants credentials: set SLOTAUDIT_TOKEN") || len(*slept) != 0 {
		t.Errorf("err %v, slept %v", err, *slept)
	}
	c.Credentials = func(host string) (Credentials, error) {
		return CredentialsFor(host, func(k string) string { return map[string]string{"SLOTAUDIT_TOKEN": "s3cret"}[k] })
	}
	auth = nil
	_, err = c.Fetch(context.Background(), src, lokiQuery(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials from SLOTAUDIT_TOKEN") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err %v", err)
	}
	if len(auth) == 0 || auth[len(auth)-1] != "Bearer s3cret" {
		t.Errorf("Authorization %q", auth)
	}
}

// TestLokiNeedsASelector: Loki refuses a query without a stream selector;
// so does the fetch, before sending anything.
func TestLokiNeedsASelector(t *testing.T) {
	src, _ := ParseSource("loki+https://loki.example")
	q := lokiQuery()
	q.Selector = "slot"
	_, err := NewClient().Fetch(context.Background(), src, q, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "needs --query with a LogQL stream selector") {
		t.Errorf("err %v", err)
	}
}
