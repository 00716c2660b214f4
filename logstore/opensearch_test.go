package logstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSearch answers as OpenSearch (or Elasticsearch) documents it: PIT
// open and close, _count, and _search of a PIT sorted on @timestamp and a
// tiebreaker with search_after; the pushdown regexp is applied to
// message.
type fakeSearch struct {
	mu     sync.Mutex
	kind   Kind
	docs   []fakeDoc // in index order: _shard_doc is the position
	pits   map[string]bool
	closed []string
	bodies []map[string]any
	// noShardDoc: refuse _shard_doc (OpenSearch before 3)
	noShardDoc bool
	before     func(n int, w http.ResponseWriter, r *http.Request) bool
	n          int
}

type fakeDoc struct {
	id   string
	ts   time.Time
	msg  string
	host string
}

func (f *fakeSearch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.before != nil && f.before(f.n, w, r) {
		return
	}
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	if len(b) > 0 {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&body); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
	}
	pitOpen, pitClose := "/logs-flink/_pit", "/_pit"
	if f.kind == OpenSearch {
		pitOpen, pitClose = "/logs-flink/_search/point_in_time", "/_search/point_in_time"
	}
	switch {
	case r.Method == "POST" && r.URL.Path == pitOpen:
		if r.URL.Query().Get("keep_alive") == "" {
			http.Error(w, "keep_alive is required", 400)
			return
		}
		id := fmt.Sprintf("pit-%d", len(f.pits)+1)
		f.pits[id] = true
		if f.kind == OpenSearch {
			fmt.Fprintf(w, `{"pit_id":%q,"_shards":{"total":1,"successful":1,"failed":0},"creation_time":1}`, id)
		} else {
			fmt.Fprintf(w, `{"id":%q}`, id)
		}
	case r.Method == "DELETE" && r.URL.Path == pitClose:
		f.closed = append(f.closed, string(b))
		fmt.Fprint(w, `{"succeeded":true}`)
	case r.Method == "POST" && r.URL.Path == "/logs-flink/_count":
		fmt.Fprintf(w, `{"count":%d,"_shards":{"total":1,"successful":1,"failed":0}}`, len(f.match(body["query"], false)))
	case r.Method == "POST" && r.URL.Path == "/_search":
		f.bodies = append(f.bodies, body)
		f.search(w, body)
	default:
		http.Error(w, "no handler for "+r.Method+" "+r.URL.Path, 404)
	}
}

// match applies the bool filter the client sends: the range, and the
// regexp on message when withWords.
func (f *fakeSearch) match(query any, withWords bool) []int {
	filters := query.(map[string]any)["bool"].(map[string]any)["filter"].([]any)
	rng := filters[0].(map[string]any)["range"].(map[string]any)["@timestamp"].(map[string]any)
	gte, _ := time.Parse(time.RFC3339Nano, rng["gte"].(string))
	lt, _ := time.Parse(time.RFC3339Nano, rng["lt"].(string))
	var re *regexp.Regexp
	for _, fl := range filters[1:] {
		if rx, ok := fl.(map[string]any)["regexp"]; ok && withWords {
			v := rx.(map[string]any)["message"].(map[string]any)["value"].(string)
			re = regexp.MustCompile("(?is)^" + v + "$")
		}
	}
	var out []int
	for i, d := range f.docs {
		if !d.ts.Before(gte) && d.ts.Before(lt) && (re == nil || re.MatchString(d.msg)) {
			out = append(out, i)
		}
	}
	return out
}

func (f *fakeSearch) search(w http.ResponseWriter, body map[string]any) {
	pit := body["pit"].(map[string]any)["id"].(string)
	if !f.pits[pit] {
		http.Error(w, `{"error":"no such pit"}`, 404)
		return
	}
	sorts := body["sort"].([]any)
	tiebreak := ""
	for k := range sorts[1].(map[string]any) {
		tiebreak = k
	}
	if tiebreak == "_shard_doc" && f.noShardDoc {
		http.Error(w, `{"error":{"type":"query_shard_exception","reason":"No mapping found for [_shard_doc] in order to sort on"}}`, 400)
		return
	}
	idx := f.match(body["query"], true)
	key := func(i int) (int64, string) {
		if tiebreak == "_id" {
			return f.docs[i].ts.UnixNano(), f.docs[i].id
		}
		return f.docs[i].ts.UnixNano(), fmt.Sprintf("%012d", i)
	}
	sort.Slice(idx, func(a, b int) bool {
		ta, ka := key(idx[a])
		tb, kb := key(idx[b])
		return ta < tb || ta == tb && ka < kb
	})
	total := len(idx)
	if after, ok := body["search_after"].([]any); ok {
		at, _ := time.Parse(time.RFC3339Nano, after[0].(string))
		ak := fmt.Sprint(after[1])
		if tiebreak == "_shard_doc" {
			var n int64
			fmt.Sscan(ak, &n)
			ak = fmt.Sprintf("%012d", n)
		}
		var rest []int
		for _, i := range idx {
			t, k := key(i)
			if t > at.UnixNano() || t == at.UnixNano() && k > ak {
				rest = append(rest, i)
			}
		}
		idx = rest
	}
	size := 10
	if s, ok := body["size"].(json.Number); ok {
		n, _ := s.Int64()
		size = int(n)
	}
	if len(idx) > size {
		idx = idx[:size]
	}
	var hits []map[string]any
	for _, i := range idx {
		d := f.docs[i]
		var tb any = i
		if tiebreak == "_id" {
			tb = d.id
		}
		hits = append(hits, map[string]any{
			"_index": "logs-flink", "_id": d.id, "_score": nil,
			"_source": map[string]any{"@timestamp": d.ts.Format(time.RFC3339Nano), "message": d.msg, "kubernetes": map[string]any{"pod_name": d.host}},
			"sort":    []any{d.ts.Format(time.RFC3339Nano), tb},
		})
	}
	resp := map[string]any{"took": 1, "timed_out": false, "_shards": map[string]any{"total": 2, "successful": 2, "skipped": 0, "failed": 0},
		"hits": map[string]any{"max_score": nil, "hits": hits}}
	if f.kind == OpenSearch {
		resp["pit_id"] = pit
	}
	if body["track_total_hits"] == true {
		resp["hits"].(map[string]any)["total"] = map[string]any{"value": total, "relation": "eq"}
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func searchDocs() []fakeDoc {
	at := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
	return []fakeDoc{
		{"d1", at(1), "Receive slot request 1", "tm-0"},
		{"d2", at(2), "Checkpoint 3 completed", "jm-0"},
		{"d3", at(2), "Allocated slot for 1.", "tm-0"},
		{"d4", at(2), "Request slot with profile", "jm-0"},
		{"d5", at(2), "Starting TaskManager (Version: 1.14.4, Rev)", "tm-1"},
		{"d6", at(2), "Free slot TaskSlot", "tm-0"},
		{"d7", at(3), "Releasing idle slot [a].", "jm-0"},
		{"d8", at(60 * 60 * 1000), "slot outside the range", "jm-0"},
	}
}

// searchWritten reads concatenated _search responses: each hit's _id.
func searchWritten(t *testing.T, out []byte) []string {
	t.Helper()
	var ids []string
	d := json.NewDecoder(bytes.NewReader(out))
	for d.More() {
		var page struct {
			Hits struct {
				Hits []struct {
					ID     string         `json:"_id"`
					Source map[string]any `json:"_source"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := d.Decode(&page); err != nil {
			t.Fatalf("the output is not concatenated _search responses: %v", err)
		}
		for _, h := range page.Hits.Hits {
			if h.Source["message"] == nil {
				t.Errorf("hit %s without its _source", h.ID)
			}
			ids = append(ids, h.ID)
		}
	}
	return ids
}

func searchQuery() Query {
	return Query{Selector: `kubernetes.namespace:flink`, Start: base, End: base.Add(time.Hour), Words: []string{"slot", "version"}, PageSize: 2}
}

// TestSearchPagesWithPIT: pages of 2 through a PIT, search_after the last
// hit's sort values, ties on one millisecond broken by _shard_doc; the
// counts, the PIT closed; for both flavours.
func TestSearchPagesWithPIT(t *testing.T) {
	for _, kind := range []Kind{OpenSearch, Elasticsearch} {
		t.Run(string(kind), func(t *testing.T) {
			fs := &fakeSearch{kind: kind, docs: searchDocs(), pits: map[string]bool{}}
			srv := httptest.NewServer(fs)
			defer srv.Close()
			src, err := ParseSource(string(kind) + "+" + srv.URL + "/logs-flink")
			if err != nil {
				t.Fatal(err)
			}
			c, _ := testClient()
			var out bytes.Buffer
			st, err := c.Fetch(context.Background(), src, searchQuery(), &out)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(searchWritten(t, out.Bytes()), " ")
			if got != "d1 d3 d4 d5 d6 d7" {
				t.Errorf("fetched %s", got)
			}
			if st.Fetched != 6 || st.Matched != 6 || st.Selected != 7 || st.Pages != 4 {
				t.Errorf("stats %+v", st)
			}
			if len(fs.closed) != 1 || !strings.Contains(fs.closed[0], "pit-1") {
				t.Errorf("PIT closes %q", fs.closed)
			}
			first := fs.bodies[0]
			if first["track_total_hits"] != true || first["search_after"] != nil {
				t.Errorf("first page %v", first)
			}
			if fs.bodies[1]["track_total_hits"] != false || fs.bodies[1]["search_after"] == nil {
				t.Errorf("second page %v", fs.bodies[1])
			}
			q, _ := json.Marshal(first["query"])
			if !strings.Contains(string(q), `{"query_string":{"query":"kubernetes.namespace:flink"}}`) ||
				!strings.Contains(string(q), `"regexp":{"message":{"case_insensitive":true,"flags":"NONE","value":".*(slot|version).*"}}`) {
				t.Errorf("query %s", q)
			}
		})
	}
}

// TestOpenSearchWithoutShardDoc: an OpenSearch that cannot sort on
// _shard_doc is paged with _id as the tiebreaker.
func TestOpenSearchWithoutShardDoc(t *testing.T) {
	fs := &fakeSearch{kind: OpenSearch, docs: searchDocs(), pits: map[string]bool{}, noShardDoc: true}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	src, _ := ParseSource("opensearch+" + srv.URL + "/logs-flink")
	c, _ := testClient()
	var notes []string
	c.Notef = func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }
	var out bytes.Buffer
	st, err := c.Fetch(context.Background(), src, searchQuery(), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(searchWritten(t, out.Bytes()), " "); got != "d1 d3 d4 d5 d6 d7" || st.Matched != 6 {
		t.Errorf("fetched %s, stats %+v", got, st)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "using _id") {
		t.Errorf("notes %q", notes)
	}
}

// TestSearchBadPages: a partial page (failed shards), a malformed one and
// a 403 end the fetch with an error that names the source; the PIT is
// closed all the same.
func TestSearchBadPages(t *testing.T) {
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter)
		want   string
	}{
		{"partial", func(w http.ResponseWriter) {
			fmt.Fprint(w, `{"timed_out":false,"_shards":{"total":3,"successful":2,"failed":1},"hits":{"hits":[]}}`)
		}, "is partial (timed_out false, 1 of 3 shards failed)"},
		{"malformed", func(w http.ResponseWriter) {
			fmt.Fprint(w, `{"took":1,"hits":{"hits":[{"_id":"x","sort":`)
		}, "is not a _search response"},
		{"forbidden", func(w http.ResponseWriter) {
			http.Error(w, `{"error":"no permissions for [indices:data/read/search]"}`, http.StatusForbidden)
		}, "HTTP 403 Forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := &fakeSearch{kind: Elasticsearch, docs: searchDocs(), pits: map[string]bool{}}
			searches := 0
			fs.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/_search" {
					return false
				}
				if searches++; searches == 2 {
					tc.answer(w)
					return true
				}
				return false
			}
			srv := httptest.NewServer(fs)
			defer srv.Close()
			src, _ := ParseSource("elasticsearch+" + srv.URL + "/logs-flink")
			c, _ := testClient()
			_, err := c.Fetch(context.Background(), src, searchQuery(), &bytes.Buffer{})
			if err == nil || !strings.HasPrefix(err.Error(), src.Name+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v", err)
			}
			if !strings.Contains(err.Error(), "fetched so far: "+stamp(base)+"..") || !strings.Contains(err.Error(), "none of it audited") {
				t.Errorf("err %v does not say how far it got", err)
			}
			if len(fs.closed) != 1 {
				t.Errorf("PIT not closed: %q", fs.closed)
			}
		})
	}
}

// TestSearchDSLSelector: a query-DSL object is used as given, whether bare
// or wrapped in {"query": …}.
func TestSearchDSLSelector(t *testing.T) {
	src, _ := ParseSource("opensearch+https://os.example:9200/logs-*?time_field=ts&message_field=log")
	for _, sel := range []string{`{"term":{"kubernetes.namespace":"flink"}}`, `{"query":{"term":{"kubernetes.namespace":"flink"}}}`} {
		q := searchQuery()
		q.Selector = sel
		reqs, err := Plan(src, q)
		if err != nil {
			t.Fatal(err)
		}
		body := reqs[2].Body
		for _, want := range []string{`"term": {`, `"kubernetes.namespace": "flink"`, `"ts": {`, `"log": {`, `"size": 2`} {
			if !strings.Contains(body, want) {
				t.Errorf("selector %s: the search body lacks %s:\n%s", sel, want, body)
			}
		}
		if strings.Contains(body, `"query": {
      "query"`) {
			t.Errorf("the wrapper is kept:\n%s", body)
		}
	}
	q := searchQuery()
	q.Selector = `{"term":`
	if _, err := Plan(src, q); err == nil || !strings.Contains(err.Error(), "not a query-DSL JSON object") {
		t.Errorf("err %v", err)
	}
}
