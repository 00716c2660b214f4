package follow

import (
	"os"
	"path/filepath"
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
