package logstore

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSource(t *testing.T) {
	for _, tc := range []struct {
		arg, kind, base, index, timeField, msgField string
	}{
		{"victorialogs+http://127.0.0.1:9428", "victorialogs", "http://127.0.0.1:9428", "", "", ""},
		{"VictoriaLogs+https://logs.example/vl/", "victorialogs", "https://logs.example/vl", "", "", ""},
		{"loki+https://loki.example", "loki", "https://loki.example", "", "", ""},
		{"loki+http://loki:3100/", "loki", "http://loki:3100", "", "", ""},
		{"opensearch+https://os.example:9200/logs-flink", "opensearch", "https://os.example:9200", "logs-flink", "@timestamp", "message"},
		{"elasticsearch+https://es.example/proxy/logs-*?time_field=ts&message_field=log", "elasticsearch", "https://es.example/proxy", "logs-*", "ts", "log"},
	} {
		s, err := ParseSource(tc.arg)
		if err != nil {
			t.Errorf("%s: %v", tc.arg, err)
			continue
		}
		if string(s.Kind) != tc.kind || s.Base.String() != tc.base || s.Index != tc.index || s.TimeField != tc.timeField || s.MessageField != tc.msgField || s.Name != tc.arg {
			t.Errorf("%s: %+v (base %s)", tc.arg, s, s.Base)
		}
		if !IsSource(tc.arg) {
			t.Errorf("IsSource(%s) = false", tc.arg)
		}
	}
	for _, tc := range []struct{ arg, want string }{
		{"loki+https://admin:hunter2@loki.example", "credentials do not go in the PATH"},
		{"opensearch+https://os.example", "no index"},
		{"victorialogs+http://vl:9428?account=1", `unknown parameter "account"`},
		{"opensearch+https://os.example/i?sort=x", `unknown parameter "sort"`},
		{"loki+https://", "want victorialogs+http://HOST:9428"},
	} {
		_, err := ParseSource(tc.arg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.arg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	for _, arg := range []string{"logs/loki+http.log", "loki+ftp://x", "victorialogs:9428", "-", "http://vl:9428"} {
		if IsSource(arg) {
			t.Errorf("IsSource(%q) = true", arg)
		}
	}
}

func TestCredentialsFor(t *testing.T) {
	dir := t.TempDir()
	netrc := filepath.Join(dir, "netrc")
	if err := os.WriteFile(netrc, []byte(`# a comment
machine other.example login o password op
macdef init
cd /pub

machine loki.example
  login flink password s3cret account ignored
default login anon password anonpw
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		host string
		env  func(string) string
		want Credentials
		err  string
	}{
		{"loki.example", env("SLOTAUDIT_TOKEN", "tok", "NETRC", netrc), Credentials{Token: "tok", From: "SLOTAUDIT_TOKEN"}, ""},
		{"loki.example", env("SLOTAUDIT_USER", "u", "SLOTAUDIT_PASSWORD", "p"), Credentials{User: "u", Password: "p", From: "SLOTAUDIT_USER and SLOTAUDIT_PASSWORD"}, ""},
		{"loki.example", env("SLOTAUDIT_USER", "u"), Credentials{}, "go together"},
		{"LOKI.example", env("NETRC", netrc), Credentials{User: "flink", Password: "s3cret", From: netrc}, ""},
		{"vl.example", env("NETRC", netrc), Credentials{User: "anon", Password: "anonpw", From: netrc}, ""},
		{"loki.example", env("HOME", dir), Credentials{}, ""}, // no ~/.netrc: none
		{"loki.example", env("NETRC", filepath.Join(dir, "missing")), Credentials{}, "netrc"},
	} {
		got, err := CredentialsFor(tc.host, tc.env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.host, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.host, got, err, tc.want)
		}
		if d := got.Describe(); strings.Contains(d, "s3cret") || strings.Contains(d, "tok)") && got.Token != "" && strings.Contains(d, got.Token+" ") {
			t.Errorf("Describe shows the secret: %s", d)
		}
	}
	if _, _, _, err := netrcLookup("machine", "x"); err == nil {
		t.Errorf("a machine without a name parses")
	}
}

// TestPlan: what --dry-run prints for each kind: the requests a fetch
// sends first, with the pushdown and the time range.
func TestPlan(t *testing.T) {
	q := Query{Start: base, End: base.Add(time.Hour), Words: []string{"slot", "version"}}
	vl, _ := ParseSource("victorialogs+http://127.0.0.1:9428")
	reqs, err := Plan(vl, q)
	if err != nil || len(reqs) != 3 {
		t.Fatalf("%v %v", reqs, err)
	}
	form, _ := url.ParseQuery(reqs[2].Body)
	if reqs[2].Method != "POST" || reqs[2].URL != "http://127.0.0.1:9428/select/logsql/query" ||
		form.Get("query") != `(*) ~"(?i)(slot|version)" | sort by (_time)` || form.Get("start") != "2020-03-17T13:59:00Z" || form.Get("end") != "2020-03-17T14:59:00Z" {
		t.Errorf("VictoriaLogs: %+v", reqs[2])
	}

	lk, _ := ParseSource("loki+https://loki.example")
	q.Selector = `{namespace="flink"}`
	reqs, err = Plan(lk, q)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("%v %v", reqs, err)
	}
	u, _ := url.Parse(reqs[1].URL)
	v := u.Query()
	if reqs[1].Method != "GET" || u.Path != "/loki/api/v1/query_range" || v.Get("query") != `{namespace="flink"} |~ "(?i)(slot|version)"` ||
		v.Get("limit") != "5000" || v.Get("direction") != "forward" || v.Get("start") != "1584453540000000000" || v.Get("end") != "1584457140000000000" {
		t.Errorf("Loki: %s", reqs[1].URL)
	}
	if u, _ := url.Parse(reqs[0].URL); u.Path != "/loki/api/v1/index/stats" || u.Query().Get("query") != `{namespace="flink"}` {
		t.Errorf("Loki stats: %s", reqs[0].URL)
	}

	os, _ := ParseSource("opensearch+https://os.example/logs-flink")
	q.Selector = "kubernetes.namespace:flink"
	reqs, err = Plan(os, q)
	if err != nil || len(reqs) != 4 {
		t.Fatalf("%v %v", reqs, err)
	}
	if reqs[1].Method != "POST" || reqs[1].URL != "https://os.example/logs-flink/_search/point_in_time?keep_alive=5m" {
		t.Errorf("PIT: %+v", reqs[1])
	}
	if reqs[2].URL != "https://os.example/_search" || !strings.Contains(reqs[2].Body, `"_shard_doc"`) || !strings.Contains(reqs[2].Body, `"gte": "2020-03-17T13:59:00Z"`) {
		t.Errorf("search: %s", reqs[2])
	}
	if reqs[3].Method != "DELETE" || reqs[3].URL != "https://os.example/_search/point_in_time" {
		t.Errorf("close: %+v", reqs[3])
	}
	es, _ := ParseSource("elasticsearch+https://es.example/logs-flink")
	reqs, _ = Plan(es, q)
	if reqs[1].URL != "https://es.example/logs-flink/_pit?keep_alive=5m" || reqs[3].URL != "https://es.example/_pit" {
		t.Errorf("Elasticsearch PIT: %s, %s", reqs[1].URL, reqs[3].URL)
	}

	q.End = q.Start
	if _, err := Plan(vl, q); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty range: %v", err)
	}
}
