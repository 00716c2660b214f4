package flinklog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Version is a Flink major.minor version; the zero value is unknown.
type Version struct {
	Major, Minor int
}

// ParseVersion reads "1.14.4", "1.18-SNAPSHOT", "2.0", ignoring the patch
// level and any suffix.
func ParseVersion(s string) (Version, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "v")
	maj, rest, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(rest[:end])
	if err1 != nil || err2 != nil || a < 1 || a > 9 {
		return Version{}, false
	}
	return Version{a, b}, true
}

// IsZero reports an unknown version.
func (v Version) IsZero() bool { return v.Major == 0 }

// Less orders versions.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	return v.Minor < w.Minor
}

// String prints "major.minor", or "" for an unknown version.
func (v Version) String() string {
	if v.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// Family names the version families whose slot logging differs:
// "<=1.9" (legacy slot table), "1.10-1.13", "1.14-1.18", "1.19+".
func (v Version) Family() string {
	switch {
	case v.IsZero():
		return ""
	case v.Less(Version{1, 10}):
		return "<=1.9"
	case v.Less(Version{1, 14}):
		return "1.10-1.13"
	case v.Less(Version{1, 19}):
		return "1.14-1.18"
	}
	return "1.19+"
}

// VersionHint bounds the Flink version from one shape seen in a log: the
// version is at least Min and at most Max (a zero bound is open). Why
// names the shape, for the reader of a conflict.
type VersionHint struct {
	Min, Max Version
	Why      string
}

func v(a, b int) Version { return Version{a, b} }

var (
	anyV = Version{}
)

// VersionHints collects what the records of one input say about its Flink
// version, each shape once. The zero value is empty and ready.
type VersionHints struct {
	list []VersionHint
	// noted: the hints Note gave already (hint* bits), not looked for again
	noted uint64
}

// Len returns how many hints were collected.
func (h *VersionHints) Len() int { return len(h.list) }

// Add notes a hint unless one with the same Why is noted already (a shape
// bounds the version the same way wherever it is seen).
func (h *VersionHints) Add(x VersionHint) {
	for _, k := range h.list {
		if k.Why == x.Why {
			return
		}
	}
	h.list = append(h.list, x)
}

// Merge adds o's hints (see Add): the hints of an input read in pieces
// are those of its pieces.
func (h *VersionHints) Merge(o *VersionHints) {
	for _, x := range o.list {
		h.Add(x)
	}
}

// Clone returns a copy that notes hints without changing h.
func (h *VersionHints) Clone() VersionHints {
	c := *h
	c.list = append([]VersionHint(nil), h.list...)
	return c
}

// Range returns the tightest bounds the hints give, each with the hint
// that gives it: lo is the highest Min, hi the lowest Max (zero Versions
// when no hint bounds that side). The first hint to give a bound names
// it. hi below lo is a conflict, for the caller to report.
func (h *VersionHints) Range() (lo, hi Version, loWhy, hiWhy string) {
	for _, x := range h.list {
		if !x.Min.IsZero() && (lo.IsZero() || lo.Less(x.Min)) {
			lo, loWhy = x.Min, x.Why
		}
		if !x.Max.IsZero() && (hi.IsZero() || x.Max.Less(hi)) {
			hi, hiWhy = x.Max, x.Why
		}
	}
	return lo, hi, loWhy, hiWhy
}

// The hints Note gives, one bit each in VersionHints.noted: once given, a
// hint is not looked for again (a shape bounds the version the same way
// wherever it is seen), and the scans of every message for them were an
// eighth of a read of an allocation-dense JobManager log.
const (
	hintTaskSlotTableImpl uint64 = 1 << iota
	hintTaskSlotTable
	hintDefaultJobLeaderService
	hintJobLeaderService
	hintDefaultExecutionGraph
	hintExecutionGraph
	hintSlotPoolImpl
	hintSlotPool
	hintDeclarativeSlotManager
	hintSlotManagerImpl
	hintSlotManager
	hintFineGrainedSlotManager
	hintDefaultSlotStatusSyncer
	hintDeclarativeSlotPoolBridge
	hintDefaultDeclarativeSlotPool
	hintAllocationIDBraces
	hintAllocatedWithResources
	hintAllocatedA
	hintReceivedTaskIntoSlot
	hintReceivedTask
	hintDeployingVertexID
	hintDeployingAllocationID
	hintDeployingHost
	hintRequestSlotProfile
	hintRequestingNewSlotAllocationID
	hintRequestingNewSlot
	hintSlotAlreadyExist
	hintStartingAllocationFrom
	hintResourceRequirements
	hintPekko
	hintAkka
)

// Note adds what a record's logger and message say about the version
// (catalogue §1, §4-§6: loggers and templates changed across releases).
// lg is what the record's logger says (NewLoggerInfo).
func (h *VersionHints) Note(r *Record, lg *LoggerInfo) {
	cls := r.Logger
	if lg.VersionClass {
		if i := bytes.LastIndexByte(cls, '.'); i >= 0 {
			cls = cls[i+1:]
		}
	} else {
		cls = nil // no case of the switch below
	}
	msg := r.Msg
	// add gives a hint once: one given already is not looked for again
	add := func(bit uint64, min, max Version, why string) {
		if h.noted&bit == 0 {
			h.noted |= bit
			h.Add(VersionHint{min, max, why})
		}
	}
	// has reports whether every hint of bits is given already
	has := func(bits uint64) bool { return h.noted&bits == bits }
	switch string(cls) {
	case "TaskSlotTableImpl":
		add(hintTaskSlotTableImpl, v(1, 10), anyV, "logger TaskSlotTableImpl")
	case "TaskSlotTable":
		if !has(hintTaskSlotTable) && (bytes.HasPrefix(msg, []byte("Activate slot")) || bytes.HasPrefix(msg, []byte("Free slot"))) {
			add(hintTaskSlotTable, anyV, v(1, 9), "logger TaskSlotTable")
		}
	case "DefaultJobLeaderService":
		add(hintDefaultJobLeaderService, v(1, 11), anyV, "logger DefaultJobLeaderService")
	case "JobLeaderService":
		add(hintJobLeaderService, anyV, v(1, 10), "logger JobLeaderService")
	case "DefaultExecutionGraph":
		add(hintDefaultExecutionGraph, v(1, 13), anyV, "logger DefaultExecutionGraph")
	case "ExecutionGraph":
		if !has(hintExecutionGraph) && (bytes.Contains(msg, []byte(" switched from ")) || bytes.HasPrefix(msg, []byte("Deploying "))) {
			add(hintExecutionGraph, anyV, v(1, 12), "logger ExecutionGraph")
		}
	case "SlotPoolImpl":
		add(hintSlotPoolImpl, v(1, 8), v(1, 13), "logger SlotPoolImpl")
	case "SlotPool":
		if !has(hintSlotPool) && bytes.Contains(r.Logger, []byte("slotpool")) {
			add(hintSlotPool, anyV, v(1, 7), "logger SlotPool")
		}
	case "DeclarativeSlotManager":
		add(hintDeclarativeSlotManager, v(1, 12), v(1, 18), "logger DeclarativeSlotManager")
	case "SlotManagerImpl":
		add(hintSlotManagerImpl, v(1, 10), v(1, 13), "logger SlotManagerImpl")
	case "SlotManager":
		if !has(hintSlotManager) && bytes.Contains(r.Logger, []byte("slotmanager")) {
			add(hintSlotManager, anyV, v(1, 9), "logger SlotManager")
		}
	case "FineGrainedSlotManager":
		add(hintFineGrainedSlotManager, v(1, 13), anyV, "logger FineGrainedSlotManager")
	case "DefaultSlotStatusSyncer":
		add(hintDefaultSlotStatusSyncer, v(1, 13), anyV, "logger DefaultSlotStatusSyncer")
	case "DeclarativeSlotPoolBridge":
		add(hintDeclarativeSlotPoolBridge, v(1, 13), anyV, "logger DeclarativeSlotPoolBridge")
	case "DefaultDeclarativeSlotPool":
		add(hintDefaultDeclarativeSlotPool, v(1, 13), anyV, "logger DefaultDeclarativeSlotPool")
	}
	// The cases are told apart by the message's start, so skipping the
	// scans of one whose hints are all given leaves the others as they
	// were.
	switch {
	case !has(hintAllocationIDBraces) && containsAt(msg, "AllocationID{", 12):
		add(hintAllocationIDBraces, v(1, 6), v(1, 7), "AllocationID{...} printing")
	case bytes.HasPrefix(msg, []byte("Allocated slot for ")):
		if has(hintAllocatedWithResources | hintAllocatedA) {
			break
		}
		if bytes.Contains(msg, []byte(" with resources ")) {
			add(hintAllocatedWithResources, v(1, 18), anyV, "Allocated slot ... with resources")
		} else {
			add(hintAllocatedA, anyV, v(1, 17), "Allocated slot for A.")
		}
	case bytes.HasPrefix(msg, []byte("Received task ")):
		if has(hintReceivedTaskIntoSlot | hintReceivedTask) {
			break
		}
		if bytes.Contains(msg, []byte("deploy into slot with allocation id")) {
			add(hintReceivedTaskIntoSlot, v(1, 12), anyV, "Received task ... deploy into slot")
		} else {
			add(hintReceivedTask, anyV, v(1, 11), "Received task T.")
		}
	case bytes.HasPrefix(msg, []byte("Deploying ")):
		if has(hintDeployingVertexID | hintDeployingAllocationID | hintDeployingHost) {
			break
		}
		switch {
		case bytes.Contains(msg, []byte(" and vertex id ")):
			add(hintDeployingVertexID, v(1, 15), anyV, "Deploying ... vertex id")
		case bytes.Contains(msg, []byte(" with allocation id ")):
			add(hintDeployingAllocationID, v(1, 12), v(1, 14), "Deploying ... with allocation id")
		case bytes.Contains(msg, []byte(" @ ")):
			add(hintDeployingHost, v(1, 8), v(1, 11), "Deploying ... to R @ host")
		}
	case bytes.HasPrefix(msg, []byte("Request slot with profile ")):
		add(hintRequestSlotProfile, anyV, v(1, 13), "RM Request slot with profile")
	case bytes.HasPrefix(msg, []byte("Requesting new slot [")):
		if has(hintRequestingNewSlotAllocationID | hintRequestingNewSlot) {
			break
		}
		if bytes.Contains(msg, []byte(" with allocation id ")) {
			add(hintRequestingNewSlotAllocationID, v(1, 12), v(1, 13), "Requesting new slot ... with allocation id")
		} else {
			add(hintRequestingNewSlot, v(1, 6), v(1, 11), "Requesting new slot [Q]")
		}
	case bytes.HasPrefix(msg, []byte("Slot with allocationId ")):
		add(hintSlotAlreadyExist, v(1, 13), anyV, "Slot with allocationId ... already exist")
	case bytes.HasPrefix(msg, []byte("Starting allocation of slot ")) && bytes.Contains(msg, []byte(" from ")):
		add(hintStartingAllocationFrom, v(1, 14), anyV, "Starting allocation of slot A from R")
	case bytes.HasPrefix(msg, []byte("Received resource requirements from job")):
		add(hintResourceRequirements, v(1, 12), anyV, "resource requirements")
	}
	if has(hintPekko|hintAkka) || !containsSchemeSep(msg) {
		return
	}
	if !has(hintPekko) && (bytes.Contains(msg, []byte("pekko://")) || bytes.Contains(msg, []byte("pekko.tcp://"))) {
		add(hintPekko, v(1, 18), anyV, "pekko RPC addresses")
	} else if !has(hintAkka) && (bytes.Contains(msg, []byte("akka://")) || bytes.Contains(msg, []byte("akka.tcp://"))) {
		add(hintAkka, anyV, v(1, 17), "akka RPC addresses")
	}
}

// containsSchemeSep reports whether b contains "://".
func containsSchemeSep(b []byte) bool { return containsAt(b, "://", 1) }

// containsAt reports whether b contains pat, searching for pat[rare]
// first: bytes.Contains searches for the first byte, and ':' or 'A' are
// everywhere in log messages while '/' or '{' are not.
func containsAt(b []byte, pat string, rare int) bool {
	c := pat[rare]
	for off := rare; off < len(b); {
		i := bytes.IndexByte(b[off:], c)
		if i < 0 {
			return false
		}
		at := off + i - rare
		if at+len(pat) <= len(b) && string(b[at:at+len(pat)]) == pat {
			return true
		}
		off += i + 1
	}
	return false
}

// versionHintClass reports whether Note has a case for the class.
func versionHintClass(cls string) bool {
	switch cls {
	case "TaskSlotTableImpl", "TaskSlotTable", "DefaultJobLeaderService", "JobLeaderService", "DefaultExecutionGraph",
		"ExecutionGraph", "SlotPoolImpl", "SlotPool", "DeclarativeSlotManager", "SlotManagerImpl", "SlotManager",
		"FineGrainedSlotManager", "DefaultSlotStatusSyncer", "DeclarativeSlotPoolBridge", "DefaultDeclarativeSlotPool":
		return true
	}
	return false
}
