package report

// This file writes the lines of `slotaudit events` by hand: the bytes
// NewJSONEncoder gives an EventJSON, without the encoder's reflection —
// 1.3 µs an event, most of the command's time on an allocation-dense log
// once the events are decoded from the read's spill rather than parsed
// again. TestEventJSONIsTheEncoders and FuzzEventJSON hold the two to the
// byte.

import "strconv"

// eventLines appends EventJSONs, one a line.
type eventLines struct {
	b     []byte
	first bool // no member yet in the object being written
	strs  jsonStrings
}

func (j *eventLines) member(name string) {
	if !j.first {
		j.b = append(j.b, ',')
	}
	j.first = false
	j.b = append(j.b, '"')
	j.b = append(j.b, name...)
	j.b = append(j.b, '"', ':')
}

// str appends a string member; omitEmpty leaves "" out, as the field's
// omitempty does.
func (j *eventLines) str(name, s string, omitEmpty bool) {
	if omitEmpty && s == "" {
		return
	}
	j.member(name)
	j.b = j.strs.append(j.b, s)
}

// int appends an integer member; omitEmpty leaves 0 out.
func (j *eventLines) int(name string, v int64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	j.member(name)
	j.b = strconv.AppendInt(j.b, v, 10)
}

// optInt appends a member of a *int field with omitempty: nil is left out.
func (j *eventLines) optInt(name string, v *int) {
	if v != nil {
		j.int(name, int64(*v), false)
	}
}

// event appends e's line, newline included. The members come in the
// order of EventJSON's fields, each omitted where its tag omits it.
func (j *eventLines) event(e *EventJSON) {
	j.b = append(j.b, '{')
	j.first = true
	j.str("time", e.Time, true)
	j.str("component", e.Component, true)
	j.str("kind", e.Kind, false)
	j.str("allocation_id", e.AllocationID, true)
	j.str("job_id", e.JobID, true)
	j.optInt("slot_index", e.SlotIndex)
	j.str("resource_id", e.ResourceID, true)
	j.str("path", e.Path, false)
	j.str("stream", e.Stream, true)
	j.int("line", e.Line, false)
	j.int("record_on_line", int64(e.RecordOnLine), true)
	j.int("end_line", e.EndLine, true)
	j.str("level", e.Level, true)
	j.str("slot_id", e.SlotID, true)
	if e.Dynamic {
		j.member("dynamic_slot")
		j.b = append(j.b, "true"...)
	}
	j.optInt("requested_index", e.RequestedIndex)
	j.str("slot_state", e.SlotState, true)
	j.str("other_allocation_id", e.OtherAlloc, true)
	j.str("instance_id", e.InstanceID, true)
	j.str("slot_request_id", e.RequestID, true)
	j.str("task", e.Task, true)
	j.str("attempt_id", e.AttemptID, true)
	j.str("from", e.From, true)
	j.str("to", e.To, true)
	j.str("reason", e.Reason, true)
	j.str("version", e.Version, true)
	j.int("count", int64(e.Count), true)
	if len(e.Slots) > 0 {
		j.member("slots")
		j.b = append(j.b, '[')
		for k := range e.Slots {
			if k > 0 {
				j.b = append(j.b, ',')
			}
			j.slot(&e.Slots[k])
		}
		j.b = append(j.b, ']')
	}
	j.str("text", e.Text, true)
	j.int("cause_line", e.CauseLine, true)
	j.str("cause_text", e.CauseText, true)
	j.b = append(j.b, '}', '\n')
}

// slot appends one entry of a slot report.
func (j *eventLines) slot(s *SlotStatusJSON) {
	j.b = append(j.b, '{')
	j.first = true
	j.str("slot_id", s.SlotID, false)
	j.str("resource_id", s.ResourceID, true)
	j.optInt("slot_index", s.SlotIndex)
	j.str("allocation_id", s.AllocationID, true)
	j.str("job_id", s.JobID, true)
	j.b = append(j.b, '}')
	j.first = false // (the event's members go on after the slots)
}
