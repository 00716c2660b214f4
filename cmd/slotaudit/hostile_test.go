package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// hostileDir holds the bad inputs (testdata/hostile, README there); the
// ones too big to commit are made by the tests.
var hostileDir = filepath.Join("..", "..", "testdata", "hostile")

type hostileRun struct {
	code           int
	stdout, stderr string
	peakHeap       uint64
}

// runHostile runs slotaudit in-process and samples the heap while it runs.
func runHostile(t *testing.T, args ...string) hostileRun {
	t.Helper()
	var out, errOut bytes.Buffer
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	close(stop)
	wg.Wait()
	return hostileRun{code, out.String(), errOut.String(), peak.Load()}
}

// safeForTerminal reports the first byte sequence in s that a terminal
// would act on: C0 controls other than newline and tab, DEL, C1 controls,
// bidi controls (which reorder what is shown), invalid UTF-8. Every output
// is held to it, JSON and XML included: they escape these too.
func safeForTerminal(s string) (string, bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("invalid UTF-8 byte %#x at %d", s[i], i), false
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f, r >= 0x80 && r <= 0x9f,
			r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return fmt.Sprintf("control %U at %d: %q", r, i, s[max(0, i-40):min(len(s), i+40)]), false
		}
		i += size
	}
	return "", true
}

// accounted checks the audit JSON's input summaries: every record is an
// event record, irrelevant or unparsed; nothing vanished.
func accounted(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var doc struct {
		Inputs []map[string]any `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("audit JSON does not parse: %v\n%.500s", err, stdout)
	}
	for _, in := range doc.Inputs {
		n := func(k string) int { v, _ := in[k].(float64); return int(v) }
		if in["duplicate_of"] == nil && n("records") != n("event_records")+n("irrelevant")+n("unparsed") {
			t.Errorf("%v: records %d != event records %d + irrelevant %d + unparsed %d", in["path"], n("records"), n("event_records"), n("irrelevant"), n("unparsed"))
		}
	}
	if len(doc.Inputs) == 0 {
		return nil
	}
	return doc.Inputs[0]
}

// TestHostileInputs: every bad input gives a documented exit code, a clear
// word on stderr, counted skips, output that cannot drive a terminal, and
// no panic (a panic would end the test binary).
func TestHostileInputs(t *testing.T) {
	for _, tc := range []struct {
		file   string
		codes  []int  // acceptable exit codes
		stderr string // what stderr must say ("" when nothing need be said)
		check  func(t *testing.T, in map[string]any)
	}{
		{"empty.log", []int{exitNothing}, "no slot-lifecycle evidence", nil},
		{"binary.bin", []int{exitNothing}, "no slot-lifecycle evidence", nil},
		{"nul-bytes.log", []int{exitOK}, "TaskExecutor message about slots matches no known template; counted as unparsed",
			func(t *testing.T, in map[string]any) { wantCount(t, in, "unparsed", 1) }},
		{"invalid-utf8.log", []int{exitOK}, "", func(t *testing.T, in map[string]any) { wantCount(t, in, "events", 6) }},
		{"crlf-bom.log", []int{exitOK}, "", func(t *testing.T, in map[string]any) { wantCount(t, in, "events", 6) }},
		{"truncated.log.gz", []int{exitPartial}, "input ends unexpectedly (truncated gzip?); the lines before it were read", nil},
		{"corrupt.log.gz", []int{exitOK, exitFindings}, "read error", nil},
		{"bad-header.log.gz", []int{exitUsage}, "gzip: invalid header", nil},
		{"json-cut-and-wrong-types.json", []int{exitOK}, "holds a JSON object, not text",
			func(t *testing.T, in map[string]any) { wantCount(t, in, "unparsed", 2) }},
		{"time-backwards-and-jumps.log", []int{exitOK}, "", func(t *testing.T, in map[string]any) { wantCount(t, in, "events", 6) }},
		{"mixed-layouts.log", []int{exitOK}, "", func(t *testing.T, in map[string]any) { wantCount(t, in, "events", 6) }},
		{"near-ids.log", []int{exitOK}, "matches no known template; counted as unparsed",
			func(t *testing.T, in map[string]any) { wantCount(t, in, "unparsed", 4) }},
		{"ansi-and-control-tm.log", []int{exitFindings}, "", nil},
		{"cr-only.log", []int{exitOK}, "", func(t *testing.T, in map[string]any) { wantCount(t, in, "events", 3); wantCount(t, in, "records", 3) }},
		{"absurd-timestamps.log", []int{exitOK}, "implausible timestamp (before 2010, after 2099 or out of range)",
			func(t *testing.T, in map[string]any) {
				wantCount(t, in, "unparsed", 2)
				wantCount(t, in, "events", 6)
				if in["last_time"] != "2019-11-04T10:00:01.050" {
					t.Errorf("last_time %v: an absurd timestamp moved the input's clock", in["last_time"])
				}
			}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(hostileDir, tc.file)
			paths := []string{path}
			if strings.HasPrefix(tc.file, "ansi-") {
				// A file name is untrusted too (collected bundles): it is in
				// every output. And the JobManager's half of the race, so there
				// are findings to print.
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				evil := filepath.Join(t.TempDir(), "tm\x1b[31m\x1b]0;pwned\x07\r\u009b2J\u009d0;x\u009c\u202egol.\u2066\x7f.log")
				// and in log text: a C1 OSC and a bidi override inside a slot line
				data = append(data, "2019-10-30 11:05:00,000 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor             - Receive slot request AllocationID{c81f4e2a9b3d5f7061e2d4c6b8a09f14} for job 7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a from resource manager with leader id \u009d0;t\u009c\u202eevil\u202c.\n"...)
				if err := os.WriteFile(evil, data, 0o644); err != nil {
					t.Fatal(err)
				}
				paths = []string{evil, filepath.Join("..", "..", "testdata", "logs", "legacy-1.6.2-race-jm.log")}
			}
			r := runHostile(t, append([]string{"audit", "--format", "json", "--log-level", "info"}, paths...)...)
			if !containsInt(tc.codes, r.code) {
				t.Fatalf("exit %d, want one of %v\nstderr: %s", r.code, tc.codes, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr does not say %q:\n%s", tc.stderr, r.stderr)
			}
			if msg, ok := safeForTerminal(r.stderr); !ok {
				t.Errorf("stderr: %s", msg)
			}
			if r.code == exitOK || r.code == exitFindings {
				in := accounted(t, r.stdout)
				if tc.check != nil {
					tc.check(t, in)
				}
			}
			// What a person reads on a terminal, and every machine format: no
			// control or bidi sequence gets through raw.
			for _, args := range [][]string{{"audit"}, {"timeline"}, {"slots", "--reports", "all"}, {"explain"}, {"audit", "--format", "markdown"}, {"audit", "--format", "github"},
				{"audit", "--format", "json"}, {"audit", "--format", "ndjson"}, {"audit", "--format", "sarif"}, {"audit", "--format", "junit"},
				{"events"}, {"timeline", "--format", "json"}, {"slots", "--format", "json", "--reports", "all"}} {
				r := runHostile(t, append(append(args, "--log-level", "info"), paths...)...)
				for name, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
					if msg, ok := safeForTerminal(s); !ok {
						t.Errorf("%v %s: %s", args, name, msg)
					}
				}
			}
		})
	}
}

func wantCount(t *testing.T, in map[string]any, key string, want int) {
	t.Helper()
	if got, _ := in[key].(float64); int(got) != want {
		t.Errorf("%s = %v, want %d", key, in[key], want)
	}
}

func containsInt(list []int, x int) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// TestCRLFAndBOMReadLikeLF: line endings and a byte-order mark change no event.
func TestCRLFAndBOMReadLikeLF(t *testing.T) {
	lf := runHostile(t, "events", "--no-summary", filepath.Join(hostileDir, "lf.log"))
	crlf := runHostile(t, "events", "--no-summary", filepath.Join(hostileDir, "crlf-bom.log"))
	norm := func(s string) string { return strings.ReplaceAll(s, "crlf-bom.log", "lf.log") }
	if lf.code != 0 || norm(crlf.stdout) != lf.stdout {
		t.Errorf("CRLF+BOM events differ from LF:\n%s\n---\n%s", crlf.stdout, lf.stdout)
	}
}

// TestHundredMegabyteLine: a 100 MB line between slot lines is cut at the
// line limit and counted; the slot lines around it still count, and the
// heap stays far below the line's size.
func TestHundredMegabyteLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB")
	}
	lf, err := os.ReadFile(filepath.Join(hostileDir, "lf.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(lf), "\n")
	p := filepath.Join(t.TempDir(), "long-line.log")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Join(lines[:3], ""))
	f.WriteString("2019-11-04 10:00:00,900 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor - ")
	chunk := bytes.Repeat([]byte("x\x1b[2J"), 1<<20/5)
	for n := 0; n < 100; n++ {
		f.Write(chunk)
	}
	f.WriteString("\n" + strings.Join(lines[3:], ""))
	f.Close()
	r := runHostile(t, "audit", "--format", "json", p)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "line longer than 1048576 bytes truncated") {
		t.Errorf("stderr does not say the line was cut:\n%.2000s", r.stderr)
	}
	if msg, ok := safeForTerminal(r.stderr); !ok {
		t.Errorf("stderr: %s", msg)
	}
	in := accounted(t, r.stdout)
	wantCount(t, in, "events", 6)
	wantCount(t, in, "truncated", 1)
	t.Logf("peak heap %d MB for a 100 MB line", r.peakHeap>>20)
	if r.peakHeap > 64<<20 {
		t.Errorf("peak heap %d MB: the line was held whole", r.peakHeap>>20)
	}
}

// TestManyDistinctAllocationIDs: hundreds of thousands of AllocationIDs,
// each activated once and never seen before (a mid-story log), are all
// accounted for; memory grows with them, within a bound per allocation.
// (By hand, 2 million: `go test ./cmd/slotaudit -run ManyDistinct -ids 2000000`.)
func TestManyDistinctAllocationIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a large log")
	}
	n := *manyIDs
	p := filepath.Join(t.TempDir(), "many-ids.log")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "2019-11-04 10:00:00,001 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor - Starting TaskManager with ResourceID: 6ffd65caf4e9039487d3d4bc2d9b5d88\n")
	for i := 0; i < n; i++ {
		s := i / 1000
		fmt.Fprintf(f, "2019-11-04 %02d:%02d:%02d,%03d INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTable - Activate slot %016x%016x.\n",
			10+s/3600, s/60%60, s%60, i%1000, uint64(i)*0x9e3779b97f4a7c15, uint64(i))
	}
	f.Close()
	start := time.Now()
	r := runHostile(t, "audit", "--format", "json", p)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct {
		Summary struct {
			Allocations int `json:"allocations"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Allocations != n {
		t.Errorf("%d allocations, want %d", doc.Summary.Allocations, n)
	}
	wantCount(t, accounted(t, r.stdout), "events", n+1)
	per := r.peakHeap / uint64(n)
	t.Logf("%d AllocationIDs: %v, peak heap %d MB (%d bytes each)", n, time.Since(start).Round(time.Millisecond), r.peakHeap>>20, per)
	if per > 8<<10 {
		t.Errorf("%d bytes of heap per allocation", per)
	}
}

// TestSameFileTwiceCountsOnce: the same log under two names (and as .gz)
// gives the findings of one.
func TestSameFileTwiceCountsOnce(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "logs", "legacy-1.6.2-race-tm.log"))
	if err != nil {
		t.Fatal(err)
	}
	jm := filepath.Join("..", "..", "testdata", "logs", "legacy-1.6.2-race-jm.log")
	os.WriteFile(filepath.Join(dir, "a.log"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "b.log"), src, 0o644)
	once := runHostile(t, "audit", "--format", "json", filepath.Join(dir, "a.log"), jm)
	twice := runHostile(t, "audit", "--format", "json", dir, jm)
	count := func(s string) int { return strings.Count(s, `"fingerprint"`) }
	if count(once.stdout) == 0 || count(once.stdout) != count(twice.stdout) {
		t.Errorf("%d findings from one copy, %d from two", count(once.stdout), count(twice.stdout))
	}
	if !strings.Contains(twice.stdout, `"duplicate_of"`) {
		t.Error("the second copy is not marked as a duplicate")
	}
}

// TestUnreadableAndLinkedDirectories: inside a directory, a link to a file is
// read, links to directories, dangling and looping links and FIFOs are
// skipped and named on stderr; an unreadable file is an input error (2).
func TestUnreadableAndLinkedDirectories(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join("..", "..", "testdata", "logs")
	abs, _ := filepath.Abs(filepath.Join(logs, "legacy-1.6.2-race-jm.log"))
	src, _ := os.ReadFile(filepath.Join(logs, "legacy-1.6.2-race-tm.log"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "tm.log"), src, 0o644))
	must(os.Symlink(abs, filepath.Join(dir, "jm-link.log")))
	must(os.Symlink(dir, filepath.Join(dir, "loop")))
	must(os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling.log")))
	must(os.Symlink(filepath.Join(dir, "cycle-b"), filepath.Join(dir, "cycle-a")))
	must(os.Symlink(filepath.Join(dir, "cycle-a"), filepath.Join(dir, "cycle-b")))
	r := runHostile(t, "audit", "--format", "json", dir)
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"symbolic link to a directory, not followed", "no such file or directory", "too many levels of symbolic links"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "jm-link.log") {
		t.Error("the link to a file was not read")
	}
	// and the JSON names what was not read, for tools that do not read stderr
	for _, want := range []string{`"skipped"`, "dangling.log", "cycle-a", "symbolic link to a directory"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit JSON does not name %q", want)
		}
	}

	// An unreadable file in a directory is named and skipped; the rest is
	// audited. Permissions do not stop root, so as root the check runs in
	// a child process as user nobody.
	shared, err := os.MkdirTemp("", "slotaudit-unreadable-")
	must(err)
	defer os.RemoveAll(shared)
	must(os.Chmod(shared, 0o755))
	must(os.WriteFile(filepath.Join(shared, "tm.log"), src, 0o644))
	must(os.WriteFile(filepath.Join(shared, "locked.log"), src, 0o000))
	var code int
	var stderr string
	if os.Geteuid() != 0 {
		r := runHostile(t, "audit", shared)
		code, stderr = r.code, r.stderr
	} else {
		code, stderr = runAsNobody(t, shared, "audit", shared)
	}
	if code == -1 {
		return
	}
	t.Logf("unreadable file: exit %d, %s", code, strings.TrimSpace(stderr))
	if code == exitUsage || code == exitNothing || !strings.Contains(stderr, "locked.log") || !strings.Contains(stderr, "file that cannot be read: permission denied") {
		t.Errorf("unreadable file: exit %d, stderr %s", code, stderr)
	}
}

// runAsNobody runs slotaudit (this test binary, through TestHelperMain) as
// user nobody, from a copy of the binary in dir.
func runAsNobody(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "slotaudit.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(bin)
	cmd := exec.Command(bin, append([]string{"-test.run=^TestHelperMain$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "SLOTAUDIT_HELPER_MAIN=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	// a sandbox that forbids changing user: the check cannot run here
	t.Logf("cannot run as user nobody here (%v): unreadable-file check skipped", err)
	return -1, ""
}

// TestHelperMain is slotaudit's main when SLOTAUDIT_HELPER_MAIN is set (see
// runAsNobody); otherwise it does nothing.
func TestHelperMain(t *testing.T) {
	if os.Getenv("SLOTAUDIT_HELPER_MAIN") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(context.Background(), args, os.Stdin, os.Stdout, os.Stderr))
}

// TestInputsAreNotWritten: reading leaves the inputs' directory exactly as
// it was: no file created, changed or touched next to them.
func TestInputsAreNotWritten(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"legacy-1.6.2-race-tm.log", "legacy-1.6.2-race-jm.log"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "logs", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() string {
		var b strings.Builder
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if info, err := d.Info(); err == nil {
				fmt.Fprintf(&b, "%s %d %v %v\n", p, info.Size(), info.Mode(), info.ModTime().UnixNano())
			}
			return nil
		})
		return b.String()
	}
	before := snapshot()
	for _, args := range [][]string{{"audit"}, {"audit", "--format", "sarif"}, {"timeline"}, {"slots"}, {"explain"}, {"events"}} {
		runHostile(t, append(args, dir)...)
	}
	if after := snapshot(); after != before {
		t.Errorf("the input directory changed:\nbefore\n%s\nafter\n%s", before, after)
	}
}
