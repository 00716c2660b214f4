package parser

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
)

// InputError is an input that could not be read at all (missing file,
// permission denied). The command turns it into exit code 2.
type InputError struct {
	Path string
	Err  error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

// ExpandPaths turns command-line paths into a sorted, de-duplicated list of
// files: directories are walked recursively, "-" stands for stdin. Sorting
// makes output independent of the order the paths were given.
func ExpandPaths(paths []string) ([]string, error) {
	files, _, err := expandPaths(paths, nil)
	return files, err
}

// SkippedPath is a path that was not read, and why. Lost says that it was
// meant to be read and could not be (missing, unreadable, refused, not
// decodable): the audit of the rest is then partial. A link to a directory
// or a FIFO inside a directory is skipped without being lost.
type SkippedPath struct {
	Path   string
	Reason string
	Lost   bool
}

// expandPaths is ExpandPaths, also returning the directory entries it did
// not read: inside a directory, a symbolic link to a file is read (Kubernetes
// keeps container logs as links), a link to a directory is not followed (no
// loop can trap the walk), and a dangling or looping link, a FIFO, socket or
// device is skipped and named.
//
// The files come sorted by path, or by the name sortAs gives a path read
// in another's place (Options.SortAs).
func expandPaths(paths []string, sortAs map[string]string) ([]string, []SkippedPath, error) {
	var skipped []SkippedPath
	var firstLost *InputError
	lose := func(e *InputError) {
		if firstLost == nil {
			firstLost = e
		}
		skipped = append(skipped, SkippedPath{Path: e.Path, Reason: e.Err.Error(), Lost: true})
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		key := p
		if p != "-" {
			if abs, err := filepath.Abs(p); err == nil {
				key = abs
			}
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		if p == "-" {
			add(p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			lose(&InputError{Path: p, Err: unwrapPathError(err)})
			continue
		}
		if !st.IsDir() {
			if !st.Mode().IsRegular() && st.Mode()&fs.ModeNamedPipe == 0 {
				// a device never ends (/dev/zero) or is not a log at all
				lose(&InputError{Path: p, Err: fmt.Errorf("not a regular file (%s): refusing to read it (standard input and named pipes are read when named)", modeName(st.Mode()))})
				continue
			}
			add(filepath.Clean(p))
			continue
		}
		var files []string
		root := p
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == root {
					return err
				}
				// An unreadable entry (lost+found, a file of another user)
				// is reported and skipped, not fatal for the rest.
				skipped = append(skipped, unreadable(path, d, err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			switch {
			case d.Type().IsRegular():
				if f, err := os.Open(path); err != nil {
					skipped = append(skipped, unreadable(path, d, err))
				} else {
					f.Close()
					files = append(files, path)
				}
			case d.Type()&fs.ModeSymlink != 0:
				target, err := os.Stat(path)
				switch {
				case err != nil:
					skipped = append(skipped, SkippedPath{Path: path, Reason: "symbolic link that cannot be followed: " + unwrapPathError(err).Error()})
				case target.IsDir():
					skipped = append(skipped, SkippedPath{Path: path, Reason: "symbolic link to a directory, not followed (give the directory itself to read it)"})
				case target.Mode().IsRegular():
					files = append(files, path)
				default:
					skipped = append(skipped, SkippedPath{Path: path, Reason: "symbolic link to something that is not a regular file"})
				}
			case !d.IsDir():
				skipped = append(skipped, SkippedPath{Path: path, Reason: "not a regular file (" + d.Type().String() + ")"})
			}
			return nil
		})
		if err != nil {
			lose(&InputError{Path: p, Err: unwrapPathError(err)})
			continue
		}
		if len(files) == 0 {
			lose(&InputError{Path: p, Err: errors.New("directory holds no files that can be read")})
			continue
		}
		for _, f := range files {
			add(f)
		}
	}
	if len(out) == 0 && firstLost != nil {
		// nothing at all could be read: that is an error, not a partial run
		return nil, nil, firstLost
	}
	key := func(p string) string {
		if name, ok := sortAs[p]; ok {
			return name
		}
		return p
	}
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Path < skipped[j].Path })
	return out, skipped, nil
}

// modeName says what kind of file a mode is, in words.
func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return m.Type().String()
}

// unreadable names a directory entry that could not be read.
func unreadable(path string, d fs.DirEntry, err error) SkippedPath {
	what := "file"
	if d != nil && d.IsDir() {
		what = "directory"
	}
	return SkippedPath{Path: path, Reason: what + " that cannot be read: " + unwrapPathError(err).Error(), Lost: true}
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openInput opens a path for reading ("-" is stdin) and transparently
// decompresses gzip, recognised by its magic bytes rather than the name.
// What is read from a file is counted for ra (nil: not counted).
func openInput(path string, stdin io.Reader, ra *readAhead, progress *atomic.Int64) (io.Reader, func() error, bool, error) {
	var r io.Reader
	closer := func() error { return nil }
	if path == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, false, &InputError{Path: path, Err: unwrapPathError(err)}
		}
		r, closer = f, f.Close
		if ra != nil || progress != nil {
			r = countingReader{f, ra, progress}
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			_ = closer()
			return nil, nil, true, &InputError{Path: path, Err: fmt.Errorf("gzip: %w", err)}
		}
		ar := newAsyncReader(zr)
		return withCR(bufio.NewReaderSize(ar, 64<<10)), func() error { _ = ar.Close(); return closer() }, true, nil
	}
	return withCR(br), closer, false, nil
}

// withCR reads a log whose lines end with a lone CR (classic Mac, some
// Windows tools, a paste) as lines: when its first 64 KiB hold a CR that
// no LF follows, every such CR is read as an LF. A log without one is
// read as it is, at no cost.
func withCR(br *bufio.Reader) io.Reader {
	head, _ := br.Peek(64 << 10)
	if !hasLoneCR(head) {
		return br
	}
	return crReader{br}
}

// hasLoneCR reports a CR followed by something other than LF in b (a CR
// at b's very end is undecided and not counted).
func hasLoneCR(b []byte) bool {
	for i := bytes.IndexByte(b, '\r'); i >= 0 && i+1 < len(b); {
		if b[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// loneCRHead reports a lone CR in the first 64 KiB of f, as withCR
// decides on them.
func loneCRHead(f *os.File) bool {
	head := make([]byte, 64<<10)
	n, _ := f.ReadAt(head, 0)
	return hasLoneCR(head[:n])
}

// crReader turns every CR that no LF follows into an LF, byte for byte:
// offsets and lengths stay what they are in the file.
type crReader struct{ r *bufio.Reader }

func (c crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	b := p[:n]
	for i := bytes.IndexByte(b, '\r'); i >= 0; {
		lf := false
		if i+1 < len(b) {
			lf = b[i+1] == '\n'
		} else if next, e := c.r.Peek(1); e == nil {
			lf = next[0] == '\n'
		}
		if !lf {
			b[i] = '\n'
		}
		j := bytes.IndexByte(b[i+1:], '\r')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return n, err
}

// maxLines is the most lines an input is read to. Line numbers are 64-bit,
// so no real input reaches it; the guard remains so that a number can never
// wrap to a negative. (A variable, so that a test can lower it.)
var maxLines int64 = math.MaxInt64

type tooManyLines struct{}

func (tooManyLines) Error() string {
	return fmt.Sprintf("more than %d lines: the input is read up to there", maxLines)
}

var errTooManyLines error = tooManyLines{}

// lineReader reads physical lines of any length with bounded memory: a line
// longer than max is cut at max bytes and the rest skipped, which the caller
// counts. The returned slice is valid until the next call.
type lineReader struct {
	br      *bufio.Reader
	max     int
	buf     []byte
	no      int64
	started bool
	// off counts the bytes read through the end of the last line
	// (from where the reader began)
	off int64
}

func newLineReader(r io.Reader, max int) *lineReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &lineReader{br: br, max: max}
}

// next returns the next line without its end-of-line bytes ("\n", "\r\n").
// truncated reports that the line was longer than the limit.
func (lr *lineReader) next() (line []byte, truncated bool, err error) {
	if lr.no == maxLines {
		// stop rather than wrap
		return nil, false, errTooManyLines
	}
	lr.buf = lr.buf[:0]
	// Nearly every line fits the buffer: hand out the buffer's own bytes
	// (valid until the next read, as promised) instead of a copy.
	chunk, e := lr.br.ReadSlice('\n')
	lr.off += int64(len(chunk))
	if e == nil && len(chunk) <= lr.max {
		return lr.finishLine(chunk), false, nil
	}
	if e != nil && e != bufio.ErrBufferFull && (e != io.EOF || len(chunk) == 0) {
		return nil, false, e
	}
	if len(chunk) > lr.max {
		lr.buf = append(lr.buf, chunk[:lr.max]...)
		truncated = true
	} else {
		lr.buf = append(lr.buf, chunk...)
	}
	if e != bufio.ErrBufferFull {
		return lr.finishLine(lr.buf), truncated, nil
	}
	for {
		chunk, e := lr.br.ReadSlice('\n')
		lr.off += int64(len(chunk))
		if len(lr.buf)+len(chunk) > lr.max {
			room := lr.max - len(lr.buf)
			if room > 0 {
				lr.buf = append(lr.buf, chunk[:room]...)
			}
			truncated = true
		} else if !truncated {
			lr.buf = append(lr.buf, chunk...)
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e != nil && (e != io.EOF || len(lr.buf) == 0 && !truncated) {
			return nil, false, e
		}
		break
	}
	return lr.finishLine(lr.buf), truncated, nil
}

// finishLine counts the line and strips its end of line (and a leading BOM).
func (lr *lineReader) finishLine(line []byte) []byte {
	lr.no++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if !lr.started {
		lr.started = true
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // UTF-8 BOM
	}
	return line
}
