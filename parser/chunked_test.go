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
// large), including the ones that must fall back to a sequential read
// (time-only records in a later piece, JSON, wrappers).
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
			if !reflect.DeepEqual(got.Inputs, ref.Inputs) {
				t.Errorf("summaries differ:\n got %+v\n ref %+v", got.Inputs, ref.Inputs)
			}
			if !reflect.DeepEqual(got.Diagnostics, ref.Diagnostics) {
				t.Errorf("diagnostics differ:\n got %+v\n ref %+v", got.Diagnostics, ref.Diagnostics)
			}
			if len(got.Events) != len(ref.Events) {
				t.Fatalf("%d events, sequential %d", len(got.Events), len(ref.Events))
			}
			for i := range got.Events {
				if !reflect.DeepEqual(got.Events[i], ref.Events[i]) {
					t.Fatalf("event %d differs:\n got %+v\n ref %+v", i, got.Events[i], ref.Events[i])
				}
			}
		})
	}
	t.Logf("%d of %d test logs were read in pieces", chunked, len(files))
	if chunked < 5 {
		t.Errorf("only %d logs were read in pieces: the test no longer tests that", chunked)
	}
}
