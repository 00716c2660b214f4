package parser

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a Flink major.minor version; the zero value is unknown.
type Version struct {
	Major, Minor int
}

// flagVersion is what --flink-version accepts: exactly the forms its help
// names (banners are read leniently by ParseVersion; a flag is not).
var flagVersion = regexp.MustCompile(`^[1-9]\.(0|[1-9][0-9]?)(\.(0|[1-9][0-9]{0,2}))?$`)

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

// versionHint bounds the Flink version from one shape seen in the log.
type versionHint struct {
	min, max Version
	why      string
}

func v(a, b int) Version { return Version{a, b} }

var (
	anyV = Version{}
)

// collectHints notes what a record's logger and message say about the
// version (catalogue §1, §4-§6: loggers and templates changed across
// releases).
func (s *stream) collectHints(r *record, info *loggerInfo) {
	cls := r.logger
	if info.hintClass {
		if i := bytes.LastIndexByte(cls, '.'); i >= 0 {
			cls = cls[i+1:]
		}
	} else {
		cls = nil // no case of the switch below
	}
	msg := r.msg
	add := func(min, max Version, why string) {
		for _, h := range s.hints {
			if h.why == why {
				return
			}
		}
		s.hints = append(s.hints, versionHint{min, max, why})
	}
	switch string(cls) {
	case "TaskSlotTableImpl":
		add(v(1, 10), anyV, "logger TaskSlotTableImpl")
	case "TaskSlotTable":
		if bytes.HasPrefix(msg, []byte("Activate slot")) || bytes.HasPrefix(msg, []byte("Free slot")) {
			add(anyV, v(1, 9), "logger TaskSlotTable")
		}
	case "DefaultJobLeaderService":
		add(v(1, 11), anyV, "logger DefaultJobLeaderService")
	case "JobLeaderService":
		add(anyV, v(1, 10), "logger JobLeaderService")
	case "DefaultExecutionGraph":
		add(v(1, 13), anyV, "logger DefaultExecutionGraph")
	case "ExecutionGraph":
		if bytes.Contains(msg, []byte(" switched from ")) || bytes.HasPrefix(msg, []byte("Deploying ")) {
			add(anyV, v(1, 12), "logger ExecutionGraph")
		}
	case "SlotPoolImpl":
		add(v(1, 8), v(1, 13), "logger SlotPoolImpl")
	case "SlotPool":
		if bytes.Contains(r.logger, []byte("slotpool")) {
			add(anyV, v(1, 7), "logger SlotPool")
		}
	case "DeclarativeSlotManager":
		add(v(1, 12), v(1, 18), "logger DeclarativeSlotManager")
	case "SlotManagerImpl":
		add(v(1, 10), v(1, 13), "logger SlotManagerImpl")
	case "SlotManager":
		if bytes.Contains(r.logger, []byte("slotmanager")) {
			add(anyV, v(1, 9), "logger SlotManager")
		}
	case "FineGrainedSlotManager", "DefaultSlotStatusSyncer", "DeclarativeSlotPoolBridge", "DefaultDeclarativeSlotPool":
		add(v(1, 13), anyV, "logger "+string(cls))
	}
	// The hints found anywhere in a message are searched for until found
	// once: every record is scanned, and these scans were a fifth of the
	// time on a noisy log.
	switch {
	case !s.hintAllocID && containsAt(msg, "AllocationID{", 12):
		s.hintAllocID = true
		add(v(1, 6), v(1, 7), "AllocationID{...} printing")
	case bytes.HasPrefix(msg, []byte("Allocated slot for ")):
		if bytes.Contains(msg, []byte(" with resources ")) {
			add(v(1, 18), anyV, "Allocated slot ... with resources")
		} else {
			add(anyV, v(1, 17), "Allocated slot for A.")
		}
	case bytes.HasPrefix(msg, []byte("Received task ")):
		if bytes.Contains(msg, []byte("deploy into slot with allocation id")) {
			add(v(1, 12), anyV, "Received task ... deploy into slot")
		} else {
			add(anyV, v(1, 11), "Received task T.")
		}
	case bytes.HasPrefix(msg, []byte("Deploying ")):
		switch {
		case bytes.Contains(msg, []byte(" and vertex id ")):
			add(v(1, 15), anyV, "Deploying ... vertex id")
		case bytes.Contains(msg, []byte(" with allocation id ")):
			add(v(1, 12), v(1, 14), "Deploying ... with allocation id")
		case bytes.Contains(msg, []byte(" @ ")):
			add(v(1, 8), v(1, 11), "Deploying ... to R @ host")
		}
	case bytes.HasPrefix(msg, []byte("Request slot with profile ")):
		add(anyV, v(1, 13), "RM Request slot with profile")
	case bytes.HasPrefix(msg, []byte("Requesting new slot [")):
		if bytes.Contains(msg, []byte(" with allocation id ")) {
			add(v(1, 12), v(1, 13), "Requesting new slot ... with allocation id")
		} else {
			add(v(1, 6), v(1, 11), "Requesting new slot [Q]")
		}
	case bytes.HasPrefix(msg, []byte("Slot with allocationId ")):
		add(v(1, 13), anyV, "Slot with allocationId ... already exist")
	case bytes.HasPrefix(msg, []byte("Starting allocation of slot ")) && bytes.Contains(msg, []byte(" from ")):
		add(v(1, 14), anyV, "Starting allocation of slot A from R")
	case bytes.HasPrefix(msg, []byte("Received resource requirements from job")):
		add(v(1, 12), anyV, "resource requirements")
	}
	if (s.hintPekko && s.hintAkka) || !containsSchemeSep(msg) {
		return
	}
	if !s.hintPekko && (bytes.Contains(msg, []byte("pekko://")) || bytes.Contains(msg, []byte("pekko.tcp://"))) {
		s.hintPekko = true
		add(v(1, 18), anyV, "pekko RPC addresses")
	} else if !s.hintAkka && (bytes.Contains(msg, []byte("akka://")) || bytes.Contains(msg, []byte("akka.tcp://"))) {
		s.hintAkka = true
		add(anyV, v(1, 17), "akka RPC addresses")
	}
}

// settleVersion decides the input's Flink version: --flink-version, else the
// banner, else the range the hints allow.
func (s *stream) settleVersion() {
	if f := s.opts.FlinkVersion; f != "" {
		if v, ok := ParseVersion(f); ok {
			s.sum.FlinkVersion, s.sum.VersionSource = f, "flag"
			s.sum.VersionMin, s.sum.VersionMax = v, v
			return
		}
	}
	if s.sum.VersionSource == "banner" {
		if v, ok := ParseVersion(s.sum.FlinkVersion); ok {
			s.sum.VersionMin, s.sum.VersionMax = v, v
			return
		}
		// "<unknown>" from an IDE build: fall back to inference.
		s.sum.FlinkVersion, s.sum.VersionSource = "", ""
	}
	if s.sum.Layout == "log4j2" || s.sum.Layout == "log4j2-time" {
		s.hints = append(s.hints, versionHint{v(1, 11), anyV, "log4j 2 layout ([] NDC)"})
	} else if (s.sum.Layout == "log4j1" || s.sum.Layout == "log4j1-time") && s.ndcNo >= 10 {
		s.hints = append(s.hints, versionHint{anyV, v(1, 10), "log4j 1 layout (no NDC)"})
	}
	if len(s.hints) == 0 {
		return
	}
	var lo, hi Version
	var loWhy, hiWhy string
	for _, h := range s.hints {
		if !h.min.IsZero() && (lo.IsZero() || lo.Less(h.min)) {
			lo, loWhy = h.min, h.why
		}
		if !h.max.IsZero() && (hi.IsZero() || h.max.Less(hi)) {
			hi, hiWhy = h.max, h.why
		}
	}
	if !lo.IsZero() && !hi.IsZero() && hi.Less(lo) {
		s.diag(0, "warning", fmt.Sprintf("version hints conflict: %s says >= %s, %s says <= %s; version left unknown", loWhy, lo, hiWhy, hi), nil)
		return
	}
	s.sum.VersionMin, s.sum.VersionMax = lo, hi
	s.sum.VersionSource = "inferred"
	switch {
	case !lo.IsZero() && lo == hi:
		s.sum.FlinkVersion = lo.String()
	case !lo.IsZero() && !hi.IsZero():
		s.sum.FlinkVersion = lo.String() + "-" + hi.String()
	case !lo.IsZero():
		s.sum.FlinkVersion = ">=" + lo.String()
	default:
		s.sum.FlinkVersion = "<=" + hi.String()
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

// versionHintClass reports whether collectHints has a case for the class.
func versionHintClass(cls string) bool {
	switch cls {
	case "TaskSlotTableImpl", "TaskSlotTable", "DefaultJobLeaderService", "JobLeaderService", "DefaultExecutionGraph",
		"ExecutionGraph", "SlotPoolImpl", "SlotPool", "DeclarativeSlotManager", "SlotManagerImpl", "SlotManager",
		"FineGrainedSlotManager", "DefaultSlotStatusSyncer", "DeclarativeSlotPoolBridge", "DefaultDeclarativeSlotPool":
		return true
	}
	return false
}
