package parser_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/sim"
)

// TestFollowerEqualsRead: logs that grow in bursts, cut anywhere (mid-line,
// mid-stack-trace), read by a Follower after every burst, give exactly what
// a fresh sequential read of the same bytes gives, in text and in JSON.
func TestFollowerEqualsRead(t *testing.T) {
	for _, c := range []struct{ v, format string }{{"1.9.3", "text"}, {"1.12.7", "text"}, {"1.12.7", "json"}} {
		v := c.v + " " + c.format
		r, err := sim.Run(sim.Config{Flink: c.v, TaskManagers: 2, Slots: 4, Jobs: 3, Failovers: 2, Seed: 5, Debug: true, Noise: 5,
			Inject: []string{sim.FaultOverwrite, sim.FaultHeartbeatTimeout}, Format: c.format})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		names := []string{"jobmanager.log", "taskmanager-0.log", "taskmanager-1.log"}
		if c.format == "json" {
			names = []string{"jobmanager.json", "taskmanager-0.json", "taskmanager-1.json"}
		}
		written := map[string]int{}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fl := parser.NewFollower([]string{dir}, parser.Options{})
		rng := rand.New(rand.NewPCG(1, 2))
		for burst := 0; ; burst++ {
			grew := false
			for _, n := range names {
				content := r.Files[n]
				if written[n] == len(content) {
					continue
				}
				end := min(len(content), written[n]+1+rng.IntN(len(content)/15+1))
				f, err := os.OpenFile(filepath.Join(dir, n), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(content[written[n]:end])
				f.Close()
				written[n], grew = end, true
			}
			if !grew {
				break
			}
			followEqualsRead(t, fmt.Sprintf("%s burst %d", v, burst), fl, dir)
		}
		if n := fl.Pieces(); n < 10 {
			t.Errorf("%s: only %d pieces kept: the logs were not read incrementally", v, n)
		} else {
			t.Logf("%s: %d pieces kept across the bursts", v, n)
		}
	}
}

// followEqualsRead reads what fl follows and, afresh, path; it fails t
// (what says when) unless both give the same summaries, diagnostics and
// events, and returns the follower's result.
func followEqualsRead(t *testing.T, what string, fl *parser.Follower, path string) *parser.Result {
	t.Helper()
	got, err := fl.Read()
	if err != nil {
		t.Fatal(err)
	}
	want, err := parser.Read([]string{path}, parser.Options{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Inputs, want.Inputs) || !reflect.DeepEqual(got.Diagnostics, want.Diagnostics) {
		t.Fatalf("%s: summaries or diagnostics differ:\n got %+v\n want %+v", what, got.Inputs, want.Inputs)
	}
	gotEvs, wantEvs := got.Expanded(), want.Expanded()
	if len(gotEvs) != len(wantEvs) {
		t.Fatalf("%s: %d events, want %d", what, len(gotEvs), len(wantEvs))
	}
	for i := range gotEvs {
		if !reflect.DeepEqual(gotEvs[i], wantEvs[i]) {
			t.Fatalf("%s: event %d differs:\n got %+v\n want %+v", what, i, gotEvs[i], wantEvs[i])
		}
	}
	return got
}

// TestFollowerRestartAcrossPolls: a TaskManager restarts (banner) in one
// poll and names its new ResourceID in the next. The events between were
// the old process's at the first poll and must be the new one's after the
// second, although a follow keeps the events it read (thousands: several
// shared blocks) from poll to poll.
func TestFollowerRestartAcrossPolls(t *testing.T) {
	const pre = "2021-01-12 09:30:00,000 INFO  org.apache.flink.runtime.taskexecutor."
	banner := pre + "TaskManagerRunner      [] -  Starting TaskManager (Version: 1.11.3, Scala: 2.12, Rev:fa0c6a0, Date:2020-12-12T02:11:20+01:00)\n"
	tmID := func(id string) string {
		return pre + "TaskManagerRunner      [] - Starting TaskManager with ResourceID: " + id + "\n"
	}
	activate := func(n int) string {
		var b []byte
		for i := 0; i < n; i++ {
			b = fmt.Appendf(b, "%sslot.TaskSlotTableImpl [] - Activate slot %032x.\n", pre, i+1)
		}
		return string(b)
	}
	// 1100 after the restart: some fill a block that the next poll shares
	first := banner + tmID("tm-a") + activate(2500) + banner + activate(1100)
	second := tmID("tm-b") + activate(2500) + banner // the last record is held back
	p := filepath.Join(t.TempDir(), "taskmanager.log")
	fl := parser.NewFollower([]string{p}, parser.Options{})
	for poll, content := range []string{first, first + second} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got := followEqualsRead(t, fmt.Sprintf("poll %d", poll), fl, p)
		// the activations between the second banner (line 2503) and tm-b
		wantID, n := []string{"tm-a", "tm-b"}[poll], 0
		for v := range got.All() {
			if ev := got.Event(v); ev.Kind == flinklog.KindTMActivate && ev.Pos.Line > 2503 && ev.Pos.Line <= 2503+1100 {
				n++
				if ev.Resource != wantID {
					t.Fatalf("poll %d: line %d after the restart belongs to %q, want %q", poll, ev.Pos.Line, ev.Resource, wantID)
				}
			}
		}
		if n < 1000 {
			t.Fatalf("poll %d: %d activations after the restart", poll, n)
		}
	}
	if fl.Pieces() < 2 {
		t.Fatalf("%d pieces: the second poll read the file again instead of what was appended", fl.Pieces())
	}
}

// BenchmarkFollowerAppend: what --follow pays per change on a large log:
// one record appended to a ~20 MB noisy TaskManager log (text, and the
// same cluster's log in log4j2's JsonLayout), then Read. Compare with
// BenchmarkFollowerFullRead, the text log read whole.
func BenchmarkFollowerAppend(b *testing.B) {
	for _, format := range []string{"text", "json"} {
		b.Run(format, func(b *testing.B) {
			p, record := followBenchLogAs(b, format)
			fl := parser.NewFollower([]string{p}, parser.Options{})
			if _, err := fl.Read(); err != nil {
				b.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			for b.Loop() {
				f.WriteString(record)
				if _, err := fl.Read(); err != nil {
					b.Fatal(err)
				}
			}
			if fl.Pieces() == 0 {
				b.Fatal("the log was not read incrementally")
			}
		})
	}
}

// BenchmarkFollowerFullRead: the same log read whole each time.
func BenchmarkFollowerFullRead(b *testing.B) {
	p := followReadLog(b)
	for b.Loop() {
		if _, err := parser.Read([]string{p}, parser.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFollowerFirstRead: the first read of a follow, which finds the
// log already large (a follow started on a running cluster): it should cost
// what BenchmarkFollowerFullRead costs, on both cores.
func BenchmarkFollowerFirstRead(b *testing.B) {
	p := followReadLog(b)
	for b.Loop() {
		if _, err := parser.NewFollower([]string{p}, parser.Options{}).Read(); err != nil {
			b.Fatal(err)
		}
	}
}

// followReadLog is the log the read benchmarks read: followBenchLog's, or
// the file SLOTAUDIT_FOLLOW_LOG names (only read), to measure on a large
// one such as once-2400's jobmanager.log from bench/run.
func followReadLog(b *testing.B) string {
	if p := os.Getenv("SLOTAUDIT_FOLLOW_LOG"); p != "" {
		return p
	}
	p, _ := followBenchLog(b)
	return p
}

func followBenchLog(b *testing.B) (string, string) { return followBenchLogAs(b, "text") }

// followBenchLogAs writes followBenchLog's TaskManager log in format (text
// or json) and returns its path and a chatter record to append.
func followBenchLogAs(b *testing.B, format string) (string, string) {
	b.Helper()
	r, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 4, Jobs: 4, Seed: 9, Debug: true, Noise: 100, Format: format})
	if err != nil {
		b.Fatal(err)
	}
	name := "taskmanager-0.log"
	record := "2021-03-14 09:15:00,000 DEBUG org.apache.kafka.clients.consumer.internals.Fetcher           - [Consumer clientId=consumer-3, groupId=flink-events] Added READ_UNCOMMITTED fetch request for partition events-1 at offset 1 to node kafka-1.kafka:9092 (id: 1 rack: null)\n"
	if format == "json" {
		name = "taskmanager-0.json"
		record = `{"instant":{"epochSecond":1615713300,"nanoOfSecond":0},"level":"DEBUG","loggerName":"org.apache.kafka.clients.consumer.internals.Fetcher","message":"[Consumer clientId=consumer-3, groupId=flink-events] Added READ_UNCOMMITTED fetch request for partition events-1 at offset 1","thread":"t"}` + "\n"
	}
	if len(r.Files[name]) < 10<<20 {
		b.Fatalf("the simulated %s is %d bytes", name, len(r.Files[name]))
	}
	p := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(p, []byte(r.Files[name]), 0o644); err != nil {
		b.Fatal(err)
	}
	return p, record
}

// TestFollowerNoticesRewriteInPlace: a log truncated and written again in
// place (logrotate copytruncate) that is already longer than before when
// it is read next is read from its start, not as an append; what was read
// of its old content stays, as an input of its own ("(rotated 1)"), equal
// to a read of that content alone.
func TestFollowerNoticesRewriteInPlace(t *testing.T) {
	r, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 4, Jobs: 3, Seed: 6, Debug: true, Noise: 5})
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.Files["taskmanager-0.log"], r.Files["taskmanager-1.log"]
	p := filepath.Join(t.TempDir(), "taskmanager.log")
	if err := os.WriteFile(p, []byte(a[:len(a)/3]), 0o644); err != nil {
		t.Fatal(err)
	}
	fl := parser.NewFollower([]string{p}, parser.Options{})
	if _, err := fl.Read(); err != nil {
		t.Fatal(err)
	}
	// the same file (same inode), truncated and refilled with another log, longer
	f, err := os.OpenFile(p, os.O_TRUNC|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(b)
	f.Close()
	got, err := fl.Read()
	if err != nil {
		t.Fatal(err)
	}
	want, err := parser.Read([]string{p}, parser.Options{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	oldPath := filepath.Join(t.TempDir(), "old.log")
	if err := os.WriteFile(oldPath, []byte(a[:len(a)/3]), 0o644); err != nil {
		t.Fatal(err)
	}
	wantOld, err := parser.Read([]string{oldPath}, parser.Options{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Inputs) != 2 {
		t.Fatalf("%d inputs, want the file and what was read of it before (%+v)", len(got.Inputs), got.Inputs)
	}
	counts := func(in parser.InputSummary) [4]int {
		return [4]int{in.Records, in.EventCount, in.Irrelevant, in.Unparsed}
	}
	for _, in := range got.Inputs {
		switch in.Path {
		case p:
			if counts(in) != counts(want.Inputs[0]) {
				t.Errorf("a log rewritten in place was read as an append:\n got %+v\n want %+v", in, want.Inputs[0])
			}
		case parser.RotatedName(p, 1):
			if counts(in) != counts(wantOld.Inputs[0]) {
				t.Errorf("what was read before the rewrite:\n got %+v\n want %+v", in, wantOld.Inputs[0])
			}
		default:
			t.Errorf("unexpected input %s", in.Path)
		}
	}
}

// TestFollowerFoldsAcrossPolls: a DEBUG JobManager log followed while each
// TaskManager's report is logged again every heartbeat. Each poll reads
// its few lines as a piece; its reports must become repeats of the
// reports read before (the events stay as many), and the repeats that one
// poll's last piece adds (read again the next time) must not leak into
// what the follow keeps: every poll equals a fresh read.
func TestFollowerFoldsAcrossPolls(t *testing.T) {
	report := func(sec int, inst byte, alloc string) string {
		return fmt.Sprintf("2024-01-01 10:%02d:%02d,%03d DEBUG org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerImpl  - Received slot report from instance %032x: SlotReport{slotsStatus=[SlotStatus{slotID=tm%c_0, resourceProfile=ResourceProfile{cpuCores=1.0}, allocationID=%s, jobID=null}]}.\n",
			sec/60, sec%60, sec%1000, inst, 'a'+inst, alloc)
	}
	p := filepath.Join(t.TempDir(), "jobmanager.log")
	fl := parser.NewFollower([]string{p}, parser.Options{})
	var content []byte
	events := -1
	for poll := 0; poll < 12; poll++ {
		beats := 3
		if poll == 0 {
			beats = 140 // enough lines to find the layout and follow by pieces
		}
		for beat := 0; beat < beats; beat++ {
			sec := poll*30 + beat*10
			alloc := "null"
			if poll >= 5 && poll < 8 || poll == 0 && beat == 40 { // the first TaskManager's slot is taken for a while
				alloc = "c0000000000000000000000000000003"
			}
			content = append(content, report(sec, 1, alloc)...)
			content = append(content, report(sec, 2, "null")...)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		got := followEqualsRead(t, fmt.Sprintf("poll %d", poll), fl, p)
		gotEvents, gotRepeats := parser.EventsAndRepeats(got)
		if poll >= 9 && gotEvents != events {
			t.Fatalf("poll %d: %d events, %d before: reports read in this poll were not folded into earlier ones", poll, gotEvents, events)
		}
		events = gotEvents
		if reports := 280 + 6*poll; gotRepeats < reports-8 {
			t.Fatalf("poll %d: %d repeats of %d reports", poll, gotRepeats, reports)
		}
	}
	if fl.Pieces() < 5 {
		t.Fatalf("%d pieces: the follow did not read incrementally", fl.Pieces())
	}
}

// TestFollowerSharesBlocksAsReadWould: logs long enough that a follow's
// Results share full blocks of events with its streams (a session
// cluster's TaskManagers, DEBUG slot reports folded as repeats, ResourceIDs
// filled in) give, poll after poll, what a fresh read gives.
func TestFollowerSharesBlocksAsReadWould(t *testing.T) {
	r, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 4, Jobs: 4, JobSeconds: 10, Minutes: 90, Seed: 3, Debug: true,
		Inject: []string{sim.FaultOverwrite}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	names := []string{"jobmanager.log", "taskmanager-0.log", "taskmanager-1.log"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fl := parser.NewFollower([]string{dir}, parser.Options{})
	for burst := 1; burst <= 3; burst++ {
		for _, n := range names {
			content := r.Files[n]
			from, to := len(content)*(burst-1)/3, len(content)*burst/3
			f, err := os.OpenFile(filepath.Join(dir, n), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(content[from:to])
			f.Close()
		}
		got := followEqualsRead(t, fmt.Sprintf("burst %d", burst), fl, dir)
		if burst == 3 {
			perTM := 0
			for _, in := range got.Inputs {
				if strings.HasPrefix(in.Path, filepath.Join(dir, "taskmanager")) {
					perTM = max(perTM, in.EventCount)
				}
			}
			if perTM < 3*1024 {
				t.Fatalf("a TaskManager log of %d events: too few for full blocks to be shared", perTM)
			}
		}
	}
}

// TestFollowerKeepsATruncatedFileMovedAway: a followed file of a directory
// truncated and written again, then moved to another name in it, is the
// same inode but holds none of what was read of it: that is kept as a
// rotated input, not taken for the file renamed (before, it was lost).
func TestFollowerKeepsATruncatedFileMovedAway(t *testing.T) {
	r, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 4, Jobs: 3, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.Files["taskmanager-0.log"], r.Files["taskmanager-1.log"]
	dir := t.TempDir()
	p, moved := filepath.Join(dir, "taskmanager.log"), filepath.Join(dir, "taskmanager-moved.log")
	if err := os.WriteFile(p, []byte(a), 0o644); err != nil {
		t.Fatal(err)
	}
	fl := parser.NewFollower([]string{dir}, parser.Options{})
	first, err := fl.Read()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_TRUNC|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(b)
	f.Close()
	if err := os.Rename(p, moved); err != nil {
		t.Fatal(err)
	}
	got, err := fl.Read()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	events := map[string]int{}
	for _, in := range got.Inputs {
		paths = append(paths, in.Path)
		events[in.Path] = in.EventCount
	}
	if len(got.Inputs) != 2 || events[parser.RotatedName(p, 1)] != first.Inputs[0].EventCount || events[moved] == 0 {
		t.Errorf("inputs %v (events %v); want %s and what was read of %s before (%d events)", paths, events, moved, p, first.Inputs[0].EventCount)
	}
}
