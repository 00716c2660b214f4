package parser

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// TestSameLogTwice: a log given again under another name, or gzipped, is
// read but its events are counted once; the later input says whose
// duplicate it is.
func TestSameLogTwice(t *testing.T) {
	data, err := os.ReadFile("../testdata/logs/legacy-1.6.2-race-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a-tm.log"), filepath.Join(dir, "b-copy.log"), filepath.Join(dir, "c-copy.log.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	for p, d := range map[string][]byte{a: data, b: data, c: gz.Bytes()} {
		if err := os.WriteFile(p, d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	once, err := Read([]string{a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	thrice, err := Read([]string{c, b, a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(thrice.Events) != len(once.Events) {
		t.Errorf("%d events from three copies, want %d (once)", len(thrice.Events), len(once.Events))
	}
	if len(thrice.Inputs) != 3 || thrice.Inputs[0].DuplicateOf != "" || thrice.Inputs[1].DuplicateOf != a || thrice.Inputs[2].DuplicateOf != a {
		t.Errorf("inputs: %+v", thrice.Inputs)
	}
}
