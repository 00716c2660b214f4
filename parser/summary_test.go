package parser

import (
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// The FineGrainedSlotManager's resource summary (INFO, Flink 1.18 to 2.1;
// FineGrainedSlotManager.logMissingAndAvailableResource, the same text at
// release-1.18, 1.19, 1.20 and in 2.x): one message of lines joined by the
// JVM's line separator, each job's line a TAB and a blank before "Job".
const (
	sumJ1 = "47ed771b20ef1267dca7371821bdc5ae"
	sumJ2 = "c810f8e64e8c58b6674e99d270c8af74"
	sumP  = "ResourceProfile{cpuCores=1, taskHeapMemory=384.000mb (402653174 bytes), taskOffHeapMemory=0 bytes, managedMemory=512.000mb (536870920 bytes), networkMemory=128.000mb (134217730 bytes)}"
	sumP0 = "ResourceProfile{cpuCores=0, taskHeapMemory=0 bytes, taskOffHeapMemory=0 bytes, managedMemory=0 bytes, networkMemory=0 bytes}"
)

// summaryLines is the message as Flink builds it: two jobs missing slots,
// two TaskManagers (or none).
func summaryLines(none bool) []string {
	l := []string{
		"Matching resource requirements against available resources.",
		"Missing resources:",
		"\t Job " + sumJ1,
		"\t\tResourceRequirement{resourceProfile=ResourceProfile{UNKNOWN}, numberOfRequiredSlots=1}",
		"\t Job " + sumJ2,
		"\t\tResourceRequirement{resourceProfile=" + sumP + ", numberOfRequiredSlots=2}",
		"\t\tResourceRequirement{resourceProfile=ResourceProfile{UNKNOWN}, numberOfRequiredSlots=3}",
		"Current resources:",
	}
	if none {
		return append(l, "\t(none)")
	}
	return append(l,
		"\tTaskManager 172.19.0.3:35889-20872d",
		"\t\tAvailable: "+sumP0,
		"\t\tTotal:     "+sumP,
		"\tTaskManager container_e19_1589789123456_0001_01_000002(worker-3:45454)",
		"\t\tAvailable: "+sumP,
		"\t\tTotal:     "+sumP)
}

func jsonQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}

// TestResourceSummary: every form the summary takes in a log is one record
// with its lines, or (cut apart by a log shipper) records of known lines;
// never unparsed, never an event. The record after it is read as usual.
func TestResourceSummary(t *testing.T) {
	const (
		fgsm  = "org.apache.flink.runtime.resourcemanager.slotmanager.FineGrainedSlotManager"
		alloc = "Starting allocation of slot " + tA + " from 172.19.0.3:35889-20872d for job " + sumJ1 + " with resource profile ResourceProfile{UNKNOWN}."
		head  = "2025-03-26 12:06:11,539 INFO  " + fgsm + " [] - "
		head2 = "2025-03-26 12:06:11,541 INFO  org.apache.flink.runtime.resourcemanager.slotmanager.DefaultSlotStatusSyncer [] - "
	)
	ecs := func(msg string) string {
		return `{"@timestamp":"2025-03-26T12:06:11.539Z","ecs.version":"1.2.0","log.level":"INFO","log.logger":"` + fgsm +
			`","message":` + jsonQuote(msg) + `,"process.thread.name":"flink-pekko.actor.default-dispatcher-5"}`
	}
	allocJSON := strings.Replace(ecs(alloc), "FineGrainedSlotManager", "DefaultSlotStatusSyncer", 1)
	two, none := summaryLines(false), summaryLines(true)
	var split []string // one record a line, as a shipper without a multi-line rule sends them
	for _, l := range two {
		split = append(split, ecs(l))
	}
	tabsToSpaces := strings.NewReplacer("\t", "        ")
	var spaced []string
	for _, l := range two {
		spaced = append(spaced, tabsToSpaces.Replace(l))
	}
	pretty := "{\n  \"instant\" : {\n    \"epochSecond\" : 1742990771,\n    \"nanoOfSecond\" : 539000000\n  },\n  \"thread\" : \"flink-pekko.actor.default-dispatcher-5\",\n" +
		"  \"level\" : \"INFO\",\n  \"loggerName\" : \"" + fgsm + "\",\n  \"message\" : " + jsonQuote(strings.Join(none, "\n")) + ",\n" +
		"  \"endOfBatch\" : false,\n  \"loggerFqcn\" : \"org.apache.logging.log4j.spi.AbstractLogger\",\n  \"threadId\" : 42,\n  \"threadPriority\" : 5\n}"

	cases := []struct {
		name    string
		log     string
		records int // records the summary makes (the allocation line is one more)
	}{
		{"log4j2 text", head + strings.Join(two, "\n") + "\n" + head2 + alloc + "\n", 1},
		{"log4j2 text, no TaskManager, CRLF", strings.ReplaceAll(head+strings.Join(none, "\n")+"\n"+head2+alloc+"\n", "\n", "\r\n"), 1},
		{"log4j2 text, TABs expanded by a paste", head + strings.Join(spaced, "\n") + "\n" + head2 + alloc + "\n", 1},
		{"logback with thread", "12:06:11.539 [flink-pekko.actor.default-dispatcher-5] INFO  o.a.f.r.resourcemanager.slotmanager.FineGrainedSlotManager - " +
			strings.Join(two, "\n") + "\n12:06:11.541 [flink-pekko.actor.default-dispatcher-5] INFO  o.a.f.r.resourcemanager.slotmanager.DefaultSlotStatusSyncer - " + alloc + "\n", 1},
		{"JSON, message with newlines and TABs", ecs(strings.Join(two, "\n")) + "\n" + allocJSON + "\n", 1},
		{"JSON, CRLF inside the message", ecs(strings.Join(none, "\r\n")) + "\n" + allocJSON + "\n", 1},
		{"JSON pretty-printed", pretty + "\n" + allocJSON + "\n", 1},
		{"JSON, a record per line", strings.Join(split, "\n") + "\n" + allocJSON + "\n", len(two)},
		{"headerless paste", strings.Join(none, "\n") + "\n", 1},
		{"headerless paste from Missing resources:", strings.Join(none[1:], "\n") + "\n", 1},
		{"file cut in the summary", strings.Join(two[3:], "\n") + "\n" + head2 + alloc + "\n", 1},
		{"1.14-1.17: one line", head + two[0] + "\n" + head2 + alloc + "\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(c.log)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Inputs) != 1 {
				t.Fatalf("%d inputs", len(res.Inputs))
			}
			in := res.Inputs[0]
			allocs := 0
			if strings.Contains(c.log, "Starting allocation") {
				allocs = 1
			}
			if in.Unparsed != 0 || in.Records != c.records+allocs || in.Irrelevant != c.records || in.EventRecs != allocs || in.Stray != 0 ||
				in.RecordLines != in.Lines {
				t.Errorf("records %d (want %d), irrelevant %d (want %d), events from %d (want %d), unparsed %d, stray %d, lines %d of %d in records",
					in.Records, c.records+allocs, in.Irrelevant, c.records, in.EventRecs, allocs, in.Unparsed, in.Stray, in.RecordLines, in.Lines)
			}
			for _, d := range res.Diagnostics {
				t.Errorf("diagnostic %s: %s %q", d.Severity, d.Summary, d.Detail)
			}
			for _, ev := range res.events.list() {
				if ev.Kind != flinklog.KindRMAllocStart || ev.Alloc.String() != tA {
					t.Errorf("unexpected event %s %q", ev.Kind, ev.Text())
				}
			}
		})
	}
}
