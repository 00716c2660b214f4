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
// duplicate it is. Plain files are hashed only when their sizes meet, so
// the cases include a copy read in pieces, followed copies (a follow
// leaves the hashing to Read too), and a same-size file that differs in
// one byte (not a duplicate).
func TestSameLogTwice(t *testing.T) {
	data, err := os.ReadFile("../testdata/logs/legacy-1.6.2-race-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	// one byte changed inside a message: same size, other content
	other := bytes.Replace(data, []byte("Allocated slot for"), []byte("Allocated slot fox"), 1)
	if bytes.Equal(other, data) {
		t.Fatal("test log has no 'Allocated slot for'")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()

	for _, tc := range []struct {
		name   string
		chunk  int  // Options.ChunkSize: small enough reads the plain files in pieces
		follow bool // read by a Follower, twice (the second poll finds nothing new)
	}{
		{"whole files", 0, false},
		{"plain files in pieces", 512, false},
		{"followed", 0, true},
		{"followed in pieces", 512, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b, c, d := filepath.Join(dir, "a-tm.log"), filepath.Join(dir, "b-copy.log"), filepath.Join(dir, "c-copy.log.gz"), filepath.Join(dir, "d-other.log")
			for p, content := range map[string][]byte{a: data, b: data, c: gz.Bytes(), d: other} {
				if err := os.WriteFile(p, content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			opts := Options{ChunkSize: tc.chunk}
			readAll := func(paths []string, opts Options) (*Result, error) {
				if !tc.follow {
					return Read(paths, opts)
				}
				fl := NewFollower(paths, opts)
				if _, err := fl.Read(); err != nil {
					return nil, err
				}
				return fl.Read()
			}
			once, err := readAll([]string{a}, opts)
			if err != nil {
				t.Fatal(err)
			}
			thrice, err := readAll([]string{c, b, a}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if thrice.events.len() != once.events.len() {
				t.Errorf("%d events from three copies, want %d (once)", thrice.events.len(), once.events.len())
			}
			if len(thrice.Inputs) != 3 || thrice.Inputs[0].DuplicateOf != "" || thrice.Inputs[1].DuplicateOf != a || thrice.Inputs[2].DuplicateOf != a {
				t.Errorf("inputs: %+v", thrice.Inputs)
			}
			pair, err := readAll([]string{a, d}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if pair.Inputs[0].DuplicateOf != "" || pair.Inputs[1].DuplicateOf != "" {
				t.Errorf("same size, one byte apart, taken for duplicates: %+v", pair.Inputs)
			}
		})
	}
}

// TestStdinSameAsAFile: stdin is hashed as it is read when another input
// may be its duplicate (a lone stdin is not hashed at all); gzipped stdin
// too.
func TestStdinSameAsAFile(t *testing.T) {
	data, err := os.ReadFile("../testdata/logs/legacy-1.6.2-race-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	a := filepath.Join(t.TempDir(), "a-tm.log")
	if err := os.WriteFile(a, data, 0o644); err != nil {
		t.Fatal(err)
	}
	lone, err := Read([]string{"-"}, Options{Stdin: bytes.NewReader(data)})
	if err != nil || len(lone.Inputs) != 1 || lone.Inputs[0].DuplicateOf != "" || lone.events.len() == 0 {
		t.Fatalf("stdin alone: %v, %+v", err, lone)
	}
	for name, in := range map[string][]byte{"plain": data, "gzip": gz.Bytes()} {
		both, err := Read([]string{"-", a}, Options{Stdin: bytes.NewReader(in)})
		if err != nil {
			t.Fatal(err)
		}
		dups := 0
		for _, inp := range both.Inputs {
			if inp.DuplicateOf != "" {
				dups++
			}
		}
		if dups != 1 || both.events.len() != lone.events.len() {
			t.Errorf("%s stdin and the same file: %d duplicates, %d events (want 1, %d): %+v", name, dups, both.events.len(), lone.events.len(), both.Inputs)
		}
	}
}
