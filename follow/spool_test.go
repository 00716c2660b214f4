package follow

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
)

// TestSpool: the copies a Spool keeps are, after each Sync, what the files
// hold now, beside what each held before it was rotated away — under the
// names parser.Follower gives — whatever the rotation: appended to,
// truncated and written again past its old size, replaced, deleted,
// renamed within the listing.
func TestSpool(t *testing.T) {
	dir := t.TempDir()
	tm, jm := filepath.Join(dir, "taskmanager.log"), filepath.Join(dir, "jobmanager.log")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	appendTo := func(path, text string) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
	long := strings.Repeat("x", 3*checkBytes) + "\n"
	steps := []struct {
		name  string
		do    func()
		files []string
		want  map[string]string // input name → content
	}{
		{"start", func() { write(tm, "tm 1\n"); write(jm, "jm 1\n") }, []string{jm, tm},
			map[string]string{tm: "tm 1\n", jm: "jm 1\n"}},
		{"appended", func() { appendTo(tm, "tm 2\n"+long) }, []string{jm, tm},
			map[string]string{tm: "tm 1\ntm 2\n" + long, jm: "jm 1\n"}},
		{"nothing new", func() {}, []string{jm, tm},
			map[string]string{tm: "tm 1\ntm 2\n" + long, jm: "jm 1\n"}},
		// copytruncate, then more written than was there: the same inode,
		// no shorter, the same first bytes — not the same bytes before
		// the copy's end
		{"truncated and grown past", func() {
			if err := os.Truncate(tm, 0); err != nil {
				t.Fatal(err)
			}
			appendTo(tm, "tm 1\n"+strings.Repeat("y", 4*checkBytes)+"\n")
		}, []string{jm, tm}, map[string]string{
			parser.RotatedName(tm, 1): "tm 1\ntm 2\n" + long,
			tm:                        "tm 1\n" + strings.Repeat("y", 4*checkBytes) + "\n", jm: "jm 1\n"}},
		{"replaced", func() { write(jm+".new", "jm 2\n"); os.Rename(jm+".new", jm) }, []string{jm, tm}, map[string]string{
			parser.RotatedName(tm, 1): "tm 1\ntm 2\n" + long, parser.RotatedName(jm, 1): "jm 1\n",
			tm: "tm 1\n" + strings.Repeat("y", 4*checkBytes) + "\n", jm: "jm 2\n"}},
		{"deleted", func() { os.Remove(tm) }, []string{jm}, map[string]string{
			parser.RotatedName(tm, 1): "tm 1\ntm 2\n" + long, parser.RotatedName(jm, 1): "jm 1\n",
			parser.RotatedName(tm, 2): "tm 1\n" + strings.Repeat("y", 4*checkBytes) + "\n", jm: "jm 2\n"}},
		// renamed to a name listed: its content goes on there, no segment
		{"renamed within", func() { os.Rename(jm, jm+".1") }, []string{jm + ".1"}, map[string]string{
			parser.RotatedName(tm, 1): "tm 1\ntm 2\n" + long, parser.RotatedName(jm, 1): "jm 1\n",
			parser.RotatedName(tm, 2): "tm 1\n" + strings.Repeat("y", 4*checkBytes) + "\n", jm + ".1": "jm 2\n"}},
	}
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, st := range steps {
		st.do()
		if err := s.Sync(st.files); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		paths, names := s.Inputs()
		got := map[string]string{}
		var total int64
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			got[names[p]] = string(b)
			total += int64(len(b))
		}
		if len(got) != len(st.want) {
			t.Errorf("%s: %d copies %v, want %d", st.name, len(got), keys(got), len(st.want))
		}
		for name, text := range st.want {
			if got[name] != text {
				t.Errorf("%s: the copy of %s holds %d bytes %.40q, want %d %.40q", st.name, name, len(got[name]), got[name], len(text), text)
			}
		}
		rotated := false
		for name := range st.want {
			rotated = rotated || parser.UnrotatedName(name) != name
		}
		if s.Rotated() != rotated {
			t.Errorf("%s: Rotated() = %v, want %v", st.name, s.Rotated(), rotated)
		}
		if s.Bytes() != total {
			t.Errorf("%s: Bytes() = %d, the copies hold %d", st.name, s.Bytes(), total)
		}
	}
	if err := s.Sync([]string{"-"}); err == nil {
		t.Error("standard input was spooled")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSpoolAgainstAModel: random sequences of what logs undergo — lines
// appended, copytruncate (with and without regrowing past the old size
// before the next look), rename and create, deletion, a file moved to
// another name in the listing, a new file — each looked at by Sync, give
// the copies a model of them gives: each file's content since its last
// rotation, and every earlier content under its rotated name.
func TestSpoolAgainstAModel(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		spoolAgainstAModel(t, seed)
	}
}

func spoolAgainstAModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 26))
	dir := t.TempDir()
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// the model: each listed file's inode (a number the model gives each
	// file made) and content; what the spool saw of each at its last look;
	// and the rotated segments it must hold, by name
	type file struct {
		inode int
		text  string
	}
	files, seen := map[string]file{}, map[string]file{}
	want, rotations := map[string]string{}, map[string]int{}
	inodes := 0
	var trace []string
	retire := func(p string) {
		if seen[p].text != "" {
			rotations[p]++
			want[parser.RotatedName(p, rotations[p])] = seen[p].text
		}
		delete(seen, p)
	}
	names := []string{"jobmanager.log", "taskmanager-0.log", "taskmanager-1.log", "taskmanager-2.log"}
	line := func() string {
		return fmt.Sprintf("2021-03-14 09:%02d:%02d,000 INFO  x - line %d %s\n", rng.IntN(60), rng.IntN(60), rng.IntN(1e6),
			strings.Repeat("y", rng.IntN(3*checkBytes/2)))
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	appendTo := func(p, text string) {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		must(err)
		_, err = f.WriteString(text)
		must(err)
		must(f.Close())
	}
	for step := 0; step < 40; step++ {
		p := filepath.Join(dir, names[rng.IntN(len(names))])
		f, exists := files[p]
		op := rng.IntN(10)
		trace = append(trace, fmt.Sprintf("%d:%s:%d:%v", step, filepath.Base(p), op, exists))
		switch {
		case !exists: // a new file
			inodes++
			f = file{inodes, line()}
			appendTo(p, f.text)
		case op < 4: // lines appended
			text := line() + line()
			appendTo(p, text)
			f.text += text
		case op == 4 || op == 5: // copytruncate, then maybe more than before
			must(os.Truncate(p, 0))
			text := ""
			for op == 5 && len(text) <= len(f.text) {
				text += line()
			}
			appendTo(p, text)
			f.text = text
		case op == 6: // rename and create
			must(os.Rename(p, p+".old"))
			must(os.Remove(p + ".old"))
			inodes++
			f = file{inodes, line()}
			appendTo(p, f.text)
		case op == 7: // deleted
			must(os.Remove(p))
			delete(files, p)
			continue
		case op == 8: // moved to another name, which it replaces
			q := filepath.Join(dir, names[rng.IntN(len(names))])
			if q == p {
				continue
			}
			must(os.Rename(p, q))
			delete(files, p)
			p = q
		}
		files[p] = f
		if rng.IntN(3) == 0 && step < 39 {
			continue // several changes between two looks
		}
		trace = append(trace, "sync")
		// what Sync must conclude: a file no longer listed is rotated
		// away unless it was moved to another name listed (its inode
		// there, still starting with what was copied: not truncated since,
		// nor an inode given again to a new file); a listed
		// one is when its inode changed or it no longer starts with what
		// was copied
		for p, sf := range seen {
			if _, listed := files[p]; listed {
				continue
			}
			moved := false
			for _, f := range files {
				moved = moved || f.inode == sf.inode && strings.HasPrefix(f.text, sf.text)
			}
			if moved {
				delete(seen, p)
			} else {
				retire(p)
			}
		}
		var listed []string
		for p, f := range files {
			listed = append(listed, p)
			if sf, ok := seen[p]; ok && (sf.inode != f.inode || !strings.HasPrefix(f.text, sf.text)) {
				retire(p)
			}
			seen[p] = f
		}
		slices.Sort(listed)
		must(s.Sync(listed))
		paths, got := s.Inputs()
		copies := map[string]string{}
		for _, cp := range paths {
			b, err := os.ReadFile(cp)
			must(err)
			copies[got[cp]] = string(b)
		}
		for p, f := range files {
			want[p] = f.text
		}
		for name, text := range want {
			if _, ok := files[name]; !ok && parser.UnrotatedName(name) == name {
				delete(want, name) // a file gone: its copy is a segment now
			} else if copies[name] != text {
				t.Fatalf("seed %d step %d: the copy of %s holds %d bytes %.50q, want %d %.50q; %v", seed, step, filepath.Base(name), len(copies[name]), copies[name], len(text), text, trace)
			}
		}
		if len(copies) != len(want) {
			t.Fatalf("seed %d step %d: %d copies %v, want %d %v; %v", seed, step, len(copies), keys(copies), len(want), keys(want), trace)
		}
	}
}
