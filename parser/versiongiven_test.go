package parser

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestVersionGivenSkipsHints: with --flink-version, streams do not look
// for version hints (a sixth of a noisy log's parse), and every input's
// summary, event and diagnostic is what collecting them gives.
func TestVersionGivenSkipsHints(t *testing.T) {
	files, _ := filepath.Glob("../testdata/logs/*")
	if len(files) < 10 {
		t.Fatalf("only %d test logs", len(files))
	}
	for _, version := range []string{"1.9.3", "1.14"} {
		for _, chunk := range []int{0, 4 << 10} {
			opts := Options{FlinkVersion: version, ChunkSize: chunk}
			got, err := Read(files, opts)
			if err != nil {
				t.Fatal(err)
			}
			hintsAlways = true
			want, err := Read(files, opts)
			hintsAlways = false
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("--flink-version %s (pieces of %d): the result differs when hints are collected", version, chunk)
			}
			for _, in := range got.Inputs {
				if in.VersionSource != "flag" {
					t.Fatalf("%s: version source %q, want flag", in.Path, in.VersionSource)
				}
			}
		}
	}
}
