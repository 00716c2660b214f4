package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestKeepGivesTheFullReadsEvents: a read that keeps only the events of one
// allocation or one job (Options.Keep) gives the full read's summaries and
// diagnostics, and exactly its events of that allocation or job —
// ResourceIDs, line numbers, texts and all — for every test log, alone and
// as the simulated incidents' directories, read whole and in pieces.
func TestKeepGivesTheFullReadsEvents(t *testing.T) {
	var paths []string
	for _, dir := range []string{"../testdata/logs", "../testdata/hostile"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		paths = append(paths, m...)
	}
	kept, fellBack := 0, 0
	for _, p := range paths {
		for _, chunk := range []int{0, 4 << 10} {
			name := filepath.Base(p)
			if chunk > 0 {
				name += "/pieces"
			}
			t.Run(name, func(t *testing.T) {
				full, err := Read([]string{p}, Options{ChunkSize: chunk})
				if err != nil {
					t.Skip(err) // what a full read refuses is not Keep's to test
				}
				for _, want := range samples(full) {
					got, err := Read([]string{p}, Options{ChunkSize: chunk, Keep: want})
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got.Inputs, full.Inputs) {
						t.Fatalf("summaries differ:\n got %+v\n full %+v", got.Inputs, full.Inputs)
					}
					if !reflect.DeepEqual(got.Diagnostics, full.Diagnostics) {
						t.Fatalf("diagnostics differ:\n got %+v\n full %+v", got.Diagnostics, full.Diagnostics)
					}
					g, f := only(got, want), only(full, want)
					if len(g) != len(f) {
						t.Fatalf("%d events kept, the full read has %d", len(g), len(f))
					}
					for i := range g {
						if !reflect.DeepEqual(g[i], f[i]) {
							t.Fatalf("event %d differs:\n got  %+v\n full %+v", i, g[i], f[i])
						}
					}
					if got.Len() < full.Len() {
						kept++
					} else {
						fellBack++
					}
				}
			})
		}
	}
	t.Logf("%d reads kept less than the full read, %d kept it all (nothing to drop, or read again in full)", kept, fellBack)
	if kept < 20 {
		t.Errorf("only %d reads kept less than the full read: Keep drops nothing", kept)
	}
}

// samples returns Keep functions for a few of the read's AllocationIDs and
// JobIDs: the first, the last and one between of each.
func samples(res *Result) []func(*flinklog.Event) bool {
	var allocs, jobs []flinklog.ID
	for _, ev := range res.Expanded() {
		if ev.Alloc.IsSet() && !slices.Contains(allocs, ev.Alloc) {
			allocs = append(allocs, ev.Alloc)
		}
		if ev.Job.IsSet() && !slices.Contains(jobs, ev.Job) {
			jobs = append(jobs, ev.Job)
		}
	}
	var out []func(*flinklog.Event) bool
	pick := func(ids []flinklog.ID) []flinklog.ID {
		if len(ids) <= 3 {
			return ids
		}
		return []flinklog.ID{ids[0], ids[len(ids)/2], ids[len(ids)-1]}
	}
	for _, a := range pick(allocs) {
		out = append(out, func(ev *flinklog.Event) bool { return ev.Alloc == a || ev.Other == a })
	}
	for _, j := range pick(jobs) {
		out = append(out, func(ev *flinklog.Event) bool { return ev.Job == j })
	}
	return out
}

// only returns the read's events that keep asks for, written out.
func only(res *Result, keep func(*flinklog.Event) bool) []flinklog.Event {
	var out []flinklog.Event
	for _, ev := range res.Expanded() {
		if keep(&ev) {
			out = append(out, ev)
		}
	}
	return out
}

// TestKeepReadsAgainWhereOthersNameTheTaskManager: a TaskManager log that
// never names itself takes its ResourceID from the JobManager's lines about
// its allocations; a read that keeps one allocation's events reads
// everything again to give the same answer.
func TestKeepReadsAgainWhereOthersNameTheTaskManager(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"legacy-1.8.2-race-debug-jm.log", "legacy-1.8.2-race-debug-tm.log"} {
		data, err := os.ReadFile(filepath.Join("../testdata/logs", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "legacy-1.8.2-race-debug-tm.log" {
			// cut the lines that name the TaskManager: it is named after
			// its file, or by the JobManager's lines
			var kept []string
			for _, line := range strings.SplitAfter(string(data), "\n") {
				if !strings.Contains(line, "ResourceID") {
					kept = append(kept, line)
				}
			}
			data = []byte(strings.Join(kept, ""))
			name = "taskmanager-cut.log"
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	full, err := Read([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if full.Inputs[1].ResourceIDSource == "banner" {
		t.Fatalf("the cut log still names itself: %+v", full.Inputs[1])
	}
	alloc, _ := flinklog.ParseID("c81f4e2a9b3d5f7061e2d4c6b8a09f13")
	keep := func(ev *flinklog.Event) bool { return ev.Alloc == alloc || ev.Other == alloc }
	got, err := Read([]string{dir}, Options{Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Inputs, full.Inputs) || !reflect.DeepEqual(only(got, keep), only(full, keep)) {
		t.Fatalf("the kept read differs from the full one:\n got  %+v\n full %+v", got.Inputs, full.Inputs)
	}
	if got.Len() != full.Len() {
		t.Errorf("kept %d of %d events: the read was not done again in full", got.Len(), full.Len())
	}
}

// TestKeepKeepsLessOfANamedLog: a TaskManager log that names itself is not
// read again in full: a read that keeps one allocation keeps a few events.
func TestKeepKeepsLessOfANamedLog(t *testing.T) {
	p := "../testdata/logs/legacy-1.8.2-race-debug-tm.log"
	alloc, _ := flinklog.ParseID("e6a0c2b4d8f1379520c4e6a8b1d3f5a7")
	keep := func(ev *flinklog.Event) bool { return ev.Alloc == alloc || ev.Other == alloc }
	full, err := Read([]string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read([]string{p}, Options{Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(only(full, keep)) + 6; got.Len() > want {
		t.Errorf("kept %d of %d events, want at most %d (its own, the meta events and the first)", got.Len(), full.Len(), want)
	}
	if !reflect.DeepEqual(only(got, keep), only(full, keep)) {
		t.Error("the kept events differ from the full read's")
	}
}

// TestKeepAboveTheFirstBanner: a rotated log's head, TaskManager lines above
// the first banner, is named from other components' lines (or left
// unnamed), not after the banner below it: the read that keeps one of its
// allocations must see that it cannot decide alone.
func TestKeepAboveTheFirstBanner(t *testing.T) {
	dir := t.TempDir()
	tm, err := os.ReadFile("../testdata/logs/legacy-1.8.2-race-debug-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	jm, err := os.ReadFile("../testdata/logs/legacy-1.8.2-race-debug-jm.log")
	if err != nil {
		t.Fatal(err)
	}
	// (its first line a JobManager's, as a MiniCluster's file may begin:
	// the first TaskManager line is not the first line)
	head := "2020-03-17 13:59:00,600 INFO  org.apache.flink.runtime.jobmaster.JobMaster                  - Disconnect TaskExecutor tm-z because: heartbeat timed out\n" +
		"2020-03-17 13:59:00,615 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Receive slot request 5d2e4f6a8b0c1d3e5f7a9b1c3d5e7f90 for job 7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a from resource manager with leader id 00000000000000000000000000000000.\n" +
		"2020-03-17 13:59:00,616 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Allocated slot for 5d2e4f6a8b0c1d3e5f7a9b1c3d5e7f90.\n" +
		"2020-03-17 13:59:01,310 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Received task Sink: head (1/2).\n" +
		"2020-03-17 13:59:01,312 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Received task Sink: head (2/2).\n"
	jm = append([]byte("2020-03-17 13:59:01,001 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph       - Deploying Sink: head (1/2) (attempt #0) to tm-x @ worker-7 (dataPort=41235)\n"+
		"2020-03-17 13:59:01,002 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph       - Deploying Sink: head (2/2) (attempt #0) to tm-y @ worker-8 (dataPort=41235)\n"), jm...)
	if err := os.WriteFile(filepath.Join(dir, "taskmanager.log"), append([]byte(head), tm...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jobmanager.log"), jm, 0o644); err != nil {
		t.Fatal(err)
	}
	full, err := Read([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"5d2e4f6a8b0c1d3e5f7a9b1c3d5e7f90", "e6a0c2b4d8f1379520c4e6a8b1d3f5a7"} {
		alloc, _ := flinklog.ParseID(id)
		keep := func(ev *flinklog.Event) bool { return ev.Alloc == alloc || ev.Other == alloc }
		want := only(full, keep)
		if len(want) < 2 || id == "5d2e4f6a8b0c1d3e5f7a9b1c3d5e7f90" && want[0].Resource == "9a3c5e7f1b2d4c6e8f0a1b2c3d4e5f60" {
			t.Fatalf("%s's lines: %+v", id, want)
		}
		got, err := Read([]string{dir}, Options{Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		if g := only(got, keep); !reflect.DeepEqual(g, want) {
			t.Errorf("%s, kept read:\n got  %+v\n full %+v", id, g, want)
		}
		// the head is a process of its own, which the JobManager's
		// deployments name twice: the full read warns, and so must a
		// read that keeps only an allocation of the process below
		if !reflect.DeepEqual(got.Diagnostics, full.Diagnostics) {
			t.Errorf("%s, kept read's diagnostics:\n got  %+v\n full %+v", id, got.Diagnostics, full.Diagnostics)
		}
	}
	warned := false
	for _, d := range full.Diagnostics {
		warned = warned || strings.Contains(d.Summary, "under 2 ResourceIDs")
	}
	if !warned {
		t.Errorf("the full read does not warn of the head's two names: %+v", full.Diagnostics)
	}
}

// TestKeepPiecesNameTheirTaskManagers: a MiniCluster's file is named after
// the one TaskManager its RM and JM lines name; in pieces, a piece's lines
// that name another count though Keep drops them.
func TestKeepPiecesNameTheirTaskManagers(t *testing.T) {
	var b strings.Builder
	line := func(sec int, logger, msg string) {
		fmt.Fprintf(&b, "2021-02-22 14:%02d:%02d,%03d INFO  %s [] - %s\n", sec/60%60, sec%60, sec%1000, logger, msg)
	}
	line(0, "org.apache.flink.runtime.resourcemanager.StandaloneResourceManager", "Registering TaskManager with ResourceID tm-a (akka://flink/user/rpc/taskmanager_0) at ResourceManager")
	for n := 1; n < 400; n++ {
		alloc := fmt.Sprintf("%032x", n)
		line(n, "org.apache.flink.runtime.taskexecutor.TaskExecutor", "Receive slot request "+alloc+" for job 7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a from resource manager with leader id 00000000000000000000000000000000.")
		line(n, "org.apache.flink.runtime.taskexecutor.TaskExecutor", "Allocated slot for "+alloc+".")
		if n == 300 {
			line(n, "org.apache.flink.runtime.executiongraph.ExecutionGraph", "Deploying Source (1/2) (attempt #0) with attempt id 0655fa074098b6aee5bf11f67480fd0c to tm-b @ worker-1 (dataPort=40001) with allocation id "+alloc)
		}
	}
	p := filepath.Join(t.TempDir(), "minicluster.log")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	alloc, _ := flinklog.ParseID(fmt.Sprintf("%032x", 7))
	keep := func(ev *flinklog.Event) bool { return ev.Alloc == alloc }
	opts := Options{ChunkSize: 4 << 10, MaxLine: defaultMaxLine, MaxRecord: defaultMaxRecord}
	if _, ok := readFileChunked(p, &opts, nil, false); !ok {
		t.Fatal("not read in pieces")
	}
	full, err := Read([]string{p}, Options{ChunkSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if full.Inputs[0].ResourceIDSource == "registration" {
		t.Fatalf("two TaskManagers are named, yet the file is named by registration: %+v", full.Inputs[0])
	}
	got, err := Read([]string{p}, Options{ChunkSize: 4 << 10, Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Inputs, full.Inputs) {
		t.Errorf("summaries differ:\n got  %+v\n full %+v", got.Inputs, full.Inputs)
	}
}

// TestReadDoesNotAllocatePerEvent: a read allocates by blocks of events, not
// per event, with Keep or without. (Handing each event to Keep once made it
// escape: three allocations of 448 bytes an event, +40 % CPU on the 300k
// session cluster, with every output unchanged.)
func TestReadDoesNotAllocatePerEvent(t *testing.T) {
	logOf := func(n int) string {
		var b strings.Builder
		b.WriteString("2021-03-14 09:00:00,000 INFO  org.apache.flink.runtime.taskexecutor.TaskManagerRunner [] - Starting TaskManager with ResourceID: tm-1\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "2021-03-14 09:%02d:%02d,%03d INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor [] - Allocated slot for %032x.\n", i/60000%60, i/1000%60, i%1000, i)
		}
		return b.String()
	}
	keepEven := func(ev *flinklog.Event) bool { return ev.Alloc.Bytes()[15]&1 == 0 }
	for _, tt := range []struct {
		name string
		opts Options
	}{{"every event", Options{}}, {"kept", Options{Keep: keepEven}}} {
		t.Run(tt.name, func(t *testing.T) {
			allocs := map[int]float64{}
			for _, n := range []int{2000, 10000} {
				p := filepath.Join(t.TempDir(), "tm.log")
				if err := os.WriteFile(p, []byte(logOf(n)), 0o644); err != nil {
					t.Fatal(err)
				}
				allocs[n] = testing.AllocsPerRun(3, func() {
					if _, err := Read([]string{p}, tt.opts); err != nil {
						t.Fatal(err)
					}
				})
			}
			if per := (allocs[10000] - allocs[2000]) / 8000; per > 0.1 {
				t.Errorf("%.2f allocations an event (%v)", per, allocs)
			}
		})
	}
}

// TestKeepFromStdin: standard input cannot be read again, so a read of it
// keeps every event: a TaskManager log that never names itself, given on
// stdin, still shows one allocation's events.
func TestKeepFromStdin(t *testing.T) {
	data, err := os.ReadFile("../testdata/logs/legacy-1.8.2-race-debug-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	var cut []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.Contains(line, "ResourceID") {
			cut = append(cut, line)
		}
	}
	in := strings.Join(cut, "")
	alloc, _ := flinklog.ParseID("e6a0c2b4d8f1379520c4e6a8b1d3f5a7")
	keep := func(ev *flinklog.Event) bool { return ev.Alloc == alloc || ev.Other == alloc }
	full, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(in), Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	want := only(full, keep)
	if len(want) == 0 {
		t.Fatal("the full read holds none of the allocation's events")
	}
	if !reflect.DeepEqual(got.Inputs, full.Inputs) || !reflect.DeepEqual(only(got, keep), want) {
		t.Errorf("read of stdin with Keep:\n got  %+v\n full %+v", got.Inputs, full.Inputs)
	}
}
