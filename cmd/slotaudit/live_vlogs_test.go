package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/logstore/vlogstest"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/sim"
)

// vlogsBinary finds the victoria-logs binary, builds it when
// SLOTAUDIT_VLOGS_REQUIRED is set and it is missing, and skips the test
// otherwise (and under -short).
func vlogsBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a VictoriaLogs server")
	}
	bin, err := vlogstest.Binary()
	if err == nil {
		return bin
	}
	if os.Getenv(vlogstest.RequiredEnv) == "" {
		t.Skipf("%v; set %s=1 to build it and run this test", err, vlogstest.RequiredEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if bin, err = vlogstest.Build(ctx); err != nil {
		t.Fatal(err)
	}
	return bin
}

// vlogsIncident is what TestVictoriaLogsEndToEnd loads: the streams, and
// the same records as files (one a stream) for the audit to compare with.
type vlogsIncident struct {
	viaLoki, viaBulk []vlogstest.Stream
	dir              string
	records, pushed  int // all the records, those holding a pushdown word
}

// loadIncident reads the bundled race incident of 1.8.2 (TaskManager and
// JobManager, for the Loki push API) and the heartbeat timeout of the
// 1.12.7 simulation (for the Elasticsearch bulk API), each record a
// shipper's record (multi-line), with noise records that hold no pushdown
// word, and writes the same records to files.
func loadIncident(t *testing.T) *vlogsIncident {
	t.Helper()
	logs := filepath.Join("..", "..", "testdata", "logs")
	inc := &vlogsIncident{dir: t.TempDir()}
	add := func(file, pod string, bulk bool) {
		b, err := os.ReadFile(filepath.Join(logs, file))
		if err != nil {
			t.Fatal(err)
		}
		recs := vlogstest.AddNoise(vlogstest.Records(string(b), flinklog.LooksLikeExceptionHeader), 5)
		timed, err := vlogstest.Timed(recs)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var text strings.Builder
		for _, r := range timed {
			text.WriteString(r.Msg + "\n")
			inc.records++
			if flinklog.MatchesPushdown(r.Msg) {
				inc.pushed++
			}
		}
		if err := os.WriteFile(filepath.Join(inc.dir, pod+".log"), []byte(text.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		st := vlogstest.Stream{Labels: map[string]string{"namespace": "flink", "pod": pod, "container": "flink-main-container"}, Records: timed}
		if bulk {
			inc.viaBulk = append(inc.viaBulk, st)
		} else {
			inc.viaLoki = append(inc.viaLoki, st)
		}
	}
	add("legacy-1.8.2-race-debug-tm.log", "flink-taskmanager-0", false)
	add("legacy-1.8.2-race-debug-jm.log", "flink-jobmanager-0", false)
	sim := "sim-1.12.7-heartbeat-timeout"
	for _, f := range []string{"jobmanager", "taskmanager-0", "taskmanager-1"} {
		add(filepath.Join(sim, f+".log"), "sim-"+f, true)
	}
	return inc
}

// infoCluster is a faulty 1.12.7 cluster of 12 TaskManagers logged at
// INFO, a stream a log (13: more
// than a read of the whole export for each may read), in the namespace
// flink-info.
func infoCluster(t *testing.T) []vlogstest.Stream {
	t.Helper()
	cfg := sim.Faulty("1.12.7", 7)
	cfg.TaskManagers = 12
	res, err := sim.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []vlogstest.Stream
	for _, name := range slices.Sorted(maps.Keys(res.Files)) {
		timed, err := vlogstest.Timed(vlogstest.Records(res.Files[name], flinklog.LooksLikeExceptionHeader))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pod := strings.TrimSuffix(name, ".log")
		out = append(out, vlogstest.Stream{Labels: map[string]string{"namespace": "flink-info", "pod": pod, "container": "flink-main-container"}, Records: timed})
	}
	return out
}

// auditJSON is the part of `audit --format json` this test compares.
type auditJSON struct {
	Inputs []struct {
		Path    string `json:"path"`
		Stream  string `json:"stream"`
		Records int    `json:"records"`
		Fetched *struct {
			Records, Matched, Selected int64
		} `json:"fetched"`
	} `json:"inputs"`
	Findings []struct {
		Rule         string `json:"rule"`
		Fingerprint  string `json:"fingerprint"`
		AllocationID string `json:"allocation_id"`
		JobID        string `json:"job_id"`
		ResourceID   string `json:"resource_id"`
		Message      string `json:"message"`
		Evidence     []struct {
			Text string `json:"text"`
		} `json:"evidence"`
	} `json:"findings"`
}

func runAudit(t *testing.T, args ...string) (auditJSON, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"audit", "--format", "json"}, args...), strings.NewReader(""), &stdout, &stderr)
	var doc auditJSON
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("audit %v: exit %d, stdout is not JSON (%v)\nstderr:\n%s", args, code, err, stderr.String())
	}
	return doc, stderr.String(), code
}

// findingsOf is each finding as its rule, fingerprint, message and the
// text of its evidence, sorted.
// findingsOf renders an audit's findings for comparison across inputs
// with different names (a source URL, file paths): a finding about an
// AllocationID by its fingerprint; one about no allocation (its
// fingerprint names the input: rules.Pass.Report) by rule, job and
// TaskManager; places a message quotes ("(path:line)") as PLACE. The
// evidence text must be the same either way.
func findingsOf(doc auditJSON) []string {
	var out []string
	for _, f := range doc.Findings {
		var ev []string
		for _, e := range f.Evidence {
			ev = append(ev, e.Text)
		}
		id := f.Fingerprint
		if f.AllocationID == "" {
			id = "job " + f.JobID + " tm " + f.ResourceID
		}
		msg := quotedPlace.ReplaceAllString(f.Message, "(PLACE)")
		out = append(out, f.Rule+" "+id+" "+msg+"\n  "+strings.Join(ev, "\n  "))
	}
	slices.Sort(out)
	return out
}

// TestVictoriaLogsEndToEnd loads the bundled incidents into a real
// VictoriaLogs through its Loki push and Elasticsearch bulk APIs, then
// runs `slotaudit audit victorialogs+http://127.0.0.1:PORT` and the same
// audit on the files. The fetch returns exactly the records that hold a
// pushdown word (fewer than the files hold: the noise stays in the
// store), and the store's counts agree. The findings, their fingerprints
// (see findingsOf) and evidence text are those of the files.
func TestVictoriaLogsEndToEnd(t *testing.T) {
	bin := vlogsBinary(t)
	began := time.Now()
	srv, err := vlogstest.Start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	inc := loadIncident(t)
	if err := srv.PushLoki(inc.viaLoki); err != nil {
		t.Fatal(err)
	}
	if err := srv.PushBulk(inc.viaBulk); err != nil {
		t.Fatal(err)
	}
	if err := srv.PushLoki(infoCluster(t)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Flush(); err != nil {
		t.Fatal(err)
	}
	source := "victorialogs+" + srv.URL
	live, stderr, code := runAudit(t, source, "--query", `{namespace="flink"}`, "--since", "2020-01-01T00:00", "--until", "2022-01-01T00:00")
	files, _, fileCode := runAudit(t, inc.dir)
	t.Logf("live audit: exit %d\n%s", code, stderr)

	if len(live.Inputs) == 0 {
		t.Fatalf("no input in the live audit")
	}
	var got *struct{ Records, Matched, Selected int64 }
	for _, in := range live.Inputs {
		if in.Path != source {
			t.Errorf("input %q, want it named %s", in.Path, source)
		}
		if in.Fetched == nil {
			t.Fatalf("input %s#%s says nothing of the fetch", in.Path, in.Stream)
		}
		got = in.Fetched
	}
	if got.Records != int64(inc.pushed) || got.Matched != got.Records || got.Selected != int64(inc.records) {
		t.Errorf("fetched %+v; want the %d records that hold a pushdown word, of the %d loaded", *got, inc.pushed, inc.records)
	}
	if got.Records >= int64(inc.records) {
		t.Errorf("the pushdown left nothing out: %d of %d", got.Records, inc.records)
	}
	if !strings.Contains(stderr, "fetched "+itoa(inc.pushed)+" record(s) of "+itoa(inc.pushed)+" the store matched; the query selects "+itoa(inc.records)) {
		t.Errorf("stderr does not say what was fetched:\n%s", stderr)
	}
	fileRecords := 0
	for _, in := range files.Inputs {
		fileRecords += in.Records
	}
	if int64(fileRecords) <= got.Records {
		t.Errorf("the files hold %d records and the store sent %d: the pushdown is not visible", fileRecords, got.Records)
	}
	if len(files.Findings) == 0 || fileCode != exitFindings {
		t.Fatalf("the files' audit found nothing (exit %d)", fileCode)
	}
	if a, b := findingsOf(live), findingsOf(files); code != fileCode || !slices.Equal(a, b) {
		t.Errorf("the live audit's findings differ from the files':\nlive:\n%s\nfiles:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	// A fold reads the fetched records again: they are fetched before the
	// fold decides and kept until the command ends. The simulated 1.12.7
	// cluster alone (INFO; 13
	// streams, each read again from the first read's spill) folds, with
	// the batch's findings and inputs.
	sim := []string{source, "--query", `{namespace="flink-info"}`, "--since", "2020-01-01T00:00", "--until", "2022-01-01T00:00"}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	batch, _, batchCode := runAudit(t, append([]string{"--fold", "never"}, sim...)...)
	folded, foldLog, foldCode := runAudit(t, append([]string{"--fold", "always", "--log-level", "debug"}, sim...)...)
	if !strings.Contains(foldLog, "model folded") {
		t.Errorf("the fetch was not folded (--fold always): exit %d, %+v\n%s", foldCode, folded.Inputs, foldLog)
	}
	if len(folded.Inputs) <= parser.MaxLogsReadAgain {
		t.Errorf("the fetch holds %d logs, want more than %d", len(folded.Inputs), parser.MaxLogsReadAgain)
	}
	if a, b := findingsOf(folded), findingsOf(batch); len(b) == 0 || foldCode != batchCode || !slices.Equal(a, b) || len(folded.Inputs) != len(batch.Inputs) {
		t.Errorf("the fetch folded: exit %d, %d inputs, findings\n%s\nthe batch: exit %d, %d inputs,\n%s", foldCode, len(folded.Inputs), strings.Join(a, "\n"), batchCode, len(batch.Inputs), strings.Join(b, "\n"))
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the fetches left %d entries in TMPDIR", len(left))
	}
	for _, in := range folded.Inputs {
		if in.Path != source || in.Fetched == nil {
			t.Errorf("the fold's input %q (fetched %v), want %s and what was fetched", in.Path, in.Fetched, source)
		}
	}
	t.Logf("VictoriaLogs %s: started, loaded %d records, fetched %d, audited twice in %s", vlogstest.Version, inc.records, got.Records, time.Since(began).Round(time.Millisecond))
}

func itoa(n int) string { return strconv.Itoa(n) }

// quotedPlace is a path:line a message quotes in parentheses.
var quotedPlace = regexp.MustCompile(`\([^()]*:\d+\)`)
