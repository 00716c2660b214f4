package report

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// readLogs reads project logs (files or directories under testdata/logs)
// and names every file by its path below testdata/logs.
func readLogs(t *testing.T, names ...string) *reconstruct.Model {
	t.Helper()
	dir := filepath.Join("..", "testdata", "logs")
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join(dir, n))
	}
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Files {
		rel, err := filepath.Rel(dir, res.Files[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		res.Files[i].Path = filepath.ToSlash(rel)
	}
	return reconstruct.Build(res)
}

func allocation(t *testing.T, m *reconstruct.Model, id string) *reconstruct.Allocation {
	t.Helper()
	aid, ok := flinklog.ParseID(id)
	if !ok {
		t.Fatalf("%s is not an ID", id)
	}
	a := m.Allocation(aid)
	if a == nil {
		t.Fatalf("no allocation %s", id)
	}
	return a
}

// TestSequence checks the steps of one AllocationID of a legacy race
// (JobManager-driven requests, Flink 1.8.2, a skewed TaskManager clock) and
// of two declarative logs (1.18.1 and 1.15.4, the ResourceManager's
// AllocationIDs): who sends to whom, what each step says, its time and its
// line. Every step's Text is the line its Where names, as read.
func TestSequence(t *testing.T) {
	type step struct{ from, to, says, kind, time, where string }
	const (
		jm = "JobManager"
		rm = "ResourceManager"
	)
	cases := []struct {
		name         string
		files        []string
		alloc        string
		participants []string
		steps        []step
	}{
		{
			name:         "legacy-1.8.2-race",
			files:        []string{"legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"},
			alloc:        "c81f4e2a9b3d5f7061e2d4c6b8a09f13",
			participants: []string{jm, rm, "TaskManager 9a3c5e7f1b2d4c6e8f0a1b2c3d4e5f60"},
			steps: func() []step {
				const tm = "TaskManager 9a3c5e7f1b2d4c6e8f0a1b2c3d4e5f60"
				return []step{
					{jm, rm, "request slot", "rm.slot_request", "2020-03-17T14:00:02.110", "legacy-1.8.2-race-debug-jm.log:12"},
					{rm, rm, "request failed: Exception: Task manager reported slot 9a3c5e7f1b2d4c6e8f0a1b…", "rm.alloc_failed", "2020-03-17T14:00:02.601", "legacy-1.8.2-race-debug-jm.log:16"},
					{rm, tm, "request slot", "tm.slot_request", "2020-03-17T14:00:01.110 (aligned 2020-03-17T14:00:02.606)", "legacy-1.8.2-race-debug-tm.log:16"},
					{tm, tm, "allocated", "tm.allocated", "2020-03-17T14:00:01.111 (aligned 2020-03-17T14:00:02.607)", "legacy-1.8.2-race-debug-tm.log:17"},
					{tm, jm, "offer fulfills request", "jm.fulfilled", "2020-03-17T14:00:02.715", "legacy-1.8.2-race-debug-jm.log:20"},
					{tm, tm, "activated", "tm.activate", "2020-03-17T14:00:01.220 (aligned 2020-03-17T14:00:02.716)", "legacy-1.8.2-race-debug-tm.log:19"},
					{rm, tm, "request slot", "tm.slot_request", "2020-03-17T14:00:11.500 (aligned 2020-03-17T14:00:12.996)", "legacy-1.8.2-race-debug-tm.log:25"},
					{tm, tm, "allocated", "tm.allocated", "2020-03-17T14:00:11.501 (aligned 2020-03-17T14:00:12.997)", "legacy-1.8.2-race-debug-tm.log:26"},
					{tm, tm, "free: The slot was rejected by the JobManager.", "tm.free_reason", "2020-03-17T14:00:11.530 (aligned 2020-03-17T14:00:13.026)", "legacy-1.8.2-race-debug-tm.log:28"},
					{tm, tm, "freed index 1 (ALLOCATED)", "tm.free", "2020-03-17T14:00:11.531 (aligned 2020-03-17T14:00:13.027)", "legacy-1.8.2-race-debug-tm.log:29"},
					{tm, tm, "task refused: no slot", "tm.task_no_slot", "2020-03-17T14:00:43.512 (aligned 2020-03-17T14:00:45.008)", "legacy-1.8.2-race-debug-tm.log:35"},
					// the JobManager quotes the TaskSubmissionException: the answer to the deployment
					{tm, jm, "task refused: no slot", "tm.task_no_slot", "2020-03-17T14:00:45.020", "legacy-1.8.2-race-debug-jm.log:38"},
					{jm, tm, "release idle slot", "jm.release", "2020-03-17T14:01:36.490", "legacy-1.8.2-race-debug-jm.log:45"},
					{tm, tm, "free: Releasing idle slot.", "tm.free_reason", "2020-03-17T14:01:35.000 (aligned 2020-03-17T14:01:36.496)", "legacy-1.8.2-race-debug-tm.log:40"},
					{tm, tm, "free failed: allocation unknown", "tm.free_unknown", "2020-03-17T14:01:35.001 (aligned 2020-03-17T14:01:36.497)", "legacy-1.8.2-race-debug-tm.log:41"},
				}
			}(),
		},
		{
			// the ResourceManager logs the request it sends (1.14+ INFO): the
			// TaskManager's receipt of it is a note; the second, unannounced
			// request for the same AllocationID is an arrow
			name:         "declarative-1.18.1-duplicate",
			files:        []string{"sim-1.18.1-duplicate-on-1.17.2-taskmanagers"},
			alloc:        "0bd65268c3263c93c80feaa36c2d4908",
			participants: []string{rm, "TaskManager 10.0.1.11:36001-8ca3e6", jm},
			steps: func() []step {
				const (
					tm  = "TaskManager 10.0.1.11:36001-8ca3e6"
					dir = "sim-1.18.1-duplicate-on-1.17.2-taskmanagers/"
				)
				return []step{
					{rm, tm, "request slot", "rm.alloc_start", "2021-03-14T09:00:05.009", dir + "jobmanager.log:19"},
					{tm, tm, "received: request slot", "tm.slot_request", "2021-03-14T09:00:04.416 (aligned 2021-03-14T09:00:05.013)", dir + "taskmanager-1.log:9"},
					{tm, tm, "allocated", "tm.allocated", "2021-03-14T09:00:04.416 (aligned 2021-03-14T09:00:05.013)", dir + "taskmanager-1.log:10"},
					{rm, tm, "request slot", "tm.slot_request", "2021-03-14T09:00:04.438 (aligned 2021-03-14T09:00:05.035)", dir + "taskmanager-1.log:11"},
					{tm, tm, "already holds index 4, required index 5", "tm.alloc_exists", "2021-03-14T09:00:04.438 (aligned 2021-03-14T09:00:05.035)", dir + "taskmanager-1.log:12"},
					{tm, tm, "allocated", "tm.allocated", "2021-03-14T09:00:04.438 (aligned 2021-03-14T09:00:05.035)", dir + "taskmanager-1.log:13"},
					{jm, tm, "deploy Source: orders-enrichment-0 (2/2)#0", "jm.deploy", "2021-03-14T09:00:05.080", dir + "jobmanager.log:24"},
					{tm, tm, "activated", "tm.activate", "2021-03-14T09:00:04.484 (aligned 2021-03-14T09:00:05.081)", dir + "taskmanager-1.log:18"},
					{tm, tm, "received: deploy Source: orders-enrichment-0 (2/2)#0", "tm.task_received", "2021-03-14T09:00:04.484 (aligned 2021-03-14T09:00:05.081)", dir + "taskmanager-1.log:19"},
					{tm, tm, "activated", "tm.activate", "2021-03-14T09:00:04.484 (aligned 2021-03-14T09:00:05.081)", dir + "taskmanager-1.log:20"},
					{jm, tm, "deploy Source: orders-enrichment-0 (2/2)#1", "jm.deploy", "2021-03-14T09:00:50.000", dir + "jobmanager.log:40"},
					{tm, tm, "received: deploy Source: orders-enrichment-0 (2/2)#1", "tm.task_received", "2021-03-14T09:00:49.407 (aligned 2021-03-14T09:00:50.004)", dir + "taskmanager-1.log:31"},
					{tm, tm, "activated", "tm.activate", "2021-03-14T09:00:49.407 (aligned 2021-03-14T09:00:50.004)", dir + "taskmanager-1.log:32"},
					{jm, tm, "release slot", "jm.release", "2021-03-14T09:01:50.002", dir + "jobmanager.log:73"},
					{tm, tm, "freed index 4 (ACTIVE)", "tm.free", "2021-03-14T09:01:49.408 (aligned 2021-03-14T09:01:50.005)", dir + "taskmanager-1.log:48"},
					{tm, rm, "slot freed", "rm.free", "2021-03-14T09:01:50.015", dir + "jobmanager.log:76"},
				}
			}(),
		},
		{
			// no ResourceManager line at INFO (1.15): the requests are the
			// TaskManager's receipts; the JobManager matches the offer
			name:         "declarative-1.15.4-refused",
			files:        []string{"sim-1.15.4-overwrite-refused"},
			alloc:        "b6fb1eecc3b366e13d85311ae18ab9ea",
			participants: []string{rm, "TaskManager 10.0.1.11:36001-15cb94", jm},
			steps: func() []step {
				const (
					tm  = "TaskManager 10.0.1.11:36001-15cb94"
					dir = "sim-1.15.4-overwrite-refused/"
				)
				return []step{
					{rm, tm, "request slot", "tm.slot_request", "2021-03-14T09:00:05.686 (aligned 2021-03-14T09:00:05.015)", dir + "taskmanager-1.log:9"},
					{tm, tm, "allocated", "tm.allocated", "2021-03-14T09:00:05.686 (aligned 2021-03-14T09:00:05.015)", dir + "taskmanager-1.log:10"},
					{rm, tm, "request slot", "tm.slot_request", "2021-03-14T09:00:05.701 (aligned 2021-03-14T09:00:05.030)", dir + "taskmanager-1.log:11"},
					{tm, tm, "already holds index 0, required index 2", "tm.alloc_exists", "2021-03-14T09:00:05.701 (aligned 2021-03-14T09:00:05.030)", dir + "taskmanager-1.log:12"},
					{tm, tm, "refused: table refused the allocation", "tm.alloc_refused", "2021-03-14T09:00:05.701 (aligned 2021-03-14T09:00:05.030)", dir + "taskmanager-1.log:13"},
					{tm, tm, "refused: table refused the allocation", "tm.alloc_refused", "2021-03-14T09:00:05.701 (aligned 2021-03-14T09:00:05.030)", dir + "taskmanager-1.log:14"},
					{tm, jm, "offer matched", "jm.offer_matched", "2021-03-14T09:00:05.107", dir + "jobmanager.log:22"},
					{jm, tm, "deploy Source: orders-enrichment-0 (1/2)", "jm.deploy", "2021-03-14T09:00:05.108", dir + "jobmanager.log:25"},
					{tm, tm, "activated", "tm.activate", "2021-03-14T09:00:05.782 (aligned 2021-03-14T09:00:05.111)", dir + "taskmanager-1.log:20"},
					{tm, tm, "received: deploy Source: orders-enrichment-0 (1/2)", "tm.task_received", "2021-03-14T09:00:05.786 (aligned 2021-03-14T09:00:05.115)", dir + "taskmanager-1.log:24"},
					{tm, tm, "activated", "tm.activate", "2021-03-14T09:00:05.786 (aligned 2021-03-14T09:00:05.115)", dir + "taskmanager-1.log:25"},
					{jm, tm, "deploy Source: orders-enrichment-0 (1/2)", "jm.deploy", "2021-03-14T09:00:50.000", dir + "jobmanager.log:73"},
					{tm, tm, "received: deploy Source: orders-enrichment-0 (1/2)", "tm.task_received", "2021-03-14T09:00:50.674 (aligned 2021-03-14T09:00:50.003)", dir + "taskmanager-1.log:34"},
					{tm, tm, "activated", "tm.activate", "2021-03-14T09:00:50.674 (aligned 2021-03-14T09:00:50.003)", dir + "taskmanager-1.log:35"},
					{jm, tm, "release slot", "jm.release", "2021-03-14T09:01:50.019", dir + "jobmanager.log:147"},
					{tm, tm, "free: Stopping JobMaster for job 'orders-enrichment-0' (60fe234a2b…", "tm.free_reason", "2021-03-14T09:01:50.692 (aligned 2021-03-14T09:01:50.021)", dir + "taskmanager-1.log:52"},
					{tm, tm, "freed index 0 (ACTIVE)", "tm.free", "2021-03-14T09:01:50.692 (aligned 2021-03-14T09:01:50.021)", dir + "taskmanager-1.log:53"},
				}
			}(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := readLogs(t, tc.files...)
			a := allocation(t, m, tc.alloc)
			s := NewSequenceJSON(m, a)
			if s.AllocationID != tc.alloc || s.Job != a.Job.String() || s.Job == "" {
				t.Errorf("allocation %q job %q, want %s and %s", s.AllocationID, s.Job, tc.alloc, a.Job)
			}
			if !slices.Equal(s.Participants, tc.participants) {
				t.Errorf("participants %q\nwant %q", s.Participants, tc.participants)
			}
			var got []step
			for _, st := range s.Steps {
				got = append(got, step{st.From, st.To, st.Says, st.Kind, st.Time, st.Where.String()})
				if want := lineOf(t, st.Where); st.Text != want {
					t.Errorf("%s: text %q, want the line %q", st.Where, st.Text, want)
				}
			}
			for i := 0; i < max(len(got), len(tc.steps)); i++ {
				switch {
				case i >= len(got):
					t.Errorf("step %d missing: want %q", i+1, tc.steps[i])
				case i >= len(tc.steps):
					t.Errorf("step %d unexpected: %q", i+1, got[i])
				case got[i] != tc.steps[i]:
					t.Errorf("step %d\n got %q\nwant %q", i+1, got[i], tc.steps[i])
				}
			}
		})
	}
}

// lineOf returns the line a place names in a project log.
func lineOf(t *testing.T, p *PlaceJSON) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "logs", filepath.FromSlash(p.Path)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if p.Line < 1 || int(p.Line) > len(lines) {
		t.Fatalf("%s: no such line", p)
	}
	return strings.TrimRight(lines[p.Line-1], "\r")
}

// TestSequenceMessages holds the drawing of every kind the timelines of
// the project's logs do not show, as SequenceJSON's table says it.
func TestSequenceMessages(t *testing.T) {
	self, _ := flinklog.ParseID("c81f4e2a9b3d5f7061e2d4c6b8a09f13")
	other, _ := flinklog.ParseID("3b9d7f1e5c2a4086d9e1f3a5c7b90e24")
	ev := func(kind flinklog.Kind, comp flinklog.Component, set func(*flinklog.Event)) *flinklog.Event {
		e := flinklog.NewEvent(kind)
		e.Component, e.Alloc = comp, self
		if set != nil {
			set(&e)
		}
		return &e
	}
	tm, rm, jm := flinklog.ComponentTM, flinklog.ComponentRM, flinklog.ComponentJM
	for _, tc := range []struct {
		ev            *flinklog.Event
		from, to      role
		says          string
		send, receipt string
	}{
		{ev(flinklog.KindJMSlotRequest, jm, nil), roleJM, roleRM, "request slot", msgJMRequest, ""},
		{ev(flinklog.KindRMSlotRequest, rm, nil), roleJM, roleRM, "request slot", "", msgJMRequest},
		{ev(flinklog.KindRMDuplicateRequest, rm, nil), roleJM, roleRM, "duplicate request, ignored", "", ""},
		{ev(flinklog.KindRMAllocStart, rm, func(e *flinklog.Event) { e.SlotIndex = 2 }), roleRM, roleTM, "request slot, index 2", msgRMRequest, ""},
		{ev(flinklog.KindTMAllocated, tm, func(e *flinklog.Event) { e.SlotIndex = 3 }), roleTM, roleTM, "allocated index 3", "", ""},
		{ev(flinklog.KindTMAllocExists, tm, func(e *flinklog.Event) { e.SlotIndex, e.Reason = 1, "duplicate accepted" }), roleTM, roleTM, "duplicate accepted, holds index 1", "", ""},
		{ev(flinklog.KindTMAllocRefused, tm, func(e *flinklog.Event) { e.Reason, e.SlotIndex, e.Other = flinklog.ReasonIndexTaken, 1, other }),
			roleTM, roleTM, "refused: index 1 taken by 3b9d7f1e…", "", ""},
		// the same line in the timeline of the occupant it names
		{ev(flinklog.KindTMAllocRefused, tm, func(e *flinklog.Event) {
			e.Reason, e.SlotIndex, e.Alloc, e.Other = flinklog.ReasonIndexTaken, 1, other, self
		}), roleTM, roleTM, "refused 3b9d7f1e…: holds the index (1)", "", ""},
		{ev(flinklog.KindTMAllocRefused, tm, func(e *flinklog.Event) { e.Reason = flinklog.ReasonAllocatedElsewhere }), roleTM, roleTM, "refused: already allocated in another slot", "", ""},
		{ev(flinklog.KindTMAllocRefused, tm, func(e *flinklog.Event) { e.Reason = flinklog.ReasonNoRM }), roleTM, roleTM, "refused: no ResourceManager connected", "", ""},
		{ev(flinklog.KindTMSlotOccupied, tm, nil), roleTM, roleTM, "refused: slot taken by another job", "", ""},
		{ev(flinklog.KindRMSlotOccupied, rm, nil), roleRM, roleRM, "slot taken by another job", "", ""},
		{ev(flinklog.KindRMRequestTimeout, rm, nil), roleRM, roleRM, "request timed out", "", ""},
		// a ResourceManager failure quoted by the JobManager: its answer
		{ev(flinklog.KindRMAllocFailed, jm, func(e *flinklog.Event) { e.Reason = "Could not fulfill slot request" }), roleRM, roleJM, "request failed: Could not fulfill slot request", "", ""},
		{ev(flinklog.KindTMOffer, tm, nil), roleTM, roleJM, "offer slots", "", ""},
		{ev(flinklog.KindJMOfferUnmatched, jm, nil), roleTM, roleJM, "offer not matched", "", ""},
		{ev(flinklog.KindJMRepeatedOffer, jm, nil), roleTM, roleJM, "repeated offer, ignored", "", ""},
		{ev(flinklog.KindJMFulfilled, jm, func(e *flinklog.Event) { e.Reason = "returned slot reused" }), roleJM, roleJM, "returned slot reused", "", ""},
		{ev(flinklog.KindTMOfferFailed, tm, func(e *flinklog.Event) { e.Reason = flinklog.ReasonOfferFailed }), roleTM, roleTM, "offer failed, slots freed", "", ""},
		{ev(flinklog.KindTMMarkActiveFailed, tm, nil), roleTM, roleTM, "could not mark active", "", ""},
		{ev(flinklog.KindJMDeploy, jm, func(e *flinklog.Event) { e.Task = "Sink (1/2)" }), roleJM, roleTM, "deploy Sink (1/2)", msgDeploy, ""},
		{ev(flinklog.KindTMTaskReceived, tm, func(e *flinklog.Event) { e.Task = "Sink (1/2)" }), roleJM, roleTM, "deploy Sink (1/2)", "", msgDeploy},
		{ev(flinklog.KindJMRelease, jm, func(e *flinklog.Event) { e.Reason = "boom" }), roleJM, roleTM, "release slot: boom", "", ""},
		// a TaskManager's slot timeout quoted by the JobManager
		{ev(flinklog.KindTMFreeReason, jm, func(e *flinklog.Event) { e.Reason = "The slot has timed out." }), roleTM, roleJM, "free: The slot has timed out.", "", ""},
		{ev(flinklog.KindRMFree, rm, func(e *flinklog.Event) { e.Reason = "by slot report" }), roleTM, roleRM, "slot report: slot freed", "", ""},
		{ev(flinklog.KindRMFreeMismatch, rm, func(e *flinklog.Event) { e.Other = other }), roleTM, roleRM, "free ignored: slot holds 3b9d7f1e…", "", ""},
		{ev(flinklog.KindRMFreeUnknown, rm, nil), roleTM, roleRM, "free of unknown slot, ignored", "", ""},
		{ev(flinklog.KindTMFreeInactive, tm, nil), roleRM, roleTM, "free inactive slots", "", ""},
		{ev(flinklog.KindJMCannotFailSlot, jm, nil), roleTM, roleJM, "fail slot: TaskManager unknown", "", ""},
		{ev(flinklog.KindJMRequestTimeout, jm, nil), roleJM, roleJM, "request timed out", "", ""},
		{ev(flinklog.KindJMJobState, jm, func(e *flinklog.Event) { e.From, e.To = "RUNNING", "FAILING" }), roleJM, roleJM, "job RUNNING → FAILING", "", ""},
		{ev(flinklog.KindJMNoResource, jm, nil), roleJM, roleJM, "no resources", "", ""},
		{ev(flinklog.KindHeartbeatTimeout, rm, nil), roleRM, roleRM, "hb.timeout", "", ""},
	} {
		got := messageOf(tc.ev, self)
		want := message{from: tc.from, to: tc.to, says: tc.says, send: tc.send, receipt: tc.receipt}
		if got != want {
			t.Errorf("%s (%s): %+v, want %+v", tc.ev.Kind, tc.ev.Component, got, want)
		}
	}
}
