package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestFollowStreamsFindings: `audit --follow` on logs that grow streams
// every finding once, as soon as the lines that prove it are there, and
// what it has streamed (findings less retractions) is exactly the audit of
// the complete logs.
func TestFollowStreamsFindings(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "logs", "sim-1.9.3-overwrite-debug")
	names := []string{"jobmanager.log", "taskmanager-0.log", "taskmanager-1.log"}
	dir := t.TempDir()
	full := map[string][]byte{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		full[n] = data
		// the first 40 % of each log, cut at a line end
		cut := bytes.LastIndexByte(data[:len(data)*4/10], '\n') + 1
		if err := os.WriteFile(filepath.Join(dir, n), data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	complete := t.TempDir()
	for n, data := range full {
		if err := os.WriteFile(filepath.Join(complete, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := auditFingerprints(t, nil, complete)
	if len(want) == 0 {
		t.Fatal("the complete logs give no finding: pick another incident")
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"audit", "--follow", "--poll", "50ms", dir}, nil, pw, &stderr)
		pw.Close()
	}()
	lines := ndjsonLines(t, pr)
	streamed := map[string]bool{}
	take := func(v map[string]any) {
		switch v["type"] {
		case "finding":
			fp := v["fingerprint"].(string)
			if streamed[fp] {
				t.Errorf("finding %s streamed twice", fp)
			}
			streamed[fp] = true
		case "retracted":
			delete(streamed, v["fingerprint"].(string))
		}
	}
	// what the first 40 % prove, until the stream is quiet
	for quiet := false; !quiet; {
		select {
		case v := <-lines:
			take(v)
		case <-time.After(500 * time.Millisecond):
			quiet = true
		}
	}
	before := len(streamed)
	same := func() bool {
		if len(streamed) != len(want) {
			return false
		}
		for _, fp := range want {
			if !streamed[fp] {
				return false
			}
		}
		return true
	}
	if same() {
		t.Fatal("the first 40 % already prove everything: cut earlier")
	}
	grown := time.Now()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), full[n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var latency time.Duration
	for !same() {
		select {
		case v := <-lines:
			take(v)
			if latency == 0 {
				latency = time.Since(grown)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("after the logs grew, %d of %d findings streamed (stderr: %s)", len(streamed), len(want), stderr.String())
		}
	}
	t.Logf("%d findings before the logs grew, %d after; the first change streamed %v after the write", before, len(streamed), latency)
	cancel()
	var summary bool
	for v := range lines {
		take(v)
		summary = summary || v["type"] == "summary"
	}
	if code := <-done; code != exitFindings {
		t.Errorf("exit code %d, want %d (the incident has errors)", code, exitFindings)
	}
	if !summary {
		t.Error("no summary line after the interrupt")
	}
	var got []string
	for fp := range streamed {
		got = append(got, fp)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("streamed findings differ from the audit of the complete logs:\n got  %v\n want %v", got, want)
	}
}

// TestFollowStdinStreams: `kubectl logs -f ... | slotaudit audit --follow -`.
// What the first part of a TaskManager log proves streams out while the
// pipe is still open; when it closes, the follow ends with the summary and
// the audit's exit code, having streamed exactly the findings of an audit
// of the whole log — whether the pipe is copied into the spool (auto,
// always) or read by the follower (never).
func TestFollowStdinStreams(t *testing.T) {
	for _, mode := range []string{"auto", "always", "never"} {
		t.Run(mode, func(t *testing.T) { followStdinStreams(t, mode) })
	}
}

func followStdinStreams(t *testing.T, foldMode string) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "logs", "sim-1.9.3-overwrite-debug", "taskmanager-0.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := auditFingerprints(t, bytes.NewReader(data), "-")
	if len(want) == 0 {
		t.Fatal("the log gives no finding: pick another")
	}
	stdin, feed := io.Pipe()
	out, lines := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), []string{"audit", "--follow", "--fold", foldMode, "--poll", "20ms", "-"}, stdin, lines, &stderr)
		lines.Close()
	}()
	got := ndjsonLines(t, out)
	// nine tenths of the log: some findings are proven already, while the
	// pipe stays open
	cut := bytes.LastIndexByte(data[:len(data)*9/10], '\n') + 1
	if _, err := feed.Write(data[:cut]); err != nil {
		t.Fatal(err)
	}
	streamed := map[string]bool{}
	select {
	case v := <-got:
		if v["type"] != "finding" {
			t.Fatalf("first line %v, want a finding", v)
		}
		streamed[v["fingerprint"].(string)] = true
	case <-time.After(10 * time.Second):
		t.Fatalf("no finding streamed while the pipe was open (stderr: %s)", stderr.String())
	}
	feed.Write(data[cut:])
	feed.Close()
	var summary bool
	for v := range got {
		switch v["type"] {
		case "finding":
			streamed[v["fingerprint"].(string)] = true
		case "retracted":
			delete(streamed, v["fingerprint"].(string))
		case "summary":
			summary = true
		}
	}
	if code := <-done; code != exitFindings {
		t.Errorf("exit code %d, want %d (stderr: %s)", code, exitFindings, stderr.String())
	}
	if !summary {
		t.Error("no summary line when the pipe closed")
	}
	var fps []string
	for fp := range streamed {
		fps = append(fps, fp)
	}
	sort.Strings(fps)
	sort.Strings(want)
	if strings.Join(fps, " ") != strings.Join(want, " ") {
		t.Errorf("streamed findings differ from the audit of the whole log:\n got  %v\n want %v", fps, want)
	}
}

// auditFingerprints returns the fingerprints of the findings of an audit of
// paths (stdin for "-").
func auditFingerprints(t *testing.T, stdin io.Reader, paths ...string) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	Main(context.Background(), append([]string{"audit", "--format", "ndjson"}, paths...), stdin, &out, &errOut)
	var fps []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		if v["type"] == "finding" {
			fps = append(fps, v["fingerprint"].(string))
		}
	}
	return fps
}

// ndjsonLines decodes the lines r gives, each a JSON object, until it ends.
func ndjsonLines(t *testing.T, r io.Reader) <-chan map[string]any {
	lines := make(chan map[string]any)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Errorf("not JSON: %q", sc.Text())
				continue
			}
			lines <- v
		}
		close(lines)
	}()
	return lines
}

// TestFollowStdinGzip: a gzip stream on standard input is followed as it
// is decompressed, as audit reads it, and when it ends the exit code is
// audit's: 1 for the findings of a complete stream, 5 (partial) for one
// cut short that holds nothing at or above --fail-on.
func TestFollowStdinGzip(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "logs", "legacy-1.8.2-race-debug-tm.log"))
	if err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(data)
	zw.Close()
	for _, tc := range []struct {
		name   string
		stream []byte
		code   int
		status string
	}{
		{"complete", zipped.Bytes(), exitFindings, "complete"},
		{"cut short", zipped.Bytes()[:zipped.Len()/2], exitPartial, "partial"},
	} {
		for _, mode := range []string{"auto", "never"} { // copied decompressed, or read by the follower
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				var out, stderr bytes.Buffer
				code := Main(context.Background(), []string{"audit", "--follow", "--fold", mode, "--poll", "10ms", "-"}, bytes.NewReader(tc.stream), &out, &stderr)
				if code != tc.code {
					t.Errorf("exit code %d, want %d (stderr: %s)", code, tc.code, stderr.String())
				}
				var last map[string]any
				for v := range ndjsonLines(t, &out) {
					last = v
				}
				if last["type"] != "summary" || last["status"] != tc.status {
					t.Errorf("last line %v; want the summary, status %q", last, tc.status)
				}
				if want := auditFingerprints(t, bytes.NewReader(tc.stream), "-"); len(want) == 0 && tc.code == exitFindings {
					t.Error("audit of the stream finds nothing: pick another log")
				}
			})
		}
	}
}
