package parser

import (
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestReadAgainReadsYARNStretches: a YARN aggregation of many logs (a
// session cluster's containers, each with its .log, .out and .err) is read
// again log by log from each log's stretch of the file alone — every log,
// however many, with the read's events, and all the stretches together
// about the file (not the file once a log) — in the format with "End of LogType" lines and in
// the older one without, read whole and in shards. A log whose lines lie
// in two stretches (its LogType came twice) is read whole while the file
// holds few logs and refused beyond; a gzipped file is read whole, and
// refused beyond MaxLogsReadAgain.
func TestReadAgainReadsYARNStretches(t *testing.T) {
	src, err := os.ReadFile("../testdata/logs/1.12.1-yarn-aggregated.log")
	if err != nil {
		t.Fatal(err)
	}
	// the containers of the bundled file, as many times as asked, their
	// IDs renumbered
	containers := regexp.MustCompile(`(?m)^Container: `).Split(string(src), -1)
	head, body := containers[0], containers[1:]
	cid := regexp.MustCompile(`container_e03_1614000000000_0007_01_0000(\d\d)`)
	build := func(copies int, endLines bool, split bool) string {
		var b strings.Builder
		b.WriteString(head)
		for c := range copies {
			for _, part := range body {
				part = cid.ReplaceAllStringFunc(part, func(id string) string {
					var n int
					fmt.Sscanf(id[len(id)-2:], "%d", &n)
					return fmt.Sprintf("container_e03_1614000000000_0007_01_%06d", c*10+n)
				})
				if !endLines {
					part = regexp.MustCompile(`(?m)^End of LogType:.*\n`).ReplaceAllString(part, "")
				}
				b.WriteString("Container: " + part)
			}
		}
		if split {
			// the first container's jobmanager.log again, after the others
			b.WriteString("Container: container_e03_1614000000000_0007_01_000001 on master-1_45454\nLogAggregationType: AGGREGATED\n=====\nLogType:jobmanager.log\nLogLength:120\nLogContents:\n" +
				"2021-02-22 14:05:00,001 INFO  org.apache.flink.runtime.entrypoint.ClusterEntrypoint        [] - RECEIVED SIGNAL 15: SIGTERM. Shutting down as requested.\n")
		}
		return b.String()
	}
	var mu sync.Mutex
	read := map[string]int64{}
	stretchRead = func(path string, from, to int64) {
		mu.Lock()
		defer mu.Unlock()
		read[path] += to - from
	}
	defer func() { stretchRead = nil }()
	for _, tc := range []struct {
		name            string
		copies          int
		endLines, split bool
		gz              bool
	}{
		{"one cluster", 1, true, false, false},
		{"ten clusters", 10, true, false, false},
		{"ten clusters, no end lines", 10, false, false, false},
		{"one cluster, a log split", 1, true, true, false},
		{"ten clusters, a log split", 10, true, true, false},
		{"ten clusters gzipped", 10, true, false, true},
	} {
		for _, chunk := range []int{0, 4 << 10} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, chunk), func(t *testing.T) {
				text := build(tc.copies, tc.endLines, tc.split)
				path := filepath.Join(t.TempDir(), "application.log")
				if tc.gz {
					path += ".gz"
					f, err := os.Create(path)
					if err != nil {
						t.Fatal(err)
					}
					zw := gzip.NewWriter(f)
					zw.Write([]byte(text))
					zw.Close()
					f.Close()
				} else if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				full, err := Read([]string{path}, Options{ChunkSize: chunk})
				if err != nil {
					t.Fatal(err)
				}
				logs := len(full.Inputs)
				if want := strings.Count(string(src), "\nLogType:") * tc.copies; logs != want {
					t.Fatalf("%d logs read, want %d", logs, want)
				}
				first, err := Read([]string{path}, Options{ChunkSize: chunk, Keep: func(*flinklog.Event) bool { return false }})
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				clear(read)
				mu.Unlock()
				again := 0
				for k, in := range first.Inputs {
					splitLog := tc.split && strings.HasSuffix(in.Stream, "_000001/jobmanager.log")
					ir, err := first.ReadAgain(k, Options{})
					if logs > MaxLogsReadAgain && (tc.gz || splitLog) {
						if !errors.Is(err, ErrNotRereadable) || !strings.Contains(err.Error(), "logs of a file") {
							t.Fatalf("%s: %v, want it refused", in.Stream, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s: %v", in.Stream, err)
					}
					got, err := drain(ir)
					if err != nil {
						t.Fatalf("%s: %v", in.Stream, err)
					}
					sameAsRead(t, got, full, in)
					again++
				}
				info, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case tc.gz && read[path] != 0:
					t.Errorf("a gzipped file read by stretches (%d bytes)", read[path])
				case !tc.gz && read[path] > info.Size()*5/4:
					// (an empty log's stretch and the next one's share the
					// framing lines the next one's summary counts)
					t.Errorf("the stretches read again are %d bytes, the file %d", read[path], info.Size())
				case !tc.gz && read[path] == 0:
					t.Errorf("no stretch read again")
				}
				if again == 0 && !(tc.gz && logs > MaxLogsReadAgain) {
					t.Error("no log read again")
				}
			})
		}
	}
}

// TestReadAgainStretchesOfEveryShape: YARN aggregations and kubectl files
// of many logs in the shapes real ones take — CRLF line ends, a byte-order
// mark, lines longer than the line limit (cut), empty logs, a log whose
// LogType comes twice in a row, framing before the first container and
// after the last, the old format without "End of LogType" lines, pods
// with --timestamps, lines of no pod between — each log read again (from
// its stretch where it has one) gives the read's events, whole and in
// shards.
func TestReadAgainStretchesOfEveryShape(t *testing.T) {
	src, err := os.ReadFile("../testdata/logs/legacy-1.8.2-race-debug-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(src), "\n"), "\n")
	long := strings.Repeat("x", 5000)
	yarn := func(crlf, bom, endLines, twice bool) string {
		var b strings.Builder
		if bom {
			b.WriteString("\xef\xbb\xbf")
		}
		b.WriteString("21/03/14 09:00:00 INFO client.RMProxy: Connecting to ResourceManager\n\n")
		for c := range 12 {
			for _, lt := range []string{"taskmanager.log", "taskmanager.out", "taskmanager.err"} {
				fmt.Fprintf(&b, "Container: container_e03_1614000000000_0007_01_%06d on host-%d_45454\nLogAggregationType: AGGREGATED\n=====\n", c+1, c)
				reps := 1
				if twice && c == 3 && lt == "taskmanager.log" {
					reps = 2 // (the same log's LogType twice, nothing between)
				}
				for range reps {
					fmt.Fprintf(&b, "LogType:%s\nLogLength:1\nLogContents:\n", lt)
				}
				switch lt {
				case "taskmanager.log":
					for _, l := range lines[:20+c] {
						b.WriteString(l)
					}
					b.WriteString("\n")
				case "taskmanager.err":
					b.WriteString(long + "\n")
				}
				if endLines {
					fmt.Fprintf(&b, "End of LogType:%s\n*****\n\n", lt)
				}
			}
		}
		b.WriteString("\n\n*****\n")
		out := b.String()
		if crlf {
			out = strings.ReplaceAll(out, "\n", "\r\n")
		}
		return out
	}
	kubectl := func(ts bool) string {
		var b strings.Builder
		for p := range 12 {
			for i, l := range lines[:30+p] {
				fmt.Fprintf(&b, "[pod/flink-taskmanager-%d/flink-main-container] ", p)
				if ts {
					fmt.Fprintf(&b, "2021-03-14T09:00:%02d.000000000Z ", i%60)
				}
				b.WriteString(l)
				if i == 10 {
					b.WriteString("a line of no pod\n")
				}
			}
			fmt.Fprintf(&b, "[pod/flink-taskmanager-%d/istio-proxy] envoy ready\n", p)
		}
		return b.String()
	}
	shapes := map[string]string{
		"yarn":                 yarn(false, false, true, false),
		"yarn crlf":            yarn(true, false, true, false),
		"yarn bom":             yarn(false, true, true, false),
		"yarn old format":      yarn(false, false, false, false),
		"yarn logtype twice":   yarn(false, false, true, true),
		"kubectl":              kubectl(false),
		"kubectl --timestamps": kubectl(true),
	}
	for name, text := range shapes {
		for _, chunk := range []int{0, 4 << 10} {
			t.Run(fmt.Sprintf("%s/%d", name, chunk), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "all.log")
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				opts := Options{ChunkSize: chunk, MaxLine: 4096}
				full, err := Read([]string{path}, opts)
				if err != nil {
					t.Fatal(err)
				}
				if len(full.Inputs) <= MaxLogsReadAgain {
					t.Fatalf("%d logs in the file", len(full.Inputs))
				}
				first, err := Read([]string{path}, Options{ChunkSize: chunk, MaxLine: 4096, Keep: func(*flinklog.Event) bool { return false }})
				if err != nil {
					t.Fatal(err)
				}
				again, events := 0, 0
				eachReadAgain(t, first, Options{MaxLine: 4096}, func(in InputSummary, evs []flinklog.Event) {
					sameAsRead(t, evs, full, in)
					again++
					events += len(evs)
				})
				if again < len(full.Inputs)-1 || events == 0 {
					t.Fatalf("%d of %d logs read again (%d events)", again, len(full.Inputs), events)
				}
			})
		}
	}
}
