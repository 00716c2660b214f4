package flinklog

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

const (
	tA  = "8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2f"
	tA2 = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	tJ  = "5f0b3c2d1e4a59687766554433221100"
	tP  = "ResourceProfile{cpuCores=1.0000000000000000, taskHeapMemory=384.000mb (402653174 bytes), taskOffHeapMemory=0 bytes, managedMemory=512.000mb (536870920 bytes), networkMemory=128.000mb (134217730 bytes)}"
)

// TestTemplates checks one message per catalogue shape: the kind and every
// field it must yield, across Flink versions (catalogue §4-§6).
func TestTemplates(t *testing.T) {
	type want struct {
		kind              Kind
		alloc, job, other string
		index, req        int
		slotID, resource  string
		state, reason     string
		request, attempt  string
		dynamic           bool
	}
	tests := []struct {
		name string
		msg  string
		want want
	}{
		{"receive 1.5-2.x", "Receive slot request " + tA + " for job " + tJ + " from resource manager with leader id 00000000000000000000000000000000.",
			want{kind: KindTMSlotRequest, alloc: tA, job: tJ, index: -1, req: -1}},
		{"receive 1.6/1.7 braces", "Receive slot request AllocationID{" + tA + "} for job " + tJ + " from resource manager with leader id 9a8b7c6d5e4f30211203f4e5d6c7b8a9.",
			want{kind: KindTMSlotRequest, alloc: tA, job: tJ, index: -1, req: -1}},
		{"allocated <=1.17", "Allocated slot for " + tA + ".", want{kind: KindTMAllocated, alloc: tA, index: -1, req: -1}},
		{"allocated 1.18+", "Allocated slot for " + tA + " with resources " + tP + ".", want{kind: KindTMAllocated, alloc: tA, index: -1, req: -1}},
		{"refused", "Could not allocate slot for " + tA + ".", want{kind: KindTMAllocRefused, alloc: tA, index: -1, req: -1, reason: "table refused the allocation"}},
		{"refused debug 1.15+", "Could not allocate slot for allocation id " + tA + ".", want{kind: KindTMAllocRefused, alloc: tA, index: -1, req: -1, reason: "table refused the allocation"}},
		{"already allocated 1.10-1.12", "Allocation ID " + tA + " is already allocated in TaskSlot(index:1, state:ACTIVE, resource profile: " + tP + ", allocationId: " + tA + ", jobId: " + tJ + ").",
			want{kind: KindTMAllocRefused, alloc: tA, job: tJ, index: 1, req: -1, state: "ACTIVE", reason: "allocation id already allocated in another slot"}},
		{"exists 1.13-2.0", "Slot with allocationId " + tA + " already exist, with resource profile " + tP + ", job id " + tJ + " and index 1. The required index is 2.",
			want{kind: KindTMAllocExists, alloc: tA, job: tJ, index: 1, req: 2}},
		{"exists accepted 2.1", "Slot with allocationId " + tA + " already exist, with resource profile " + tP + ", job id " + tJ + " and index 4. The required index is -1. No further allocation necessary.",
			want{kind: KindTMAllocExists, alloc: tA, job: tJ, index: 4, req: -1, reason: "duplicate accepted"}},
		{"index taken 1.13+", "The slot with index 0 is already assigned to another allocation with id " + tA2 + ".",
			want{kind: KindTMAllocRefused, other: tA2, index: 0, req: -1, reason: "slot index already taken"}},
		{"occupied", "The slot 10.0.0.5:40123-6b1e3c_2 has already been allocated for a different job.",
			want{kind: KindTMSlotOccupied, index: 2, req: -1, slotID: "10.0.0.5:40123-6b1e3c_2", resource: "10.0.0.5:40123-6b1e3c"}},
		{"activate", "Activate slot " + tA + ".", want{kind: KindTMActivate, alloc: tA, index: -1, req: -1}},
		{"received task 1.12+", "Received task Source: Custom Source -> Map (3/4)#0 (b1946a3e3d9a4d0c8c1f0e2a9f3b7c1d), deploy into slot with allocation id " + tA + ".",
			want{kind: KindTMTaskReceived, alloc: tA, index: -1, req: -1, attempt: "b1946a3e3d9a4d0c8c1f0e2a9f3b7c1d"}},
		{"received task <=1.11", "Received task Source: Custom Source (3/4).", want{kind: KindTMTaskReceived, index: -1, req: -1}},
		{"no task slot", "No task slot allocated for job ID " + tJ + " and allocation ID " + tA + ".", want{kind: KindTaskNoSlot, alloc: tA, job: tJ, index: -1, req: -1}},
		{"free legacy with 1.9 profile", "Free slot TaskSlot(index:4, state:ACTIVE, resource profile: ResourceProfile{cpuCores=1.7976931348623157E308, heapMemoryInMB=2147483647, directMemoryInMB=2147483647, nativeMemoryInMB=2147483647, networkMemoryInMB=2147483647}, allocationId: " + tA + ", jobId: " + tJ + ").",
			want{kind: KindTMFree, alloc: tA, job: tJ, index: 4, req: -1, state: "ACTIVE"}},
		{"free 1.6 braces", "Free slot TaskSlot(index:2, state:ALLOCATED, resource profile: ResourceProfile{cpuCores=1.0, heapMemoryInMB=42, directMemoryInMB=0, nativeMemoryInMB=0, networkMemoryInMB=0}, allocationId: AllocationID{" + tA + "}, jobId: " + tJ + ").",
			want{kind: KindTMFree, alloc: tA, job: tJ, index: 2, req: -1, state: "ALLOCATED"}},
		{"free reason", "Free slot with allocation id " + tA + " because: The slot " + tA + " has timed out.",
			want{kind: KindTMFreeReason, alloc: tA, index: -1, req: -1, reason: "The slot " + tA + " has timed out."}},
		{"free unknown", "Could not free slot for allocation id " + tA + ".", want{kind: KindTMFreeUnknown, alloc: tA, index: -1, req: -1, reason: "allocation id unknown to the slot table"}},
		{"rm request", "Request slot with profile ResourceProfile{UNKNOWN} for job " + tJ + " with allocation id " + tA + ".",
			want{kind: KindRMSlotRequest, alloc: tA, job: tJ, index: -1, req: -1}},
		{"rm failed for slot with yarn id", "Slot request with allocation id " + tA + " failed for slot container_e19_1589789123456_0001_01_000002_3.",
			want{kind: KindRMAllocFailed, alloc: tA, index: 3, req: -1, slotID: "container_e19_1589789123456_0001_01_000002_3", resource: "container_e19_1589789123456_0001_01_000002"}},
		{"rm dynamic start", "Starting allocation of slot my-cluster-taskmanager-1-3_dynamic for job " + tJ + " with resource profile ResourceProfile{UNKNOWN}.",
			want{kind: KindRMAllocStart, job: tJ, index: -1, req: -1, slotID: "my-cluster-taskmanager-1-3_dynamic", resource: "my-cluster-taskmanager-1-3", dynamic: true}},
		{"rm fine-grained start 1.14+", "Starting allocation of slot " + tA + " from 10.0.0.5:40123-6b1e3c for job " + tJ + " with resource profile " + tP + ".",
			want{kind: KindRMAllocStart, alloc: tA, job: tJ, index: -1, req: -1, resource: "10.0.0.5:40123-6b1e3c"}},
		{"rm register with yarn metadata", "Registering TaskManager with ResourceID container_e19_1589789123456_0001_01_000002(worker-3:45454) (akka.tcp://flink@worker-3:38991/user/rpc/taskmanager_0) at ResourceManager",
			want{kind: KindRMTMRegister, index: -1, req: -1, resource: "container_e19_1589789123456_0001_01_000002"}},
		{"rm free mismatch", "Received request to free slot r1_0 with expected allocation id " + tA + ", but actual allocation id " + tA2 + " differs. Ignoring the request.",
			want{kind: KindRMFreeMismatch, alloc: tA, other: tA2, index: 0, req: -1, slotID: "r1_0", resource: "r1"}},
		{"jm request 1.6-1.11 (no allocation id)", "Requesting new slot [SlotRequestId{886601088399e7df846d7d1383d736a2}] and profile ResourceProfile{UNKNOWN} from resource manager.",
			want{kind: KindJMSlotRequest, index: -1, req: -1, request: "886601088399e7df846d7d1383d736a2"}},
		{"jm request 1.12-1.13", "Requesting new slot [SlotRequestId{886601088399e7df846d7d1383d736a2}] and profile ResourceProfile{UNKNOWN} with allocation id " + tA + " from resource manager.",
			want{kind: KindJMSlotRequest, alloc: tA, index: -1, req: -1, request: "886601088399e7df846d7d1383d736a2"}},
		{"jm release", "Releasing idle slot [AllocationID{" + tA + "}].", want{kind: KindJMRelease, alloc: tA, index: -1, req: -1, reason: "idle"}},
		{"jm deploy 1.12", "Deploying Map (1/2) (attempt #0) with attempt id b1946a3e3d9a4d0c8c1f0e2a9f3b7c1d to 10.0.0.5:40123-6b1e3c @ worker-3 (dataPort=35211) with allocation id " + tA,
			want{kind: KindJMDeploy, alloc: tA, index: -1, req: -1, resource: "10.0.0.5:40123-6b1e3c", attempt: "b1946a3e3d9a4d0c8c1f0e2a9f3b7c1d"}},
		{"jm task failed 1.11 logical slot is no id", "Sink (2/10) (f682d65339f1ae8ed4d3cf8732b0300e) switched from RUNNING to FAILED on org.apache.flink.runtime.jobmaster.slotpool.SingleLogicalSlot@6929f626.",
			want{kind: KindJMTaskFailed, index: -1, req: -1, attempt: "f682d65339f1ae8ed4d3cf8732b0300e"}},
		{"heartbeat 1.14", "TaskManager with id 10.0.0.5:40123-6b1e3c is no longer reachable.", want{kind: KindHeartbeatTimeout, index: -1, req: -1, resource: "10.0.0.5:40123-6b1e3c", reason: "TaskManager"}},
		{"hb with metadata", "The heartbeat of TaskManager with id container_e07_1700000000000_0042_01_000003(worker-3:45454) timed out.",
			want{kind: KindHeartbeatTimeout, index: -1, req: -1, resource: "container_e07_1700000000000_0042_01_000003", reason: "TaskManager"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := NewEvent("")
			tmpl, ok := matchTemplate([]byte(tt.msg), &ev)
			if !ok {
				t.Fatalf("no template matches %q", tt.msg)
			}
			w := tt.want
			got := want{kind: ev.Kind, alloc: ev.Alloc.String(), job: ev.Job.String(), other: ev.Other.String(),
				index: ev.SlotIndex, req: ev.RequestedIndex, slotID: ev.SlotID, resource: ev.Resource, state: ev.SlotState,
				reason: ev.Reason, request: ev.Request, attempt: ev.Attempt, dynamic: ev.Dynamic}
			if got != w {
				t.Errorf("template %s\n got  %+v\n want %+v", tmpl, got, w)
			}
		})
	}
}

// TestNotAnAllocationID: ids that look like AllocationIDs but are not.
func TestNotAnAllocationID(t *testing.T) {
	for _, s := range []string{
		"SlotRequestId{886601088399e7df846d7d1383d736a2}",
		"0123456789abcdef0123456789abcde",   // 31 hex digits
		"0123456789abcdef0123456789abcdef0", // 33 hex digits
		"0123456789abcdef0123456789abcdeg",  // not hex
		"AllocationID{0123456789abcdef0123456789abcde}",
		"6929f626",
	} {
		if _, n := scanHexID([]byte(s)); n != 0 {
			t.Errorf("scanHexID(%q) took %d bytes for an id", s, n)
		}
	}
	ev := NewEvent("")
	if _, ok := matchTemplate([]byte("Activate slot 0123456789abcdef0123456789abcdef0."), &ev); ok {
		t.Errorf("a 33-digit id matched Activate slot: %+v", ev)
	}
	zero, ok := ParseID("00000000000000000000000000000000")
	if !ok || !zero.IsSet() || zero.String() != "00000000000000000000000000000000" {
		t.Errorf("an all-zero JobID (application mode) must be a present id, got %v %q", ok, zero)
	}
	up, ok := ParseID("8C9D5F0E3A1B4C2D9E8F7A6B5C4D3E2F")
	if !ok || up.String() != "8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2f" {
		t.Errorf("ids print lower case: %q", up)
	}
}

// TestCatalogueCompiles guards against template typos: every template has a
// literal to anchor on and no two adjacent free placeholders.
func TestCatalogueCompiles(t *testing.T) {
	for _, tmpl := range catalogue {
		if len(tmpl.anchor) < 4 {
			t.Errorf("%s: anchor %q too short to prefilter on", tmpl, tmpl.anchor)
		}
		for i := 1; i < len(tmpl.segs); i++ {
			a, b := tmpl.segs[i-1].ph, tmpl.segs[i].ph
			free := func(p phKind) bool {
				switch p {
				case phSlotID, phResource, phTask, phCause, phSkip:
					return true
				}
				return false
			}
			if a != phLiteral && free(b) && (free(a) || a == phProfile) {
				t.Errorf("%s: placeholders %d and %d follow each other with no literal between", tmpl, i-1, i)
			}
		}
	}
}

// TestHostileMessageIsBounded: a message built to make every free-text
// placeholder backtrack. The step budget keeps the match cheap.
func TestHostileMessageIsBounded(t *testing.T) {
	msg := []byte("Deploying " + strings.Repeat("x (attempt #1) with attempt id  to  @  with allocation id ", 2000))
	ev := NewEvent("")
	matchTemplate(msg, &ev) // must return; the result does not matter
}

// TestSlotReportOneLine: the ≤ 1.11 SlotReport prints on one line, with a
// ResourceProfile (nested braces) inside each SlotStatus and "null" for free
// slots.
func TestSlotReportOneLine(t *testing.T) {
	msg := "Received slot report from instance d2e8b1c0a9f74e6d5c4b3a2918071605: SlotReport{slotsStatus=[" +
		"SlotStatus{slotID=container_e19_1589789123456_0001_01_000002_0, resourceProfile=ResourceProfile{cpuCores=1.0, heapMemoryInMB=42, directMemoryInMB=0, nativeMemoryInMB=0, networkMemoryInMB=0}, allocationID=AllocationID{" + tA + "}, jobID=" + tJ + "}, " +
		"SlotStatus{slotID=container_e19_1589789123456_0001_01_000002_1, resourceProfile=ResourceProfile{cpuCores=1.0, heapMemoryInMB=42, directMemoryInMB=0, nativeMemoryInMB=0, networkMemoryInMB=0}, allocationID=null, jobID=null}]}."
	ev := NewEvent("")
	if _, ok := matchTemplate([]byte(msg), &ev); !ok || ev.Kind != KindRMSlotReport {
		t.Fatalf("slot report not matched: %+v", ev)
	}
	if len(ev.Slots) != 2 {
		t.Fatalf("%d slots, want 2: %+v", len(ev.Slots), ev.Slots)
	}
	s0, s1 := ev.Slots[0], ev.Slots[1]
	if s0.Index != 0 || s0.Resource != "container_e19_1589789123456_0001_01_000002" || s0.Alloc.String() != tA || s0.Job.String() != tJ {
		t.Errorf("slot 0 = %+v", s0)
	}
	if s1.Index != 1 || s1.Alloc.IsSet() || s1.Job.IsSet() {
		t.Errorf("slot 1 = %+v, want free", s1)
	}
}

// TestStateNameInterns: a state Flink names comes back as itself without
// an allocation; any other word comes back as itself too.
func TestStateNameInterns(t *testing.T) {
	for _, s := range []string{"CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING", "FINISHED", "CANCELING",
		"CANCELLING", "CANCELED", "FAILING", "FAILED", "RESTARTING", "RECONCILING", "SUSPENDED", "SOMETHING_NEW", "R"} {
		b := []byte(s)
		if got := stateName(b); got != s {
			t.Errorf("stateName(%q) = %q", s, got)
		}
		if s == "SOMETHING_NEW" || s == "R" {
			continue
		}
		if n := testing.AllocsPerRun(10, func() { _ = stateName(b) }); n != 0 {
			t.Errorf("stateName(%q) allocates %v times", s, n)
		}
	}
}

// TestPrefixCandidatesAreThePrefixesThatStartMsg: the trie, its runs
// compared at once, finds exactly the templates whose prefix starts a
// message, in catalogue order: on every prefix cut short, run on, and
// with one byte changed at every place (inside a run and past it).
func TestPrefixCandidatesAreThePrefixesThatStartMsg(t *testing.T) {
	naive := func(msg []byte) []int {
		var out []int
		for i, tp := range catalogue {
			if len(tp.prefix) > 0 && bytes.HasPrefix(msg, tp.prefix) {
				out = append(out, i)
			}
		}
		return out
	}
	check := func(msg []byte) {
		t.Helper()
		got := prefixCandidates(msg, nil)
		if want := naive(msg); !slices.Equal(got, want) {
			t.Fatalf("%q: candidates %v, want %v", msg, got, want)
		}
		if may := mayMatchCandidates(msg, got, false); len(got) > 0 && !may {
			t.Fatalf("%q: a prefix starts it, yet mayMatchCandidates says no", msg)
		}
	}
	runs := 0
	for _, tp := range catalogue {
		p := tp.prefix
		for cut := 0; cut <= len(p); cut++ {
			check(p[:cut])
			check(append(bytes.Clone(p[:cut]), " and more"...))
		}
		for at := range p {
			for _, c := range []byte{0, ' ', 'x', p[at] ^ 0x20} {
				m := bytes.Clone(p)
				m[at] = c
				check(m)
				check(m[:at+1])
			}
		}
	}
	for n := []*prefixTrie{templatesByPrefix}; len(n) > 0; n = n[1:] {
		if len(n[0].run) > 1 {
			runs++
		}
		for _, e := range n[0].edges {
			n = append(n, e.next)
		}
	}
	if runs < 10 {
		t.Errorf("only %d runs of more than a byte: the trie is not compressed", runs)
	}
}
