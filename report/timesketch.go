package report

// This file writes the Timesketch export: every slot-lifecycle event and
// every finding as one JSON line in Timesketch's import format, so that an
// investigation can go on in Timesketch beside the other sources of the
// incident (https://timesketch.org/guides/user/import-from-json-csv/:
// each line needs message, datetime and timestamp_desc; timestamp, in
// microseconds, is optional; every other field is kept as an attribute).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TimesketchEventJSON is one line of the Timesketch export.
type TimesketchEventJSON struct {
	Message       string `json:"message"`
	Datetime      string `json:"datetime"`
	Timestamp     int64  `json:"timestamp"` // microseconds since the epoch
	TimestampDesc string `json:"timestamp_desc"`
	// DataType tells events ("flink:slot:event") from findings
	// ("slotaudit:finding").
	DataType string `json:"data_type"`
	// TimeNote says how a time without a date or a zone was placed: a
	// log4j wall clock is taken as UTC (Timesketch needs a zone), a time
	// of day or a time since JVM start on 1970-01-01.
	TimeNote     string `json:"time_note,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Component    string `json:"component,omitempty"`
	AllocationID string `json:"allocation_id,omitempty"`
	JobID        string `json:"job_id,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	SlotIndex    *int   `json:"slot_index,omitempty"`
	Rule         string `json:"rule,omitempty"`
	FindingID    string `json:"finding_id,omitempty"`
	Severity     string `json:"severity,omitempty"`
	Path         string `json:"path,omitempty"`
	Stream       string `json:"stream,omitempty"`
	Line         int64  `json:"line,omitempty"`
}

// timesketchTime places a log time on Timesketch's absolute clock.
func timesketchTime(t flinklog.Time) (datetime string, micros int64, note string) {
	at := time.Unix(0, t.N).UTC()
	switch t.Kind {
	case flinklog.TimeLocal:
		note = "the log's wall-clock time, zone unknown, taken as UTC"
	case flinklog.TimeOfDay:
		note = "a time of day without a date, placed on 1970-01-01 (+N days after the log's first day)"
	case flinklog.TimeRelative:
		note = "time since the JVM started, placed after 1970-01-01T00:00:00Z"
	case flinklog.TimeNone:
		return "", 0, "no time"
	}
	return at.Format("2006-01-02T15:04:05.000000Z07:00"), t.N / 1e3, note
}

// WriteTimesketch writes every event and finding as Timesketch JSONL: a
// line per input, the events in the order of the logs, the findings, and
// a summary line with the status. An event whose
// line carries no time takes the time of the line before it in the same
// input and says so (Timesketch cannot import a line without one), so no
// event is left out.
func (a *Audit) WriteTimesketch(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := NewJSONEncoder(bw)
	m := a.Model
	res := m.Result
	doc := a.JSON()
	// what was read, first: the import says which logs it stands on
	for _, in := range doc.Inputs {
		msg := fmt.Sprintf("slotaudit read %s: %s layout, Flink %s, %d lines, %d records, %d events, %d unparsed, %d stray",
			in.Path, in.Layout, orDash(in.FlinkVersion), in.Lines, in.Records, in.Events, in.Unparsed, in.Stray)
		if in.Error != "" {
			msg += "; " + in.Error
		}
		if err := enc.Encode(TimesketchEventJSON{Message: msg, Datetime: epoch, TimestampDesc: "slotaudit input",
			DataType: "slotaudit:input", TimeNote: "not a moment of the incident", ResourceID: in.ResourceID, Path: in.Path, Stream: in.Stream}); err != nil {
			return err
		}
	}
	last := map[int32]flinklog.Time{} // input → the time of its last timed line
	each := a.AllEvents
	if each == nil {
		each = func(yield func(*flinklog.Event) error) error {
			for ref := range res.All() {
				ev := *res.Event(ref)
				ev.SetText("", res.Text(ref))
				if err := yield(&ev); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return a.writeTimesketch(bw, enc, &doc, last, each)
}

// writeTimesketch writes the event lines each yields, the findings and
// the summary line (WriteTimesketch).
func (a *Audit) writeTimesketch(bw *bufio.Writer, enc *json.Encoder, doc *AuditJSON, last map[int32]flinklog.Time, each func(yield func(*flinklog.Event) error) error) error {
	m := a.Model
	res := m.Result
	err := each(func(ev *flinklog.Event) error {
		t, borrowed := ev.Time, false
		if t.Kind == flinklog.TimeNone {
			t, borrowed = last[ev.Pos.File], true
		} else {
			last[ev.Pos.File] = t
		}
		dt, us, note := timesketchTime(t)
		if borrowed {
			note = "the line carries no time: placed at the time of the line before it"
			if dt == "" {
				dt, us = epoch, 0
			}
		}
		fi := res.Files[ev.Pos.File]
		line := TimesketchEventJSON{Message: ev.Text(), Datetime: dt, Timestamp: us, TimeNote: note,
			TimestampDesc: "Flink log line (" + string(ev.Component) + ")", DataType: "flink:slot:event",
			Kind: string(ev.Kind), Component: string(ev.Component), ResourceID: ev.Resource,
			Path: fi.Path, Stream: fi.Stream, Line: ev.Pos.Line, SlotIndex: optInt(ev.SlotIndex)}
		if ev.Alloc.IsSet() {
			line.AllocationID = ev.Alloc.String()
		}
		if ev.Job.IsSet() {
			line.JobID = ev.Job.String()
		}
		return enc.Encode(line)
	})
	if err != nil {
		return err
	}
	for _, f := range a.Shown() {
		dt, us, note := timesketchTime(f.Time)
		if dt == "" {
			dt, us, note = epoch, 0, "the decisive line carries no time"
		}
		line := TimesketchEventJSON{Message: "[" + f.Rule + "] " + f.Message, Datetime: dt, Timestamp: us, TimeNote: note,
			TimestampDesc: "slotaudit finding", DataType: "slotaudit:finding", Rule: f.Rule, FindingID: f.ID,
			Severity: f.Severity.String(), ResourceID: f.Resource, SlotIndex: optInt(f.SlotIndex)}
		if f.Alloc.IsSet() {
			line.AllocationID = f.Alloc.String()
		}
		if f.Job.IsSet() {
			line.JobID = f.Job.String()
		}
		if pl := place(m, f.Pos); pl != nil {
			line.Path, line.Stream, line.Line = pl.Path, pl.Stream, pl.Line
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	// last, the verdict: status and reason as in every machine format
	sum := doc.Summary
	msg := fmt.Sprintf("slotaudit: %d finding(s) (%d error, %d warning, %d info); %s", sum.Findings, sum.BySeverity["error"],
		sum.BySeverity["warning"], sum.BySeverity["info"], sum.Status)
	if sum.Reason != "" {
		msg += ": " + sum.Reason
	}
	if err := enc.Encode(TimesketchEventJSON{Message: msg, Datetime: epoch, TimestampDesc: "slotaudit summary",
		DataType: "slotaudit:summary", TimeNote: "not a moment of the incident"}); err != nil {
		return err
	}
	return bw.Flush()
}

// epoch is the datetime of the lines that are not moments of the incident
// (the inputs, the summary): Timesketch needs one.
const epoch = "1970-01-01T00:00:00.000000Z"
