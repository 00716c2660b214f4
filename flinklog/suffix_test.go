package flinklog

import (
	"strings"
	"testing"
)

// TestTemplateSuffix: custom builds append words after a standard message.
// A template whose text ends in a period or a closing bracket reads the
// message when the words are separated from it by a blank; the same
// message without them reads the same. Anything glued to the end, or an ID
// with a digit too many or too few, is another message and stays unmatched.
func TestTemplateSuffix(t *testing.T) {
	const (
		tL  = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
		tQ  = "SlotRequestId{886601088399e7df846d7d1383d736a2}"
		h33 = tA + "0"                          // 33 hex digits
		h31 = "8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2" // 31 hex digits
	)
	type want struct {
		kind   Kind
		alloc  string
		job    string
		index  int
		task   string
		reason string
	}
	cases := []struct {
		name string
		msg  string // the standard message
		// free: the message ends in free text (a task name) before its
		// last character. A suffix that itself ends in that character
		// cannot be told from that text ("Received task T. pool 7." may
		// name the task "T. pool 7"), and the whole reading is preferred.
		free bool
		want want
	}{
		{"received task <=1.11", "Received task Source: orders (1/2).", true, want{kind: KindTMTaskReceived, index: -1, task: "Source: orders (1/2)"}},
		{"allocated <=1.17", "Allocated slot for " + tA + ".", false, want{kind: KindTMAllocated, alloc: tA, index: -1}},
		{"allocated 1.18+", "Allocated slot for " + tA + " with resources " + tP + ".", false, want{kind: KindTMAllocated, alloc: tA, index: -1}},
		{"receive", "Receive slot request " + tA + " for job " + tJ + " from resource manager with leader id " + tL + ".",
			false, want{kind: KindTMSlotRequest, alloc: tA, job: tJ, index: -1}},
		{"activate", "Activate slot " + tA + ".", false, want{kind: KindTMActivate, alloc: tA, index: -1}},
		{"free TaskSlot(...)", "Free slot TaskSlot(index:3, state:ACTIVE, resource profile: " + tP + ", allocationId: " + tA + ", jobId: " + tJ + ").",
			false, want{kind: KindTMFree, alloc: tA, job: tJ, index: 3}},
		{"jm fulfilled, closing bracket", "Fulfilling pending slot request [" + tQ + "] with slot [" + tA + "]",
			false, want{kind: KindJMFulfilled, alloc: tA, index: -1}},
		{"jm repeated offer", "Received repeated offer for slot [" + tA + "]. Ignoring.", false, want{kind: KindJMRepeatedOffer, alloc: tA, index: -1}},
		{"jm deploy 1.8-1.11, closing parenthesis", "Deploying Map (1/2) (attempt #0) to 10.0.0.5:40123-6b1e3c @ worker-3 (dataPort=35211)",
			true, want{kind: KindJMDeploy, index: -1, task: "Map (1/2)"}},
		{"rm not fulfillable", "Could not fulfill resource requirements of job " + tJ + ".", false, want{kind: KindRMNotFulfillable, job: tJ, index: -1}},
		{"rm free by slot report", "Freeing slot " + tA + " by slot report.", false, want{kind: KindRMFree, alloc: tA, index: -1, reason: "by slot report"}},
		{"tm duplicate accepted 2.1", "Slot with allocationId " + tA + " already exist, with resource profile " + tP + ", job id " + tJ + " and index 4. The required index is -1. No further allocation necessary.",
			false, want{kind: KindTMAllocExists, alloc: tA, job: tJ, index: 4, reason: "duplicate accepted"}},
	}
	for _, c := range cases {
		for _, suffix := range []string{"", " extra-words", " (custom suffix)", "\t[tenant=blue] pool 7."} {
			if c.free && strings.HasSuffix(suffix, c.msg[len(c.msg)-1:]) {
				continue
			}
			t.Run(c.name+"/"+strings.TrimSpace(suffix), func(t *testing.T) {
				ev := NewEvent("")
				tmpl, ok := matchTemplate([]byte(c.msg+suffix), &ev)
				if !ok {
					t.Fatalf("no template reads %q", c.msg+suffix)
				}
				got := want{kind: ev.Kind, alloc: ev.Alloc.String(), job: ev.Job.String(), index: ev.SlotIndex, task: ev.Task}
				w := c.want
				if w.reason != "" {
					got.reason = ev.Reason
				}
				if got != w {
					t.Errorf("template %s\n got  %+v\n want %+v", tmpl, got, w)
				}
			})
		}
	}

	// Where readings are ambiguous, the whole reading wins: a task name
	// may hold ". ", and a suffix ending in the template's last character
	// is read as the free text before it.
	for msg, task := range map[string]string{
		"Received task Sink: a. b (1/2).":                 "Sink: a. b (1/2)",
		"Received task Source: orders (1/2). (pool 7).":   "Source: orders (1/2). (pool 7)",
		"Received task Sink: a. b (1/2). (custom suffix)": "Sink: a",
	} {
		ev := NewEvent("")
		if _, ok := matchTemplate([]byte(msg), &ev); !ok || ev.Kind != KindTMTaskReceived || ev.Task != task {
			t.Errorf("%q: %v %s task %q, want %s task %q", msg, ok, ev.Kind, ev.Task, KindTMTaskReceived, task)
		}
	}

	// Not the standard message followed by words: another message.
	for _, msg := range []string{
		"Activate slot " + h33 + ". extra",
		"Activate slot " + h31 + ". extra",
		"Allocated slot for " + h33 + ". (custom suffix)",
		"Allocated slot for " + tA + ".extra",            // glued to the period
		"Allocated slot for " + tA + " (custom) .",       // words before the period
		"Received task Source: orders (1/2).extra-words", // glued
		"Activate slot " + tA + ". ",                     // a blank is no tail (trimmed in a record anyway)
	} {
		ev := NewEvent("")
		if tmpl, ok := matchTemplate([]byte(msg), &ev); ok && tmpl.kind != "" {
			t.Errorf("%q read as %s: %+v", msg, tmpl, ev)
		}
	}
}
