package parser

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestChunkedReadEqualsSequential: a large file read in pieces on several
// cores gives exactly what one sequential read gives — events, line
// numbers, summary, diagnostics — for every test log (repeated until it is
// large), JSON ones included, and the ones that must fall back to a
// sequential read (time-only records in a later piece, a pretty-printed
// JSON object open at a cut, wrappers).
func TestChunkedReadEqualsSequential(t *testing.T) {
	var files []string
	for _, dir := range []string{"../testdata/logs", "../testdata/hostile"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, m...)
	}
	chunked := 0
	for _, src := range files {
		data, err := os.ReadFile(src)
		if err != nil || len(data) == 0 {
			continue // directories, empty files
		}
		t.Run(filepath.Base(src), func(t *testing.T) {
			big := bytes.Repeat(data, 400/max(1, bytes.Count(data, []byte("\n")))+2)
			for len(big) < 64<<10 {
				big = append(big, data...)
			}
			p := filepath.Join(t.TempDir(), filepath.Base(src))
			if err := os.WriteFile(p, big, 0o644); err != nil {
				t.Fatal(err)
			}
			ref, refErr := Read([]string{p}, Options{Reference: true})
			opts := Options{ChunkSize: 4 << 10}
			got, err := Read([]string{p}, opts)
			if refErr != nil || err != nil {
				if (refErr == nil) != (err == nil) {
					t.Fatalf("error %v, sequential %v", err, refErr)
				}
				return
			}
			opts.MaxLine, opts.MaxRecord = defaultMaxLine, defaultMaxRecord
			if _, ok := readFileChunked(p, &opts, nil, false); ok {
				chunked++
			}
			requireSameResult(t, got, ref)
		})
	}
	t.Logf("%d of %d test logs were read in pieces", chunked, len(files))
	if chunked < 5 {
		t.Errorf("only %d logs were read in pieces: the test no longer tests that", chunked)
	}
}

// requireSameResult fails t unless got has ref's summaries, diagnostics
// and events, saying where they first differ.
func requireSameResult(t *testing.T, got, ref *Result) {
	t.Helper()
	if !reflect.DeepEqual(got.Inputs, ref.Inputs) {
		t.Errorf("summaries differ:\n got %+v\n ref %+v", got.Inputs, ref.Inputs)
	}
	if !reflect.DeepEqual(got.Diagnostics, ref.Diagnostics) {
		t.Errorf("diagnostics differ:\n got %+v\n ref %+v", got.Diagnostics, ref.Diagnostics)
	}
	gotEvs, refEvs := got.Expanded(), ref.Expanded()
	if len(gotEvs) != len(refEvs) {
		t.Fatalf("%d events, reference %d", len(gotEvs), len(refEvs))
	}
	for i := range gotEvs {
		if !reflect.DeepEqual(gotEvs[i], refEvs[i]) {
			t.Fatalf("event %d differs:\n got %+v\n ref %+v", i, gotEvs[i], refEvs[i])
		}
	}
}

// TestNextHeader: the cut point found reading 64 KiB first and more when
// needed is the one a megabyte read at once gives (firstHeaderLine over
// it), wherever the next header is: near, past 64 KiB, past the window,
// past a megabyte, or beyond the end of the file.
func TestNextHeader(t *testing.T) {
	const header = "2024-05-01 10:00:00,000 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor  - hello\n"
	cont := func(n int) string { // continuation lines (a stack trace) of about n bytes
		var b bytes.Buffer
		for b.Len() < n {
			b.WriteString("\tat org.apache.flink.runtime.Foo.bar(Foo.java:42)\n")
		}
		return b.String()
	}
	cases := []struct {
		name   string
		gap    int   // bytes of continuation lines between the two headers
		window int64 // nextHeader's window
		tail   bool  // a second header follows the gap
	}{
		{"near", 100, 8 << 20, true},
		{"past 64 KiB", 100 << 10, 8 << 20, true},
		{"past 512 KiB", 600 << 10, 8 << 20, true},
		{"past the window", 100 << 10, 64 << 10, true},
		{"past a megabyte", 1100 << 10, 8 << 20, true},
		{"no second header", 100 << 10, 8 << 20, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			content := header + cont(c.gap)
			second := int64(len(content)) // where the second header starts
			if c.tail {
				content += header
			}
			p := filepath.Join(t.TempDir(), "tm.log")
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fast := &chunkable{layout: builtinLayout("flink"), fast: newFlinkHeader(builtinLayout("flink"))}
			whole := make([]byte, min(c.window, 1<<20))
			n, _ := f.ReadAt(whole, 10)
			wantAt, wantOK := firstHeaderLine(whole[:n], fast)
			var scratch []byte
			got, gotOK := nextHeader(f, 10, c.window, fast, &scratch)
			if gotOK != wantOK || gotOK && got != 10+int64(wantAt) {
				t.Fatalf("nextHeader = %d, %v; a megabyte at once: %d, %v", got, gotOK, 10+int64(wantAt), wantOK)
			}
			if want := c.tail && second+int64(len(header))-10 <= min(c.window, 1<<20); gotOK != want || gotOK && got != second {
				t.Fatalf("nextHeader = %d, %v; the second header is at %d (found: %v)", got, gotOK, second, want)
			}
		})
	}
}
