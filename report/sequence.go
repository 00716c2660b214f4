package report

// This file holds the sequence of one AllocationID's messages between the
// components, the data of sequence diagrams (mermaid.go draws it).

import (
	"fmt"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// SequenceJSON is one AllocationID's messages between the ResourceManager,
// the TaskManager(s) and the JobManager, in causal order.
//
// Every event of the allocation's timeline is one step, in the order of
// reconstruct.Allocation.Events (the model's causal order, m.Rank). A step
// is a message from one participant to another (From != To) or a note on
// one participant (From == To): what a component did on its own, such as
// a table allocating, refusing or freeing a slot, a timeout or a failure.
//
// Who sends to whom is Flink's protocol, not something a line prints:
// each kind is drawn as the RPC it logs the sending or the receipt of. A
// line logged on receipt (the ResourceManager's "Request slot …", the
// TaskManager's "Receive slot request …", "Received task …") is drawn as
// the message arriving; when the sender's line of the same message (the
// JobManager's "Requesting new slot …", the ResourceManager's "Starting
// allocation of slot …", the JobManager's "Deploying …" to the same
// TaskManager) came before it, the message is already drawn and the
// receipt is a note on the receiver ("received: …"). A fact one component
// read from another's exception (the JobManager quoting the TaskManager's
// "No task slot allocated …", the ResourceManager's "Could not fulfill slot
// request …") travelled as the answer to an RPC: it is drawn from the
// component the fact belongs to to the one that logged it. Directions that
// Flink logs nowhere are inferred so, and said so in the table below.
//
//	kind (logged by)         from → to         says
//	jm.slot_request          JM → RM           request slot
//	rm.slot_request          JM → RM           request slot (receipt)
//	rm.duplicate_request     JM → RM           duplicate request, ignored (receipt)
//	rm.cancel_request        JM → RM           cancel request (receipt)
//	rm.alloc_start           RM → TM           request slot[, index N]
//	tm.slot_request          RM → TM           request slot (receipt)
//	tm.allocated             note TM           allocated[ index N]
//	tm.alloc_exists          note TM           already holds index N[, required index M] / duplicate accepted, holds index N
//	tm.alloc_refused         note TM           refused: <reason> (index taken by …, …)
//	tm.slot_occupied         note TM           refused: slot taken by another job
//	rm.alloc_failed          note RM           request failed[: <reason>]
//	rm.slot_occupied         note RM           slot taken by another job
//	rm.reported_allocated    note RM           slot reported taken
//	rm.request_timeout       note RM           request timed out
//	tm.offer                 TM → JM           offer slots
//	jm.fulfilled             TM → JM           offer fulfills request (receipt of the offer, inferred)
//	jm.fulfilled (reuse)     note JM           returned slot reused
//	jm.offer_matched         TM → JM           offer matched (receipt of the offer, inferred)
//	jm.offer_unmatched       TM → JM           offer not matched (receipt of the offer, inferred)
//	jm.repeated_offer        TM → JM           repeated offer, ignored (receipt of the offer, inferred)
//	tm.offer_failed          note TM           <reason> (offer failed, slots freed / offer timed out, retrying)
//	tm.activate              note TM           activated
//	tm.mark_active_failed    note TM           could not mark active
//	jm.deploy                JM → TM           deploy <task>
//	tm.task_received         JM → TM           deploy <task> (receipt)
//	tm.task_no_slot          note TM           task refused: no slot
//	tm.task_no_slot (JM)     TM → JM           task refused: no slot (the TaskSubmissionException's answer)
//	jm.release               JM → TM           release [idle] slot[: <cause>] (freeSlot)
//	tm.free_reason           note TM           free: <cause>
//	tm.free                  note TM           freed[ index N][ (STATE)]
//	tm.free_unknown          note TM           free failed: allocation unknown
//	rm.free                  TM → RM           slot freed (receipt of notifySlotAvailable, inferred; "by slot report": the heartbeat's report)
//	rm.free_mismatch         TM → RM           free ignored: slot holds <A'> (receipt)
//	rm.free_unknown          TM → RM           free of unknown slot, ignored (receipt)
//	tm.free_inactive         RM → TM           free inactive slots (receipt)
//	jm.cannot_fail_slot      TM → JM           fail slot: TaskManager unknown (receipt)
//	jm.request_timeout       note JM           request timed out
//	jm.task_failed           note JM           task failed
//	jm.job_state             note JM           job FROM → TO
//	jm.no_resource           note JM           no resources
//	rm.alloc_failed (JM)     RM → JM           request failed (the RPC's answer)
//	tm.free_reason (JM)      TM → JM           free: <cause> (read from an exception)
//	other kinds              note on the component that logged them
//
// A TaskManager is named by its ResourceID: the one the line names, else
// the TaskManager the allocation was last seen on, else the one that held
// it (Allocation.Resource).
type SequenceJSON struct {
	AllocationID string             `json:"allocation_id"`
	Job          string             `json:"job_id,omitempty"`
	Participants []string           `json:"participants"`
	Steps        []SequenceStepJSON `json:"steps"`
}

// SequenceStepJSON is one step of a sequence: a message between two
// participants, or a note on one (From == To). Says and Text hold log text
// raw: callers escape them for their output.
type SequenceStepJSON struct {
	// From and To are participant names: "JobManager", "ResourceManager",
	// "TaskManager <resource>" ("TaskManager" when no ResourceID is
	// known); equal for a note.
	From string `json:"from"`
	To   string `json:"to"`
	// Says is a short label: what the message or the step is ("request
	// slot", "allocated index 1", "refused: index taken by …").
	Says string `json:"says"`
	Kind string `json:"kind"` // the event's kind (flinklog.Kind)
	// Time is the event's time as the other outputs print it; for an
	// input shifted by a clock skew, followed by " (aligned T)", T the
	// time on the clock the steps are ordered by.
	Time string `json:"time,omitempty"`
	// Where is the line that shows the step, and Text that line as read:
	// for a fact read from an exception inside a record, the exception's
	// own line (as a finding's evidence cites it).
	Where *PlaceJSON `json:"where,omitempty"`
	Text  string     `json:"text"`
}

// The participants' names.
const (
	participantJM = "JobManager"
	participantRM = "ResourceManager"
	participantTM = "TaskManager"
)

// role is a component in the protocol.
type role uint8

const (
	roleNone role = iota
	roleJM
	roleRM
	roleTM
)

// The protocol messages a sender's line and a receiver's line both show:
// the receiver's is folded into the sender's arrow.
const (
	msgJMRequest = "jm→rm requestSlot"
	msgRMRequest = "rm→tm requestSlot"
	msgDeploy    = "jm→tm submitTask"
)

// message is how one event is drawn.
type message struct {
	from, to role // equal for a note
	says     string
	// send: the line logs the sending of this protocol message; receipt:
	// its receipt
	send, receipt string
}

// sequenceStep is a step with its times apart, for renderings that show
// times their own way.
type sequenceStep struct {
	SequenceStepJSON
	time, aligned string
}

// NewSequenceJSON returns the sequence of a's messages across the
// components (see SequenceJSON for how each event is drawn).
func NewSequenceJSON(m *reconstruct.Model, a *reconstruct.Allocation) SequenceJSON {
	s, _ := newSequence(m, a)
	return s
}

func newSequence(m *reconstruct.Model, a *reconstruct.Allocation) (SequenceJSON, []sequenceStep) {
	res := m.Result
	out := SequenceJSON{AllocationID: a.ID.String(), Job: a.Job.String(), Participants: []string{}, Steps: []SequenceStepJSON{}}
	var steps []sequenceStep
	seen := map[string]bool{}
	participant := func(name string) {
		if !seen[name] {
			seen[name] = true
			out.Participants = append(out.Participants, name)
		}
	}
	lastTM := ""
	pending := map[string]int{} // protocol message + receiver → sent, not yet received
	for _, i := range a.Events {
		ev := res.Event(i)
		msg := messageOf(ev, a.ID)
		tm := a.Resource
		if lastTM != "" {
			tm = lastTM
		}
		if ev.Resource != "" && (msg.from == roleTM || msg.to == roleTM) {
			tm, lastTM = ev.Resource, ev.Resource
		}
		name := func(r role) string {
			switch r {
			case roleJM:
				return participantJM
			case roleRM:
				return participantRM
			}
			if tm == "" {
				return participantTM
			}
			return participantTM + " " + tm
		}
		from, to := name(msg.from), name(msg.to)
		says := msg.says
		switch {
		case msg.send != "":
			pending[msg.send+"\x00"+to]++
		case msg.receipt != "" && pending[msg.receipt+"\x00"+to] > 0:
			pending[msg.receipt+"\x00"+to]--
			from, says = to, "received: "+says
		}
		participant(from)
		participant(to)
		st := sequenceStep{SequenceStepJSON: SequenceStepJSON{From: from, To: to, Says: says, Kind: string(ev.Kind)}}
		if ev.Time.Kind != flinklog.TimeNone {
			st.time = ev.Time.String()
			st.Time = st.time
			if off := m.Skew[ev.Pos.File].Offset; off != 0 {
				st.aligned = flinklog.Time{Kind: ev.Time.Kind, N: ev.Time.N + off}.String()
				st.Time += " (aligned " + st.aligned + ")"
			}
		}
		pos, text := ev.Pos, res.Text(i)
		if ev.CauseLine > 0 && ev.CauseText != "" {
			pos.Line, text = ev.CauseLine, ev.CauseText
		}
		st.Where, st.Text = place(m, pos), text
		out.Steps = append(out.Steps, st.SequenceStepJSON)
		steps = append(steps, st)
	}
	return out, steps
}

// kindRole is the component a kind belongs to (its prefix), roleNone for
// heartbeats and file facts.
func kindRole(k flinklog.Kind) role {
	switch {
	case strings.HasPrefix(string(k), "jm."):
		return roleJM
	case strings.HasPrefix(string(k), "rm."):
		return roleRM
	case strings.HasPrefix(string(k), "tm."):
		return roleTM
	}
	return roleNone
}

func componentRole(c flinklog.Component) role {
	switch c {
	case flinklog.ComponentJM:
		return roleJM
	case flinklog.ComponentRM:
		return roleRM
	case flinklog.ComponentTM:
		return roleTM
	}
	return roleNone
}

// sayCap is how many characters of log text (a cause, a task name) a
// step's label quotes.
const sayCap = 60

// messageOf says how ev, an event of allocation self's timeline, is drawn.
func messageOf(ev *flinklog.Event, self flinklog.ID) message {
	logger := componentRole(ev.Component)
	if logger == roleNone {
		logger = kindRole(ev.Kind)
	}
	if logger == roleNone {
		logger = roleJM
	}
	note := func(says string) message {
		r := kindRole(ev.Kind)
		if r == roleNone {
			r = logger
		}
		if r != logger {
			// a fact of r read from logger's exception: r's answer to an RPC
			return message{from: r, to: logger, says: says}
		}
		return message{from: r, to: r, says: says}
	}
	index := func(prefix string, n int) string {
		if n < 0 {
			return ""
		}
		return fmt.Sprintf("%sindex %d", prefix, n)
	}
	reason := func(prefix string) string {
		if ev.Reason == "" {
			return ""
		}
		return prefix + capRunes(ev.Reason, sayCap)
	}
	switch ev.Kind {
	// The JobManager's slot request (legacy: the JobManager names the AllocationID).
	case flinklog.KindJMSlotRequest:
		return message{from: roleJM, to: roleRM, says: "request slot", send: msgJMRequest}
	case flinklog.KindRMSlotRequest:
		return message{from: roleJM, to: roleRM, says: "request slot", receipt: msgJMRequest}
	case flinklog.KindRMDuplicateRequest:
		return message{from: roleJM, to: roleRM, says: "duplicate request, ignored"}
	case flinklog.KindRMCancelRequest:
		return message{from: roleJM, to: roleRM, says: "cancel request"}

	// The ResourceManager's request to a TaskManager, and its table.
	case flinklog.KindRMAllocStart:
		return message{from: roleRM, to: roleTM, says: "request slot" + index(", ", ev.SlotIndex), send: msgRMRequest}
	case flinklog.KindTMSlotRequest:
		return message{from: roleRM, to: roleTM, says: "request slot", receipt: msgRMRequest}
	case flinklog.KindTMAllocated:
		return note("allocated" + index(" ", ev.SlotIndex))
	case flinklog.KindTMAllocExists:
		if ev.Reason != "" {
			return note("duplicate accepted" + index(", holds ", ev.SlotIndex))
		}
		s := "already holds " + index("", ev.SlotIndex)
		if ev.SlotIndex < 0 {
			s = "already holds a slot"
		}
		return note(s + index(", required ", ev.RequestedIndex))
	case flinklog.KindTMAllocRefused:
		return note(refusal(ev, self))
	case flinklog.KindTMSlotOccupied:
		return note("refused: slot taken by another job")
	case flinklog.KindRMAllocFailed:
		return note("request failed" + reason(": "))
	case flinklog.KindRMSlotOccupied:
		return note("slot taken by another job")
	case flinklog.KindRMReportedAllocated:
		return note("slot reported taken")
	case flinklog.KindRMRequestTimeout:
		return note("request timed out")

	// The offer to the JobManager.
	case flinklog.KindTMOffer:
		return message{from: roleTM, to: roleJM, says: "offer slots"}
	case flinklog.KindJMFulfilled:
		if ev.Reason != "" {
			return note("returned slot reused")
		}
		return message{from: roleTM, to: roleJM, says: "offer fulfills request"}
	case flinklog.KindJMOfferMatched:
		return message{from: roleTM, to: roleJM, says: "offer matched"}
	case flinklog.KindJMOfferUnmatched:
		return message{from: roleTM, to: roleJM, says: "offer not matched"}
	case flinklog.KindJMRepeatedOffer:
		return message{from: roleTM, to: roleJM, says: "repeated offer, ignored"}
	case flinklog.KindTMOfferFailed:
		if ev.Reason != "" { // "offer failed, slots freed", "offer timed out, retrying"
			return note(capRunes(ev.Reason, sayCap))
		}
		return note("offer failed")
	case flinklog.KindTMActivate:
		return note("activated")
	case flinklog.KindTMMarkActiveFailed:
		return note("could not mark active")

	// Deployment.
	case flinklog.KindJMDeploy:
		return message{from: roleJM, to: roleTM, says: "deploy " + capRunes(ev.Task, sayCap), send: msgDeploy}
	case flinklog.KindTMTaskReceived:
		return message{from: roleJM, to: roleTM, says: "deploy " + capRunes(ev.Task, sayCap), receipt: msgDeploy}
	case flinklog.KindTaskNoSlot:
		return note("task refused: no slot")
	case flinklog.KindTMTaskFailed, flinklog.KindJMTaskFailed:
		return note("task failed")

	// Freeing.
	case flinklog.KindJMRelease:
		switch ev.Reason {
		case "":
			return message{from: roleJM, to: roleTM, says: "release slot"}
		case "idle":
			return message{from: roleJM, to: roleTM, says: "release idle slot"}
		}
		return message{from: roleJM, to: roleTM, says: "release slot: " + capRunes(ev.Reason, sayCap)}
	case flinklog.KindTMFreeReason:
		return note("free" + reason(": "))
	case flinklog.KindTMFree:
		s := "freed" + index(" ", ev.SlotIndex)
		if ev.SlotState != "" {
			s += " (" + ev.SlotState + ")"
		}
		return note(s)
	case flinklog.KindTMFreeUnknown:
		return note("free failed: allocation unknown")
	case flinklog.KindRMFree:
		if ev.Reason != "" {
			return message{from: roleTM, to: roleRM, says: "slot report: slot freed"}
		}
		return message{from: roleTM, to: roleRM, says: "slot freed"}
	case flinklog.KindRMFreeMismatch:
		return message{from: roleTM, to: roleRM, says: "free ignored: slot holds " + shortID(ev.Other)}
	case flinklog.KindRMFreeUnknown:
		return message{from: roleTM, to: roleRM, says: "free of unknown slot, ignored"}
	case flinklog.KindTMFreeInactive:
		return message{from: roleRM, to: roleTM, says: "free inactive slots"}
	case flinklog.KindJMCannotFailSlot:
		return message{from: roleTM, to: roleJM, says: "fail slot: TaskManager unknown"}

	// The JobManager's own steps.
	case flinklog.KindJMRequestTimeout:
		return note("request timed out")
	case flinklog.KindJMJobState:
		return note("job " + capRunes(ev.From, sayCap) + " → " + capRunes(ev.To, sayCap))
	case flinklog.KindJMNoResource:
		return note("no resources")
	}
	return note(string(ev.Kind))
}

// refusal labels a TaskManager table's refusal. A line that names this
// allocation as the occupant of the index refused another one.
func refusal(ev *flinklog.Event, self flinklog.ID) string {
	if ev.Other.IsSet() && ev.Other == self && ev.Alloc != self {
		s := "refused another request: holds the index"
		if ev.Alloc.IsSet() {
			s = "refused " + shortID(ev.Alloc) + ": holds the index"
		}
		if ev.SlotIndex >= 0 {
			s += fmt.Sprintf(" (%d)", ev.SlotIndex)
		}
		return s
	}
	var why string
	switch ev.Reason {
	case flinklog.ReasonIndexTaken:
		why = "index taken"
		if ev.SlotIndex >= 0 {
			why = fmt.Sprintf("index %d taken", ev.SlotIndex)
		}
		if ev.Other.IsSet() {
			why += " by " + shortID(ev.Other)
		}
	case flinklog.ReasonAllocatedElsewhere:
		why = "already allocated in another slot"
	case flinklog.ReasonUnknownRMLeader:
		why = "unknown ResourceManager leader"
	case flinklog.ReasonNoRM:
		why = "no ResourceManager connected"
	case "":
		return "refused"
	default:
		why = capRunes(ev.Reason, sayCap)
	}
	return "refused: " + why
}

// shortID is an ID's first 8 hex digits, enough to tell the few IDs of one
// story apart.
func shortID(id flinklog.ID) string {
	s := id.String()
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}

// capRunes cuts s to n runes and "…".
func capRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
