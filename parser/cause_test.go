package parser

import (
	"os"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// causeWant is an event read from an exception line inside a record: its
// kind and AllocationID, the record's first line (Pos, and the line Text
// shows), and the exception line itself (CauseLine, CauseText).
type causeWant struct {
	kind      flinklog.Kind
	alloc     string
	pos       int64
	causeLine int64
	causeText string
}

// causeEvents returns the events of res that come from exception lines.
func causeEvents(res *Result) []causeWant {
	var out []causeWant
	for _, ev := range res.events.list() {
		if ev.CauseLine == 0 {
			continue
		}
		out = append(out, causeWant{ev.Kind, ev.Alloc.String(), ev.Pos.Line, ev.CauseLine, ev.CauseText})
	}
	return out
}

// TestCauseLineEvidence: the IDs a record names only in its exception text
// (a JobManager's failed task whose message names no AllocationID, a pasted
// stack trace with no header at all) become events whose evidence includes
// the exception line: its own physical line and its text. Pos stays the
// record's first line, as for every event of the record: rules join one
// record's events by it (the failed task's attempt and its cause).
func TestCauseLineEvidence(t *testing.T) {
	const a3b9 = "3b9d1f7e2a4c6b8d0e1f3a5c7e9b2d4f"
	jm := "2021-03-04 10:15:29,990 INFO  org.apache.flink.runtime.jobmaster.JobMaster                [] - Connecting to ResourceManager akka.tcp://flink@jm:6123/user/rpc/resourcemanager_*(00000000000000000000000000000000)\n" +
		"2021-03-04 10:15:30,101 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph        [] - Source: orders (1/2) (5c2f0e1a9b8d7c6e5f4a3b2c1d0e9f8a) switched from SCHEDULED to FAILED on [unassigned resource].\n" +
		"java.util.concurrent.CompletionException: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: No pooled slot available and request to ResourceManager for new slot failed\n" +
		"\tat java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:292) ~[?:1.8.0_282]\n" +
		"Caused by: org.apache.flink.runtime.resourcemanager.exceptions.UnfulfillableSlotRequestException: Could not fulfill slot request " + a3b9 + ". Requested resource profile (ResourceProfile{cpuCores=8.0000000000000000, taskHeapMemory=16.000gb (17179869184 bytes)}) is unfulfillable.\n" +
		"\tat org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerImpl.internalRequestSlot(SlotManagerImpl.java:862) ~[flink-dist_2.11-1.12.2.jar:1.12.2]\n" +
		"\t... 27 more\n"
	jmLines := strings.Split(jm, "\n")
	short := strings.Replace(jm, "Caused by: org.apache.flink.runtime.resourcemanager.exceptions.UnfulfillableSlotRequestException: Could not fulfill slot request "+a3b9+". Requested resource profile (ResourceProfile{cpuCores=8.0000000000000000, taskHeapMemory=16.000gb (17179869184 bytes)}) is unfulfillable.",
		"Caused by: org.apache.flink.runtime.resourcemanager.exceptions.ResourceManagerException: Could not fulfill slot request "+a3b9+".", 1)
	noSlot := "2019-11-05 14:02:11,517 INFO  org.apache.flink.runtime.executiongraph.ExecutionGraph        - Map (3/4) (b1946a3e3d9a4d0c8c1f0e2a9f3b7c1d) switched from DEPLOYING to FAILED.\n" +
		"java.util.concurrent.CompletionException: org.apache.flink.runtime.rpc.exceptions.RpcConnectionException: could not submit\n" +
		"\tat java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:292)\n" +
		"Caused by: org.apache.flink.runtime.taskexecutor.exceptions.TaskSubmissionException: No task slot allocated for job ID " + tJ + " and allocation ID " + tA + ".\n" +
		"\tat org.apache.flink.runtime.taskexecutor.TaskExecutor.submitTask(TaskExecutor.java:601)\n"
	pasted, err := os.ReadFile("../testdata/logs/headerless-stacktrace.txt")
	if err != nil {
		t.Fatal(err)
	}
	pastedLines := strings.Split(string(pasted), "\n")
	causes, err := os.ReadFile("../testdata/logs/headless-1.18-causes.txt")
	if err != nil {
		t.Fatal(err)
	}
	causesLines := strings.Split(string(causes), "\n")
	ecs := `{"@timestamp":"2024-05-02T09:41:07.101Z","log.level":"INFO","log.logger":"org.apache.flink.runtime.executiongraph.DefaultExecutionGraph","message":"Source: orders (1/2) (5c2f0e1a9b8d7c6e5f4a3b2c1d0e9f8a_cbc357ccb763df2852fee8c4fc7d55f2_0_0) switched from SCHEDULED to FAILED on [unassigned resource].",` +
		`"error.type":"java.util.concurrent.CompletionException","error.stack_trace":"java.util.concurrent.CompletionException: x\n\tat a.b(C.java:1)\nCaused by: org.apache.flink.runtime.resourcemanager.exceptions.UnfulfillableSlotRequestException: Could not fulfill slot request ` + a3b9 + `. Requested resource profile (ResourceProfile{UNKNOWN}) is unfulfillable.\n\tat d.e(F.java:2)\n"}` + "\n"

	cases := []struct {
		name string
		log  string
		want []causeWant
	}{
		{"JobManager record, unfulfillable", jm, []causeWant{{flinklog.KindRMAllocFailed, a3b9, 2, 5, jmLines[4]}, {flinklog.KindJMNoResource, "", 2, 3, jmLines[2]}}},
		{"JobManager record, could not fulfill", short, []causeWant{{flinklog.KindRMAllocFailed, a3b9, 2, 5, strings.Split(short, "\n")[4]}, {flinklog.KindJMNoResource, "", 2, 3, jmLines[2]}}},
		{"JobManager record, no task slot", noSlot, []causeWant{{flinklog.KindTaskNoSlot, tA, 1, 4, strings.Split(noSlot, "\n")[3]}}},
		{"pasted trace without header", string(pasted), []causeWant{{flinklog.KindTaskNoSlot, "ee409d04a999a6a6de9e6a96dd83d71b", 1, 3, pastedLines[2]}}},
		// blank lines between the pasted traces are not the record's, and
		// the lines keep their own numbers
		{"pasted traces with blank lines", string(causes), []causeWant{
			{flinklog.KindHeartbeatTimeout, "", 1, 4, causesLines[3]},
			{flinklog.KindRMAllocFailed, "5d3f1a2b4c6e8f0a1b3c5d7e9f1a3b5c", 1, 11, causesLines[10]},
			{flinklog.KindTMFreeReason, "7a9c1e3f5b7d9f1a3c5e7a9b1d3f5a7c", 1, 16, causesLines[15]},
			{flinklog.KindJMNoResource, "", 1, 9, causesLines[8]},
		}},
		// a JSON record is one object: its exception lines are on its line
		{"JSON, stack trace in its own field", ecs, []causeWant{{flinklog.KindRMAllocFailed, a3b9, 1, 1,
			"Caused by: org.apache.flink.runtime.resourcemanager.exceptions.UnfulfillableSlotRequestException: Could not fulfill slot request " + a3b9 + ". Requested resource profile (ResourceProfile{UNKNOWN}) is unfulfillable."}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(c.log)})
			if err != nil {
				t.Fatal(err)
			}
			got := causeEvents(res)
			if len(got) != len(c.want) {
				t.Fatalf("%d events from exception lines, want %d:\n got  %+v\n want %+v", len(got), len(c.want), got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("event %d:\n got  %+v\n want %+v", i, got[i], c.want[i])
				}
			}
			for _, ev := range res.events.list() {
				if ev.CauseLine != 0 && ev.Text() == ev.CauseText {
					t.Errorf("%s: Text is the exception line %q; it is the record's first line, which Pos names", ev.Kind, ev.Text())
				}
			}
		})
	}
}
