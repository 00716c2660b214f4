package logstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// vlServer answers /select/logsql/query: the count queries with n, the
// record query with lines (as the handler writes them).
func vlServer(t *testing.T, counts []string, stream func(w http.ResponseWriter)) (*httptest.Server, *[]string) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/select/logsql/query" || r.Method != "POST" {
			http.NotFound(w, r)
			return
		}
		q := r.FormValue("query")
		queries = append(queries, q+" @ "+r.FormValue("start")+".."+r.FormValue("end"))
		if strings.HasSuffix(q, "| stats count() as n") {
			fmt.Fprintf(w, "{\"n\":%q}\n", counts[0])
			counts = counts[1:]
			return
		}
		stream(w)
	}))
	t.Cleanup(srv.Close)
	return srv, &queries
}

func vlQuery() Query {
	return Query{Selector: `{pod=~"flink-.*"}`, Start: base, End: base.Add(time.Hour), Words: []string{"slot", "version"}}
}

const vlLines = `{"_msg":"2020-03-17 13:59:28,500 INFO  x - Starting TaskManager (Version: 1.8.2)","_stream":"{pod=\"flink-tm-0\"}","_time":"2020-03-17T13:59:28.5Z","pod":"flink-tm-0"}
{"_msg":"Allocated slot for e6a0.","_stream":"{pod=\"flink-tm-0\"}","_time":"2020-03-17T13:59:29.5Z","pod":"flink-tm-0"}
`

func TestVictoriaLogsStreams(t *testing.T) {
	srv, queries := vlServer(t, []string{"40", "2"}, func(w http.ResponseWriter) { fmt.Fprint(w, vlLines) })
	src, err := ParseSource("victorialogs+" + srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := testClient()
	var out bytes.Buffer
	st, err := c.Fetch(context.Background(), src, vlQuery(), &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != vlLines {
		t.Errorf("written:\n%s\nwant the lines as sent", out.String())
	}
	if st.Fetched != 2 || st.Matched != 2 || st.Selected != 40 || st.Pages != 1 {
		t.Errorf("stats %+v", st)
	}
	rng := " @ 2020-03-17T13:59:00Z..2020-03-17T14:59:00Z"
	want := []string{
		`({pod=~"flink-.*"}) | stats count() as n` + rng,
		`({pod=~"flink-.*"}) ~"(?i)(slot|version)" | stats count() as n` + rng,
		`({pod=~"flink-.*"}) ~"(?i)(slot|version)" | sort by (_time)` + rng,
	}
	if strings.Join(*queries, "\n") != strings.Join(want, "\n") {
		t.Errorf("queries:\n%s\nwant:\n%s", strings.Join(*queries, "\n"), strings.Join(want, "\n"))
	}
	if got := st.Summary(); got != "fetched 2 record(s) of 2 the store matched; the query selects 40 in the time range, the other 38 hold none of the words slotaudit reads" {
		t.Errorf("summary %q", got)
	}
}

// TestVictoriaLogsCutShort: a stream that ends inside a record, or sends
// a line that is not JSON, is an error that names the source and the last
// time fetched.
func TestVictoriaLogsCutShort(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"truncated": {vlLines + `{"_msg":"Free slot","_ti`, "record 3 is cut short"},
		"not json":  {vlLines + "cannot execute query: too many logs\n", "record 3 is not a JSON object: cannot execute query"},
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := vlServer(t, []string{"3", "3"}, func(w http.ResponseWriter) { fmt.Fprint(w, tc.body) })
			src, _ := ParseSource("victorialogs+" + srv.URL)
			c, _ := testClient()
			_, err := c.Fetch(context.Background(), src, vlQuery(), &bytes.Buffer{})
			want := src.Name + ": " + tc.want
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "fetched so far: 2020-03-17T13:59:00Z..2020-03-17T13:59:29.5Z, none of it audited") {
				t.Errorf("err %v, want %q and how far it got", err, want)
			}
		})
	}
}

// TestVictoriaLogsStalls: a store that stops sending mid-stream is given
// up after Client.Idle.
func TestVictoriaLogsStalls(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, _ := vlServer(t, []string{"3", "3"}, func(w http.ResponseWriter) {
		fmt.Fprint(w, vlLines)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	})
	src, _ := ParseSource("victorialogs+" + srv.URL)
	c, _ := testClient()
	c.Idle = 200 * time.Millisecond
	start := time.Now()
	_, err := c.Fetch(context.Background(), src, vlQuery(), &bytes.Buffer{})
	if !errors.Is(err, errStalled) || !strings.Contains(err.Error(), "the store sent nothing for 200ms") {
		t.Errorf("err %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s", d)
	}
}

// TestVictoriaLogsUnreachable: a refused connection is retried, then the
// error names the source.
func TestVictoriaLogsUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	src, _ := ParseSource("victorialogs+" + addr)
	c, slept := testClient()
	c.Attempts = 3
	_, err := c.Fetch(context.Background(), src, vlQuery(), &bytes.Buffer{})
	if err == nil || !strings.HasPrefix(err.Error(), src.Name+": ") || !strings.Contains(err.Error(), "refused") || len(*slept) != 2 {
		t.Errorf("err %v, slept %v", err, *slept)
	}
}
