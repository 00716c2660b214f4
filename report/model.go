package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/slotaudit/slotaudit/reconstruct"
)

// TimelineEventJSON is one step of an allocation's timeline.
type TimelineEventJSON struct {
	Time      string `json:"time,omitempty"`
	Component string `json:"component,omitempty"`
	Kind      string `json:"kind"`
	SlotIndex *int   `json:"slot_index,omitempty"`
	Path      string `json:"path"`
	Stream    string `json:"stream,omitempty"`
	Line      int32  `json:"line"`
	Text      string `json:"text"`
}

// AllocationJSON is one AllocationID's timeline (`timeline --format json`).
type AllocationJSON struct {
	AllocationID string              `json:"allocation_id"`
	JobID        string              `json:"job_id,omitempty"`
	ResourceID   string              `json:"resource_id,omitempty"`
	SlotIndexes  []int               `json:"slot_indexes"`
	Events       []TimelineEventJSON `json:"events"`
}

// SkewJSON reports a clock offset assumed for an input.
type SkewJSON struct {
	Path     string  `json:"path"`
	Stream   string  `json:"stream,omitempty"`
	OffsetS  float64 `json:"offset_seconds"`
	Evidence string  `json:"evidence"`
}

// NewAllocationJSON converts a timeline. Slot indexes are the ones the
// allocation's own lines printed, in order of first appearance.
func NewAllocationJSON(m *reconstruct.Model, a *reconstruct.Allocation) AllocationJSON {
	res := m.Result
	out := AllocationJSON{AllocationID: a.ID.String(), JobID: a.Job.String(), ResourceID: a.Resource, SlotIndexes: []int{}, Events: []TimelineEventJSON{}}
	seen := map[int]bool{}
	for _, i := range a.Events {
		ev := &res.Events[i]
		fi := res.Files[ev.Pos.File]
		if ev.SlotIndex >= 0 && ev.Alloc == a.ID && !seen[ev.SlotIndex] {
			seen[ev.SlotIndex] = true
			out.SlotIndexes = append(out.SlotIndexes, ev.SlotIndex)
		}
		out.Events = append(out.Events, TimelineEventJSON{
			Time: ev.Time.String(), Component: string(ev.Component), Kind: string(ev.Kind), SlotIndex: optInt(ev.SlotIndex),
			Path: fi.Path, Stream: fi.Stream, Line: ev.Pos.Line, Text: ev.Text,
		})
	}
	return out
}

func skews(m *reconstruct.Model) []SkewJSON {
	var out []SkewJSON
	for file, sk := range m.Skew {
		if sk.Offset == 0 {
			continue
		}
		fi := m.Result.Files[file]
		ev, rel := &m.Result.Events[sk.Because], &m.Result.Events[sk.Relative]
		out = append(out, SkewJSON{Path: fi.Path, Stream: fi.Stream, OffsetS: float64(sk.Offset) / 1e9,
			Evidence: fmt.Sprintf("%s received %s before %s requested it", m.Result.Files.Position(ev.Pos), ev.Alloc, m.Result.Files.Position(rel.Pos))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Stream < out[j].Path+out[j].Stream })
	return out
}

// WriteTimelineJSON writes `{"allocations": [...], "clock_skew": [...]}`.
func WriteTimelineJSON(w io.Writer, m *reconstruct.Model, only []*reconstruct.Allocation) error {
	doc := struct {
		Allocations []AllocationJSON `json:"allocations"`
		Skew        []SkewJSON       `json:"clock_skew,omitempty"`
	}{Allocations: []AllocationJSON{}, Skew: skews(m)}
	for _, a := range only {
		doc.Allocations = append(doc.Allocations, NewAllocationJSON(m, a))
	}
	return writeJSON(w, doc)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
}

// WriteTimelineTable writes each timeline as a table of its steps.
func WriteTimelineTable(w io.Writer, m *reconstruct.Model, only []*reconstruct.Allocation) error {
	for n, a := range only {
		j := NewAllocationJSON(m, a)
		if n > 0 {
			fmt.Fprintln(w)
		}
		idx := "unknown"
		if len(j.SlotIndexes) > 0 {
			idx = strings.Trim(fmt.Sprint(j.SlotIndexes), "[]")
		}
		fmt.Fprintf(w, "allocation %s  job %s  taskmanager %s  slot index %s\n", j.AllocationID, orDash(j.JobID), orDash(Escape(j.ResourceID)), idx)
		t := newTable(w)
		t.Header([]string{"time", "comp", "event", "index", "where"})
		for _, e := range j.Events {
			i := ""
			if e.SlotIndex != nil {
				i = fmt.Sprint(*e.SlotIndex)
			}
			where := e.Path
			if e.Stream != "" {
				where += "#" + e.Stream
			}
			if err := t.Append([]string{e.Time, strings.ToUpper(e.Component), e.Kind, i, Escape(fmt.Sprintf("%s:%d", where, e.Line))}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	for _, s := range skews(m) {
		fmt.Fprintf(w, "\nclock skew assumed: %s shifted by %+.3f s (%s)\n", Escape(s.Path), s.OffsetS, Escape(s.Evidence))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// SlotJSON is one slot of a table.
type SlotJSON struct {
	Index        *int   `json:"index"`
	IndexSource  string `json:"index_source"` // observed path:line, or "unknown"
	State        string `json:"state"`
	AllocationID string `json:"allocation_id"`
	JobID        string `json:"job_id,omitempty"`
	Zombie       bool   `json:"zombie,omitempty"`
	// Mapped says whether the AllocationID map leads to this very slot.
	Mapped bool `json:"mapped"`
}

// TaskManagerJSON is one TaskManager's table under one model (`slots --format json`).
type TaskManagerJSON struct {
	ResourceID    string          `json:"resource_id"`
	Model         string          `json:"model"`
	Slots         []SlotJSON      `json:"slots"`
	AllocationMap map[string]*int `json:"allocation_map"`
}

// NewTaskManagerJSON renders the last process of a TaskManager under a model.
func NewTaskManagerJSON(m *reconstruct.Model, tm *reconstruct.TaskManager, model reconstruct.Semantics) TaskManagerJSON {
	return NewReplayJSON(m, tm.Resource, tm.Processes[len(tm.Processes)-1].Replay, model)
}

// NewReplayJSON renders one replayed table (e.g. as it stood at --at).
func NewReplayJSON(m *reconstruct.Model, resource string, r *reconstruct.Replay, model reconstruct.Semantics) TaskManagerJSON {
	tab := r.Tables[model]
	out := TaskManagerJSON{ResourceID: resource, Model: model.String(), Slots: []SlotJSON{}, AllocationMap: map[string]*int{}}
	zombies := map[int]bool{}
	for _, z := range tab.Zombies() {
		zombies[z.Index] = true
	}
	// Known indexes ascending, then slots whose index no line printed, oldest
	// allocation first (placeholder keys count down from -1).
	slots := tab.Slots()
	sort.SliceStable(slots, func(i, j int) bool {
		a, b := r.IndexOf(slots[i].Index), r.IndexOf(slots[j].Index)
		switch {
		case a >= 0 && b >= 0:
			return a < b
		case a >= 0 || b >= 0:
			return a >= 0
		}
		return slots[i].Index > slots[j].Index
	})
	for _, s := range slots {
		key, inMap := tab.Lookup(s.Alloc)
		sj := SlotJSON{State: s.State.String(), AllocationID: s.Alloc.String(), JobID: s.Job.String(), Zombie: zombies[s.Index], IndexSource: "unknown", Mapped: inMap && key == s.Index}
		if idx := r.IndexOf(s.Index); idx >= 0 {
			sj.Index = &idx
			sj.IndexSource = "observed"
			if info, ok := r.Indexes[s.Index]; ok && info.Observed.Line > 0 {
				sj.IndexSource = "observed at " + m.Result.Files.Position(info.Observed)
			}
		}
		out.Slots = append(out.Slots, sj)
		if inMap {
			out.AllocationMap[s.Alloc.String()] = optInt(r.IndexOf(key))
		}
	}
	return out
}

// WriteSlotsJSON writes `{"taskmanagers": [...]}`.
func WriteSlotsJSON(w io.Writer, tms []TaskManagerJSON) error {
	return writeJSON(w, struct {
		TaskManagers []TaskManagerJSON `json:"taskmanagers"`
	}{tms})
}

// WriteSlotsTable writes one table per TaskManager and model.
func WriteSlotsTable(w io.Writer, tms []TaskManagerJSON) error {
	for n, tm := range tms {
		if n > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "taskmanager %s  (%s model)\n", Escape(tm.ResourceID), tm.Model)
		t := newTable(w)
		t.Header([]string{"index", "state", "allocation", "job", "in map", "note"})
		for _, s := range tm.Slots {
			idx := "?"
			if s.Index != nil {
				idx = fmt.Sprint(*s.Index)
			}
			mapped := "no"
			if s.Mapped {
				mapped = "yes"
			}
			note := s.IndexSource
			if s.Zombie {
				note = "ZOMBIE: the map no longer reaches this slot; " + note
			}
			if err := t.Append([]string{idx, s.State, s.AllocationID, orDash(s.JobID), mapped, Escape(note)}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	return nil
}
