package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/follow"
	"github.com/slotaudit/slotaudit/sim"
)

// TestFoldBudget: under --fold auto the first read keeps every event up to
// foldEvents, and says it kept them all; past that, only what a fold's
// first read keeps, and it says it did not.
func TestFoldBudget(t *testing.T) {
	keep, full := foldBudget()
	chatter := flinklog.NewEvent(flinklog.KindTMFree)
	refusal := flinklog.NewEvent(flinklog.KindTMAllocRefused)
	for i := range foldEvents {
		if !keep(&chatter) {
			t.Fatalf("event %d not kept under the budget", i)
		}
	}
	if !full() {
		t.Fatal("the budget says it dropped something at its limit")
	}
	if keep(&chatter) {
		t.Error("a free kept past the budget")
	}
	if !keep(&refusal) {
		t.Error("a refusal line (it says which table a process ran) dropped past the budget")
	}
	if full() {
		t.Error("past the budget, the read is said to be full")
	}
}

// TestFoldAutoNamesAFullRead: under --fold auto, a read that kept every
// event (few of them) is the batch read — and the TaskManager logs it
// deferred naming (their banners cut, named by the other components'
// lines) are named from it as the batch read names them.
func TestFoldAutoNamesAFullRead(t *testing.T) {
	was := foldAbove
	foldAbove = 0 // every input is large enough to fold
	defer func() { foldAbove = was }()
	cfg := sim.Faulty("1.12.7", 2)
	cfg.CutBanners = true
	dir := t.TempDir()
	if _, err := sim.RunInto(cfg, dir); err != nil {
		t.Fatal(err)
	}
	audit := func(args ...string) (string, string) {
		var out, errOut bytes.Buffer
		Main(context.Background(), append([]string{"--log-level", "debug", "audit", "--format", "json"}, args...), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String()
	}
	auto, log := audit(dir)
	never, _ := audit("--fold", "never", dir)
	if !strings.Contains(log, "model built") || strings.Contains(log, "model folded") {
		t.Fatalf("the auto audit of few events did not take its first read as the batch read:\n%s", log)
	}
	if !strings.Contains(never, `"resource_id_source": "joined by`) {
		t.Fatalf("no TaskManager log joined by the other components' lines:\n%s", never)
	}
	if auto != never {
		t.Fatalf("--fold auto audits otherwise than --fold never:\n%s\nnever:\n%s", auto, never)
	}
}

// TestFoldHeapLimit: a fold holds the heap to foldMemoryLimit for the rest
// of the command (the output is written from its model), unless its model
// is large next to it (a cluster where most stories went wrong: the
// collector would run over and over), where it lifts it again; either way
// the audit is the batch's, and the next run in the process (Main) finds
// the limit it had before.
func TestFoldHeapLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	dir := t.TempDir()
	if _, err := sim.RunInto(sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 4, Jobs: 4, JobSeconds: 5, Minutes: 20, Seed: 3}, dir); err != nil {
		t.Fatal(err)
	}
	before := debug.SetMemoryLimit(-1)
	audit := func(args ...string) (string, string) {
		var out, errOut bytes.Buffer
		Main(context.Background(), append([]string{"--log-level", "debug", "audit", "--format", "json"}, args...), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String()
	}
	never, _ := audit("--fold", "never", dir)
	for _, tc := range []struct {
		limit  int64
		lifted bool
	}{{400 << 20, false}, {1 << 10, true}} {
		was := foldMemoryLimit
		foldMemoryLimit = tc.limit
		folded, log := audit("--fold", "always", dir)
		foldMemoryLimit = was
		if !strings.Contains(log, "model folded") {
			t.Fatalf("limit %d: not folded:\n%s", tc.limit, log)
		}
		if folded != never {
			t.Fatalf("limit %d: the fold's audit differs from the batch's", tc.limit)
		}
		held, lifted := strings.Contains(log, "the heap is held to a soft limit"), strings.Contains(log, "the heap limit is lifted")
		if held == tc.lifted || lifted != tc.lifted {
			t.Errorf("limit %d: held %v, lifted %v (want lifted %v):\n%s", tc.limit, held, lifted, tc.lifted, log)
		}
		if now := debug.SetMemoryLimit(-1); now != before {
			t.Errorf("limit %d: after the run the limit is %d, not %d as before it", tc.limit, now, before)
		}
	}
}

// TestFoldReadsStdinFromACopy: standard input among the inputs of a
// command that may fold is copied into a file first (a fold reads its
// inputs more than once): the audit folds, says what the batch says to
// the byte, names the input "-", and leaves no copy behind.
func TestFoldReadsStdinFromACopy(t *testing.T) {
	res, err := sim.Run(sim.Faulty("1.12.7", 7))
	if err != nil {
		t.Fatal(err)
	}
	tms := t.TempDir()
	for name, text := range res.Files {
		if !strings.Contains(name, "jobmanager") {
			if err := os.WriteFile(filepath.Join(tms, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	audit := func(args ...string) (string, string) {
		var out, errOut bytes.Buffer
		Main(context.Background(), append([]string{"--log-level", "debug", "audit", "--format", "json"}, append(args, tms, "-")...),
			strings.NewReader(res.Files["jobmanager.log"]), &out, &errOut)
		return out.String(), errOut.String()
	}
	folded, log := audit("--fold", "always")
	batch, _ := audit("--fold", "never")
	if !strings.Contains(log, "model folded") {
		t.Fatalf("the audit with standard input among its inputs did not fold:\n%s", log)
	}
	if folded != batch {
		t.Errorf("the fold of a copy of standard input says otherwise than the batch: %s", firstLineDiff(folded, batch))
	}
	if !strings.Contains(folded, `"path": "-"`) {
		t.Error(`no input named "-" in the audit`)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("%d entries left in TMPDIR", len(left))
	}
	// --spool-dir is where the copy goes: one that cannot hold it leaves
	// standard input to be read as it comes, and said so
	nowhere, log := audit("--fold", "always", "--spool-dir", filepath.Join(tmp, "no", "such", "dir"))
	if nowhere != batch || strings.Contains(log, "model folded") || !strings.Contains(log, "no copy of it can be made") {
		t.Errorf("with a --spool-dir that does not exist: folded %v, said %q", strings.Contains(log, "model folded"), log)
	}
}

// firstLineDiff says where two texts first differ, by line.
func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: %q, then %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines, then %d", len(al), len(bl))
}

// TestFoldSpillsItsFirstRead: a fold's first read spills its events, and
// its reads again decode them — so `kubectl logs -f --prefix` of a
// cluster of 20 TaskManagers, 21 logs whose lines interleave in one file
// (each read again by reading the whole file, 21 times a pass, the fold
// refuses), folds, says what the batch says, and leaves nothing in its
// --spool-dir. Where TMPDIR is held in memory, and no --spool-dir is
// given, there is no spill (it would be memory the fold is there to
// save): the batch, said so.
func TestFoldSpillsItsFirstRead(t *testing.T) {
	res, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 20, Slots: 2, Jobs: 6, JobSeconds: 5, Minutes: 3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	names := slices.Sorted(maps.Keys(res.Files))
	lines := map[string][]string{}
	for _, name := range names {
		lines[name] = strings.Split(strings.TrimSuffix(res.Files[name], "\n"), "\n")
	}
	for i := 0; ; i++ {
		more := false
		for _, name := range names {
			if i < len(lines[name]) {
				more = true
				fmt.Fprintf(&b, "[pod/flink-%s/flink-main-container] %s\n", strings.TrimSuffix(name, ".log"), lines[name][i])
			}
		}
		if !more {
			break
		}
	}
	path := filepath.Join(t.TempDir(), "pods.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	audit := func(tmp string, args ...string) (string, string) {
		t.Setenv("TMPDIR", tmp)
		var out, errOut bytes.Buffer
		Main(context.Background(), append([]string{"--log-level", "debug", "audit", "--format", "json"}, append(args, path)...), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String()
	}
	tmp := t.TempDir()
	batch, _ := audit(tmp, "--fold", "never")
	// (--spool-dir: the spill goes there even if TMPDIR is a tmpfs)
	folded, log := audit(tmp, "--fold", "always", "--spool-dir", tmp)
	if !strings.Contains(log, "model folded") || !strings.Contains(log, "events spilled") {
		t.Fatalf("21 pods in one file did not fold from the spill:\n%s", log)
	}
	if folded != batch {
		t.Errorf("the fold says otherwise than the batch: %s", firstLineDiff(folded, batch))
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("%d entries left in TMPDIR", len(left))
	}
	t.Setenv("TMPDIR", "/dev/shm")
	if _, inMem := follow.SpoolDir(); !inMem {
		t.Skip("no tmpfs at /dev/shm here")
	}
	inMem, log := audit("/dev/shm", "--fold", "always")
	if inMem != batch || !strings.Contains(log, "no spill (the directory is held in memory)") || !strings.Contains(log, "fold refused") {
		t.Errorf("with TMPDIR held in memory: folded %v, said %q", strings.Contains(log, "model folded"), log)
	}
}

// TestFoldDebugLogs: DEBUG logs (a slot report of every TaskManager every
// heartbeat; an overwrite, so that reports and tables disagree) fold in
// every command that folds — the audit in JSON and as the HTML page, the
// slot tables without their reports, a timeline — and each writes what
// the batch writes, byte for byte; the slot tables listing the reports
// compared are built the batch way, saying why.
func TestFoldDebugLogs(t *testing.T) {
	dir := t.TempDir()
	cfg := sim.Config{Flink: "1.12.7", TaskManagers: 3, Slots: 4, Jobs: 4, JobSeconds: 5, StreamingJobs: 1, Minutes: 20, Seed: 5, Debug: true,
		Inject: []string{sim.FaultOverwrite}}
	if _, err := sim.RunInto(cfg, dir); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string) {
		var out, errOut bytes.Buffer
		Main(context.Background(), append([]string{"--log-level", "debug"}, args...), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String()
	}
	for _, c := range []struct {
		cmd    []string
		folded bool
	}{
		{[]string{"audit", "--format", "json"}, true},
		{[]string{"audit", "--format", "html"}, true},
		{[]string{"slots", "--format", "json", "--reports", "none"}, true},
		{[]string{"timeline", "--format", "json"}, true},
		{[]string{"slots", "--format", "json", "--reports", "all"}, true},
		{[]string{"slots", "--format", "json"}, true},
		{[]string{"slots", "--reports", "differing"}, true},
		{[]string{"slots", "--reports", "all"}, true},
	} {
		cmd := c.cmd
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			batch, _ := run(append(append(cmd[:1:1], "--fold", "never"), append(cmd[1:], dir)...)...)
			folded, log := run(append(append(cmd[:1:1], "--fold", "always"), append(cmd[1:], dir)...)...)
			if c.folded != strings.Contains(log, "model folded") {
				t.Fatalf("folded: want %v:\n%s", c.folded, log)
			}
			if folded != batch || len(batch) < 100 {
				t.Fatalf("the fold writes otherwise than the batch (%d and %d bytes)", len(folded), len(batch))
			}
		})
	}
}
