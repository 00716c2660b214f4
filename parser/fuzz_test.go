package parser

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// seedLogs adds the project's test logs, line by line, to a fuzz corpus.
func seedLogs(f *testing.F, whole bool) {
	files, _ := filepath.Glob("../testdata/logs/*")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if whole {
			f.Add(data)
			continue
		}
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			f.Add(line)
		}
	}
}

// pathSeeds are logs for the paths the test logs do not take: messages
// with a custom build's suffix, the FineGrainedSlotManager's resource
// summary as one record and as a record per line, and exception lines that
// carry an event of their own (a JobManager's failed task, a pasted trace
// with blank lines).
func pathSeeds() [][]byte {
	const head = "2025-03-26 12:06:11,539 INFO  org.apache.flink.runtime.resourcemanager.slotmanager.FineGrainedSlotManager [] - "
	const tm = "2023-11-02 17:05:07,014 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           [] - "
	sum := summaryLines(false)
	var split []string
	for _, l := range summaryLines(true) {
		split = append(split, `{"@timestamp":"2025-03-26T12:06:11.539Z","log.level":"INFO","log.logger":"org.apache.flink.runtime.resourcemanager.slotmanager.FineGrainedSlotManager","message":`+jsonQuote(l)+`}`)
	}
	return [][]byte{
		[]byte(tm + "Allocated slot for " + tA + ". (custom suffix)\n" + tm + "Received task Source: orders (1/2). extra-words\n" +
			tm + "Activate slot " + tA + "0. extra\n" + tm + "Received repeated offer for slot [" + tA + "]. Ignoring. x\n"),
		[]byte(head + strings.Join(sum, "\n") + "\n" + head + "Could not fulfill resource requirements of job " + sumJ1 + ".\n"),
		[]byte(strings.Join(split, "\n") + "\n"),
		[]byte(strings.Join(summaryLines(true)[1:], "\r\n") + "\r\n"),
		[]byte("2021-03-04 10:15:30,101 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph        [] - Source: orders (1/2) (5c2f0e1a9b8d7c6e5f4a3b2c1d0e9f8a) switched from SCHEDULED to FAILED on [unassigned resource].\n" +
			"java.util.concurrent.CompletionException: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: No pooled slot available and request to ResourceManager for new slot failed\n" +
			"\tat java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:292)\n" +
			"Caused by: org.apache.flink.runtime.resourcemanager.exceptions.UnfulfillableSlotRequestException: Could not fulfill slot request " + tA + ". Requested resource profile (ResourceProfile{UNKNOWN}) is unfulfillable.\n" +
			"\n\tat x.y(Z.java:1)\nCaused by: org.apache.flink.runtime.taskexecutor.exceptions.TaskSubmissionException: No task slot allocated for job ID " + tJ + " and allocation ID " + tA + ".\n"),
	}
}

// FuzzReadStream feeds arbitrary bytes through the whole reader: wrapper
// detection, layouts, records, classification. It must never panic, must give what the reference read gives, and must
// account for every line.
func FuzzReadStream(f *testing.F) {
	seedLogs(f, true)
	for _, b := range pathSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read([]string{"-"}, Options{Stdin: bytes.NewReader(data), MaxLine: 4096, MaxRecord: 8192})
		if err != nil {
			return
		}
		for _, in := range res.Inputs {
			if in.RecordLines+in.Stray+in.Framing != in.Lines {
				t.Fatalf("lines not accounted: %+v", in)
			}
		}
		// the shortcuts and the folding of repeated reports change nothing
		ref, err := Read([]string{"-"}, Options{Stdin: bytes.NewReader(data), MaxLine: 4096, MaxRecord: 8192, Reference: true})
		if err != nil {
			t.Fatalf("the reference read fails: %v", err)
		}
		if !reflect.DeepEqual(res.Inputs, ref.Inputs) || !reflect.DeepEqual(res.Diagnostics, ref.Diagnostics) || !reflect.DeepEqual(res.Expanded(), ref.Expanded()) {
			t.Fatalf("the fast read differs from the reference read")
		}
	})
}

// FuzzLayout compiles arbitrary conversion patterns and matches lines.
func FuzzLayout(f *testing.F) {
	f.Add("%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n", []byte("2019-06-24 16:14:09,975 INFO  org.X - y"))
	f.Add("%d %p %m [%c{1} %t]%n", []byte("2021-07-12 03:19:58,603 WARN m [C t]"))
	f.Add("%-4r [%t] %-5p %c %x - %m%n", []byte("30404 [t] DEBUG org.X [] - m"))
	f.Fuzz(func(t *testing.T, pattern string, line []byte) {
		l, err := CompileLayout("fuzz", pattern)
		if err != nil {
			return
		}
		l.match(line)
	})
}

// FuzzJSONRecord decodes arbitrary JSON records.
func FuzzJSONRecord(f *testing.F) {
	seedLogs(f, false)
	for _, c := range jsonRecordCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// The fast decoder gives what decoding the whole object gives.
		got, gotErr := decodeJSONRecord(b)
		want, wantErr := decodeJSONRecordSlow(b)
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%q:\n fast %+v, %v\n slow %+v, %v", b, got, gotErr, want, wantErr)
		}
		// Fed line by line, the balance is at every line what scanning
		// everything up to it says.
		var scan jsonScan
		broken := false
		lines := bytes.Split(b, []byte{'\n'})
		for i, line := range lines {
			if i > 0 {
				broken = broken || scan.feed([]byte{'\n'})
			}
			broken = broken || scan.feed(line)
			prefix := bytes.Join(lines[:i+1], []byte{'\n'})
			wantComplete, wantBroken := jsonBalance(prefix)
			if broken != wantBroken || !broken && scan.complete() != wantComplete {
				t.Fatalf("after line %d of %q: fed gives broken=%t complete=%t, whole scan %t %t", i, b, broken, scan.complete(), wantBroken, wantComplete)
			}
			if broken {
				break
			}
		}
	})
}

// FuzzFlinkHeader: whenever the fast decoder of Flink's layout decides, the
// general matcher agrees field by field.
func FuzzFlinkHeader(f *testing.F) {
	seedLogs(f, false)
	f.Add([]byte("2019-06-24 16:14:09,975 INFO  org.X [] - y"))
	f.Add([]byte("16:14:09,975 DEBUG org.X                 - y"))
	f.Add([]byte("5020-02-11 09:00:14,748 DEBUG org.X - a year past int64 nanoseconds"))
	// lines of one minute after another: the seconds alone are decoded
	f.Add([]byte("2019-06-24 16:14:09,975 INFO  org.X [] - y\n2019-06-24 16:14:10,001 INFO  org.X [] - z\n" +
		"2019-06-24 16:14:61,001 INFO  org.X [] - bad second\n2019-06-24 16:14:1x,001 INFO  org.X [] - z\n" +
		"2019-06-24 16:14:11.001 INFO  org.X [] - dot\n2019-06-24 16:14:11,001WARN org.X [] - no blank\n2019-06-24 16:14"))
	f.Add([]byte("5020-02-11 09:00:14,748 DEBUG org.X - far\n5020-02-11 09:00:15,000 DEBUG org.X - far again"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"flink", "flink-time"} {
			l := builtinLayout(name)
			// one decoder for every line: what it keeps from a line (the
			// day, the minute) must not change how it reads the next
			fast := newFlinkHeader(l)
			for _, line := range bytes.Split(data, []byte("\n")) {
				h, ok, decided := fast.match(line)
				if !decided {
					continue
				}
				want, wantOK := l.match(line)
				if ok != wantOK || !sameHeader(h, want) {
					t.Fatalf("%s: %q: fast %v %+v, general %v %+v", name, line, ok, h, wantOK, want)
				}
			}
		}
	})
}

func sameHeader(a, b header) bool {
	return a.time == b.time && bytes.Equal(a.level, b.level) && bytes.Equal(a.logger, b.logger) &&
		bytes.Equal(a.thread, b.thread) && bytes.Equal(a.msg, b.msg) && a.ndcSeen == b.ndcSeen
}

// FuzzChunkedRead: a file read in pieces (on several cores) gives what a
// sequential read gives, whatever the bytes. Seeds are test logs repeated
// past 256 lines, so mutations keep the shape that gets a file cut.
func FuzzChunkedRead(f *testing.F) {
	for _, name := range []string{"logs/legacy-1.8.2-race-debug-tm.log", "logs/legacy-1.6.2-race-jm.log", "logs/fixed-1.11.3-k8s-restart-tm.log", "logs/midstory-1.14-rotated-tm.log",
		// JSON is read in pieces too: one object a line, pretty-printed, cut off
		"logs/1.19.1-jsonlayout-tm.json", "logs/1.11.2-jsonlayout-pretty-tm.json", "hostile/json-cut-and-wrong-types.json",
		// other layouts whose records carry their time
		"logs/1.14.3-logback-tm.log", "logs/1.17-relative-tm.log",
		// container runtimes' wrappers
		"logs/2.1.0-cri-tm.log", "logs/2.0.0-logstash-docker-tm.log"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Repeat(data, 300/max(1, bytes.Count(data, []byte("\n")))+2))
	}
	// exception lines whose line numbers a piece shifts, and summaries
	for _, data := range pathSeeds() {
		f.Add(bytes.Repeat(data, 300/max(1, bytes.Count(data, []byte("\n")))+2))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return // the mutator grows inputs; past this a run takes seconds and finds nothing new
		}
		p := filepath.Join(dir, "in.log")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ref, refErr := Read([]string{p}, Options{Reference: true, MaxLine: 4096, MaxRecord: 8192})
		// one worker: coverage that depends on scheduling would make every
		// input look new to the fuzzer
		got, err := Read([]string{p}, Options{ChunkSize: 1 << 10, MaxLine: 4096, MaxRecord: 8192, Workers: 1})
		if (err == nil) != (refErr == nil) {
			t.Fatalf("error %v, sequential %v", err, refErr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got.Inputs, ref.Inputs) || !reflect.DeepEqual(got.Diagnostics, ref.Diagnostics) || !reflect.DeepEqual(got.Expanded(), ref.Expanded()) {
			t.Fatalf("read in pieces differs from the sequential read")
		}
		// kept: the events of half the allocations (Options.Keep)
		keep := func(ev *flinklog.Event) bool { return ev.Alloc.IsSet() && ev.Alloc.Bytes()[0]&1 == 0 }
		kept, err := Read([]string{p}, Options{ChunkSize: 1 << 10, MaxLine: 4096, MaxRecord: 8192, Workers: 1, Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(kept.Inputs, ref.Inputs) || !reflect.DeepEqual(kept.Diagnostics, ref.Diagnostics) || !reflect.DeepEqual(only(kept, keep), only(ref, keep)) {
			t.Fatalf("a read that keeps some allocations' events differs from the sequential read")
		}
		// read again after that read: the events of the read in pieces, or
		// refused
		eachReadAgain(t, kept, Options{MaxLine: 4096, MaxRecord: 8192}, func(in InputSummary, again []flinklog.Event) {
			if want := eventsOf(got, in.File); !reflect.DeepEqual(again, want) && len(again)+len(want) > 0 {
				t.Fatalf("read again: %d events, the read in pieces %d, or they differ", len(again), len(want))
			}
		})
		// and after that read spilled its events: decoded, the same
		sp, err := NewSpill(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		spilled, err := Read([]string{p}, Options{ChunkSize: 1 << 10, MaxLine: 4096, MaxRecord: 8192, Workers: 1, Keep: keep, Spill: sp})
		if err != nil {
			t.Fatal(err)
		}
		eachReadAgain(t, spilled, Options{MaxLine: 4096, MaxRecord: 8192}, func(in InputSummary, again []flinklog.Event) {
			if want := eventsOf(got, in.File); !reflect.DeepEqual(again, want) && len(again)+len(want) > 0 {
				t.Fatalf("read again from the spill: %d events, the read in pieces %d, or they differ", len(again), len(want))
			}
		})
	})
}

// fastTextHead is detectLines records in Flink's layout: after them a
// stream's layout is decided, and what follows is read by the text hot
// path (feedBlock), line reader block by block.
func fastTextHead(dated bool) []byte {
	var b bytes.Buffer
	for i := range detectLines {
		ts := fmt.Sprintf("2021-03-14 09:%02d:%02d,%03d ", i/60%60, i%60, i%1000)
		if !dated {
			ts = ts[11:]
		}
		fmt.Fprintf(&b, "%sDEBUG org.apache.kafka.clients.consumer.internals.Fetcher           - [Consumer clientId=consumer-3] Fetch %d\n", ts, i)
	}
	return b.Bytes()
}

// FuzzFastText: whatever follows a head that decides Flink's layout, the
// text hot path reads what the reference read reads (events, positions,
// texts, counts, summaries, diagnostics), with lines and records cut at
// small limits, and accounts for every line.
func FuzzFastText(f *testing.F) {
	seedLogs(f, true)
	for _, b := range pathSeeds() {
		f.Add(b)
	}
	f.Add([]byte("2021-03-14 10:00:00,000 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           [] - Received task Source (1/2).\n\tat x\n\x1b[31mred\x1b[0m\n{\"a\":1}\n"))
	heads := [][]byte{fastTextHead(true), fastTextHead(false)}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, head := range heads {
			in := append(append([]byte(nil), head...), data...)
			opts := func(ref bool) Options {
				return Options{Stdin: bytes.NewReader(in), MaxLine: 300, MaxRecord: 600, Reference: ref}
			}
			got, err := Read([]string{"-"}, opts(false))
			if err != nil {
				return
			}
			for _, sum := range got.Inputs {
				if sum.RecordLines+sum.Stray+sum.Framing != sum.Lines {
					t.Fatalf("lines not accounted: %+v", sum)
				}
			}
			ref, err := Read([]string{"-"}, opts(true))
			if err != nil {
				t.Fatalf("the reference read fails: %v", err)
			}
			if !reflect.DeepEqual(got.Inputs, ref.Inputs) {
				t.Fatalf("summaries differ:\n fast %+v\n  ref %+v", got.Inputs, ref.Inputs)
			}
			if !reflect.DeepEqual(got.Diagnostics, ref.Diagnostics) {
				t.Fatalf("diagnostics differ:\n fast %+v\n  ref %+v", got.Diagnostics, ref.Diagnostics)
			}
			if !reflect.DeepEqual(got.Expanded(), ref.Expanded()) {
				t.Fatalf("events differ")
			}
		}
	})
}
