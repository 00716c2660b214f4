//go:build unix

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOutDirCreate: create, which simulate streams its logs through, makes
// a file of the set only where nothing is yet — never through a symlink
// planted in the staging directory, never over an existing file — and the
// file reaches --out only with the set.
func TestOutDirCreate(t *testing.T) {
	for _, c := range []struct {
		name  string
		plant func(t *testing.T, stage, target string) // what is in the way in the staging directory
		want  bool                                     // created
	}{
		{"fresh name", func(*testing.T, string, string) {}, true},
		{"existing file", func(t *testing.T, stage, _ string) {
			if err := os.WriteFile(filepath.Join(stage, "logs", "jobmanager.log"), []byte("earlier\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"symlink to a file outside", func(t *testing.T, stage, target string) {
			if err := os.Symlink(target, filepath.Join(stage, "logs", "jobmanager.log")); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"dangling symlink", func(t *testing.T, stage, target string) {
			if err := os.Symlink(target+".absent", filepath.Join(stage, "logs", "jobmanager.log")); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			target := filepath.Join(base, "victim")
			if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			o, err := openOutDir(filepath.Join(base, "out"), false, "logs/ and truth.json")
			if err != nil {
				t.Fatal(err)
			}
			if err := o.mkdir("logs"); err != nil {
				t.Fatal(err)
			}
			c.plant(t, o.stage, target)
			f, err := o.create(filepath.Join("logs", "jobmanager.log"))
			if !c.want {
				if err == nil {
					f.Close()
					t.Fatal("created where something was in the way")
				}
				if b, _ := os.ReadFile(target); string(b) != "keep\n" {
					t.Errorf("the file outside now holds %q", b)
				}
				if _, err := os.Stat(target + ".absent"); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a dangling link's target was made")
				}
				o.abort()
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("line\n"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(base, "out", "logs")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("logs/ is in --out before the set is complete")
			}
			if err := o.commit(); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(base, "out", "logs", "jobmanager.log")); err != nil || string(b) != "line\n" {
				t.Errorf("after commit: %q, %v", b, err)
			}
		})
	}
}
