package parser

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestTextReadAgain: every event of every bundled log, and of logs built
// to be awkward (CRLF, a byte-order mark, terminal colours, lines past
// the text cap and past the re-reader's buffer, no end of line at the
// end, thousands of lines), gives the same Text read back from its file
// as a read that kept every text (the reference read keeps them).
// FuzzChunkedRead holds the same on arbitrary input: Expanded writes
// every text out, read back in the fast read and kept in the reference.
func TestTextReadAgain(t *testing.T) {
	dir := t.TempDir()
	rec := func(i int, msg string) string {
		return fmt.Sprintf("2021-03-14 09:00:%02d,%03d INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl [] - %s", i/1000%60, i%1000, msg)
	}
	alloc := func(i int) string { return fmt.Sprintf("%032x", i+1) }
	var many, crlf, awkward strings.Builder
	for i := range 5000 {
		fmt.Fprintln(&many, rec(i, "Activate slot "+alloc(i)+"."))
		if i%7 == 0 {
			fmt.Fprintln(&many, "\tat org.apache.flink.Foo.bar(Foo.java:1)")
		}
	}
	for i := range 200 {
		fmt.Fprint(&crlf, rec(i, "Activate slot "+alloc(i)+".")+"\r\n")
	}
	awkward.WriteString("\xef\xbb\xbf" + rec(0, "Activate slot "+alloc(0)+".") + "\n")
	awkward.WriteString("\x1b[32m" + rec(1, "Activate slot "+alloc(1)+".") + "\x1b[0m\n")
	awkward.WriteString(rec(2, "Activate slot "+alloc(2)+". "+strings.Repeat("x", 3000)) + "\n")
	awkward.WriteString(rec(3, "Activate slot "+alloc(3)+". "+strings.Repeat("y", 300<<10)) + "\n")
	awkward.WriteString(rec(4, "Activate slot "+alloc(4)+".")) // no end of line
	made := map[string]string{"many.log": many.String(), "crlf.log": crlf.String(), "awkward.log": awkward.String()}
	var paths []string
	for name, text := range made {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	bundled, _ := filepath.Glob(filepath.Join("..", "testdata", "logs", "*"))
	for _, p := range append(paths, bundled...) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			got, err := Read([]string{p}, Options{ChunkSize: 4 << 10})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Read([]string{p}, Options{Reference: true})
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != want.Len() {
				t.Fatalf("%d events, the reference read %d", got.Len(), want.Len())
			}
			// refs differ (the reference read folds nothing): All's
			// order is the same
			var wantRefs []EventRef
			for v := range want.All() {
				wantRefs = append(wantRefs, v)
			}
			away, k := 0, 0
			for v := range got.All() {
				if _, p := got.base(v); p.flags&pTextAway != 0 {
					away++
				}
				if g, w := got.Text(v), want.Text(wantRefs[k]); g != w {
					t.Fatalf("%s: read again\n got  %.200q\n want %.200q", got.Files.Position(got.Pos(v)), g, w)
				}
				k++
			}
			if _, made := made[filepath.Base(p)]; made && away == 0 {
				t.Fatal("no event let its text go")
			}
		})
	}
}

// TestTextChangedOrGone: a file rewritten or removed after the read is
// said to be so in place of the text, never read as other text.
func TestTextChangedOrGone(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tm.log")
	line := "2021-03-14 09:00:00,000 INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl [] - Activate slot 0123456789abcdef0123456789abcdef."
	if err := os.WriteFile(p, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Read([]string{p}, Options{})
	if err != nil || res.Len() != 1 {
		t.Fatalf("read: %v, %d events", err, res.Len())
	}
	for _, c := range []struct {
		name, content, want string
	}{
		{"changed", strings.Replace(line, "Activate", "Activati", 1) + "\n", "[line 1 of " + p + " changed since it was read]"},
		{"shorter", "", "[line 1 of " + p + " changed since it was read]"},
		{"gone", "-", "could not be read again"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.content == "-" {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			fresh := *res
			fresh.rereader = nil // a read of its own: no line index from before
			if got := fresh.Text(0); !strings.Contains(got, c.want) || strings.Contains(got, "Activat") {
				t.Fatalf("text %q, want it to say %q", got, c.want)
			}
		})
	}
}

// TestTextManyFiles: texts read back across more files than stay open,
// in an order that goes from file to file, are each their own line.
func TestTextManyFiles(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for f := range maxOpenLines + 9 {
		var b strings.Builder
		for i := range 3 {
			fmt.Fprintf(&b, "2021-03-14 09:00:0%d,000 INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl [] - Activate slot %032x.\n", i, f*10+i+1)
		}
		p := filepath.Join(dir, fmt.Sprintf("tm-%02d.log", f))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	res, err := Read(paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// by line, then by file: every text read goes to another file
	for line := int64(1); line <= 3; line++ {
		for v := range res.All() {
			if res.Pos(v).Line != line {
				continue
			}
			f := res.Pos(v).File
			want := fmt.Sprintf("%032x.", int(f)*10+int(line))
			if got := res.Text(v); !strings.HasSuffix(got, want) {
				t.Fatalf("%s: %q, want the line ending %q", res.Files.Position(res.Pos(v)), got, want)
			}
		}
	}
	if n := len(res.lines().open); n > maxOpenLines {
		t.Fatalf("%d files open", n)
	}
}

// TestTextReadBackInAnyOrder: texts of one file asked for out of order
// (backwards, then at random, past the piece kept from the last read and
// back into it), and in order (every line, then a few lines on at a time:
// read on from the line read last) are each their own line, long lines
// included.
func TestTextReadBackInAnyOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tm.log")
	var b strings.Builder
	var lines []string
	for i := range 6000 {
		pad := ""
		if i%997 == 0 {
			pad = " " + strings.Repeat("x", 70<<10) // longer than a piece
		}
		l := fmt.Sprintf("2021-03-14 09:%02d:%02d,%03d INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl [] - Activate slot %032x.%s", i/3600%60, i/60%60, i%1000, i, pad)
		lines = append(lines, l)
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Read([]string{p}, Options{})
	if err != nil || res.Len() != len(lines) {
		t.Fatalf("read: %v, %d events", err, res.Len())
	}
	order := make([]int, len(lines))
	for i := range order {
		order[i] = len(lines) - 1 - i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		order = append(order, rng.IntN(len(lines)))
	}
	for i := range lines {
		order = append(order, i)
	}
	for i := 0; i < len(lines); i += 1 + rng.IntN(90) {
		order = append(order, i, i) // (the same line twice, too)
	}
	for _, i := range order {
		want := lines[i]
		if len(want) > flinklog.MaxTextLen {
			want = want[:flinklog.MaxTextLen] + "…"
		}
		if got := res.Text(EventRef(i)); got != want {
			t.Fatalf("event %d: text %.80q…, want %.80q…", i, got, want)
		}
	}
}

// BenchmarkTextReadBack reads texts back by position as the outputs that
// list every event do: in order (events), and back and forth inside a
// moving window of 600 lines (a timeline's stories, one after another).
func BenchmarkTextReadBack(b *testing.B) {
	p := filepath.Join(b.TempDir(), "tm.log")
	var sb strings.Builder
	const lines = 200_000
	for i := range lines {
		fmt.Fprintf(&sb, "2021-03-14 09:%02d:%02d,%03d INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl [] - Activate slot %032x.\n", i/3600%60, i/60%60, i%1000, i)
	}
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	res, err := Read([]string{p}, Options{})
	if err != nil || res.Len() != lines {
		b.Fatalf("read: %v, %d events", err, res.Len())
	}
	rng := rand.New(rand.NewPCG(3, 4))
	window := make([]int, 0, lines)
	for lo := 0; lo < lines; lo += 600 {
		w := make([]int, 0, 600)
		for i := lo; i < min(lo+600, lines); i++ {
			w = append(w, i)
		}
		rng.Shuffle(len(w), func(i, j int) { w[i], w[j] = w[j], w[i] })
		window = append(window, w...)
	}
	for _, bc := range []struct {
		name  string
		order func(i int) int
	}{{"inOrder", func(i int) int { return i }}, {"window", func(i int) int { return window[i] }}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				for i := range lines {
					if res.Text(EventRef(bc.order(i))) == "" {
						b.Fatal("no text")
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/text")
		})
	}
}
