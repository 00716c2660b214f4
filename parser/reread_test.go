package parser

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestReadAgainGivesTheReadsEvents: every input of every test log, alone
// and as the bundled directories, read again after a first read (whole or
// in pieces, keeping everything or nothing; read again lean after the
// latter) gives the full read's events of that input, field for field and
// in order — or is refused as not rereadable, never answered otherwise.
func TestReadAgainGivesTheReadsEvents(t *testing.T) {
	var paths []string
	for _, dir := range []string{"../testdata/logs", "../testdata/hostile", "../testdata/exports"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		paths = append(paths, m...)
	}
	nothing := func(*flinklog.Event) bool { return false }
	reread, refused, events, spilled, onlySome := 0, 0, 0, 0, 0
	someKinds := map[flinklog.Kind]bool{flinklog.KindRMSlotRequest: true, flinklog.KindTMSlotRequest: true,
		flinklog.KindTMActivate: true, flinklog.KindJMDeploy: true, flinklog.KindRMSlotReport: true}
	for _, p := range paths {
		for _, chunk := range []int{0, 4 << 10} {
			name := filepath.Base(p)
			if chunk > 0 {
				name += "/pieces"
			}
			t.Run(name, func(t *testing.T) {
				full, err := Read([]string{p}, Options{ChunkSize: chunk})
				if err != nil {
					t.Skip(err) // what a full read refuses is not ReadAgain's to test
				}
				for round, keep := range []func(*flinklog.Event) bool{nil, nothing, nothing} {
					// (the second time it keeps nothing, the read spills
					// every event, and ReadAgain decodes them)
					var sp *Spill
					if round == 2 {
						sp = testSpill(t)
					}
					first, err := Read([]string{p}, Options{ChunkSize: chunk, Keep: keep, Spill: sp})
					if err != nil {
						t.Fatal(err)
					}
					for k, in := range first.Inputs {
						if first.spilledLog(k, false) != nil {
							spilled++
						}
						// (read lean, as a fold of hundreds of inputs reads
						// them, when it keeps nothing)
						ir, err := first.ReadAgain(k, Options{LeanReadAgain: keep != nil})
						if errors.Is(err, ErrNotRereadable) {
							refused++
							if testing.Verbose() {
								t.Log(err)
							}
							continue
						}
						if err != nil {
							t.Fatal(err)
						}
						got, err := drain(ir)
						if errors.Is(err, ErrNotRereadable) {
							refused++
							if testing.Verbose() {
								t.Log(err)
							}
							continue
						}
						if err != nil {
							t.Fatal(err)
						}
						sameAsRead(t, got, full, in)
						reread++
						events += len(got)
						// and only some kinds (Options.OnlyKinds): those
						// events, numbered as among them all
						ir, err = first.ReadAgain(k, Options{LeanReadAgain: keep != nil, OnlyKinds: someKinds})
						if err != nil {
							t.Fatal(err)
						}
						some, nums, err := drainNumbered(ir)
						if err != nil {
							t.Fatal(err)
						}
						var want []flinklog.Event
						var wantNums []int
						for i, ev := range got {
							if someKinds[ev.Kind] {
								want, wantNums = append(want, ev), append(wantNums, i)
							}
						}
						if !reflect.DeepEqual(some, want) || !reflect.DeepEqual(nums, wantNums) {
							t.Fatalf("%s: read again for %d kinds gives %d events numbered %v, want %d numbered %v",
								in.Path, len(someKinds), len(some), nums, len(want), wantNums)
						}
						onlySome += len(some)
					}
				}
			})
		}
	}
	t.Logf("%d inputs read again (%d events, %d from the spill), %d refused; %d events of a few kinds", reread, events, spilled, refused, onlySome)
	if reread < 50 || events < 1000 || onlySome < 100 || onlySome > events/2 {
		t.Errorf("only %d inputs (%d events, %d of a few kinds) read again", reread, events, onlySome)
	}
	if spilled < reread/4 {
		t.Errorf("only %d of %d inputs read again from the spill", spilled, reread)
	}
}

// testSpill is a spill closed when the test ends.
func testSpill(t testing.TB) *Spill {
	t.Helper()
	sp, err := NewSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	return sp
}

// sameAsRead fails t unless got, input in read again, are the events full
// read of it, field for field and in order.
func sameAsRead(t *testing.T, got []flinklog.Event, full *Result, in InputSummary) {
	t.Helper()
	want := eventsOf(full, in.File)
	if len(got) != len(want) {
		t.Fatalf("%s: read again gives %d events, the read %d", in.Path, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s: event %d differs:\n again %+v\n read  %+v", in.Path, i, got[i], want[i])
		}
	}
}

// eachReadAgain reads every input of r again with opts and hands check
// its events; an input that cannot be read again event for event is
// passed over (ErrNotRereadable, before or while it is read).
func eachReadAgain(t *testing.T, r *Result, opts Options, check func(in InputSummary, evs []flinklog.Event)) {
	t.Helper()
	for k, in := range r.Inputs {
		ir, err := r.ReadAgain(k, opts)
		if errors.Is(err, ErrNotRereadable) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		evs, err := drain(ir)
		if errors.Is(err, ErrNotRereadable) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		check(in, evs)
	}
}

// drain returns every event ir hands over, or the error that ended it.
func drain(ir *InputReader) ([]flinklog.Event, error) {
	var out []flinklog.Event
	for {
		b, err := ir.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			return out, nil
		}
		out = append(out, b...)
	}
}

// drainNumbered is drain for a read again of some kinds: the events, and
// their numbers among all of the input's.
func drainNumbered(ir *InputReader) ([]flinklog.Event, []int, error) {
	var out []flinklog.Event
	var nums []int
	for {
		b, n, err := ir.NextNumbered()
		if err != nil {
			return nil, nil, err
		}
		if b == nil {
			return out, nums, nil
		}
		if len(n) != len(b) {
			return nil, nil, fmt.Errorf("%d events numbered %d times", len(b), len(n))
		}
		out, nums = append(out, b...), append(nums, n...)
	}
}

// eventsOf returns the events res read from input file, in order, as
// Result.Event writes them: a slot report kept as a Repeat, too, as the
// event it stands for (a read again hands it over so: Options.noFold),
// and no event says how many repeats it has.
func eventsOf(res *Result, file int32) []flinklog.Event {
	var out []flinklog.Event
	for ref := range res.All() {
		if ev := res.Event(ref); ev.Pos.File == file {
			ev.SetRepeatSpan(0, 0)
			out = append(out, *ev)
		}
	}
	return out
}

// TestReadAgainLogsOfAFile: each log of a file of several (kubectl logs
// --prefix) is read again, as the read read it, from its stretch of the
// file: however many pods written pod after pod (as kubectl writes them
// without -f), up to MaxLogsReadAgain whose lines interleave; beyond,
// each stretch is most of the file, and ReadAgain says so rather than
// read it that many times — unless the read spilled its events, which it
// then decodes for each log, however many.
func TestReadAgainLogsOfAFile(t *testing.T) {
	src, err := os.ReadFile("../testdata/logs/legacy-1.8.2-race-debug-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	for _, tc := range []struct {
		pods        int
		podAfterPod bool // as kubectl writes them without -f (else a line of each in turn, as with -f)
		timestamps  bool
	}{
		{2, false, false}, {MaxLogsReadAgain, false, false}, {MaxLogsReadAgain + 1, false, false},
		{MaxLogsReadAgain + 1, true, false}, {3 * MaxLogsReadAgain, true, true},
	} {
		pods := tc.pods
		t.Run(fmt.Sprintf("%d/%v/%v", pods, tc.podAfterPod, tc.timestamps), func(t *testing.T) {
			var b strings.Builder
			line := func(p int, line string) {
				if line == "" {
					return
				}
				fmt.Fprintf(&b, "[pod/flink-taskmanager-%d/flink-main-container] ", p)
				if tc.timestamps {
					b.WriteString("2021-03-14T09:00:00.000000000Z ")
				}
				b.WriteString(line)
			}
			if tc.podAfterPod {
				for p := range pods {
					for _, l := range lines {
						line(p, l)
					}
				}
			} else {
				for _, l := range lines {
					for p := range pods {
						line(p, l)
					}
				}
			}
			path := filepath.Join(t.TempDir(), "all.log")
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			full, err := Read([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(full.Inputs) != pods {
				t.Fatalf("%d logs read from the file, want %d", len(full.Inputs), pods)
			}
			for k, in := range full.Inputs {
				ir, err := full.ReadAgain(k, Options{})
				if pods > MaxLogsReadAgain && !tc.podAfterPod {
					if !errors.Is(err, ErrNotRereadable) || !strings.Contains(err.Error(), fmt.Sprintf("one of the %d logs of a file", pods)) {
						t.Fatalf("log %d of %d: %v", k, pods, err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := drain(ir)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 0 {
					t.Fatalf("log %d: no events read again", k)
				}
				sameAsRead(t, got, full, in)
			}
			// A read that spilled its events reads each log again from
			// them, however many the file holds.
			spilled, err := Read([]string{path}, Options{Spill: testSpill(t), Keep: func(*flinklog.Event) bool { return false }})
			if err != nil {
				t.Fatal(err)
			}
			for k, in := range spilled.Inputs {
				ir, err := spilled.ReadAgain(k, Options{KeepTexts: k%2 == 0})
				if err != nil {
					t.Fatalf("log %d of %d, spilled: %v", k, pods, err)
				}
				got, err := drain(ir)
				if err != nil {
					t.Fatal(err)
				}
				if spilled.spilledLog(k, true) == nil {
					t.Fatalf("log %d of %d: not read again from the spill", k, pods)
				}
				sameAsRead(t, got, full, in)
			}
		})
	}
}

// TestAllAgainIsTheRead: every input of each bundled log, of the exports
// and of the hostile inputs read again one after another (Result.AllAgain, after a read that kept no event) gives
// the full read's events in its order, field for field, and each one's
// text as the read gives it (Result.Text, which reads a plain file's
// back by position) — parsed from the files again, or decoded from the
// first read's spill, the texts it let go read back by position.
func TestAllAgainIsTheRead(t *testing.T) {
	dirs, _ := filepath.Glob("../testdata/logs/*")
	dirs = append(dirs, "../testdata/exports", "../testdata/hostile")
	compared := 0
	defer func() {
		if compared < 80 {
			t.Errorf("only %d reads compared", compared)
		}
	}()
	for _, dir := range dirs {
		for _, spilled := range []bool{false, true} {
			name := filepath.Base(dir)
			if spilled {
				name += "/spilled"
			}
			t.Run(name, func(t *testing.T) {
				allAgainIsTheRead(t, dir, spilled)
				compared++
			})
		}
	}
}

// allAgainIsTheRead is TestAllAgainIsTheRead of one directory, its first
// read spilling its events or not.
func allAgainIsTheRead(t *testing.T, dir string, spilled bool) {
	full, err := Read([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Keep: func(*flinklog.Event) bool { return false }}
	if spilled {
		sp, err := NewSpill(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sp.Close() })
		opts.Spill = sp
	}
	first, err := Read([]string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	// (in position order: a slot report kept as a Repeat where its
	// line is)
	var refs []EventRef
	for ref := range full.All() {
		if full.Inputs[full.Pos(ref).File].DuplicateOf == "" {
			refs = append(refs, ref)
		}
	}
	n := 0
	err = first.AllAgain(Options{}, func(ev *flinklog.Event) error {
		if n >= len(refs) {
			return fmt.Errorf("read again: an event past the read's %d (%s)", len(refs), full.Files.Position(ev.Pos))
		}
		ref := refs[n]
		want := *full.Event(ref)
		got := *ev
		if got.Text() != full.Text(ref) {
			return fmt.Errorf("%s: text %q read again, %q read", full.Files.Position(ev.Pos), got.Text(), full.Text(ref))
		}
		got.SetText("", "")
		want.SetText("", "")
		want.SetRepeatSpan(0, 0)
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("%s: read again %+v, read %+v", full.Files.Position(ev.Pos), got, want)
		}
		n++
		return nil
	})
	if errors.Is(err, ErrNotRereadable) {
		t.Skip(err) // (what cannot be read again: TestReadAgainGivesTheReadsEvents)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n != len(refs) {
		t.Fatalf("%d events read again, the read has %d", n, len(refs))
	}
}
