package sim

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// memFile is a file Config.Create made in memory: what reached it through
// the buffer, and how it was closed. It fails writes once failAt bytes
// were written (0: never), and its Close with closeErr.
type memFile struct {
	t        *testing.T
	name     string
	buf      bytes.Buffer
	closes   int
	failAt   int
	closeErr error
}

var errDiskFull = errors.New("disk full")

func (f *memFile) Write(p []byte) (int, error) {
	if f.closes > 0 {
		f.t.Errorf("%s: written after it was closed", f.name)
	}
	if f.failAt > 0 && f.buf.Len()+len(p) > f.failAt {
		return 0, errDiskFull
	}
	return f.buf.Write(p)
}

func (f *memFile) Close() error {
	f.closes++
	return f.closeErr
}

// memFiles is a Config.Create that keeps the files it made.
type memFiles struct {
	t     *testing.T
	files []*memFile
	// make, when set, adjusts the k-th file made (0-based) or fails it
	make func(k int, f *memFile) error
}

func (m *memFiles) create(name string) (io.WriteCloser, error) {
	f := &memFile{t: m.t, name: name}
	if m.make != nil {
		if err := m.make(len(m.files), f); err != nil {
			return nil, err
		}
	}
	for _, g := range m.files {
		if g.name == name {
			m.t.Errorf("%s made twice", name)
		}
	}
	m.files = append(m.files, f)
	return f, nil
}

// TestCreateWritesWhatFilesHold: files made through Config.Create, written
// as the run goes, hold what Result.Files holds without it — every layout,
// the DEBUG filter, chatter (also above 1000 records a second, and in the
// files of pods replaced long before the end) — and each is closed once.
func TestCreateWritesWhatFilesHold(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   Config
		files int // files the run writes
	}{
		{"legacy-debug-noise", Config{Flink: "1.9.3", TaskManagers: 3, Slots: 3, Jobs: 3, Failovers: 2, Seed: 5, Debug: true, Noise: 5, Inject: LegacyFaults}, 4},
		{"legacy-info-only", Config{Flink: "1.12.7", TaskManagers: 2, Slots: 3, Jobs: 2, Seed: 6, Noise: 5, Inject: LegacyFaults}, 3},
		{"logback", Config{Flink: "1.18.1", TaskManagers: 2, Slots: 3, Jobs: 2, Seed: 7, Debug: true, Noise: 5, Layout: "logback", Inject: Faults}, 3},
		{"json-kubernetes-replaced-pods", Config{Flink: "1.19.1", TaskManagers: 3, Slots: 3, Jobs: 2, Seed: 8, Debug: true, Noise: 5, Format: "json",
			Deployment: "kubernetes", Minutes: 30, Inject: []string{FaultTMLost, FaultTMRestart}}, 6}, // two pods replaced
		{"loud", Config{Flink: "1.12.7", TaskManagers: 2, Slots: 3, Jobs: 1, Seed: 9, Debug: true, Noise: 1200, Minutes: 1}, 3},
		{"once-idle", Config{Flink: "1.12.7", TaskManagers: 2, Slots: 3, Jobs: 1, Seed: 10, Debug: true, Noise: 3, Minutes: 40, Once: true}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, err := Run(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := &memFiles{t: t}
			cfg := c.cfg
			cfg.Create = m.create
			got, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Files) != 0 {
				t.Errorf("Result.Files has %d files with Create set", len(got.Files))
			}
			var names []string
			for _, f := range m.files {
				names = append(names, f.name)
				if f.closes != 1 {
					t.Errorf("%s closed %d times", f.name, f.closes)
				}
				if f.buf.String() != want.Files[f.name] {
					t.Errorf("%s: %d bytes written, %d in Result.Files without Create", f.name, f.buf.Len(), len(want.Files[f.name]))
				}
			}
			sort.Strings(names)
			if len(names) != c.files {
				t.Errorf("%d files made, want %d", len(names), c.files)
			}
			if w := sortedKeys(want.Files); strings.Join(names, " ") != strings.Join(w, " ") {
				t.Errorf("made %v, want %v", names, w)
			}
			if got.Truth.Seed != want.Truth.Seed || len(got.Truth.Allocations) != len(want.Truth.Allocations) {
				t.Errorf("the truth differs with Create")
			}
		})
	}
}

// TestCreateErrors: the first error making, writing or closing a file ends
// the run, is Run's, and leaves every file made closed.
func TestCreateErrors(t *testing.T) {
	errRefused := errors.New("refused")
	for _, c := range []struct {
		name    string
		make    func(k int, f *memFile) error
		want    error
		stopsBy int64 // the run stops before this share (%) of it when > 0
	}{
		{"first file refused", func(k int, f *memFile) error { return errRefused }, errRefused, 1},
		{"second file refused", func(k int, f *memFile) error {
			if k == 1 {
				return errRefused
			}
			return nil
		}, errRefused, 1},
		{"a write fails mid-run", func(k int, f *memFile) error {
			if k == 2 {
				f.failAt = 200 << 10 // past the first buffer, long before the end
			}
			return nil
		}, errDiskFull, 10},
		{"a close fails", func(k int, f *memFile) error {
			if k == 1 {
				f.closeErr = errDiskFull
			}
			return nil
		}, errDiskFull, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := &memFiles{t: t, make: c.make}
			var reached, total int64
			cfg := Config{Flink: "1.12.7", TaskManagers: 3, Slots: 3, Jobs: 3, Seed: 3, Debug: true, Noise: 50, Minutes: 60,
				Create: m.create, Progress: func(now, end int64) { reached, total = now, end }}
			res, err := Run(cfg)
			if !errors.Is(err, c.want) {
				t.Fatalf("Run: %v, want %v", err, c.want)
			}
			if res != nil {
				t.Errorf("a result with the error")
			}
			for _, f := range m.files {
				if f.closes != 1 {
					t.Errorf("%s closed %d times", f.name, f.closes)
				}
			}
			if c.stopsBy > 0 && reached > total*c.stopsBy/100 {
				t.Errorf("the run went on to %d of %d ms after the error", reached, total)
			}
		})
	}
}

// TestProgress: Progress is told how far simulated time got, about every
// 1% of the run and never more often, and last that the run is complete.
func TestProgress(t *testing.T) {
	for _, c := range []struct {
		name    string
		minutes int
		total   int64
	}{
		{"default 15 minutes", 0, defaultRun},
		{"7 minutes", 7, 7 * 60_000},
		{"4 hours", 240, 240 * 60_000},
	} {
		t.Run(c.name, func(t *testing.T) {
			var at []int64
			cfg := Config{Flink: "1.17.2", TaskManagers: 2, Slots: 3, Jobs: 2, Seed: 4, Minutes: c.minutes,
				Progress: func(now, total int64) {
					if total != c.total {
						t.Fatalf("total %d, want %d", total, c.total)
					}
					at = append(at, now)
				}}
			if _, err := Run(cfg); err != nil {
				t.Fatal(err)
			}
			if len(at) < 20 || len(at) > 101 {
				t.Fatalf("%d calls, want about one per 1%% of the run", len(at))
			}
			if last := at[len(at)-1]; last != c.total {
				t.Errorf("last call at %d ms, want %d", last, c.total)
			}
			step := c.total / 100
			for k := 1; k < len(at)-1; k++ {
				if at[k]/step <= at[k-1]/step {
					t.Errorf("calls at %d and %d ms: within one 1%% step", at[k-1], at[k])
				}
			}
		})
	}
}

// TestChatterKeepsUpWithTime: an idle TaskManager, which logs nothing
// after its jobs ran once, still has its chatter written as simulated time
// passes, not all at the end (a progress bar would stop at 100% while it
// is written).
func TestChatterKeepsUpWithTime(t *testing.T) {
	m := &memFiles{t: t}
	half := map[string]int{}
	cfg := Config{Flink: "1.12.7", TaskManagers: 2, Slots: 3, Jobs: 1, Seed: 2, Debug: true, Noise: 20, Minutes: 60, Once: true,
		Create: m.create,
		Progress: func(now, total int64) {
			if len(half) == 0 && now >= total/2 {
				for _, f := range m.files {
					half[f.name] = f.buf.Len()
				}
			}
		}}
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	for _, f := range m.files {
		if share := float64(half[f.name]) / float64(f.buf.Len()); share < 0.4 || share > 0.6 {
			t.Errorf("%s: %.0f%% of it written halfway through the run", f.name, 100*share)
		}
	}
}

// TestRotatedLogsAreTheLogInPieces: with RotateMinutes, each TaskManager's
// log is the same log cut into files by its clock, named as log4j names
// them (the oldest with the highest number, the newest with none): read
// oldest first, the files give the unrotated run's log byte for byte; the
// other components' logs are not cut.
func TestRotatedLogsAreTheLogInPieces(t *testing.T) {
	for _, v := range []string{"1.9.3", "1.18.1"} {
		cfg := Config{Flink: v, TaskManagers: 3, Slots: 4, Jobs: 4, JobSeconds: 10, Minutes: 45, Seed: 9}
		whole, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RotateMinutes = 10
		rotated, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		pieces := 0
		for name, text := range whole.Files {
			if !strings.HasPrefix(name, "taskmanager-") {
				if rotated.Files[name] != text {
					t.Errorf("%s %s: cut, or changed", v, name)
				}
				continue
			}
			var joined strings.Builder
			for n := 4; n >= 1; n-- { // 45 minutes in files of 10: .4 … .1
				part, ok := rotated.Files[name+"."+strconv.Itoa(n)]
				if !ok {
					t.Fatalf("%s %s: no file .%d among %v", v, name, n, sortedKeys(rotated.Files))
				}
				joined.WriteString(part)
				pieces++
			}
			joined.WriteString(rotated.Files[name])
			if joined.String() != text {
				t.Errorf("%s %s: the rotated files are not the log in pieces", v, name)
			}
			if strings.Contains(rotated.Files[name+".1"], "Starting TaskManager") {
				t.Errorf("%s %s.1 begins a process: a later file holds the banner", v, name)
			}
		}
		if pieces < 12 {
			t.Errorf("%s: %d rotated files", v, pieces)
		}
	}
}
