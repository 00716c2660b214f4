package flinklog

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// seedLogLines adds the lines of the project's test logs to a fuzz corpus:
// whole lines, header and all, and what a layout would leave of them.
func seedLogLines(f *testing.F) {
	files, _ := filepath.Glob("../testdata/logs/*")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			f.Add(line)
		}
	}
}

// messageSeeds are messages for the paths the test logs do not take:
// custom builds' suffixes, the FineGrainedSlotManager's resource summary
// line by line, and exception lines that carry an event of their own.
func messageSeeds() []string {
	return []string{
		"Allocated slot for " + tA + ". (custom suffix)", "Received task Source: orders (1/2). extra-words",
		"Activate slot " + tA + "0. extra", "Received repeated offer for slot [" + tA + "]. Ignoring. x",
		"Free slot TaskSlot(index:3, state:ACTIVE, resource profile: " + tP + ", allocationId: " + tA + ", jobId: " + tJ + "). x",
		"Deploying Map (1/2) (attempt #0) to 10.0.0.5:40123-6b1e3c @ worker-3 (dataPort=35211) (custom)",
		"Matching resource requirements against available resources.", "Missing resources:", "Job " + tJ,
		"ResourceRequirement{resourceProfile=ResourceProfile{UNKNOWN}, numberOfRequiredSlots=1}",
		"Current resources:", "(none)", "TaskManager 172.19.0.3:35889-20872d", "Available: " + tP, "Total:     " + tP,
		"Source: orders (1/2) (5c2f0e1a9b8d7c6e5f4a3b2c1d0e9f8a) switched from SCHEDULED to FAILED on [unassigned resource].",
		"java.util.concurrent.CompletionException: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: No pooled slot available and request to ResourceManager for new slot failed",
		"Caused by: org.apache.flink.runtime.resourcemanager.exceptions.UnfulfillableSlotRequestException: Could not fulfill slot request " + tA + ". Requested resource profile (ResourceProfile{UNKNOWN}) is unfulfillable.",
		"Caused by: org.apache.flink.runtime.taskexecutor.exceptions.TaskSubmissionException: No task slot allocated for job ID " + tJ + " and allocation ID " + tA + ".",
	}
}

// FuzzTemplates matches arbitrary messages against the catalogue, and
// classifies them as records of a few loggers: Classify's shortcuts (and
// its slot report cache) must decide as the full match does.
func FuzzTemplates(f *testing.F) {
	seedLogLines(f)
	for _, msg := range messageSeeds() {
		f.Add([]byte(msg))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ev := NewEvent("")
		matchTemplate(msg, &ev)
		for _, logger := range []string{
			"org.apache.flink.runtime.taskexecutor.TaskExecutor",
			"org.apache.flink.runtime.taskexecutor.slot.TaskSlotTable",
			"org.apache.flink.runtime.heartbeat.HeartbeatManagerImpl",
		} {
			for _, body := range [][]byte{nil, msg} {
				r := &Record{Msg: msg, Body: body, Logger: []byte(logger)}
				info := NewLoggerInfo(r.Logger)
				var slow []Event
				ss, sw := classify(r, &info, true, false, nil, func(e Event) { slow = append(slow, e) })
				var c Classifier
				for try := 0; try < 2; try++ { // the second from the cache
					var fast []Event
					fs, fw := c.Classify(r, &info, func(e Event) { fast = append(fast, e) })
					if fs != ss || fw != sw || !reflect.DeepEqual(fast, slow) {
						t.Fatalf("logger %s body %t try %d: shortcut gives %v %q %+v, full match %v %q %+v", logger, body != nil, try, fs, fw, fast, ss, sw, slow)
					}
				}
			}
		}
	})
}

// FuzzParseVersion: --flink-version and banners; a version that parses
// prints back to something that parses to the same version.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"1.9.1", "1.14", "2.0.0", "1.10-SNAPSHOT", "<unknown>", "1.", "v1.8.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseVersion(s)
		if !ok {
			return
		}
		again, ok := ParseVersion(v.String())
		if !ok || again != v {
			t.Fatalf("%q -> %v -> %q -> %v %v", s, v, v.String(), again, ok)
		}
	})
}

// FuzzParseID: an ID that parses prints as 32 lower-case hex digits that
// parse to the same ID, and the templates' scanner reads the same ID from
// the same text.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{tA, "8C9D5F0E3A1B4C2D9E8F7A6B5C4D3E2F", "00000000000000000000000000000000", tA + "0", tA[1:], "AllocationID{" + tA + "}", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseID(s)
		if !ok {
			if id.IsSet() {
				t.Fatalf("%q: not an ID, yet set: %v", s, id)
			}
			return
		}
		again, ok := ParseID(id.String())
		if !ok || again != id || len(id.String()) != 32 || id.String() != string(bytes.ToLower([]byte(s))) {
			t.Fatalf("%q -> %q -> %v %v", s, id, again, ok)
		}
		if scanned, n := scanHexID([]byte(s)); n != 32 || scanned != id {
			t.Fatalf("%q: ParseID reads %v, scanHexID %v (%d bytes)", s, id, scanned, n)
		}
	})
}

// FuzzAnchors: a record whose message and continuation lines hold no
// anchor (HasAnchor), and that NeedsClassify does not single out, is
// irrelevant, gives no event and bounds no version: what a reader that
// classifies only the records holding an anchor relies on.
func FuzzAnchors(f *testing.F) {
	f.Add("org.apache.flink.runtime.taskexecutor.TaskExecutor", []byte("Received task Source (1/2)."), []byte(""))
	f.Add("org.apache.kafka.clients.consumer.internals.Fetcher", []byte("Fetch READ_UNCOMMITTED at offset 1"), []byte("\tat x.y(Z.java:1)"))
	f.Add("org.apache.flink.runtime.executiongraph.ExecutionGraph", []byte("Deploying x (attempt #0) to y @ z"), []byte(""))
	f.Add("x.Y", []byte("Connecting to akka.tcp://flink@h:6123/user"), []byte("Caused by: java.lang.Exception: No task slot allocated for job ID 1 and allocation ID 2."))
	for _, tpl := range catalogue {
		f.Add("org.apache.flink.runtime.jobmaster.JobMaster", []byte(tpl.text), []byte(""))
	}
	// every shape VersionHints.Note reads in a message
	for _, msg := range []string{"Allocated slot for a with resources b", "Received task x, deploy into slot with allocation id a",
		"Deploying x (attempt #1) to y @ z", "Deploying x with allocation id a", "Deploying x and vertex id v", "Request slot with profile p",
		"Requesting new slot [q] with allocation id a", "Requesting new slot [q]", "Slot with allocationId a already exist",
		"Starting allocation of slot a from r", "Received resource requirements from job j", "x AllocationID{a} y",
		"at akka://flink@h:6123", "at pekko.tcp://flink@h:6123", "at akka.tcp://flink@h:6123"} {
		f.Add("org.example.Chatter", []byte(msg), []byte(""))
	}
	f.Fuzz(func(t *testing.T, logger string, msg, body []byte) {
		info := NewLoggerInfo([]byte(logger))
		if NeedsClassify(&info, msg) || HasAnchor(msg) || HasAnchor(body) {
			return
		}
		var lines []int64
		for range bytes.Split(body, []byte{'\n'}) {
			lines = append(lines, int64(len(lines)+2))
		}
		r := &Record{Start: 1, End: int64(len(lines) + 1), Logger: []byte(logger), Msg: msg, Body: body, BodyAt: lines, First: msg}
		events := 0
		var c Classifier
		status, _ := c.Classify(r, &info, func(Event) { events++ })
		if status != StatusIrrelevant || events > 0 {
			t.Fatalf("no anchor in %q / %q, yet status %d with %d events", msg, body, status, events)
		}
		var h VersionHints
		h.Note(r, &info)
		if h.Len() > 0 {
			t.Fatalf("no anchor in %q, yet hints %+v", msg, h.list)
		}
	})
}

// FuzzHasAnchor: HasAnchor (the kernel where there is one) and the
// portable code say what hasAnchorReference says, of any text, and of it
// behind some noise (the fuzzer does not see the kernel's branches, so
// each input is also read at another alignment to its blocks).
func FuzzHasAnchor(f *testing.F) {
	seedLogLines(f)
	for _, msg := range messageSeeds() {
		f.Add([]byte(msg))
	}
	for _, w := range append(Anchors(), rpcForms...) {
		f.Add([]byte(w))
		f.Add([]byte(noise[:len(w)%64] + w + noise[:40]))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, b := range [][]byte{b, append([]byte(noise[:len(b)%57]), b...)} {
			want := hasAnchorReference(b)
			if got := HasAnchor(b); got != want {
				t.Fatalf("HasAnchor(%q) = %v, the reference %v", b, got, want)
			}
			if got := hasAnchorFrom(b, 0); got != want {
				t.Fatalf("hasAnchorFrom(%q, 0) = %v, the reference %v", b, got, want)
			}
		}
	})
}
