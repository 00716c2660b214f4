package flinklog

import (
	"bytes"
	"strings"
)

// The reasons the catalogue gives refusals and failures of the slot
// protocol (Event.Reason). Other packages decide verdicts on them: they
// compare these constants, never a wording.
const (
	ReasonAllocatedElsewhere = "allocation id already allocated in another slot"
	ReasonIndexTaken         = "slot index already taken"
	ReasonUnknownRMLeader    = "request from an unknown resource manager leader"
	ReasonNoRM               = "request while no resource manager is connected"
	ReasonOfferFailed        = "offer failed, slots freed"
)

// The templates below are Flink's slot-lifecycle messages, 1.5 to 2.x, from
// ../shared/flink-log-catalogue.md (§4-§6, §10). Order matters where one
// template is a prefix of another: the more specific comes first.
//
// A kind of "" marks a known message that is deliberately not an event: it
// is counted as irrelevant instead of unparsed.
var catalogue = func() []*template {
	tm, rm, jm, un := ComponentTM, ComponentRM, ComponentJM, ComponentUnknown
	defs := []struct {
		kind   Kind
		comp   Component
		text   string
		reason string
	}{
		// --- TaskManager: identity, version, configuration (§4.1)
		{KindMetaVersion, un, "Starting {C} (Version: {V}, {*}", ""},
		{KindMetaTMID, tm, "Starting TaskManager with ResourceID: {R}", ""},
		{KindMetaSlots, un, "Loading configuration property: taskmanager.numberOfTaskSlots, {n}", ""},
		{KindMetaSlots, un, "Loading dynamic configuration property: taskmanager.numberOfTaskSlots, {n}", ""},
		{KindTMRMRegistered, tm, "Successful registration at resource manager {*} under registration id {I}.", ""},
		{"", jm, "Close ResourceManager connection {R}: {*}", ""},
		{KindTMRMClose, tm, "Close ResourceManager connection {R}.", ""},
		{KindTMStopping, tm, "Stopping TaskExecutor {*}.", ""},
		{KindTMStopping, tm, "Stopping TaskManager {*}.", ""},

		// --- TaskManager: slot request and allocation (§4.2)
		{KindTMSlotRequest, tm, "Receive slot request {A} for job {J} from resource manager with leader id {*}.", ""},
		{KindTMAllocated, tm, "Allocated slot for {A} with resources {P}.", ""},
		{KindTMAllocated, tm, "Allocated slot for {A}.", ""},
		{KindTMAllocRefused, tm, "Could not allocate slot for allocation id {A}.", "table refused the allocation"},
		{KindTMAllocRefused, tm, "Could not allocate slot for {A}.", "table refused the allocation"},
		{KindTMSlotOccupied, tm, "The slot {S} has already been allocated for a different job.", ""},
		{KindTMAllocRefused, tm, "Allocation ID {A} is already allocated in {TS}.", ReasonAllocatedElsewhere},
		{KindTMAllocRefused, tm, "Slot with index {N} already exist, with resource profile {P}, job id {J} and allocation id {O}.", ReasonIndexTaken},
		{KindTMAllocExists, tm, "Slot with allocationId {A} already exist, with resource profile {P}, job id {J} and index {N}. The required index is {M}. No further allocation necessary.", "duplicate accepted"},
		{KindTMAllocExists, tm, "Slot with allocationId {A} already exist, with resource profile {P}, job id {J} and index {N}. The required index is {M}.", ""},
		{KindTMAllocRefused, tm, "A slot with allocationId {A} and resource profile {P} is already assigned to job {J} with subtask index {N}.", ReasonAllocatedElsewhere},
		{KindTMAllocRefused, tm, "The slot with index {N} is already assigned to another allocation with id {O}.", ReasonIndexTaken},
		{KindTMAllocRefused, tm, "Cannot allocate the requested resources. Trying to allocate {*}, while the currently remaining available resources are {*}, total is {*}.", "resources exhausted"},
		{KindTMAllocRefused, tm, "TaskManager is not connected to the resource manager {*}.", ReasonUnknownRMLeader},
		{KindTMAllocRefused, tm, "TaskManager is not connected to a resource manager.", ReasonNoRM},
		{KindTMRecovered, tm, "Recovered slot allocation snapshots {*}.", ""},

		// --- TaskManager: job leader, offer, activation (§4.3)
		{KindTMJobAdd, tm, "Add job {J} for job leader monitoring.", ""},
		{KindTMJobRemove, tm, "Remove job {J} from job leader monitoring.", ""},
		{KindTMJMConnect, tm, "Establish JobManager connection for job {J}.", ""},
		{KindTMJMRejected, tm, "Rejected registration at job manager {*} for job {J}.", ""},
		{KindTMJMRejected, tm, "The JobManager under {*} rejected the registration for job {J}: {C}", ""},
		{KindTMOffer, tm, "Offer reserved slots to the leader of job {J}.", ""},
		{KindTMOfferFailed, tm, "Slot offering to JobManager did not finish in time. Retrying the slot offering.", "offer timed out, retrying"},
		{KindTMOfferFailed, tm, "Slot offering to JobManager failed. Freeing the slots and returning them to the ResourceManager.", ReasonOfferFailed},
		{KindTMActivate, tm, "Activate slot {A}.", ""},
		// ≤ 1.12 prints the JobID here, ≥ 1.13 the AllocationID: the id is
		// kept as Other and the reader of the event decides by version.
		{KindTMMarkActiveFailed, tm, "Could not mark slot {O} active.", ""},

		// --- TaskManager: task submission (§4.4)
		{KindTMTaskReceived, tm, "Received task {T} ({X}), deploy into slot with allocation id {A}.", ""},
		{KindTMTaskReceived, tm, "Received task {T}.", ""},
		{KindTaskNoSlot, tm, "No task slot allocated for job ID {J} and allocation ID {A}.", ""},

		// --- TaskManager: freeing, timeouts, connections (§4.5)
		{KindTMFree, tm, "Free slot {TS}.", ""},
		{KindTMFreeReason, tm, "Free slot with allocation id {A} because: {C}", ""},
		{KindTMFreeUnknown, tm, "Could not free slot for allocation id {A}.", "allocation id unknown to the slot table"},
		{KindTMFreeUnknown, tm, "Ignoring the freeing of slot {A} because the TaskExecutor is shutting down.", "TaskExecutor shutting down"},
		{KindTMFreeInactive, tm, "Freeing inactive slots for job {J}.", ""},
		{KindTMJMClose, tm, "Close JobManager connection for job {J}.", ""},
		{KindTMJMLostLeadership, tm, "JobManager for job {J} with leader id {*} lost leadership.", ""},
		{KindTMNotAllocatedByJob, tm, "Slot {N} on TaskExecutor {R} is not allocated by job {J}.", ""},

		// --- heartbeats (component from the logger: RM, JM and TM all log them)
		{KindHeartbeatTimeout, un, "The heartbeat of TaskManager with id {R} timed out.", "TaskManager"},
		{KindHeartbeatTimeout, un, "The heartbeat of JobManager with id {R} timed out.", "JobManager"},
		{KindHeartbeatTimeout, un, "The heartbeat of ResourceManager with id {R} timed out.", "ResourceManager"},
		{KindHeartbeatTimeout, jm, "Heartbeat of TaskManager with id {R} timed out.", "TaskManager"},
		{KindHeartbeatTimeout, un, "TaskManager with id {R} is no longer reachable.", "TaskManager"},
		{KindHeartbeatTimeout, un, "JobManager with id {R} is no longer reachable.", "JobManager"},
		{KindHeartbeatTimeout, un, "ResourceManager with id {R} is no longer reachable.", "ResourceManager"},

		// --- ResourceManager (§5)
		{KindRMTMRegister, rm, "Registering TaskManager with ResourceID {R} ({*}) at ResourceManager", ""},
		{KindRMTMReplace, rm, "Replacing old registration of TaskExecutor {R}.", ""},
		{KindRMTMReplace, rm, "Replacing old instance of worker for ResourceID {R}", ""},
		{KindRMTMInstance, rm, "Registering TaskManager {R} under {I} at the SlotManager.", ""},
		{KindRMTMInstance, rm, "Registering task executor {R} under {I} at the slot manager.", ""},
		{KindRMTMInstance, rm, "Register TaskManager {I} at the SlotManager.", ""},
		{KindRMTMUnregister, rm, "Unregister TaskManager {I} from the SlotManager.", ""},
		{KindRMTMUnregister, rm, "Unregistering task executor {I} from the slot manager.", ""},
		{KindRMTMClose, rm, "Closing TaskExecutor connection {R} because: {C}", ""},
		{KindRMSlotRequest, rm, "Request slot with profile {P} for job {J} with allocation id {A}.", ""},
		{KindRMDuplicateRequest, rm, "Ignoring a duplicate slot request with allocation id {A}.", ""},
		{KindRMCancelRequest, rm, "Cancel slot request {A}.", ""},
		{KindRMAllocFailed, rm, "Slot request with allocation id {A} failed for slot {S}.", ""},
		{KindRMAllocFailed, rm, "Slot request with allocation id {A} for job {J} failed.", ""},
		{KindRMReportedAllocated, rm, "Task manager reported slot {S} being already allocated.", ""},
		{KindRMRequestTimeout, rm, "The allocation could not be fulfilled in time.", ""},
		{KindRMSlotReport, rm, "Received slot report from instance {I}: {SR}.", ""},
		{KindRMSlotReport, rm, "Received slot report from instance {I}.", ""},
		{KindRMFreeMismatch, rm, "Received request to free slot {S} with expected allocation id {A}, but actual allocation id {O} differs. Ignoring the request.", ""},
		{KindRMFree, rm, "Freeing slot {A} by slot report.", "by slot report"},
		{KindRMFree, rm, "Freeing slot {A}.", ""},
		{KindRMFree, rm, "Freeing slot {S}.", ""},
		{KindRMFreeUnknown, rm, "Try to free unknown slot {A}.", ""},
		{KindRMFreeUnknown, rm, "Trying to free a slot {A} which has not been allocated. Ignoring this message.", ""},
		{KindRMAllocStart, rm, "Starting allocation of slot {A} from {R} for job {J} with resource profile {P}.", ""},
		{KindRMAllocStart, rm, "Starting allocation of slot {S} for job {J} with resource profile {P}.", ""},
		{KindRMAllocFailed, rm, "Slot allocation for allocation {A} for job {J} failed.", ""},
		{KindRMAllocFailed, rm, "Slot allocation for slot {S} for job {J} failed.", ""},
		{KindRMSlotOccupied, rm, "Tried allocating slot {S} for job {J}, but it was already allocated for job {*}.", ""},
		{KindRMRequirements, rm, "Received resource requirements from job {J}: {*}", ""},
		{KindRMRequirements, rm, "Received resource declaration for job {J}: {*}", ""},
		{KindRMClearRequirements, rm, "Clearing resource requirements of job {J}", ""},
		{KindRMNotFulfillable, rm, "Could not fulfill resource requirements of job {J}. Free slots: {n}", ""},
		{KindRMNotFulfillable, rm, "Could not fulfill resource requirements of job {J}.", ""},
		{KindRMJMRegister, rm, "Registered job manager {*} for job {J}.", ""},
		{KindRMJMDisconnect, rm, "Disconnect job manager {*} for job {J} from the resource manager.", ""},
		{KindRMSlotLimit, rm, "Could not allocate {n} more slots. The number of registered and pending slots is {*}, while the maximum is {*}.", ""},
		{KindRMWorker, rm, "Worker {R} is registered.", "registered"},
		{KindRMWorker, rm, "Worker {R} is terminated. Diagnostics: {C}", ""},
		{KindRMWorker, rm, "Stopping worker {R}.", "stopping"},

		// --- JobMaster / slot pool (§6.1-§6.3)
		{KindJMSlotRequest, jm, "Requesting new slot [{Q}] and profile {P} with allocation id {A} from resource manager.", ""},
		{KindJMSlotRequest, jm, "Requesting new slot [{Q}] and profile {P} from resource manager.", ""},
		{KindJMSlotRequest, jm, "Requesting slot with profile {P} from resource manager (request = {Q}).", ""},
		{KindJMSlotPending, jm, "Cannot serve slot request, no ResourceManager connected. Adding as pending request [{Q}]", ""},
		{KindJMSlotPending, jm, "Cannot serve slot request, no ResourceManager connected. Adding as pending request {Q}", ""},
		{KindJMFulfilled, jm, "Fulfilled slot request [{Q}] with allocated slot [{A}].", ""},
		{KindJMFulfilled, jm, "Fulfilling pending slot request [{Q}] with slot [{A}]", ""},
		{KindJMFulfilled, jm, "Fulfilling pending slot request [{Q}] early with returned slot [{A}]", "returned slot reused"},
		{KindJMFulfilled, jm, "Fulfilling pending request [{Q}] early with returned slot [{A}]", "returned slot reused"},
		{KindJMRequestTimeout, jm, "Pending slot request [{Q}] timed out.", "timed out"},
		{KindJMRequestTimeout, jm, "Pending slot request {Q} timed out.", "timed out"},
		{KindJMRequestTimeout, jm, "Failing pending slot request [{Q}]: {C}", ""},
		{KindJMRequestTimeout, jm, "Failing pending request {Q}.", "failed"},
		{KindJMRepeatedOffer, jm, "Received repeated offer for slot [{A}]. Ignoring.", ""},
		{KindJMOfferMatched, jm, "Matched slot offer {A} to requirement {P}.", ""},
		{KindJMOfferUnmatched, jm, "Could not match offer {A} to any outstanding requirement.", ""},
		{KindJMRelease, jm, "Releasing idle slot [{A}].", "idle"},
		{KindJMRelease, jm, "Releasing idle slot {A}.", "idle"},
		{KindJMRelease, jm, "Releasing slot [{A}] of registered TaskExecutor {R} failed. Discarding slot.", "release failed, slot discarded"},
		{KindJMRelease, jm, "Releasing slot [{A}].", ""},
		{KindJMRelease, jm, "Failed allocated slot [{A}]: {C}", ""},
		{KindJMTMDisconnect, jm, "Disconnect TaskExecutor {R} because: {C}", ""},
		{KindJMCannotFailSlot, jm, "Cannot fail slot {A} because the TaskManager {R} is unknown.", ""},
		{KindJMNoResource, jm, "Could not acquire the minimum required resources, failing slot requests. Acquired: {*}", "Could not acquire the minimum required resources"},

		// --- deployment and failures (§6.4)
		{KindJMDeploy, jm, "Deploying {T} (attempt #{*}) with attempt id {X} and vertex id {*} to {R} @ {*} with allocation id {A}", ""},
		{KindJMDeploy, jm, "Deploying {T} (attempt #{*}) with attempt id {X} to {R} @ {*} with allocation id {A}", ""},
		{KindJMDeploy, jm, "Deploying {T} (attempt #{*}) to {R} @ {*} (dataPort={*})", ""},
		{KindJMDeploy, jm, "Deploying {T} (attempt #{*}) to {*}", ""},
		{KindJMJobState, jm, "Job {*} ({J}) switched from state {F} to {TO}.", ""},
		// Task state changes: only failures become events (see classify).
		{KindJMTaskFailed, jm, "{T} ({X}) switched from {F} to {TO}{*}", ""},

		// --- known messages from slot classes that are not events
		{"", un, "There are no unassigned slots for the job {J}.", ""},
		{"", un, "Received an invalid timeout for allocation id {A} with ticket {*}.", ""},
		{"", un, "Discard offer slot response since there is a new leader for the job {J}.", ""},
		{"", un, "Discard slot offer response since there is a newer offer for the job {J}.", ""},
		{"", un, "Discard slot offer response since there is a new leader for the job {J}.", ""},
		{"", un, "Adding returned slot [{A}] to available slots", ""},
		{"", un, "Adding slot [{A}] to available slots", ""},
		{"", un, "Free reserved slot {A}.", ""},
		{"", un, "Suspending SlotPool.", ""},
		{"", un, "Stopping SlotPool.", ""},
		{"", un, "Starting the SlotManager.", ""},
		{"", un, "Starting the slot manager.", ""},
		{"", un, "Closing the SlotManager.", ""},
		{"", un, "Closing the slot manager.", ""},
		{"", un, "Suspending the SlotManager.", ""},
		{"", un, "Suspending the slot manager.", ""},
		{"", un, "Matching resource requirements against available resources.", ""},
		// From 1.18 the FineGrainedSlotManager's line goes on with a summary
		// of what jobs miss and what TaskManagers hold (INFO, on every check
		// that finds requirements unmet): one record with its lines in a
		// log. A log shipper without a multi-line rule sends each line as a
		// record of its own; these are its lines, TAB indents trimmed. No
		// AllocationID, no slot: what matters of it is logged on its own
		// lines (Could not fulfill resource requirements of job J,
		// Starting allocation of slot A ...).
		{"", un, "Missing resources:", ""},
		{"", un, "Job {J}", ""},
		{"", un, "ResourceRequirement{resourceProfile={P}, numberOfRequiredSlots={n}}", ""},
		{"", un, "Current resources:", ""},
		{"", un, "TaskManager {R}", ""},
		{"", un, "Available: {P}", ""},
		{"", un, "Total:     {P}", ""},
		{"", un, "(none)", ""},
		{"", un, "Received slot request [{Q}] for task: {*}", ""},
		{"", un, "Create multi task slot [{Q}] in slot [{*}].", ""},
		{"", un, "Create single task slot [{Q}] in multi task slot [{*}] for group {*}.", ""},
		{"", un, "Release slot with slot request id {*}", ""},
		{"", un, "Request new allocated slot with slot request id {*}", ""},
		{"", un, "Reserving free slot {A} for slot request id {*}", ""},
		{"", un, "Releasing slot [{Q}] because: {*}", ""},
		{"", un, "Acquired new resources; new total acquired resources: {*}", ""},
		{"", un, "Idle slots have been returned; new total acquired resources: {*}", ""},
		{"", un, "Declare new resource requirements for job {J}.{*}", ""},
		{"", un, "Received {*} slot offers from TaskExecutor {*}", ""},
		{"", un, "Register new TaskExecutor {*}.", ""},
		{"", un, "Matched slot {*} to pending request {*}.", ""},
		{"", un, "Matched pending request {*} with slot {*}.", ""},
		{"", un, "Completed allocation of slot {*} for job {J}.", ""},
		{"", un, "Completed allocation of allocation {A} for job {J}.", ""},
		{"", un, "Slot {*} transitioned from {*} to {*} for job {J}.", ""},
		{"", un, "Add task manager {*} with total resource {*} and default slot resource {*}.", ""},
		{"", un, "Remove task manager {*}.", ""},
		{"", un, "Free allocated slot with allocationId {A}.", ""},
		{"", un, "Complete slot allocation with allocationId {A}.", ""},
		{"", un, "Register new allocated slot with allocationId {A}.", ""},
		{"", un, "Add pending slot with allocationId {A}.", ""},
		{"", un, "Clear all pending allocations for job {J}.", ""},
		{"", un, "Releasing job resources for job {J}.", ""},
		{"", un, "Allocating slot with SlotRequestID {Q} for the execution attempt {X}.", ""},
		{"", un, "Un-registering task and sending final execution state {*}", ""},
		{"", un, "Requesting new worker with resource spec {*}, current pending count: {*}.", ""},
	}
	out := make([]*template, 0, len(defs))
	for _, d := range defs {
		out = append(out, compileTemplate(d.kind, d.comp, d.text, d.reason))
	}
	return out
}()

// prefixTrie holds every template with a literal prefix, by that prefix:
// walking a message down the trie finds the few templates whose prefix it
// starts with, instead of comparing it with every template of its first
// letter (two dozen start with "R"). Templates that start with a
// placeholder are in templatesAnyStart.
type prefixTrie struct {
	edges []trieEdge
	ends  []int // catalogue indexes of the templates whose prefix ends here
	// eventEnds: some template of ends gives an event (not all are known
	// non-events)
	eventEnds bool
	// run: the bytes of the chain of nodes with one edge and no ends that
	// starts at this node's one edge, and runEnd the node after it: a walk
	// compares them at once instead of stepping a node a byte ("Receive
	// slot request " is one run)
	run    []byte
	runEnd *prefixTrie
}

// step returns the node msg[i:] leads to from n and where msg goes on
// from there; nil when msg leaves the trie. A run that msg leaves halfway
// leads nowhere, as stepping through its nodes, which end nothing, did.
func (n *prefixTrie) step(msg []byte, i int) (*prefixTrie, int) {
	if n.runEnd != nil {
		if bytes.HasPrefix(msg[i:], n.run) {
			return n.runEnd, i + len(n.run)
		}
		return nil, i
	}
	return n.child(msg[i]), i + 1
}

// compress sets the runs of n and the nodes below it.
func (n *prefixTrie) compress() {
	if len(n.edges) == 1 {
		run, m := []byte{n.edges[0].c}, n.edges[0].next
		for len(m.ends) == 0 && len(m.edges) == 1 {
			run = append(run, m.edges[0].c)
			m = m.edges[0].next
		}
		n.run, n.runEnd = run, m
	}
	for _, e := range n.edges {
		e.next.compress()
	}
}

type trieEdge struct {
	c    byte
	next *prefixTrie
}

func (n *prefixTrie) child(c byte) *prefixTrie {
	for _, e := range n.edges {
		if e.c == c {
			return e.next
		}
	}
	return nil
}

var templatesByPrefix, templatesAnyStart = func() (*prefixTrie, []*template) {
	root := &prefixTrie{}
	var anyStart []*template
	for i, t := range catalogue {
		if len(t.prefix) == 0 {
			anyStart = append(anyStart, t)
			continue
		}
		n := root
		for _, c := range t.prefix {
			next := n.child(c)
			if next == nil {
				next = &prefixTrie{}
				n.edges = append(n.edges, trieEdge{c, next})
			}
			n = next
		}
		n.ends = append(n.ends, i)
		n.eventEnds = n.eventEnds || t.kind != ""
	}
	root.compress()
	return root, anyStart
}()

// mayMatchCandidates reports whether matchTemplate could match msg (or
// msg with continuation lines after it), given its prefixCandidates: some
// template's prefix starts it, or some template that starts with a
// placeholder finds its anchor in it. With eventsOnly it considers only
// the templates that give events: for a record whose logger makes an
// unknown message irrelevant anyway, matching a known non-event (a
// heartbeat, a checkpoint acknowledgement) decides nothing. A record that
// gives an event walks the trie once for this and for the match.
func mayMatchCandidates(msg []byte, cands []int, eventsOnly bool) bool {
	if len(msg) == 0 {
		return false
	}
	for _, i := range cands {
		if !eventsOnly || catalogue[i].kind != "" {
			return true
		}
	}
	for _, t := range templatesAnyStart {
		if eventsOnly && t.kind == "" {
			continue
		}
		if len(t.anchor) == 0 || containsAt(msg, t.anchorStr, t.anchorRare) {
			return true
		}
	}
	return false
}

// matchTemplate finds the first catalogue template that matches msg.
func matchTemplate(msg []byte, ev *Event) (*template, bool) {
	var buf [16]int
	return matchCandidates(msg, prefixCandidates(msg, buf[:0]), ev)
}

// matchCandidates is matchTemplate given prefixCandidates(msg).
func matchCandidates(msg []byte, cands []int, ev *Event) (*template, bool) {
	if len(msg) == 0 {
		return nil, false
	}
	// A template that reads the whole message wins over one that reads
	// only its start (a custom build's words after it): the first of those
	// is read again once every template has been tried.
	var tailT *template
	for _, i := range cands {
		if t := catalogue[i]; tryTemplate(t, msg, ev, &tailT) {
			return t, true
		}
	}
	for _, t := range templatesAnyStart {
		if tryTemplate(t, msg, ev, &tailT) {
			return t, true
		}
	}
	if tailT != nil && tailT.match(msg, ev) {
		return tailT, true
	}
	return nil, false
}

// prefixCandidates appends to cands the catalogue indexes of the
// templates whose prefix starts msg, in catalogue order.
func prefixCandidates(msg []byte, cands []int) []int {
	for n, i := templatesByPrefix, 0; n != nil; {
		cands = append(cands, n.ends...)
		if i == len(msg) {
			break
		}
		n, i = n.step(msg, i)
	}
	// catalogue order decides between templates that both match
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && cands[j] < cands[j-1]; j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	return cands
}

// tryTemplate reports whether t reads the whole of msg (then ev holds what
// it read); the first template that reads only its start is noted in tailT.
func tryTemplate(t *template, msg []byte, ev *Event, tailT **template) bool {
	ok, tail := t.matchTail(msg, ev, false)
	if ok && tail && *tailT == nil {
		*tailT = t
	}
	return ok && !tail
}

// LoggerInfo is what a record's logger name alone says. A log has a few
// hundred loggers and millions of records: a reader computes it once per
// logger name (NewLoggerInfo) and hands it to Classify and
// VersionHints.Note with every record of that logger.
type LoggerInfo struct {
	// Component is the component the logger belongs to, or
	// ComponentUnknown when the name does not say (the message template
	// decides then).
	Component Component
	// SlotClass: a class whose messages are all about slots; such a
	// record that matches no template is unparsed, not irrelevant.
	SlotClass bool
	// TaskExecutor: a TaskExecutor class of the TaskManager; such a
	// record that mentions slots and matches no template is unparsed.
	TaskExecutor bool
	// VersionClass: the class name itself may bound the Flink version
	// (VersionHints.Note).
	VersionClass bool
}

// NewLoggerInfo reads a logger name as a layout printed it: full, abbreviated
// by logback, or a bare class name. An empty name (a layout that prints
// none) says nothing.
func NewLoggerInfo(logger []byte) LoggerInfo {
	info := LoggerInfo{Component: componentOfLogger(logger), SlotClass: slotLogger(logger)}
	info.TaskExecutor = info.Component == ComponentTM && bytes.Contains(logger, []byte("TaskExecutor"))
	cls := logger
	if i := bytes.LastIndexByte(cls, '.'); i >= 0 {
		cls = cls[i+1:]
	}
	info.VersionClass = versionHintClass(string(cls))
	return info
}

// componentOfLogger decides the component from a logger name: full
// (org.apache.flink.runtime.taskexecutor.TaskExecutor), abbreviated by
// logback (o.a.f.r.resourcemanager.slotmanager.DeclarativeSlotManager), or a
// bare class name (%c{1}).
func componentOfLogger(logger []byte) Component {
	if len(logger) == 0 {
		return ComponentUnknown
	}
	l := string(logger)
	switch {
	case strings.Contains(l, "resourcemanager"):
		return ComponentRM
	case strings.Contains(l, "jobmaster"), strings.Contains(l, "executiongraph"), strings.Contains(l, ".scheduler."), strings.Contains(l, ".entrypoint."),
		strings.Contains(l, "dispatcher"), strings.Contains(l, ".jobmanager."), strings.Contains(l, ".checkpoint."):
		return ComponentJM
	case strings.Contains(l, "taskexecutor"), strings.Contains(l, ".taskmanager."):
		return ComponentTM
	}
	cls := l
	if i := strings.LastIndexByte(l, '.'); i >= 0 {
		cls = l[i+1:]
	}
	return classComponent[cls]
}

var classComponent = map[string]Component{
	"TaskExecutor": ComponentTM, "TaskSlotTable": ComponentTM, "TaskSlotTableImpl": ComponentTM, "TaskSlot": ComponentTM,
	"JobLeaderService": ComponentTM, "DefaultJobLeaderService": ComponentTM, "TaskManagerRunner": ComponentTM,
	"TaskExecutorToResourceManagerConnection": ComponentTM, "Task": ComponentTM, "YarnTaskExecutorRunner": ComponentTM,
	"KubernetesTaskExecutorRunner": ComponentTM,
	"ResourceManager":              ComponentRM, "StandaloneResourceManager": ComponentRM, "ActiveResourceManager": ComponentRM,
	"YarnResourceManager": ComponentRM, "KubernetesResourceManager": ComponentRM, "MesosResourceManager": ComponentRM,
	"SlotManager": ComponentRM, "SlotManagerImpl": ComponentRM, "DeclarativeSlotManager": ComponentRM,
	"FineGrainedSlotManager": ComponentRM, "DefaultSlotTracker": ComponentRM, "DefaultSlotStatusSyncer": ComponentRM,
	"TaskExecutorManager": ComponentRM, "FineGrainedTaskManagerTracker": ComponentRM, "ResourceManagerServiceImpl": ComponentRM,
	"JobMaster": ComponentJM, "SlotPool": ComponentJM, "SlotPoolImpl": ComponentJM, "DeclarativeSlotPoolBridge": ComponentJM,
	"DefaultDeclarativeSlotPool": ComponentJM, "DeclarativeSlotPoolService": ComponentJM, "BlocklistDeclarativeSlotPool": ComponentJM,
	"SchedulerImpl": ComponentJM, "SlotSharingManager": ComponentJM, "ExecutionGraph": ComponentJM, "DefaultExecutionGraph": ComponentJM,
	"DefaultScheduler": ComponentJM, "SchedulerBase": ComponentJM, "AdaptiveScheduler": ComponentJM, "Execution": ComponentJM,
	"PhysicalSlotRequestBulkCheckerImpl": ComponentJM, "SchedulingUtils": ComponentJM, "CheckpointCoordinator": ComponentJM,
	"RestartPipelinedRegionFailoverStrategy": ComponentJM, "StandaloneDispatcher": ComponentJM, "JobManagerRunnerImpl": ComponentJM,
}

// slotLogger reports whether a logger belongs to a class whose messages are
// all about slots; such a record that matches no template is reported as
// unparsed rather than irrelevant, so a new Flink message is never lost
// silently.
func slotLogger(logger []byte) bool {
	cls := logger
	if i := bytes.LastIndexByte(logger, '.'); i >= 0 {
		cls = logger[i+1:]
	}
	switch string(cls) {
	case "TaskSlotTable", "TaskSlotTableImpl", "SlotManager", "SlotManagerImpl", "DeclarativeSlotManager",
		"FineGrainedSlotManager", "DefaultSlotStatusSyncer", "SlotPool", "SlotPoolImpl", "DeclarativeSlotPoolBridge",
		"DefaultDeclarativeSlotPool":
		return true
	}
	return false
}
