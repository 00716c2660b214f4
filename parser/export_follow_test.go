package parser

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestFollowerReadsExports: a follow reads a log-store export whole at
// every poll (an export is static; it is not read in pieces): a file,
// also after more pages are appended to it, and standard input coming in
// bursts cut anywhere, give what Read gives of the same bytes.
func TestFollowerReadsExports(t *testing.T) {
	for _, name := range []string{"race-1.8.2/elasticsearch-search.json", "race-1.8.2/es-ndjson.ndjson", "sim-1.18.1/kibana-csv.csv", "sim-1.18.1/loki-query-range.json"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "exports", name))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name+"/file", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "export")
			half := len(data) / 2
			for half < len(data) && data[half-1] != '\n' {
				half++ // a whole line (NDJSON, CSV) or page (at best)
			}
			if err := os.WriteFile(path, data[:half], 0o644); err != nil {
				t.Fatal(err)
			}
			fl := NewFollower([]string{path}, Options{})
			for _, upto := range []int{half, len(data)} {
				if err := os.WriteFile(path, data[:upto], 0o644); err != nil {
					t.Fatal(err)
				}
				got, err := fl.Read()
				if err != nil {
					t.Fatal(err)
				}
				want, err := Read([]string{path}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				requireSameResult(t, got, want)
				if w := got.Inputs[0].Wrapper; !isExport(w) {
					t.Errorf("read as %q", w)
				}
			}
		})
		t.Run(name+"/stdin", func(t *testing.T) {
			pr, pw := io.Pipe()
			fl := NewFollower([]string{"-"}, Options{Stdin: pr})
			rng := rand.New(rand.NewPCG(uint64(len(data)), 3))
			check := func(upto int) {
				t.Helper()
				got, err := fl.Read()
				if err != nil {
					t.Fatal(err)
				}
				want, err := Read([]string{"-"}, Options{Stdin: bytes.NewReader(data[:upto])})
				if err != nil {
					t.Fatal(err)
				}
				requireSameResult(t, got, want)
				if t.Failed() {
					t.Fatalf("after %d of %d bytes", upto, len(data))
				}
			}
			for written := 0; written < len(data); {
				end := min(len(data), written+1+rng.IntN(len(data)/5+1))
				if _, err := pw.Write(data[written:end]); err != nil {
					t.Fatal(err)
				}
				written = end
				waitStdin(t, fl, written, false)
				check(written)
			}
			pw.Close()
			waitStdin(t, fl, len(data), true)
			check(len(data))
			if w := fl.stdin.export; !isExport(w) {
				t.Errorf("standard input read as %q", w)
			}
		})
	}
}
