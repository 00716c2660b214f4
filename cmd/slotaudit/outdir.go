package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// outDir is a directory the tool writes a set of files into (simulate's
// --out) without ever following a symlink or leaving a mix of two runs:
// the files are made exclusively in a fresh staging directory inside it,
// and moved into place only when every one was written.
type outDir struct {
	dir   string
	stage string
	names []string // top-level entries the set consists of, in stage
}

// errOutDir is a refusal to write into --out (exit 2, like a bad flag).
type errOutDir struct{ msg string }

func (e *errOutDir) Error() string { return e.msg }

// openOutDir prepares dir: it must be absent, or an empty directory, or —
// with force — a directory whose earlier set is replaced. A symlink is
// never written through.
func openOutDir(dir string, force bool, set string) (*outDir, error) {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case fi.Mode()&os.ModeSymlink != 0:
		return nil, &errOutDir{fmt.Sprintf("%s is a symbolic link: refusing to write through it (name the directory it points to, if that is meant)", dir)}
	case !fi.IsDir():
		return nil, &errOutDir{fmt.Sprintf("%s exists and is not a directory", dir)}
	default:
		empty, err := isEmptyDir(dir)
		if err != nil {
			return nil, err
		}
		if !empty && !force {
			return nil, &errOutDir{fmt.Sprintf("%s is not empty: refusing to mix two runs (--force replaces what an earlier run wrote there: %s)", dir, set)}
		}
	}
	stage, err := os.MkdirTemp(dir, ".slotaudit-")
	if err != nil {
		return nil, err
	}
	return &outDir{dir: dir, stage: stage}, nil
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// mkdir makes a directory of the set (relative to the out directory).
func (o *outDir) mkdir(rel string) error {
	o.top(rel)
	return os.Mkdir(filepath.Join(o.stage, rel), 0o755)
}

// write makes one file of the set, exclusively, with its content.
func (o *outDir) write(rel string, content []byte) error {
	f, err := o.create(rel)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// create makes one file of the set, exclusively, for the caller to write
// and close: a file too large to hold in memory is written as it is made.
func (o *outDir) create(rel string) (*os.File, error) {
	o.top(rel)
	return os.OpenFile(filepath.Join(o.stage, rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o644)
}

func (o *outDir) top(rel string) {
	first := rel
	for d := filepath.Dir(first); d != "."; d = filepath.Dir(first) {
		first = d
	}
	for _, n := range o.names {
		if n == first {
			return
		}
	}
	o.names = append(o.names, first)
}

// commit moves the set into place: each earlier entry of the same name is
// removed (a symlink as the link itself, never its target) and replaced.
func (o *outDir) commit() error {
	for _, n := range o.names {
		dst := filepath.Join(o.dir, n)
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(o.stage, n), dst); err != nil {
			return err
		}
	}
	return os.Remove(o.stage)
}

// abort removes what was staged.
func (o *outDir) abort() { os.RemoveAll(o.stage) }
