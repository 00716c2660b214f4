package follow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/slotaudit/slotaudit/parser"
)

// A Spool keeps a copy of every file a follow reads, as it was at the last
// Sync, in a directory of its own: the current content of each input, and
// what each held before it was rotated away (truncated, replaced, deleted),
// under the name parser.Follower gives such a segment (parser.RotatedName).
//
// It is what lets a follow audit in bounded memory. parser.Follower holds
// every event it has read, so that what a log proved stays proven after
// the log is rotated; a fold holds only what is open, but it must read its
// inputs again (three times) and those inputs must not change under it. An
// audit of the spool is both: the fold reads the copies, which only Sync
// changes, and a rotated log's copy stays. Memory is the fold's; disk is
// what the follow has read.
//
// Sync notices a rotation as parser.Follower does: a file replaced (another
// inode), shorter than what was copied, or whose first bytes or the bytes
// before the end of the copy are no longer what was copied (copytruncate,
// then written past the old size between two looks).
type Spool struct {
	dir       string
	files     map[string]*spooled // by the input's path
	rotations map[string]int
	names     map[string]string // spool path → the input's name
	bytes     int64             // copied in all (standard input's copy aside)
}

// spooled is one file's current copy.
type spooled struct {
	info   os.FileInfo
	copy   string // its path in the spool
	copied int64
	// head: the file's first bytes; tail: the bytes before copied (each
	// up to checkBytes)
	head, tail []byte
}

// checkBytes is how many bytes at the start and before the end of a copy
// Sync compares with the file to tell it is still the same: a few lines
// each (kept for every file: a directory may hold thousands).
const checkBytes = 1024

// SpoolDir is where a spool goes when none is asked for: the temporary
// directory ($TMPDIR, else /tmp), unless it is held in memory (tmpfs, as
// /tmp is on many systems) and /var/tmp is not — a spool is as large as
// what was followed. inMem says that the directory chosen is in memory.
func SpoolDir() (dir string, inMem bool) {
	dir = os.TempDir()
	if !inMemory(dir) {
		return dir, false
	}
	if _, set := os.LookupEnv("TMPDIR"); !set {
		if st, err := os.Stat("/var/tmp"); err == nil && st.IsDir() && !inMemory("/var/tmp") {
			return "/var/tmp", false
		}
	}
	return dir, true
}

// Free is how much the spool's file system has free, or -1 when it cannot
// tell: a follow says so at once when what it is about to copy will not fit.
func (s *Spool) Free() int64 { return freeBytes(s.dir) }

// NewSpool makes a spool in a new temporary directory under dir.
func NewSpool(dir string) (*Spool, error) {
	d, err := os.MkdirTemp(dir, "slotaudit-follow-")
	if err != nil {
		return nil, err
	}
	return &Spool{dir: d, files: map[string]*spooled{}, rotations: map[string]int{}, names: map[string]string{}}, nil
}

// Close removes the spool and everything in it.
func (s *Spool) Close() error { return os.RemoveAll(s.dir) }

// Bytes is how much the spool holds.
func (s *Spool) Bytes() int64 { return s.bytes }

// Sync brings the copies up to date with files, the inputs as
// parser.ExpandPaths lists them now: what was appended is copied; a file
// rotated since the last Sync keeps its old copy as a rotated segment and
// is copied from its start; a file no longer listed keeps its copy as a
// rotated segment, unless it was renamed to a file that is (its content
// goes on under that name). An error is the spool's own (a copy that
// cannot be written): the spool can no longer be read as the inputs.
func (s *Spool) Sync(files []string) error {
	listed := map[string]bool{}
	for _, p := range files {
		listed[p] = true
	}
	var gone []string
	for p := range s.files {
		if !listed[p] {
			gone = append(gone, p)
		}
	}
	slices.Sort(gone)
	for _, p := range gone {
		st := s.files[p]
		renamed := slices.ContainsFunc(files, st.continuedIn)
		if renamed {
			s.bytes -= st.copied
			delete(s.names, st.copy)
			if err := os.Remove(st.copy); err != nil {
				return err
			}
		} else if err := s.retire(p); err != nil {
			return err
		}
		delete(s.files, p)
	}
	for _, p := range files {
		if p == "-" {
			return errors.New("standard input is not spooled")
		}
		if err := s.syncFile(p); err != nil {
			return err
		}
	}
	return nil
}

// syncFile copies what was appended to p, or all of it after a rotation.
// A file that cannot be read now is left as it was copied (the read of
// the spool does not see it vanish; the follow says it is gone).
func (s *Spool) syncFile(p string) error {
	info, err := os.Stat(p)
	switch {
	case err != nil:
		return nil
	case !info.Mode().IsRegular():
		// a named pipe: opening it waits for a writer, and what is read
		// of it is gone; only the follower reads it
		return fmt.Errorf("%s is not a regular file: it cannot be copied", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil
	}
	st := s.files[p]
	if st != nil && !st.same(f, info) {
		if err := s.retire(p); err != nil {
			return err
		}
		st = nil
	}
	if st == nil {
		copyPath := filepath.Join(s.dir, spoolName(p))
		if err := os.MkdirAll(filepath.Dir(copyPath), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(copyPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		st = &spooled{copy: copyPath}
		s.files[p] = st
		s.names[copyPath] = p
	}
	st.info = info
	size := info.Size()
	if size <= st.copied {
		return nil
	}
	out, err := os.OpenFile(st.copy, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	// from f itself (not a section reader of it), so that the kernel
	// copies file to file (copy_file_range) without the bytes passing
	// through here
	var n int64
	if _, err = f.Seek(st.copied, io.SeekStart); err == nil {
		n, err = io.Copy(out, io.LimitReader(f, size-st.copied))
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	st.copied += n
	s.bytes += n
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) && pe.Path == p {
			return nil // the input could not be read on: copied so far
		}
		return err
	}
	// what the next Sync compares, read from the copy (what the spool
	// holds, whatever the file became since)
	c, err := os.Open(st.copy)
	if err != nil {
		return err
	}
	defer c.Close()
	if len(st.head) < checkBytes {
		st.head = readAt(c, 0, min(st.copied, checkBytes))
	}
	from := max(st.copied-checkBytes, 0)
	st.tail = readAt(c, from, st.copied-from)
	return nil
}

// continuedIn reports whether the file at q is the one st copied, moved
// there: the same inode, and still holding what was copied (an inode is
// given again to a new file once the old one is deleted).
func (st *spooled) continuedIn(q string) bool {
	f, err := os.Open(q)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	return err == nil && st.same(f, info)
}

// same reports whether f (info) is still the file st copied: the same
// inode, no shorter, and holding what was copied at its start and before
// the copy's end.
func (st *spooled) same(f *os.File, info os.FileInfo) bool {
	if !os.SameFile(st.info, info) || info.Size() < st.copied {
		return false
	}
	return bytes.Equal(readAt(f, 0, int64(len(st.head))), st.head) &&
		bytes.Equal(readAt(f, st.copied-int64(len(st.tail)), int64(len(st.tail))), st.tail)
}

// readAt reads n bytes of r at off (fewer if r ends).
func readAt(r io.ReaderAt, off, n int64) []byte {
	b := make([]byte, n)
	k, _ := r.ReadAt(b, off)
	return b[:k]
}

// retire keeps the copy of p as its next rotated segment.
func (s *Spool) retire(p string) error {
	st := s.files[p]
	if st == nil {
		return nil
	}
	delete(s.files, p)
	delete(s.names, st.copy)
	if st.copied == 0 {
		// nothing was read of it: parser.Follower keeps no segment either
		return os.Remove(st.copy)
	}
	s.rotations[p]++
	name := parser.RotatedName(p, s.rotations[p])
	to := filepath.Join(s.dir, spoolName(name))
	if err := os.Rename(st.copy, to); err != nil {
		return err
	}
	s.names[to] = name
	return nil
}

// spoolName is where the copy of the input named name lies under the
// spool's directory: its absolute path, so that copies sort as their
// inputs do and keep their file names (a TaskManager log may be named by
// its file).
func spoolName(name string) string {
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return filepath.Clean("/" + name)
}

// Rotated reports whether the spool holds a rotated segment: what some
// input held before it was rotated away, which no read of the inputs
// could give now.
func (s *Spool) Rotated() bool { return len(s.rotations) > 0 }

// Inputs are the spool's copies, to be read as the inputs, and the name
// of each (the input's path, or a rotated segment's name).
func (s *Spool) Inputs() (paths []string, names map[string]string) {
	names = make(map[string]string, len(s.names))
	for p, n := range s.names {
		paths = append(paths, p)
		names[p] = n
	}
	slices.Sort(paths)
	return paths, names
}

// String says where the spool is and what it holds.
func (s *Spool) String() string {
	return fmt.Sprintf("%s (%d files, %d bytes)", s.dir, len(s.names), s.bytes)
}
