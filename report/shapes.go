package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// TimelineEventJSON is one step of an allocation's timeline.
type TimelineEventJSON struct {
	Time string `json:"time,omitempty"`
	// AlignedTime is Time moved by the input's estimated clock skew, on
	// the clock the timeline is ordered by (set only for skewed inputs).
	AlignedTime string `json:"aligned_time,omitempty"`
	Component   string `json:"component,omitempty"`
	Kind        string `json:"kind"`
	// SlotIndex is the index the line itself printed.
	SlotIndex *int   `json:"slot_index,omitempty"`
	Path      string `json:"path"`
	Stream    string `json:"stream,omitempty"`
	Line      int64  `json:"line"`
	// RecordOnLine tells apart records that begin on the same line (the
	// records of a log-store export's page saved on one line): omitted for
	// the first, as for every record of a log file (flinklog.Pos.Rec).
	RecordOnLine int32  `json:"record_on_line,omitempty"`
	Text         string `json:"text"`
}

// HeldSlotJSON is one slot an allocation occupied on a TaskManager.
type HeldSlotJSON struct {
	ResourceID    string             `json:"resource_id"`
	Index         *int               `json:"index"`
	IndexSource   string             `json:"index_source"`
	IndexEvidence *IndexEvidenceJSON `json:"index_evidence,omitempty"`
	// Allocated is the line that created the slot (for a slot held before
	// a mid-story log begins, Prior is set and it is the first line that
	// shows it); Freed the line that freed it, null while held at the end.
	Allocated *PlaceJSON `json:"allocated"`
	Prior     bool       `json:"prior,omitempty"`
	Freed     *PlaceJSON `json:"freed"`
	Zombie    bool       `json:"zombie,omitempty"`
	// Replaced: still held when the TaskManager process was replaced by a
	// restart that began here (the new process starts with an empty table).
	Replaced *PlaceJSON `json:"replaced,omitempty"`
}

// AllocationJSON is one AllocationID's timeline (`timeline --format json`).
type AllocationJSON struct {
	AllocationID string              `json:"allocation_id"`
	JobID        string              `json:"job_id,omitempty"`
	ResourceID   string              `json:"resource_id,omitempty"`
	SlotIndexes  []int               `json:"slot_indexes"`
	Slots        []HeldSlotJSON      `json:"slots"`
	Events       []TimelineEventJSON `json:"events"`
}

// SkewJSON reports a clock offset assumed for an input.
type SkewJSON struct {
	Path     string  `json:"path"`
	Stream   string  `json:"stream,omitempty"`
	OffsetS  float64 `json:"offset_seconds"`
	Evidence string  `json:"evidence"`
}

// targetOnly are kinds whose printed slot is one the ResourceManager
// aimed a request at, not one the allocation is known to have held.
var targetOnly = map[flinklog.Kind]bool{
	flinklog.KindRMAllocFailed: true, flinklog.KindRMAllocStart: true, flinklog.KindRMSlotOccupied: true,
	flinklog.KindJMDeploy: true, flinklog.KindTMSlotOccupied: true,
}

// NewAllocationJSON converts a timeline. Slot indexes are those of the
// slots the allocation held in a replayed TaskManager table (known ones,
// oldest first); without a TaskManager log, those its own lines printed.
func NewAllocationJSON(m *reconstruct.Model, a *reconstruct.Allocation) AllocationJSON {
	res := m.Result
	out := AllocationJSON{AllocationID: a.ID.String(), JobID: a.Job.String(), ResourceID: a.Resource,
		SlotIndexes: []int{}, Slots: []HeldSlotJSON{}, Events: []TimelineEventJSON{}}
	seen := map[int]bool{}
	addIndex := func(i int) {
		if i >= 0 && !seen[i] {
			seen[i] = true
			out.SlotIndexes = append(out.SlotIndexes, i)
		}
	}
	for _, h := range a.Held {
		hj := HeldSlotJSON{ResourceID: h.Resource, IndexSource: h.Index.Source.String(),
			Allocated: place(m, res.Pos(h.Allocated)), Prior: h.Prior, Zombie: h.Zombie}
		if h.Index.Index >= 0 {
			hj.Index = optInt(h.Index.Index)
			hj.IndexEvidence = &IndexEvidenceJSON{How: h.Index.How, Where: place(m, h.Index.Pos)}
			addIndex(h.Index.Index)
		}
		if h.Freed >= 0 {
			hj.Freed = place(m, res.Pos(h.Freed))
		}
		if h.Replaced >= 0 {
			hj.Replaced = place(m, res.Pos(h.Replaced))
		}
		out.Slots = append(out.Slots, hj)
	}
	for _, i := range a.Events {
		ev := res.Event(i)
		if len(a.Held) == 0 && ev.Alloc == a.ID && !targetOnly[ev.Kind] {
			addIndex(ev.SlotIndex)
		}
		out.Events = append(out.Events, timelineEvent(m, ev.Pos, ev.Time, ev.Component, ev.Kind, ev.SlotIndex, res.Text(i)))
	}
	return out
}

// timelineEvent is one line of a timeline.
func timelineEvent(m *reconstruct.Model, pos flinklog.Pos, t flinklog.Time, comp flinklog.Component, kind flinklog.Kind, slot int, text string) TimelineEventJSON {
	fi := m.Result.Files[pos.File]
	e := TimelineEventJSON{
		Time: t.String(), Component: string(comp), Kind: string(kind), SlotIndex: optInt(slot),
		Path: fi.Path, Stream: fi.Stream, Line: pos.Line, RecordOnLine: pos.Rec, Text: text,
	}
	if off := m.Skew[pos.File].Offset; off != 0 && t.Kind != flinklog.TimeNone {
		e.AlignedTime = flinklog.Time{Kind: t.Kind, N: t.N + off}.String()
	}
	return e
}

// timeline is one allocation's timeline as the outputs write it: its
// JSON, the input of each of its events (whose clock skew shifts it), and
// whether a TaskManager's log replayed it.
type timeline struct {
	j        AllocationJSON
	files    []int32
	replayed bool
}

// timelineOf is a's timeline.
func timelineOf(m *reconstruct.Model, a *reconstruct.Allocation) timeline {
	t := timeline{j: NewAllocationJSON(m, a), files: make([]int32, len(a.Events)), replayed: replayedOn(m, a)}
	for k, i := range a.Events {
		t.files[k] = m.Result.Pos(i).File
	}
	return t
}

// foldedTimelineOf is the timeline of an allocation a fold let go, as
// NewAllocationJSON makes the timeline of one it kept.
func foldedTimelineOf(m *reconstruct.Model, fa *reconstruct.FoldedAllocation) timeline {
	res := m.Result
	out := AllocationJSON{AllocationID: fa.ID.String(), JobID: fa.Job.String(), ResourceID: fa.Resource,
		SlotIndexes: []int{}, Slots: []HeldSlotJSON{}, Events: []TimelineEventJSON{}}
	t := timeline{files: make([]int32, len(fa.Events))}
	seen := map[int]bool{}
	addIndex := func(i int) {
		if i >= 0 && !seen[i] {
			seen[i] = true
			out.SlotIndexes = append(out.SlotIndexes, i)
		}
	}
	for _, h := range fa.Held {
		hj := HeldSlotJSON{ResourceID: h.Resource, IndexSource: h.Index.Source.String(), Allocated: place(m, h.Allocated)}
		if h.Index.Index >= 0 {
			hj.Index = optInt(h.Index.Index)
			hj.IndexEvidence = &IndexEvidenceJSON{How: h.Index.How, Where: place(m, h.Index.Pos)}
			addIndex(h.Index.Index)
		}
		if h.Freed.Line > 0 {
			hj.Freed = place(m, h.Freed)
		}
		out.Slots = append(out.Slots, hj)
	}
	for k := range fa.Events {
		ev := &fa.Events[k]
		if len(fa.Held) == 0 && ev.Own && !targetOnly[ev.Kind] {
			addIndex(ev.SlotIndex)
		}
		text := ev.Text
		if ev.TextAway {
			text = res.TextAt(ev.Pos, ev.TextSum)
		}
		out.Events = append(out.Events, timelineEvent(m, ev.Pos, ev.Time, ev.Component, ev.Kind, ev.SlotIndex, text))
		t.files[k] = ev.Pos.File
		t.replayed = t.replayed || ev.Component == flinklog.ComponentTM
	}
	t.j = out
	return t
}

// eachTimeline yields the timelines of only, in order; for a fold's model
// that kept the timelines of the allocations it let go
// (Model.FoldedTimelines), of those too, merged in the order of their
// first line's rank — the batch model's order (only is then every
// allocation the model holds).
func eachTimeline(m *reconstruct.Model, only []*reconstruct.Allocation, yield func(timeline) error) error {
	next := 0
	if ft := m.FoldedTimelines; ft != nil {
		err := ft.Each(func(fa *reconstruct.FoldedAllocation) error {
			for ; next < len(only) && m.Rank[only[next].Events[0]] <= fa.Events[0].Rank; next++ {
				if err := yield(timelineOf(m, only[next])); err != nil {
					return err
				}
			}
			return yield(foldedTimelineOf(m, fa))
		})
		if err != nil {
			return err
		}
	}
	for ; next < len(only); next++ {
		if err := yield(timelineOf(m, only[next])); err != nil {
			return err
		}
	}
	return nil
}

// timelineCount is how many timelines eachTimeline yields.
func timelineCount(m *reconstruct.Model, only []*reconstruct.Allocation) int {
	n := len(only)
	if m.FoldedTimelines != nil {
		n += m.FoldedTimelines.Len()
	}
	return n
}

// skewed is one input shifted by a clock skew, with the two lines that
// force it.
type skewed struct {
	fi      parser.FileInfo
	offset  int64
	ev, rel *flinklog.Event // the TaskManager's early line, the ResourceManager's it had to follow
}

// skewsOf lists the inputs a clock skew shifts, by path.
func skewsOf(m *reconstruct.Model) []skewed {
	var out []skewed
	for file, sk := range m.Skew {
		if sk.Offset == 0 {
			continue
		}
		out = append(out, skewed{m.Result.Files[file], sk.Offset, m.Result.Event(sk.Because), m.Result.Event(sk.Relative)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].fi.Path+out[i].fi.Stream < out[j].fi.Path+out[j].fi.Stream })
	return out
}

func skews(m *reconstruct.Model) []SkewJSON {
	var out []SkewJSON
	for _, s := range skewsOf(m) {
		out = append(out, SkewJSON{Path: s.fi.Path, Stream: s.fi.Stream, OffsetS: float64(s.offset) / 1e9,
			Evidence: fmt.Sprintf("%s received %s before %s requested it", m.Result.Files.Position(s.ev.Pos), s.ev.Alloc, m.Result.Files.Position(s.rel.Pos))})
	}
	return out
}

// WriteTimelineJSON writes `{"allocations": [...], "clock_skew": [...]}`,
// the bytes writeJSON would write for the whole document, an allocation at
// a time: built whole, the timelines of a session cluster's 300,000
// allocations (1.8 GB of JSON, their texts read back) took 9.5 GB and
// 2.5 minutes.
func WriteTimelineJSON(w io.Writer, m *reconstruct.Model, only []*reconstruct.Allocation) error {
	out := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	// one value, indented as it is inside the document (its first line
	// not: it follows what is written before it)
	value := func(v any, prefix string) ([]byte, error) {
		buf.Reset()
		enc := NewJSONEncoder(&buf)
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	out.WriteString("{\n  \"allocations\": [")
	k := 0
	j := &jsonIndenter{prefix: "    "}
	// The timelines are made on a goroutine of their own (a folded story
	// decoded, its texts read back by position) while those before are
	// written out here: one after the other, making them was 3/4 of the
	// time after a fold of 300,000 allocations, on one core.
	made := make(chan timeline, 256)
	stop := make(chan struct{})
	var makeErr error
	go func() {
		defer close(made)
		makeErr = eachTimeline(m, only, func(t timeline) error {
			select {
			case made <- t:
				return nil
			case <-stop:
				return errWriteStopped
			}
		})
	}()
	var err error
	for t := range made {
		if err != nil {
			continue // (until the maker has seen stop)
		}
		j.b = j.b[:0]
		j.allocation(&t.j)
		if k > 0 {
			out.WriteString(",")
		}
		k++
		out.WriteString("\n    ")
		if _, err = out.Write(j.b); err != nil {
			close(stop)
		}
	}
	if err != nil {
		return err
	}
	if makeErr != nil {
		return makeErr
	}
	if k > 0 {
		out.WriteString("\n  ")
	}
	out.WriteString("]")
	if sk := skews(m); len(sk) > 0 {
		b, err := value(sk, "  ")
		if err != nil {
			return err
		}
		out.WriteString(",\n  \"clock_skew\": ")
		out.Write(b)
	}
	out.WriteString("\n}\n")
	return out.Flush()
}

// errWriteStopped stops the making of timelines whose writing failed.
var errWriteStopped = errors.New("the timelines' writing stopped")

func writeJSON(w io.Writer, v any) error {
	enc := NewJSONEncoder(w)
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

// WriteTimelineTable writes each timeline as a table of its steps, laid
// out for width columns (0: unknown, nothing wrapped). Paths are shown
// relative to the directory all inputs share, said once; a block whose
// times are all on one day says the day once and shows times of day. An
// allocation line whose slot index a later line revealed shows it with
// the evidence's kind; when a row's input was shifted by a clock skew,
// an "aligned" column shows the shift (or the time on the clock the rows
// are ordered by, if that is shorter).
func WriteTimelineTable(w io.Writer, m *reconstruct.Model, only []*reconstruct.Allocation, width int) (err error) {
	// (a write a line, unbuffered, was a system call a line: a tenth of a
	// session cluster's timeline)
	out := bufio.NewWriterSize(w, 64<<10)
	defer func() {
		if ferr := out.Flush(); err == nil {
			err = ferr
		}
	}()
	w = ungluer{out}
	pl := newPlaces(filePaths(m.Result.Files))
	if timelineCount(m, only) > 0 {
		pl.header(w, "files", width)
	}
	n := 0
	err = eachTimeline(m, only, func(t timeline) error {
		j := t.j
		if n > 0 {
			fmt.Fprintln(w)
		}
		n++
		idx := "unknown"
		if len(j.Slots) == 0 && t.replayed {
			idx = "none held"
		}
		if len(j.SlotIndexes) > 0 {
			// each index with how it is known (from the slot that held it)
			how := map[int]string{}
			for _, h := range j.Slots {
				if h.Index != nil && how[*h.Index] == "" {
					how[*h.Index] = heldIndex(h)
				}
			}
			var list []string
			for _, i := range j.SlotIndexes {
				if how[i] == "" {
					how[i] = fmt.Sprint(i)
				}
				list = append(list, how[i])
			}
			idx = Escape(strings.Join(list, ", "))
		}
		label := "slot index"
		if len(j.SlotIndexes) > 1 {
			label = "slot indexes"
		}
		// The aligned column: only when a row was shifted, as the shift
		// when that is shorter than the aligned time.
		var times, both, shifts, aligned []string
		shifted := false
		for k, e := range j.Events {
			times = append(times, e.Time)
			both = append(both, e.Time, e.AlignedTime)
			shift := ""
			if e.AlignedTime != "" {
				shifted = true
				shift = fmt.Sprintf("%+.3fs", float64(m.Skew[t.files[k]].Offset)/1e9)
			}
			shifts = append(shifts, shift)
		}
		day := oneDay(times)
		if shifted {
			dayBoth := oneDay(both)
			for _, e := range j.Events {
				aligned = append(aligned, clockOn(e.AlignedTime, dayBoth))
			}
			if longest(aligned) <= longest(shifts) {
				day, shifts = dayBoth, aligned
			}
		}
		head := []field{{"allocation", j.AllocationID, true}, {"job", orDash(j.JobID), true},
			{"taskmanager", orDash(Escape(j.ResourceID)), true}, {label, idx, false}}
		if day != "" {
			head = append(head, field{"date", day, true})
		}
		writeFields(w, width, head...)
		for _, h := range j.Slots {
			if h.Prior {
				writePara(w, "", "  ", fmt.Sprintf("PRIOR: index %s was held before the log begins (first shown at %s)", heldIndex(h), pl.at(h.Allocated)), width)
			}
			if h.Replaced != nil {
				writePara(w, "", "  ", fmt.Sprintf("RESTART: index %s, allocated at %s, was still held when the TaskManager process was replaced at %s (the new process starts with an empty table)",
					heldIndex(h), pl.at(h.Allocated), pl.at(h.Replaced)), width)
			}
			if h.Zombie {
				writePara(w, "", "  ", fmt.Sprintf("ZOMBIE: index %s, allocated at %s, is still held but the AllocationID map no longer leads to it",
					heldIndex(h), pl.at(h.Allocated)), width)
			}
		}
		// The rows that created a held slot, by line.
		created := map[PlaceJSON]HeldSlotJSON{}
		for _, h := range j.Slots {
			if h.Allocated != nil && !h.Prior {
				created[*h.Allocated] = h
			}
		}
		g := &grid{heads: []string{"time", "comp", "event", "index", "where"}, wrap: []bool{false, false, false, true, false}}
		if shifted {
			g.heads = []string{"time", "aligned", "comp", "event", "index", "where"}
			g.wrap = []bool{false, false, false, false, true, false}
		}
		for k, e := range j.Events {
			i := ""
			if e.SlotIndex != nil {
				i = fmt.Sprint(*e.SlotIndex)
			} else if h, ok := created[PlaceJSON{Path: e.Path, Stream: e.Stream, Line: e.Line, RecordOnLine: e.RecordOnLine}]; ok {
				i = "?" // how it is known is in the header
				if h.Index != nil {
					i = fmt.Sprint(*h.Index)
				}
			}
			row := []string{clockOn(e.Time, day), strings.ToUpper(e.Component), e.Kind, i, pl.at(&PlaceJSON{Path: e.Path, Stream: e.Stream, Line: e.Line})}
			if shifted {
				row = append([]string{row[0], shifts[k]}, row[1:]...)
			}
			g.add(row...)
		}
		if idx == "unknown" || idx == "none held" {
			// no held slot has a known index: "?" says nothing the header does not
			c := slices.Index(g.heads, "index")
			for _, row := range g.rows {
				if row[c] == "?" {
					row[c] = ""
				}
			}
		}
		return g.write(w, width)
	})
	if err != nil {
		return err
	}
	for _, s := range skewNotes(m, pl) {
		fmt.Fprintln(w)
		writePara(w, "", "  ", s, width)
	}
	return nil
}

// skewNotes says, for each input shifted by a clock skew, by how much and
// which lines force it (as skews does, with paths as shown).
func skewNotes(m *reconstruct.Model, pl places) []string {
	var out []string
	for _, s := range skewsOf(m) {
		out = append(out, fmt.Sprintf("clock skew assumed: %s shifted by %+.3f s (%s received %s before %s requested it)",
			pl.path(s.fi.Path, s.fi.Stream), float64(s.offset)/1e9, pl.at(place(m, s.ev.Pos)), s.ev.Alloc, pl.at(place(m, s.rel.Pos))))
	}
	return out
}

// idWidth is the width of an AllocationID or a JobID (32 hex digits).
const idWidth = 32

func filePaths(files parser.Files) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.Path
	}
	return out
}

func longest(xs []string) int {
	n := 0
	for _, x := range xs {
		n = max(n, runes(x))
	}
	return n
}

// replayedOn reports whether a TaskManager whose log is in the input saw
// the allocation: then holding no slot is a fact, not a gap in the input.
func replayedOn(m *reconstruct.Model, a *reconstruct.Allocation) bool {
	for _, i := range a.Events {
		if m.Result.Head(i).Component == flinklog.ComponentTM {
			return true
		}
	}
	return false
}

// heldIndex renders a held slot's index with how it is known: "2
// (observed: slot report)", "? (unknown)".
func heldIndex(h HeldSlotJSON) string {
	if h.Index == nil {
		return "? (unknown)"
	}
	return fmt.Sprintf("%d (%s: %s)", *h.Index, h.IndexSource, h.IndexEvidence.How)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// PlaceJSON points at one line of the input.
type PlaceJSON struct {
	Path   string `json:"path"`
	Stream string `json:"stream,omitempty"`
	Line   int64  `json:"line"`
	// RecordOnLine tells apart records that begin on the same line (the
	// records of a log-store export's page saved on one line): omitted for
	// the first, as for every record of a log file (flinklog.Pos.Rec).
	RecordOnLine int32 `json:"record_on_line,omitempty"`
}

func place(m *reconstruct.Model, pos flinklog.Pos) *PlaceJSON {
	if pos.Line == 0 || int(pos.File) >= len(m.Result.Files) {
		return nil
	}
	fi := m.Result.Files[pos.File]
	return &PlaceJSON{Path: fi.Path, Stream: fi.Stream, Line: pos.Line, RecordOnLine: pos.Rec}
}

func (p *PlaceJSON) String() string {
	if p == nil {
		return ""
	}
	if p.Stream != "" {
		return fmt.Sprintf("%s#%s:%d", p.Path, p.Stream, p.Line)
	}
	return fmt.Sprintf("%s:%d", p.Path, p.Line)
}

// IndexEvidenceJSON says how a slot's index is known.
type IndexEvidenceJSON struct {
	How   string     `json:"how"` // free, refusal, occupant, slot report, dynamic index counter, only index left
	Where *PlaceJSON `json:"where,omitempty"`
}

// SlotJSON is one slot of a table.
type SlotJSON struct {
	Index         *int               `json:"index"`
	IndexSource   string             `json:"index_source"` // observed, inferred or unknown
	IndexEvidence *IndexEvidenceJSON `json:"index_evidence,omitempty"`
	State         string             `json:"state"`
	AllocationID  string             `json:"allocation_id"`
	JobID         string             `json:"job_id,omitempty"`
	Zombie        bool               `json:"zombie,omitempty"`
	// Mapped says whether the AllocationID map leads to this very slot.
	Mapped bool `json:"mapped"`
	// Prior: the slot was held before the log begins (a mid-story log).
	Prior bool `json:"prior,omitempty"`
}

// RunsJSON says which slot table the TaskManager really ran.
type RunsJSON struct {
	Model string     `json:"model"`
	Why   string     `json:"why"`
	Where *PlaceJSON `json:"where,omitempty"`
}

// ReportSlotJSON is one slot of a slot report next to the replayed one.
type ReportSlotJSON struct {
	Index                *int   `json:"index"`
	ReportedAllocationID string `json:"reported_allocation_id,omitempty"`
	ReportedJobID        string `json:"reported_job_id,omitempty"`
	ReplayedAllocationID string `json:"replayed_allocation_id,omitempty"`
	ReplayedState        string `json:"replayed_state"`
	Agrees               bool   `json:"agrees"`
}

// SlotReportJSON is one DEBUG slot report compared with the replayed table.
type SlotReportJSON struct {
	PlaceJSON
	Time   string `json:"time,omitempty"`
	Agrees bool   `json:"agrees"`
	// ComparedAfter is the TaskManager line after which the table was
	// taken (null: before its first line).
	ComparedAfter *PlaceJSON       `json:"compared_after"`
	Slots         []ReportSlotJSON `json:"slots"`
}

// TaskManagerJSON is one TaskManager's table under one model (`slots --format json`).
type TaskManagerJSON struct {
	ResourceID string `json:"resource_id"`
	Model      string `json:"model"`
	// Runs is the table the TaskManager really ran, and how that is known.
	Runs RunsJSON `json:"runs"`
	// Process is where the replayed process's log begins; FromStart says
	// whether it begins with the process's start (else it is mid-story).
	Process   PlaceJSON `json:"process"`
	FromStart bool      `json:"from_start"`
	Restarts  int       `json:"restarts"` // earlier processes of this TaskManager in the input
	// RestartedAt is where the next process of this TaskManager begins:
	// this table ended there, whatever it held.
	RestartedAt   *PlaceJSON       `json:"restarted_at,omitempty"`
	Slots         []SlotJSON       `json:"slots"`
	AllocationMap map[string]*int  `json:"allocation_map"`
	SlotReports   []SlotReportJSON `json:"slot_reports,omitempty"`
}

// NewTaskManagerJSON renders the final table of every process of a
// TaskManager under a model, oldest first, with every slot report compared
// (read back, for a fold's model: see Model.EachCompared).
func NewTaskManagerJSON(m *reconstruct.Model, tm *reconstruct.TaskManager, sem reconstruct.Semantics) ([]TaskManagerJSON, error) {
	var out []TaskManagerJSON
	for _, p := range tm.Processes {
		j, err := NewReplayJSON(m, tm, p, p.Replay, sem)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// NewReplayJSON renders one replayed table of process p (the full replay,
// or a prefix of it as it stood at --at), with every slot report compared
// (only the full replay has them). It is what WriteSlotsTablesJSON writes
// for a SlotsTable, built whole; the error is reading a fold's reports
// back.
func NewReplayJSON(m *reconstruct.Model, tm *reconstruct.TaskManager, p *reconstruct.Process, r *reconstruct.Replay, sem reconstruct.Semantics) (TaskManagerJSON, error) {
	t := SlotsTable{M: m, TM: tm, P: p, R: r, Semantics: sem, Reports: true}
	out := t.head()
	err := t.compared(func(cr *reconstruct.ComparedReport) error {
		out.SlotReports = append(out.SlotReports, t.report(cr))
		return nil
	})
	return out, err
}

// SlotsTable is one table `slots` shows: the replay R of TaskManager TM's
// process P (the full one, or a prefix as it stood at --at) under Model,
// and, when Reports is set, the slot reports compared with it. It is
// rendered one slot report at a time: a day of DEBUG logs holds a report
// per TaskManager per heartbeat, and rendering them all before writing
// the first took gigabytes.
type SlotsTable struct {
	M         *reconstruct.Model
	TM        *reconstruct.TaskManager
	P         *reconstruct.Process
	R         *reconstruct.Replay
	Semantics reconstruct.Semantics
	Reports   bool
}

// SlotsTables are the tables `slots` shows of the TaskManagers f keeps,
// under each semantics of models: every process's final table (a restart
// starts an empty one), or, with at set, the one process running at at as
// it stood then (Model.ProcessAt, Model.ReplayAt). A TaskManager whose
// log's times cannot be compared with at is returned as unplaced, with
// no table.
func SlotsTables(m *reconstruct.Model, f *Filter, models []reconstruct.Semantics, at *flinklog.Time, reports bool) (out []SlotsTable, unplaced *reconstruct.TaskManager) {
	for _, t := range SlotsTaskManagers(m, f) {
		procs, replays := t.Processes, []*reconstruct.Replay{}
		for _, p := range procs {
			replays = append(replays, p.Replay)
		}
		if at != nil {
			p := m.ProcessAt(t, *at)
			var r *reconstruct.Replay
			if p != nil {
				r = m.ReplayAt(p, *at)
			}
			if p == nil || r == nil {
				return nil, t
			}
			procs, replays = []*reconstruct.Process{p}, []*reconstruct.Replay{r}
		}
		for k, p := range procs {
			for _, s := range models {
				out = append(out, SlotsTable{M: m, TM: t, P: p, R: replays[k], Semantics: s, Reports: reports})
			}
		}
	}
	return out, nil
}

// showsReports reports whether the table shows slot reports: only the
// full replay was compared with them.
func (t SlotsTable) showsReports() bool { return t.Reports && t.R == t.P.Replay }

// comparedCount is how many slot reports the table shows, and how many
// of them agree with it.
func (t SlotsTable) comparedCount() (n, agreeing int) {
	if !t.showsReports() {
		return 0, 0
	}
	return t.M.ComparedCount(t.P, t.Semantics)
}

// compared calls f with each slot report the table shows, in report
// order (Model.EachCompared).
func (t SlotsTable) compared(f func(*reconstruct.ComparedReport) error) error {
	if !t.showsReports() {
		return nil
	}
	return t.M.EachCompared(t.P, t.Semantics, f)
}

func (t SlotsTable) report(cr *reconstruct.ComparedReport) SlotReportJSON {
	return newSlotReportJSON(t.M, cr)
}

// head renders the table without its slot reports.
func (t SlotsTable) head() TaskManagerJSON {
	m, tm, p, r, sem := t.M, t.TM, t.P, t.R, t.Semantics
	tab := r.Tables[sem]
	out := TaskManagerJSON{ResourceID: tm.Resource, Model: sem.String(), Slots: []SlotJSON{}, AllocationMap: map[string]*int{},
		Runs:      RunsJSON{Model: p.Runs.String(), Why: p.RunsWhy, Where: place(m, p.RunsPos)},
		FromStart: p.Config.FromStart,
	}
	if pl := place(m, m.Result.Pos(p.Events[0])); pl != nil {
		out.Process = *pl
	}
	for k, q := range tm.Processes {
		if q != p {
			continue
		}
		out.Restarts = k
		if k+1 < len(tm.Processes) {
			out.RestartedAt = place(m, m.Result.Pos(tm.Processes[k+1].Events[0]))
		}
	}
	zombies := map[int]bool{}
	for _, z := range tab.Zombies() {
		zombies[z.Index] = true
	}
	prior := map[int]bool{}
	for _, st := range r.Steps {
		if st.Op == reconstruct.OpPrior {
			prior[int(st.Slot[reconstruct.Legacy])] = true
		}
	}
	// Known indexes ascending, then slots whose index is unknown, oldest
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
		sj := SlotJSON{State: s.State.String(), AllocationID: s.Alloc.String(), JobID: s.Job.String(), Zombie: zombies[s.Index],
			IndexSource: reconstruct.IndexUnknown.String(), Mapped: inMap && key == s.Index, Prior: prior[s.Index]}
		if idx := r.IndexOf(s.Index); idx >= 0 {
			sj.Index = &idx
			info := r.Indexes.At(s.Index)
			sj.IndexSource = info.Source.String()
			sj.IndexEvidence = &IndexEvidenceJSON{How: info.How, Where: place(m, info.Pos)}
		}
		out.Slots = append(out.Slots, sj)
		if inMap {
			out.AllocationMap[s.Alloc.String()] = optInt(r.IndexOf(key))
		}
	}
	return out
}

func newSlotReportJSON(m *reconstruct.Model, cr *reconstruct.ComparedReport) SlotReportJSON {
	out := SlotReportJSON{Time: cr.Time.String(), Agrees: cr.Agrees, Slots: []ReportSlotJSON{}}
	if pl := place(m, cr.Pos); pl != nil {
		out.PlaceJSON = *pl
	}
	out.ComparedAfter = place(m, cr.After)
	for _, row := range cr.Rows {
		rs := ReportSlotJSON{Index: optInt(row.Index), ReportedAllocationID: row.Reported.String(), ReportedJobID: row.Job.String(), Agrees: row.Agrees,
			ReplayedState: row.Replayed.State.String(), ReplayedAllocationID: row.Replayed.Alloc.String()}
		out.Slots = append(out.Slots, rs)
	}
	return out
}

// WriteSlotsJSON writes `{"taskmanagers": [...]}`.
func WriteSlotsJSON(w io.Writer, tms []TaskManagerJSON) error {
	return writeJSON(w, struct {
		TaskManagers []TaskManagerJSON `json:"taskmanagers"`
	}{tms})
}

// WriteSlotsTablesJSON writes what WriteSlotsJSON writes for the tables
// built whole (NewReplayJSON), byte for byte, holding one slot report at a
// time: each table is encoded without its reports, and the reports, its
// last member, are encoded one by one into the place encoding/json would
// put them, indented as deep as they would be.
func WriteSlotsTablesJSON(w io.Writer, tables []SlotsTable) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if tables == nil {
		bw.WriteString("{\n  \"taskmanagers\": null\n}\n")
		return bw.Flush()
	}
	if len(tables) == 0 {
		bw.WriteString("{\n  \"taskmanagers\": []\n}\n")
		return bw.Flush()
	}
	const tableIndent, reportIndent = "    ", "        "
	heads, reports := newIndented(tableIndent), newIndented(reportIndent)
	bw.WriteString("{\n  \"taskmanagers\": [\n")
	for i, t := range tables {
		if i > 0 {
			bw.WriteString(",\n")
		}
		head, err := heads.encode(t.head())
		if err != nil {
			return err
		}
		bw.WriteString(tableIndent)
		if n, _ := t.comparedCount(); n == 0 {
			bw.Write(head)
			continue
		}
		closing := "\n" + tableIndent + "}"
		if !bytes.HasSuffix(head, []byte(closing)) {
			return fmt.Errorf("slots JSON: a table of %s does not end in a member (%q)", t.TM.Resource, head[max(0, len(head)-20):])
		}
		bw.Write(head[:len(head)-len(closing)])
		bw.WriteString(",\n" + tableIndent + "  \"slot_reports\": [\n")
		first := true
		err = t.compared(func(cr *reconstruct.ComparedReport) error {
			if !first {
				bw.WriteString(",\n")
			}
			first = false
			rep, err := reports.encode(t.report(cr))
			if err != nil {
				return err
			}
			bw.WriteString(reportIndent)
			_, err = bw.Write(rep) // (an error: the reader is gone, no use encoding the rest)
			return err
		})
		if err != nil {
			return err
		}
		bw.WriteString("\n" + tableIndent + "  ]" + closing)
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}

// indented encodes values as writeJSON does, as if nested in a document
// at prefix: every line but the first starts with it.
type indented struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newIndented(prefix string) *indented {
	x := &indented{}
	x.enc = NewJSONEncoder(&x.buf)
	x.enc.SetIndent(prefix, "  ")
	return x
}

// encode returns v encoded, without the final newline; the bytes are
// valid until the next call.
func (x *indented) encode(v any) ([]byte, error) {
	x.buf.Reset()
	if err := x.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(x.buf.Bytes(), []byte("\n")), nil
}

// ReportDetail selects which slot reports a table shows row by row.
type ReportDetail uint8

// Slot-report detail levels of `slots --reports`.
const (
	ReportsDiffering ReportDetail = iota // only reports that disagree with the table, plus a count of the rest
	ReportsAll                           // every report
	ReportsNone                          // none
)

// WriteSlotsTable writes one table per TaskManager and model, then its slot
// reports compared index by index, laid out for width columns (0:
// unknown, nothing wrapped), with paths relative to the directory the
// files (the model's inputs) share.
func WriteSlotsTable(w io.Writer, files parser.Files, tms []TaskManagerJSON, detail ReportDetail, width int) error {
	w = ungluer{w}
	pl := newPlaces(filePaths(files))
	if len(tms) > 0 {
		pl.header(w, "files", width)
	}
	for n, tm := range tms {
		if n > 0 {
			fmt.Fprintln(w)
		}
		if err := writeSlotsText(w, tm, builtReports(tm.SlotReports), detail, pl, width); err != nil {
			return err
		}
	}
	return nil
}

// WriteSlotsTablesText writes what WriteSlotsTable writes for the tables
// built whole, rendering only the slot reports it shows, one at a time.
func WriteSlotsTablesText(w io.Writer, tables []SlotsTable, detail ReportDetail, width int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	out := ungluer{bw}
	var pl places
	if len(tables) > 0 {
		pl = newPlaces(filePaths(tables[0].M.Result.Files))
		pl.header(out, "files", width)
	}
	for n, t := range tables {
		if n > 0 {
			fmt.Fprintln(out)
		}
		src := reportSource{each: func(show func(bool) bool, f func(SlotReportJSON) error) error {
			return t.compared(func(cr *reconstruct.ComparedReport) error {
				if !show(cr.Agrees) {
					return nil
				}
				return f(t.report(cr))
			})
		}}
		src.n, src.agreeing = t.comparedCount()
		if err := writeSlotsText(out, t.head(), src, detail, pl, width); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// reportSource is a table's slot reports for writeReports: how many, how
// many agree, and each one that show accepts (by whether it agrees), made
// when it is written.
type reportSource struct {
	n, agreeing int
	each        func(show func(agrees bool) bool, f func(SlotReportJSON) error) error
}

func builtReports(reps []SlotReportJSON) reportSource {
	src := reportSource{n: len(reps), each: func(show func(bool) bool, f func(SlotReportJSON) error) error {
		for _, rep := range reps {
			if show(rep.Agrees) {
				if err := f(rep); err != nil {
					return err
				}
			}
		}
		return nil
	}}
	for _, rep := range reps {
		if rep.Agrees {
			src.agreeing++
		}
	}
	return src
}

// writeSlotsText writes one table, then its slot reports.
func writeSlotsText(w io.Writer, tm TaskManagerJSON, reports reportSource, detail ReportDetail, pl places, width int) error {
	writeFields(w, width, field{"taskmanager", Escape(tm.ResourceID), true}, field{"", "(" + tm.Model + " model)", true})
	ran := "ran the " + tm.Runs.Model + " table: " + Escape(tm.Runs.Why)
	if tm.Runs.Where != nil {
		ran += " (" + pl.at(tm.Runs.Where) + ")"
	}
	writePara(w, "", "  ", ran, width)
	from := "log begins mid-story at "
	if tm.FromStart {
		from = "process starts at "
	}
	from += pl.at(&tm.Process)
	if tm.Restarts > 0 {
		from += fmt.Sprintf(" (restart %d)", tm.Restarts)
	}
	if tm.RestartedAt != nil {
		from += "; the process was replaced at " + pl.at(tm.RestartedAt) + ", this is its last table"
	}
	writePara(w, "", "  ", from, width)
	if len(tm.Slots) == 0 {
		fmt.Fprintln(w, "no slot is held")
		return writeReports(w, tm.Model, reports, detail, pl, width)
	}
	g := &grid{heads: []string{"index", "state", "allocation", "job", "in map", "index known from", "note"},
		wrap: []bool{false, false, false, false, false, true, true}, reserve: []int{0, 0, idWidth, idWidth}}
	for _, s := range tm.Slots {
		idx := "?"
		if s.Index != nil {
			idx = fmt.Sprint(*s.Index)
		}
		mapped := "no"
		if s.Mapped {
			mapped = "yes"
		}
		known := s.IndexSource
		if e := s.IndexEvidence; e != nil {
			known += ": " + Escape(e.How)
			if e.Where != nil {
				known += ", " + pl.at(e.Where)
			}
		}
		var notes []string
		if s.Zombie {
			notes = append(notes, "ZOMBIE: the map no longer reaches this slot")
		}
		if s.Prior {
			notes = append(notes, "held before the log begins")
		}
		g.add(idx, s.State, s.AllocationID, orDash(s.JobID), mapped, known, strings.Join(notes, "; "))
	}
	if err := g.write(w, width); err != nil {
		return err
	}
	return writeReports(w, tm.Model, reports, detail, pl, width)
}

func writeReports(w io.Writer, model string, reports reportSource, detail ReportDetail, pl places, width int) error {
	if detail == ReportsNone || reports.n == 0 {
		return nil
	}
	writePara(w, "", "  ", fmt.Sprintf("slot reports: %d, %d agree with the %s table", reports.n, reports.agreeing, model), width)
	show := func(agrees bool) bool { return detail != ReportsDiffering || !agrees }
	return reports.each(show, func(rep SlotReportJSON) error {
		verdict := "AGREES with"
		if !rep.Agrees {
			verdict = "DIFFERS from"
		}
		after := "before the TaskManager's first line"
		if rep.ComparedAfter != nil {
			after = "after " + pl.at(rep.ComparedAfter)
		}
		writePara(w, "", "  ", fmt.Sprintf("slot report %s at %s %s the table as it stood %s", pl.at(&rep.PlaceJSON), rep.Time, verdict, after), width)
		// Every report of a table is laid out alike: its columns are as
		// wide as the widest values they can hold.
		g := &grid{heads: []string{"index", "", "reported allocation", "reported job", "replayed allocation", "replayed state"},
			wrap: make([]bool, 6), reserve: []int{0, len("DIFFERS"), idWidth, idWidth, idWidth, len("ALLOCATED")}}
		for _, s := range rep.Slots {
			idx := "dynamic"
			if s.Index != nil {
				idx = fmt.Sprint(*s.Index)
			}
			mark := "ok"
			if !s.Agrees {
				mark = "DIFFERS"
			}
			g.add(idx, mark, orDash(s.ReportedAllocationID), orDash(s.ReportedJobID), orDash(s.ReplayedAllocationID), s.ReplayedState)
		}
		return g.write(w, width)
	})
}
