package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestRecordStart(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"2021-03-14 09:00:00,551 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor - x", true},
		{"2021-03-14 09:00:00.551 DEBUG x", true},
		{"2021-03-14 09:00:00,551 ", true},
		{"2021-03-14 09:00:00,551", false},        // no space after the time
		{"2021-13-14 09:00:00,551 INFO x", false}, // month 13
		{"2021-03-00 09:00:00,551 INFO x", false}, // day 0
		{"2021-03-14 24:00:00,551 INFO x", false}, // hour 24
		{"2021-03-14T09:00:00,551 INFO x", false}, // ISO 'T'
		{"\tat org.apache.flink.runtime.taskexecutor.TaskExecutor.run(TaskExecutor.java:1)", false},
		{"Caused by: java.lang.IllegalStateException: 2021-03-14 09:00:00,551 ", false},
		{"", false},
	} {
		if got := recordStart([]byte(tc.line)); got != tc.want {
			t.Errorf("recordStart(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// TestRunCountsEveryLineOnce: whatever the piece size and the number of
// workers, every line and every record start is counted once, as a plain
// split of the whole file counts them — lines cut by a piece's end, pieces
// inside one long line, a file without a final newline, empty files.
func TestRunCountsEveryLineOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 1))
	dir := t.TempDir()
	var paths []string
	var want counts
	lines := []string{
		"2021-03-14 09:00:00,551 INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTable - Free slot.",
		"java.lang.RuntimeException: boom",
		"\tat org.apache.flink.runtime.jobmaster.JobMaster.run(JobMaster.java:42)",
		"",
		"2021-03-14 09:00:01,002 DEBUG org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerImpl - Received slot report.",
		"(order-5108,1)",
		"2021-03-14 09:00:02,7",
	}
	for f := range 6 {
		var b bytes.Buffer
		n := rng.IntN(400)
		if f == 0 {
			n = 0
		}
		for range n {
			l := lines[rng.IntN(len(lines))]
			if rng.IntN(50) == 0 {
				l += string(bytes.Repeat([]byte("x"), 300)) // a line longer than small pieces
			}
			b.WriteString(l)
			b.WriteByte('\n')
		}
		data := b.Bytes()
		if f%2 == 1 && len(data) > 0 {
			data = data[:len(data)-1] // no final newline
		}
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			want.lines++
			if recordStart(bytes.TrimSuffix(l, []byte("\n"))) {
				want.records++
			}
		}
		want.bytes += int64(len(data))
		p := filepath.Join(dir, fmt.Sprintf("log-%d", f))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if want.records == 0 || want.lines == want.records {
		t.Fatalf("the test logs hold no mix of records and other lines: %+v", want)
	}
	for _, size := range []int{1, 2, 7, 23, 24, 25, 64, 301, 4096, defaultPiece} {
		for _, workers := range []int{1, 3} {
			got, err := run(paths, workers, size)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("pieces of %d bytes on %d workers: %+v, want %+v", size, workers, got, want)
			}
		}
	}
}

func TestRunMissingFile(t *testing.T) {
	if _, err := run([]string{filepath.Join(t.TempDir(), "absent")}, 1, defaultPiece); err == nil {
		t.Fatal("a missing file gave no error")
	}
}
