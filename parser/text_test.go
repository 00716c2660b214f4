package parser

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/sim"
)

// TestSlotReportTextShared: every event's evidence is its first line as
// read (capped), and the slot reports of an idle cluster share the message
// part of their lines, so memory follows what changed, not the heartbeats.
// Cases: the version's text layout, JSON, a line longer than the cap (cut,
// "…"), and a file read in pieces.
func TestSlotReportTextShared(t *testing.T) {
	long := "2021-03-14 09:00:00,000 DEBUG org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerImpl  - Received slot report from instance 0123456789abcdef0123456789abcdef: SlotReport{slotsStatus=[" +
		strings.Repeat("SlotStatus{slotID=tm-1_0, resourceProfile=ResourceProfile{cpuCores=1.0, heapMemoryInMB=1024}, allocationID=null, jobID=null}, ", 30) + "]}."
	cases := []struct {
		name  string
		cfg   sim.Config
		extra string // appended lines (the long report, three times)
		chunk int
		// reports per message text at least: the text layout shares across
		// the whole file; a file read in pieces (here 64 of them) within
		// each piece; JSON from where the message starts, but the thread
		// printed after it varies
		sharing int
		// the most of a report's line kept per report (0: not checked): in
		// the text layout the timestamp, the rest is shared
		maxHead int
	}{
		{"text", sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 2, Jobs: 1, Seed: 3, Debug: true, Minutes: 30, Once: true}, "", 0, 50, len("2021-03-14 09:00:00,000 ")},
		{"text-long-lines", sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 2, Jobs: 1, Seed: 3, Debug: true, Minutes: 30, Once: true},
			strings.Repeat(long+"\n", 3), 0, 50, len("2021-03-14 09:00:00,000 ")},
		{"pieces", sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 2, Jobs: 1, Seed: 3, Debug: true, Minutes: 30, Once: true, Noise: 20}, "", 1 << 16, 2, len("2021-03-14 09:00:00,000 ")},
		{"json", sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 2, Jobs: 1, Seed: 3, Debug: true, Minutes: 30, Once: true, Format: "json"}, "", 0, 5, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := sim.Run(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var path string
			for name, content := range res.Files {
				if strings.HasPrefix(name, "jobmanager") {
					path = filepath.Join(dir, name)
					if err := os.WriteFile(path, []byte(content+c.extra), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			lines := readLines(t, path)
			r, err := Read([]string{path}, Options{ChunkSize: c.chunk})
			if err != nil {
				t.Fatal(err)
			}
			reports, cut := 0, 0
			tails := map[unsafe.Pointer]bool{}
			for v := range r.All() {
				ev := r.Event(v)
				want := lines[ev.Pos.Line-1]
				if len(want) > flinklog.MaxTextLen {
					want = want[:flinklog.MaxTextLen] + "…"
				}
				if got := r.Text(v); got != want {
					t.Fatalf("line %d (%s): evidence\n got  %.200q\n want %.200q", ev.Pos.Line, ev.Kind, got, want)
				}
				if ev.Kind == flinklog.KindRMSlotReport {
					reports++
					head, tail := ev.TextParts()
					tails[unsafe.Pointer(unsafe.StringData(tail))] = true
					if c.maxHead > 0 && len(head) > c.maxHead {
						t.Fatalf("line %d: a report keeps %q of its own; only its timestamp differs from the last", ev.Pos.Line, head)
					}
					if strings.HasSuffix(ev.Text(), "…") {
						cut++
					}
				}
			}
			if reports < 100 {
				t.Fatalf("only %d slot reports; the case does not test sharing", reports)
			}
			if c.extra != "" && cut != 3 {
				t.Errorf("%d cut slot reports, want 3", cut)
			}
			if len(tails)*c.sharing > reports {
				t.Errorf("%d slot reports keep %d message texts; identical reports should share theirs", reports, len(tails))
			}
			t.Logf("%d slot reports, %d distinct message texts", reports, len(tails))
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
