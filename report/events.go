package report

import (
	"bufio"
	"io"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// EventJSON is one line of `slotaudit events`: the fields of the contract
// (time, component, kind, allocation_id, job_id, slot_index, resource_id,
// path, line) first, then whatever else the record printed. Absent values
// are omitted, never invented.
type EventJSON struct {
	Time           string           `json:"time,omitempty"`
	Component      string           `json:"component,omitempty"`
	Kind           string           `json:"kind"`
	AllocationID   string           `json:"allocation_id,omitempty"`
	JobID          string           `json:"job_id,omitempty"`
	SlotIndex      *int             `json:"slot_index,omitempty"`
	ResourceID     string           `json:"resource_id,omitempty"`
	Path           string           `json:"path"`
	Stream         string           `json:"stream,omitempty"`
	Line           int64            `json:"line"`
	RecordOnLine   int32            `json:"record_on_line,omitempty"`
	EndLine        int64            `json:"end_line,omitempty"`
	Level          string           `json:"level,omitempty"`
	SlotID         string           `json:"slot_id,omitempty"`
	Dynamic        bool             `json:"dynamic_slot,omitempty"`
	RequestedIndex *int             `json:"requested_index,omitempty"`
	SlotState      string           `json:"slot_state,omitempty"`
	OtherAlloc     string           `json:"other_allocation_id,omitempty"`
	InstanceID     string           `json:"instance_id,omitempty"`
	RequestID      string           `json:"slot_request_id,omitempty"`
	Task           string           `json:"task,omitempty"`
	AttemptID      string           `json:"attempt_id,omitempty"`
	From           string           `json:"from,omitempty"`
	To             string           `json:"to,omitempty"`
	Reason         string           `json:"reason,omitempty"`
	Version        string           `json:"version,omitempty"`
	Count          int              `json:"count,omitempty"`
	Slots          []SlotStatusJSON `json:"slots,omitempty"`
	Text           string           `json:"text,omitempty"`
	// the exception line inside the record that the event was read from
	// (line and text stay the record's first line)
	CauseLine int64  `json:"cause_line,omitempty"`
	CauseText string `json:"cause_text,omitempty"`
}

// SlotStatusJSON is one entry of a slot report.
type SlotStatusJSON struct {
	SlotID       string `json:"slot_id"`
	ResourceID   string `json:"resource_id,omitempty"`
	SlotIndex    *int   `json:"slot_index,omitempty"`
	AllocationID string `json:"allocation_id,omitempty"`
	JobID        string `json:"job_id,omitempty"`
}

func optInt(v int) *int {
	if v < 0 {
		return nil
	}
	return &v
}

// NewEventJSON converts the event ref names for output.
func NewEventJSON(res *parser.Result, ref parser.EventRef) EventJSON {
	return EventJSONOf(res.Files, res.Event(ref), res.Text(ref))
}

// EventJSONOf converts ev, read from files, with its text, for output.
func EventJSONOf(files parser.Files, ev *flinklog.Event, text string) EventJSON {
	var fi parser.FileInfo
	if int(ev.Pos.File) < len(files) {
		fi = files[ev.Pos.File]
	}
	out := EventJSON{
		Time:           ev.Time.String(),
		Component:      string(ev.Component),
		Kind:           string(ev.Kind),
		AllocationID:   ev.Alloc.String(),
		JobID:          ev.Job.String(),
		SlotIndex:      optInt(ev.SlotIndex),
		ResourceID:     ev.Resource,
		Path:           fi.Path,
		Stream:         fi.Stream,
		Line:           ev.Pos.Line,
		RecordOnLine:   ev.Pos.Rec,
		Level:          string(ev.Level),
		SlotID:         ev.SlotID,
		Dynamic:        ev.Dynamic,
		RequestedIndex: optInt(ev.RequestedIndex),
		SlotState:      ev.SlotState,
		OtherAlloc:     ev.Other.String(),
		InstanceID:     ev.Instance.String(),
		RequestID:      ev.Request,
		Task:           ev.Task,
		AttemptID:      ev.Attempt,
		From:           ev.From,
		To:             ev.To,
		Reason:         ev.Reason,
		Version:        ev.Version,
		Count:          ev.Count,
		Text:           text,
		CauseLine:      ev.CauseLine,
		CauseText:      ev.CauseText,
	}
	if ev.EndLine > ev.Pos.Line {
		out.EndLine = ev.EndLine
	}
	for _, s := range ev.Slots {
		out.Slots = append(out.Slots, SlotStatusJSON{
			SlotID: s.SlotID, ResourceID: s.Resource, SlotIndex: optInt(s.Index),
			AllocationID: s.Alloc.String(), JobID: s.Job.String(),
		})
	}
	return out
}

// WriteEventsFrom is WriteEvents of the events each yields, read from
// files with their texts (a read that holds none of them, read again:
// parser.Result.AllAgain), buffered.
func WriteEventsFrom(w io.Writer, files parser.Files, each func(yield func(*flinklog.Event) error) error, keep func(*flinklog.Event) bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var lines eventLines
	err := each(func(ev *flinklog.Event) error {
		if keep != nil && !keep(ev) {
			return nil
		}
		e := EventJSONOf(files, ev, ev.Text())
		lines.b = lines.b[:0]
		lines.event(&e)
		_, err := bw.Write(lines.b)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// WriteEvents writes one JSON object per line: every event, repeated slot
// reports written out where their lines are.
func WriteEvents(w io.Writer, res *parser.Result, keep func(*flinklog.Event) bool) error {
	var lines eventLines
	for v := range res.All() {
		ev := res.Event(v)
		if keep != nil && !keep(ev) {
			continue
		}
		e := NewEventJSON(res, v)
		lines.b = lines.b[:0]
		lines.event(&e)
		if _, err := w.Write(lines.b); err != nil {
			return err
		}
	}
	return nil
}
