package follow

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// TestStdinCopy: standard input lands in the spool as it came — a gzip
// stream decompressed when asked (for a reader of the copy as it grows),
// else as it is — named "-"; a stream cut short says so.
func TestStdinCopy(t *testing.T) {
	text := strings.Repeat("2021-03-14 09:00:00,000 INFO  x - a line of the log\n", 5000)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(text))
	zw.Close()
	for _, tc := range []struct {
		name     string
		in       []byte
		gunzip   bool
		want     []byte
		unzipped bool
		err      error
	}{
		{"plain", []byte(text), true, []byte(text), false, nil},
		{"gzip, decompressed", zipped.Bytes(), true, []byte(text), true, nil},
		{"gzip, as it is", zipped.Bytes(), false, zipped.Bytes(), false, nil},
		{"gzip cut short", zipped.Bytes()[:zipped.Len()/2], true, nil, true, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSpool(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c, err := s.CopyStdin(bytes.NewReader(tc.in), tc.gunzip)
			if err != nil {
				t.Fatal(err)
			}
			c.Wait()
			got, err := os.ReadFile(c.Path())
			if err != nil {
				t.Fatal(err)
			}
			n, ended := c.Stdin()
			if tc.want != nil && !bytes.Equal(got, tc.want) {
				t.Errorf("the copy holds %d bytes, want %d", len(got), len(tc.want))
			}
			if !ended || n != int64(len(got)) {
				t.Errorf("Stdin() = %d, %v; want %d, true", n, ended, len(got))
			}
			if c.Gunzipped() != tc.unzipped || !errors.Is(c.Err(), tc.err) && c.Err() != tc.err {
				t.Errorf("Gunzipped() = %v, Err() = %v; want %v, %v", c.Gunzipped(), c.Err(), tc.unzipped, tc.err)
			}
			if paths, names := s.Inputs(); len(paths) != 1 || names[paths[0]] != "-" {
				t.Errorf("the spool's inputs %v %v, want the copy named \"-\"", paths, names)
			}
		})
	}
}
