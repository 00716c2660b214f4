package flinklog

import (
	"fmt"
	"strconv"
	"time"
)

// Component is the Flink component that logged a record. It is decided by the
// record's logger (RM and JM share one file), or by the message template when
// a layout prints no logger.
type Component string

// The components. Unknown is used only when neither logger nor template
// decides.
const (
	ComponentTM      Component = "tm"
	ComponentRM      Component = "rm"
	ComponentJM      Component = "jm"
	ComponentUnknown Component = ""
)

// Level is a log level as printed (upper case).
type Level string

// Kind names what an event means for the slot lifecycle. Values are stable:
// they appear in `slotaudit events` output and in golden files.
type Kind string

// Event kinds. The prefix says which component logs them; meta.* kinds carry
// facts about the file (version, identity, slot count).
const (
	// ResourceManager.
	KindRMSlotRequest       Kind = "rm.slot_request"         // Request slot with profile P for job J with allocation id A.
	KindRMAllocStart        Kind = "rm.alloc_start"          // Starting allocation of slot S|A ...
	KindRMAllocFailed       Kind = "rm.alloc_failed"         // Slot request with allocation id A failed for slot S. / Slot allocation for ... failed.
	KindRMSlotOccupied      Kind = "rm.slot_occupied"        // Tried allocating slot S for job J, but it was already allocated for job J'.
	KindRMReportedAllocated Kind = "rm.reported_allocated"   // Task manager reported slot S being already allocated. (cause text)
	KindRMDuplicateRequest  Kind = "rm.duplicate_request"    // Ignoring a duplicate slot request with allocation id A.
	KindRMCancelRequest     Kind = "rm.cancel_request"       // Cancel slot request A.
	KindRMRequestTimeout    Kind = "rm.request_timeout"      // The allocation could not be fulfilled in time.
	KindRMSlotReport        Kind = "rm.slot_report"          // Received slot report from instance I: SlotReport{...}.
	KindRMFree              Kind = "rm.free"                 // Freeing slot S|A.
	KindRMFreeMismatch      Kind = "rm.free_mismatch"        // Received request to free slot S with expected allocation id A, but actual allocation id A' differs.
	KindRMTMRegister        Kind = "rm.tm_register"          // Registering TaskManager with ResourceID R (addr) at ResourceManager
	KindRMTMReplace         Kind = "rm.tm_replace"           // Replacing old registration of TaskExecutor R.
	KindRMTMInstance        Kind = "rm.tm_instance"          // Registering ... R under I at the slot manager.
	KindRMTMUnregister      Kind = "rm.tm_unregister"        // Unregister TaskManager I from the SlotManager.
	KindRMTMClose           Kind = "rm.tm_close"             // Closing TaskExecutor connection R because: cause
	KindRMRequirements      Kind = "rm.requirements"         // Received resource requirements from job J: ...
	KindRMClearRequirements Kind = "rm.clear_requirements"   // Clearing resource requirements of job J
	KindRMNotFulfillable    Kind = "rm.not_fulfillable"      // Could not fulfill resource requirements of job J.
	KindRMJMRegister        Kind = "rm.jm_register"          // Registered job manager ... for job J.
	KindRMJMDisconnect      Kind = "rm.jm_disconnect"        // Disconnect job manager ... for job J from the resource manager.
	KindRMFreeUnknown       Kind = "rm.free_unknown"         // Try to free unknown slot A.
	KindRMSlotLimit         Kind = "rm.slot_limit"           // Could not allocate N more slots ... maximum
	KindRMWorker            Kind = "rm.worker"               // Worker R is registered / terminated / Stopping worker R.
	KindHeartbeatTimeout    Kind = "hb.timeout"              // The heartbeat of X with id R timed out. / X with id R is no longer reachable.
	KindTMSlotRequest       Kind = "tm.slot_request"         // Receive slot request A for job J from resource manager with leader id L.
	KindTMAllocated         Kind = "tm.allocated"            // Allocated slot for A. / Allocated slot for A with resources P.
	KindTMAllocRefused      Kind = "tm.alloc_refused"        // Could not allocate slot for A. / ... already allocated ... (Reason says which)
	KindTMAllocExists       Kind = "tm.alloc_exists"         // Slot with allocationId A already exist, ... index N. The required index is M.
	KindTMSlotOccupied      Kind = "tm.slot_occupied"        // The slot S has already been allocated for a different job.
	KindTMOffer             Kind = "tm.offer"                // Offer reserved slots to the leader of job J.
	KindTMOfferFailed       Kind = "tm.offer_failed"         // Slot offering to JobManager failed / did not finish in time.
	KindTMActivate          Kind = "tm.activate"             // Activate slot A.
	KindTMMarkActiveFailed  Kind = "tm.mark_active_failed"   // Could not mark slot J|A active.
	KindTMTaskReceived      Kind = "tm.task_received"        // Received task T [(X), deploy into slot with allocation id A].
	KindTMTaskFailed        Kind = "tm.task_failed"          // T (X) switched from S1 to FAILED (logged by the TaskManager's Task)
	KindTaskNoSlot          Kind = "tm.task_no_slot"         // No task slot allocated for job ID J and allocation ID A.
	KindTMFree              Kind = "tm.free"                 // Free slot TaskSlot(index:N, state:S, ..., allocationId: A, jobId: J).
	KindTMFreeReason        Kind = "tm.free_reason"          // Free slot with allocation id A because: cause
	KindTMFreeUnknown       Kind = "tm.free_unknown"         // Could not free slot for allocation id A.
	KindTMFreeInactive      Kind = "tm.free_inactive"        // Freeing inactive slots for job J.
	KindTMJMConnect         Kind = "tm.jm_connect"           // Establish JobManager connection for job J.
	KindTMJMClose           Kind = "tm.jm_close"             // Close JobManager connection for job J.
	KindTMJMLostLeadership  Kind = "tm.jm_lost_leadership"   // JobManager for job J with leader id ... lost leadership.
	KindTMJMRejected        Kind = "tm.jm_rejected"          // The JobManager under addr rejected the registration for job J
	KindTMJobAdd            Kind = "tm.job_add"              // Add job J for job leader monitoring.
	KindTMJobRemove         Kind = "tm.job_remove"           // Remove job J from job leader monitoring.
	KindTMRMRegistered      Kind = "tm.rm_registered"        // Successful registration at resource manager addr under registration id I.
	KindTMRMClose           Kind = "tm.rm_close"             // Close ResourceManager connection R.
	KindTMRecovered         Kind = "tm.recovered"            // Recovered slot allocation snapshots ...
	KindTMStopping          Kind = "tm.stopping"             // Stopping TaskExecutor addr.
	KindTMNotAllocatedByJob Kind = "tm.not_allocated_by_job" // Slot N on TaskExecutor R is not allocated by job J.
	KindJMSlotRequest       Kind = "jm.slot_request"         // Requesting new slot [Q] and profile P [with allocation id A] from resource manager.
	KindJMSlotPending       Kind = "jm.slot_pending"         // Cannot serve slot request, no ResourceManager connected. Adding as pending request [Q]
	KindJMFulfilled         Kind = "jm.fulfilled"            // Fulfilled slot request [Q] with allocated slot [A].
	KindJMRequestTimeout    Kind = "jm.request_timeout"      // Pending slot request [Q] timed out. / Failing pending slot request [Q]: cause
	KindJMRepeatedOffer     Kind = "jm.repeated_offer"       // Received repeated offer for slot [A]. Ignoring.
	KindJMOfferMatched      Kind = "jm.offer_matched"        // Matched slot offer A to requirement P.
	KindJMOfferUnmatched    Kind = "jm.offer_unmatched"      // Could not match offer A to any outstanding requirement.
	KindJMRelease           Kind = "jm.release"              // Releasing idle slot [A]. / Releasing slot [A]. / Failed allocated slot [A]: msg
	KindJMDeploy            Kind = "jm.deploy"               // Deploying T (attempt #k) ... to R @ host ... [with allocation id A]
	KindJMTaskFailed        Kind = "jm.task_failed"          // T (X) switched from S1 to FAILED ... (+ cause)
	KindJMJobState          Kind = "jm.job_state"            // Job name (J) switched from state S1 to S2.
	KindJMNoResource        Kind = "jm.no_resource"          // NoResourceAvailableException texts / Could not acquire the minimum required resources
	KindJMTMDisconnect      Kind = "jm.tm_disconnect"        // Disconnect TaskExecutor R because: cause
	KindJMCannotFailSlot    Kind = "jm.cannot_fail_slot"     // Cannot fail slot A because the TaskManager R is unknown.
	KindMetaVersion         Kind = "meta.version"            // " Starting X (Version: v, ...)"
	KindMetaTMID            Kind = "meta.tm_id"              // Starting TaskManager with ResourceID: R
	KindMetaSlots           Kind = "meta.slots"              // Loading configuration property: taskmanager.numberOfTaskSlots, n
)

// Pos is a compact source position: an index into the reader's table of
// inputs (parser.Files) and a 1-based physical line number. Positions
// compare in (file, line, rec) order.
type Pos struct {
	File int32
	// Rec tells apart records that begin on the same physical line: 0 for
	// the first (every record of a log file), 1, 2, … for the next ones
	// (the hits of a log-store export saved as one line of JSON). Equal
	// positions are one record's.
	Rec  int32
	Line int64
}

// Less orders positions by file, then line, then record on the line.
func (p Pos) Less(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Rec < q.Rec
}

// TimeKind says what a record's timestamp means. Flink's default layouts
// print local wall-clock time without a zone; test layouts print
// milliseconds since JVM start; JSON layouts usually print an instant.
type TimeKind uint8

// The time kinds.
const (
	TimeNone     TimeKind = iota // no timestamp (headerless records)
	TimeLocal                    // date and time of day, zone unknown
	TimeUTC                      // an absolute instant
	TimeOfDay                    // time of day only; midnights crossed are counted as days
	TimeRelative                 // milliseconds since JVM start
)

// Time is a record timestamp. N is nanoseconds: for TimeLocal, of the
// wall-clock reading taken as if it were UTC; for TimeUTC, since the Unix
// epoch; for TimeOfDay, since midnight of the stream's first day; for
// TimeRelative, since JVM start.
type Time struct {
	Kind TimeKind
	N    int64
}

// IsZero reports whether the record had no timestamp.
func (t Time) IsZero() bool { return t.Kind == TimeNone }

// String formats the time for people and JSON: ISO-8601 without a zone for
// local time, with "Z" for instants, "15:04:05.000" (+Nd) for time of day,
// and "+12.345s" for relative times.
func (t Time) String() string {
	switch t.Kind {
	case TimeLocal, TimeUTC:
		var b [24]byte
		return string(appendDateTime(b[:0], t.N, t.Kind == TimeUTC))
	case TimeOfDay:
		day := t.N / int64(24*time.Hour)
		s := time.Unix(0, t.N%int64(24*time.Hour)).UTC().Format("15:04:05.000")
		if day > 0 {
			s += fmt.Sprintf("+%dd", day)
		}
		return s
	case TimeRelative:
		return "+" + strconv.FormatFloat(float64(t.N)/1e9, 'f', 3, 64) + "s"
	}
	return ""
}

// appendDateTime appends what time.Format's "2006-01-02T15:04:05.000"
// (and "Z" when utc) gives of n ns after the epoch in UTC, written out
// by hand for the years of four digits: Format read its layout again for
// every event written (half the cost of an event of `slotaudit events`).
func appendDateTime(b []byte, n int64, utc bool) []byte {
	t := time.Unix(0, n).UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		layout := "2006-01-02T15:04:05.000"
		if utc {
			layout += "Z"
		}
		return t.AppendFormat(b, layout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6 // (Format cuts the fraction, never rounds)
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	if utc {
		b = append(b, 'Z')
	}
	return b
}

// SlotStatus is one entry of a TaskManager slot report.
type SlotStatus struct {
	SlotID   string
	Resource string
	Index    int // -1 when the SlotID names a dynamic slot
	Alloc    ID
	Job      ID
}

// Event is one slot-lifecycle fact read from one log record.
// Fields that the record did not print stay at their zero value (IDs unset,
// SlotIndex and RequestedIndex -1, strings empty); nothing is invented.
type Event struct {
	Pos     Pos
	EndLine int64 // last physical line of the record (stack traces, multi-line messages)
	// rep and nrep: a reader's bookkeeping of the records that repeat
	// the event (see RepeatSpan); placed where Event has padding
	rep       int32
	Time      Time
	Level     Level
	Component Component
	Kind      Kind

	Alloc    ID     // the AllocationID the event is about
	Job      ID     // the JobID
	Other    ID     // a second AllocationID (the occupant of a slot, the actual id in a mismatch)
	Instance ID     // the TaskManager's InstanceID at the RM
	Resource string // ResourceID of the TaskManager the event is about
	SlotID   string // SlotID as printed (<resource>_<index>)

	SlotIndex      int    // index of the slot, -1 unknown
	RequestedIndex int    // index a request asked for (1.13+ "The required index is M"), -1 unknown
	SlotState      string // state printed in TaskSlot(...): ALLOCATED, ACTIVE, RELEASING
	Dynamic        bool   // the SlotID named a dynamic slot (<resource>_dynamic)
	nrep           int32  // see rep

	Request string // SlotRequestId (JM-internal; never an AllocationID)
	Task    string // task name with subtask
	Attempt string // ExecutionAttemptID
	From    string // state before a transition
	To      string // state after a transition
	Reason  string // refusal reason, free cause, exception summary
	Version string // meta.version: Flink version from the banner
	Count   int    // meta.slots: configured number of task slots

	// CauseLine and CauseText: the exception line inside the record (a
	// "Caused by:" line, an exception's first line, below the record's
	// first line) that the event was read from, when it was read from one:
	// its physical line and its text as read (capped like Text). 0 and ""
	// when the event comes from the record's message. A JSON record is one
	// object: its exception lines are inside it, and CauseLine is its first
	// line. Pos stays the record's first line, as for every event of the
	// record: readers tell one record's events by it (rules join a failed
	// task's cause to the task's own line so).
	CauseLine int64
	CauseText string

	Slots []SlotStatus // rm.slot_report entries

	// The record's first physical line as read (capped), for evidence:
	// textHead+textTail (see Text). A slot report's line is cut where its
	// message starts, and the message part is shared with the identical
	// reports before it: a DEBUG JobManager log holds one every heartbeat
	// per TaskManager, for as long as the log runs.
	textHead, textTail string
	// textAway: the text was let go (see LetTextGo); textSum is the sum
	// of what it was
	textAway bool
	textSum  uint32
}

// Text returns the record's first physical line as read (capped at
// MaxTextLen bytes and "…"), for evidence.
func (e *Event) Text() string { return e.textHead + e.textTail }

// SetText sets what Text returns, in the two parts an event keeps: head,
// the part of the line before the message (a slot report's timestamp),
// and tail, the rest. A reader that writes a repeated slot report back out
// gives it its own head and the tail it shares with the report it repeats.
func (e *Event) SetText(head, tail string) {
	e.textHead, e.textTail, e.textAway, e.textSum = head, tail, false, 0
}

// TextParts returns the two parts of Text as SetText or Classify set them.
// Identical slot reports share one tail string: comparing tails is how a
// reader tells that two reports printed the same message.
func (e *Event) TextParts() (head, tail string) { return e.textHead, e.textTail }

// LetTextGo drops the event's text and keeps sum, the sum of it that
// the reader that let it go computed: a reader of a file it can read
// again keeps evidence as positions and reads the text back when it is
// written (parser.Result.Text), checking it against sum. Text returns ""
// after.
func (e *Event) LetTextGo(sum uint32) {
	e.textHead, e.textTail, e.textAway, e.textSum = "", "", true, sum
}

// TextAway reports whether LetTextGo dropped the text, and the sum it
// kept.
func (e *Event) TextAway() (sum uint32, away bool) { return e.textSum, e.textAway }

// RepeatSpan returns the two numbers a reader of many records keeps in an
// event for the records that repeat it (package parser: the event's
// Repeats in a Result, or its run while it is handed over). This package
// never reads or sets them and gives them no meaning: they live in Event
// because they travel with it while a reader sorts events, and fit in the
// padding between its fields (an event is no larger for them). NewEvent
// and Classify leave them 0.
func (e *Event) RepeatSpan() (first, n int32) { return e.rep, e.nrep }

// SetRepeatSpan sets what RepeatSpan returns.
func (e *Event) SetRepeatSpan(first, n int32) { e.rep, e.nrep = first, n }

// NewEvent returns an event with unknown indexes.
func NewEvent(kind Kind) Event {
	return Event{Kind: kind, SlotIndex: -1, RequestedIndex: -1}
}
