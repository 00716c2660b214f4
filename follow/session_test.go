package follow

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// incident is a simulated 1.9.3 cluster whose map was overwritten: cut at
// 30 % its logs already prove the overwrite, and also show slot reports
// that disagree with a TaskManager whose free line is not written yet —
// findings the rest of the logs disprove.
var incident = filepath.Join("..", "testdata", "logs", "sim-1.9.3-overwrite-debug")

// auditOf audits paths as `slotaudit audit` does; nil while they hold no
// slot evidence.
func auditOf(paths ...string) (*report.Audit, error) {
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		return nil, err
	}
	evidence := false
	for i := range res.All() {
		evidence = evidence || !strings.HasPrefix(string(res.Base(i).Kind), "meta.")
	}
	if !evidence {
		return nil, nil
	}
	m := reconstruct.Build(res)
	return &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}, nil
}

// cutTo writes the first pct percent of each of the incident's logs (cut
// at a line end) into dir.
func cutTo(t *testing.T, dir string, pct int) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(incident, "*.log"))
	if err != nil || len(names) == 0 {
		t.Fatalf("the incident's logs: %v (%d files)", err, len(names))
	}
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		cut := bytes.LastIndexByte(data[:len(data)*pct/100], '\n') + 1
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(n)), data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fingerprints returns the fingerprints of an audit's findings.
func fingerprints(a *report.Audit) []string {
	var out []string
	for _, f := range a.JSON().Findings {
		out = append(out, f.Fingerprint)
	}
	return out
}

// line is one line of the stream.
type line struct {
	Type        string `json:"type"`
	Fingerprint string `json:"fingerprint"`
	Rule        string `json:"rule"`
}

func readStream(t *testing.T, out []byte) []line {
	t.Helper()
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestSessionTellsAndRetracts follows logs that grow in three steps: each
// audit's new findings are told once, the findings a later audit no longer
// holds are retracted, and what stays told at the end is exactly the audit
// of the complete logs.
func TestSessionTellsAndRetracts(t *testing.T) {
	dir := t.TempDir()
	stages := []int{30, 60, 100}
	cutTo(t, dir, stages[0])

	// what each stage's audit holds, from an audit of a copy of it
	want := make([][]string, len(stages))
	for k, pct := range stages {
		copyDir := t.TempDir()
		cutTo(t, copyDir, pct)
		a, err := auditOf(copyDir)
		if err != nil || a == nil {
			t.Fatalf("stage %d%%: %v", pct, err)
		}
		want[k] = fingerprints(a)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	audits := 0
	s := &Session{
		Paths: []string{dir},
		Poll:  5 * time.Millisecond,
		Out:   &out,
		Log:   zerolog.Nop(),
		// each audit reads the logs as they are, then lets them grow to
		// the next stage; after the last stage the logs are touched, and
		// the audit that sees it ends the follow (an audit that a cancel
		// interrupts is not told: it must not be the last stage's)
		Audit: func(context.Context) (*report.Audit, error) {
			a, err := auditOf(dir)
			audits++
			switch {
			case audits < len(stages):
				cutTo(t, dir, stages[audits])
			case audits == len(stages):
				later := time.Now().Add(time.Hour)
				for _, n := range []string{"jobmanager.log", "taskmanager-0.log"} {
					if err := os.Chtimes(filepath.Join(dir, n), later, later); err != nil {
						t.Error(err)
					}
				}
			default:
				cancel()
			}
			return a, err
		},
	}
	ending, err := s.Run(ctx)
	if err != nil || ending != Stopped {
		t.Fatalf("Run: %v, %v; want Stopped", ending, err)
	}
	if audits != len(stages)+1 {
		t.Fatalf("%d audits; want one per stage and one after the touch (%d)", audits, len(stages)+1)
	}
	if s.Current == nil || !slices.Equal(fingerprints(s.Current), want[len(want)-1]) {
		t.Fatalf("Current is not the audit of the complete logs:\n%v\n%v", fingerprints(s.Current), want[len(want)-1])
	}

	// replay the stream against the stages: what was told after each
	// stage is exactly that stage's findings
	told := map[string]bool{}
	retractions := 0
	for _, l := range readStream(t, out.Bytes()) {
		switch l.Type {
		case "finding":
			if told[l.Fingerprint] {
				t.Errorf("%s %s told twice without a retraction", l.Rule, l.Fingerprint)
			}
			told[l.Fingerprint] = true
		case "retracted":
			if !told[l.Fingerprint] {
				t.Errorf("%s %s retracted but never told", l.Rule, l.Fingerprint)
			}
			delete(told, l.Fingerprint)
			retractions++
		default:
			t.Errorf("unexpected line type %q", l.Type)
		}
	}
	final := want[len(want)-1]
	if len(told) != len(final) {
		t.Errorf("%d findings stay told; the complete audit holds %d", len(told), len(final))
	}
	for _, fp := range final {
		if !told[fp] {
			t.Errorf("finding %s of the complete audit never told", fp)
		}
	}
	// the incident was picked for it: a finding of the first stage that
	// the complete logs disprove
	var disproved []string
	for _, fp := range want[0] {
		if !slices.Contains(final, fp) {
			disproved = append(disproved, fp)
		}
	}
	if len(disproved) == 0 || retractions < len(disproved) {
		t.Errorf("%d retractions; the first stage held %d findings the complete logs disprove", retractions, len(disproved))
	}

	if err := s.WriteSummary(); err != nil {
		t.Fatal(err)
	}
	lines := readStream(t, out.Bytes())
	if last := lines[len(lines)-1]; last.Type != "summary" {
		t.Errorf("the last line is %q; want the summary", last.Type)
	}
}

// TestSessionAuditsOnlyOnChange: polls that see the same inputs do not
// audit again; a file rewritten in place with the same size is a change.
func TestSessionAuditsOnlyOnChange(t *testing.T) {
	dir := t.TempDir()
	cutTo(t, dir, 50)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	audits := 0
	s := &Session{
		Paths: []string{dir},
		Poll:  2 * time.Millisecond,
		Out:   &bytes.Buffer{},
		Log:   zerolog.Nop(),
		Audit: func(context.Context) (*report.Audit, error) {
			mu.Lock()
			defer mu.Unlock()
			audits++
			return auditOf(dir)
		},
	}
	done := make(chan error, 1)
	go func() { _, err := s.Run(ctx); done <- err }()
	count := func() int { mu.Lock(); defer mu.Unlock(); return audits }
	time.Sleep(100 * time.Millisecond) // fifty polls of unchanged inputs
	if n := count(); n != 1 {
		t.Errorf("%d audits of unchanged inputs; want 1", n)
	}
	// the same bytes count, other content: one byte flipped in the last 4 KiB
	name := filepath.Join(dir, "jobmanager.log")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(name)
	i := bytes.LastIndexByte(data[:len(data)-1], '\n') - 1
	data[i] ^= 0x20
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(name, st.ModTime(), st.ModTime()) // the same modification time
	deadline := time.Now().Add(5 * time.Second)
	for count() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := count(); n != 2 {
		t.Errorf("%d audits after a same-size rewrite; want 2", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSessionInputs: an input missing at the start is an error, as for
// audit; one that goes away later is warned about once, followed again
// when it is back; standard input alone ends the session once it has
// ended and was audited.
func TestSessionInputs(t *testing.T) {
	t.Run("missing at the start", func(t *testing.T) {
		s := &Session{Paths: []string{filepath.Join(t.TempDir(), "nope.log")}, Poll: time.Millisecond, Out: &bytes.Buffer{}, Log: zerolog.Nop(),
			Audit: func(context.Context) (*report.Audit, error) { t.Fatal("audited a missing input"); return nil, nil }}
		_, err := s.Run(context.Background())
		var ie *parser.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("err = %v; want an InputError", err)
		}
	})
	t.Run("gone and back", func(t *testing.T) {
		dir := t.TempDir()
		cutTo(t, dir, 100)
		tm := filepath.Join(dir, "taskmanager-0.log")
		var logs bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		audits := 0
		var saved []byte
		s := &Session{Paths: []string{tm, filepath.Join(dir, "jobmanager.log")}, Poll: time.Millisecond, Out: &bytes.Buffer{}, Log: zerolog.New(&logs),
			Audit: func(context.Context) (*report.Audit, error) {
				audits++
				switch audits {
				case 1: // then the TaskManager's log goes away
					saved, _ = os.ReadFile(tm)
					os.Remove(tm)
				case 2: // read without it; then it is back
					os.WriteFile(tm, saved, 0o644)
				case 3:
					cancel()
				}
				return nil, nil
			}}
		if ending, err := s.Run(ctx); err != nil || ending != Stopped {
			t.Fatalf("Run: %v, %v", ending, err)
		}
		got := logs.String()
		if strings.Count(got, "the input is gone") != 1 || strings.Count(got, "the input is back") != 1 {
			t.Errorf("warnings:\n%s\nwant one \"gone\" and one \"back\"", got)
		}
	})
	t.Run("standard input ends", func(t *testing.T) {
		in := &fakeStdin{}
		audits := 0
		s := &Session{Paths: []string{"-"}, Poll: time.Millisecond, Out: &bytes.Buffer{}, Log: zerolog.Nop(), Stdin: in,
			Audit: func(context.Context) (*report.Audit, error) {
				audits++
				in.n += 100
				in.ended = audits == 3 // the third audit reads its end
				return nil, nil
			}}
		ending, err := s.Run(context.Background())
		if err != nil || ending != StdinEnded {
			t.Fatalf("Run: %v, %v; want StdinEnded", ending, err)
		}
		// the audit after the end was seen is the one that read it all
		if audits != 4 {
			t.Errorf("%d audits; want 4 (the last one after the end)", audits)
		}
	})
}

type fakeStdin struct {
	n     int64
	ended bool
}

func (f *fakeStdin) Stdin() (int64, bool)       { return f.n, f.ended }
func (f *fakeStdin) StdinFull() <-chan struct{} { return nil }
