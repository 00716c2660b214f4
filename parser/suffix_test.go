package parser

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestSuffixKeptInEvidence: a record whose message carries a custom suffix
// gives its event, is not counted unparsed, and its evidence is the line as
// read, suffix included.
func TestSuffixKeptInEvidence(t *testing.T) {
	head := "2023-11-02 17:05:07,014 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           [] - "
	lines := []string{
		head + "Receive slot request " + tA + " for job " + tJ + " from resource manager with leader id 9a8b7c6d5e4f30211203f4e5d6c7b8a9. tenant=blue",
		head + "Allocated slot for " + tA + ". (custom suffix)",
		strings.Replace(head, "TaskExecutor          ", "slot.TaskSlotTable", 1) + "Activate slot " + tA + ". [build 42]",
		head + "Received task Source: orders (1/2). extra-words",
	}
	res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(strings.Join(lines, "\n") + "\n")})
	if err != nil {
		t.Fatal(err)
	}
	in := res.Inputs[0]
	if in.Unparsed != 0 || in.EventRecs != len(lines) {
		t.Fatalf("records with suffixes: %d gave events, %d unparsed; want %d, 0 (%+v)", in.EventRecs, in.Unparsed, len(lines), res.Diagnostics)
	}
	kinds := []flinklog.Kind{flinklog.KindTMSlotRequest, flinklog.KindTMAllocated, flinklog.KindTMActivate, flinklog.KindTMTaskReceived}
	for i, ev := range res.events.list() {
		if ev.Kind != kinds[i] || ev.Text() != lines[i] {
			t.Errorf("event %d: %s %q, want %s with the whole line %q", i, ev.Kind, ev.Text(), kinds[i], lines[i])
		}
		if !bytes.Contains([]byte(ev.Text()), []byte(strings.Fields(lines[i])[len(strings.Fields(lines[i]))-1])) {
			t.Errorf("event %d: the suffix is not in the evidence %q", i, ev.Text())
		}
	}
}
