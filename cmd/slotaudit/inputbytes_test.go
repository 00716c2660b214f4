package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInputBytes: what --fold auto weighs is what the read reads: files,
// the files of directories, and links to files (a Kubernetes node's
// /var/log/containers holds only links), given or inside a directory; not
// a link to a directory (the read does not follow it), nor what is not
// there.
func TestInputBytes(t *testing.T) {
	root := t.TempDir()
	logs, other := filepath.Join(root, "logs"), filepath.Join(root, "other")
	for _, d := range []string{logs, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, n int) {
		t.Helper()
		if err := os.WriteFile(path, []byte(strings.Repeat("x", n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, path string) {
		t.Helper()
		if err := os.Symlink(target, path); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	write(filepath.Join(logs, "jobmanager.log"), 100)
	write(filepath.Join(other, "taskmanager.log"), 30)
	link(filepath.Join(other, "taskmanager.log"), filepath.Join(logs, "tm-link.log"))
	link(other, filepath.Join(logs, "dir-link"))
	link(filepath.Join(other, "gone.log"), filepath.Join(logs, "dangling.log"))
	for _, tc := range []struct {
		paths []string
		want  int64
	}{
		{[]string{filepath.Join(logs, "jobmanager.log")}, 100},
		{[]string{logs}, 130},
		{[]string{filepath.Join(logs, "tm-link.log")}, 30},
		{[]string{logs, filepath.Join(root, "missing")}, 130},
		{[]string{filepath.Join(logs, "dir-link")}, 0},
	} {
		if got := inputBytes(tc.paths); got != tc.want {
			t.Errorf("inputBytes(%v) = %d, want %d", tc.paths, got, tc.want)
		}
	}
}
