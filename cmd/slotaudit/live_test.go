package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func runMain(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

// TestDryRunSendsNothing: --dry-run prints each source's requests, with
// the time range, the pushdown and where credentials come from (never
// the secret), and exits 0 without a connection.
func TestDryRunSendsNothing(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	t.Setenv("SLOTAUDIT_TOKEN", "s3cret")
	// one --query for every source: a Loki selector, then a Lucene query
	out, errOut, code := runMain("audit", "--dry-run", "--since", "2020-03-17T13:00", "--until", "2020-03-17T15:00", "--query", `{namespace="flink"}`, "loki+"+srv.URL)
	out2, errOut2, code2 := runMain("audit", "--dry-run", "--since", "2020-03-17T13:00", "--until", "2020-03-17T15:00", "--query", `kubernetes.namespace:flink`, "opensearch+"+srv.URL+"/logs-flink")
	out, errOut = out+out2, errOut+errOut2
	if code != 0 || code2 != 0 || hits != 0 {
		t.Fatalf("exit %d and %d, %d requests sent\n%s", code, code2, hits, errOut)
	}
	for _, want := range []string{
		"# time range 2020-03-17T13:00:00Z..2020-03-17T15:00:00Z (--since/--until)",
		"# pushdown: records holding one of akka, allocation,",
		"# loki+" + srv.URL + ": Authorization: Bearer *** (from SLOTAUDIT_TOKEN)",
		"GET " + srv.URL + "/loki/api/v1/query_range?direction=forward&end=1584457200000000000&limit=5000&query=%7Bnamespace%3D%22flink%22%7D+%7C~+%22%28%3Fi%29%28akka%7Callocation",
		"POST " + srv.URL + "/logs-flink/_search/point_in_time?keep_alive=5m",
		"POST " + srv.URL + "/_search\n    {",
		`"query_string": {`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Errorf("the dry run shows the token")
	}
	// files alone: nothing to show
	_, errOut, code = runMain("audit", "--dry-run", filepath.Join("..", "..", "testdata", "logs", "legacy-1.8.2-race-debug-tm.log"))
	if code != exitUsage || !strings.Contains(errOut, "no PATH names one") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestLiveFetchFails: a store that refuses ends the run with exit 2, one
// error naming the source, and nothing on stdout, even in a machine
// format (nothing half-written); no temporary file is left.
func TestLiveFetchFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "authentication required", http.StatusUnauthorized)
	}))
	defer srv.Close()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("SLOTAUDIT_TOKEN", "")
	t.Setenv("NETRC", filepath.Join(tmp, "none"))
	os.WriteFile(filepath.Join(tmp, "none"), nil, 0o600)
	src := "victorialogs+" + srv.URL
	out, errOut, code := runMain("audit", "--format", "json", "--since", "2h", src, filepath.Join("..", "..", "testdata", "logs", "legacy-1.8.2-race-debug-tm.log"))
	if code != exitUsage || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	want := "slotaudit: error: " + src + ": HTTP 401 Unauthorized: authentication required (the store wants credentials: set SLOTAUDIT_TOKEN"
	if !strings.Contains(errOut, want) || !strings.Contains(errOut, "nothing was fetched") {
		t.Errorf("stderr:\n%s\nwant %q", errOut, want)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "slotaudit-fetch-*"))
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestLiveUsage: what cannot be asked of a store is a usage error.
func TestLiveUsage(t *testing.T) {
	log := filepath.Join("..", "..", "testdata", "logs", "legacy-1.8.2-race-debug-tm.log")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--follow", "victorialogs+http://127.0.0.1:9"}, "is fetched once: leave out --follow"},
		{[]string{"audit", "--query", "x", log}, "--query is the selector of a log store"},
		{[]string{"audit", "--dry-run", "--since", "13:00", "victorialogs+http://127.0.0.1:9"}, "a log store is asked for a date and time"},
		{[]string{"audit", "--dry-run", "loki+https://user:pw@loki.example"}, "credentials do not go in the PATH"},
		{[]string{"audit", "--dry-run", "loki+https://loki.example"}, "needs --query with a LogQL stream selector"},
		{[]string{"audit", "--dry-run", "--since", "2020-03-17T15:00", "--until", "2020-03-17T13:00", "victorialogs+http://127.0.0.1:9"}, "is not before --until"},
	} {
		_, errOut, code := runMain(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "pw@") {
			t.Errorf("%v: exit %d\n%s\nwant %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestLiveRange(t *testing.T) {
	now := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	cmd := func(since, until string) *cobra.Command {
		c := &cobra.Command{}
		c.Flags().String("since", since, "")
		c.Flags().String("until", until, "")
		return c
	}
	for _, tc := range []struct {
		since, until, want, why string
	}{
		{"", "", "2024-05-02T09:00:00Z..2024-05-02T10:00:00Z", "no --since: the hour before now"},
		{"2h", "", "2024-05-02T08:00:00Z..2024-05-02T10:00:00Z", "--since/--until"},
		{"", "2020-03-17T14:00", "2020-03-17T13:00:00Z..2020-03-17T14:00:00Z", "no --since: the hour before --until"},
		{"2020-03-17T13:59:28.5", "2020-03-17T14:00", "2020-03-17T13:59:28.5Z..2020-03-17T14:00:00Z", "--since/--until"},
	} {
		s, e, why, err := liveRange(cmd(tc.since, tc.until), now)
		got := fmt.Sprintf("%s..%s", s.Format(time.RFC3339Nano), e.Format(time.RFC3339Nano))
		if err != nil || got != tc.want || why != tc.why {
			t.Errorf("--since %q --until %q: %s (%s), %v; want %s (%s)", tc.since, tc.until, got, why, err, tc.want, tc.why)
		}
	}
}
