package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/slotaudit/slotaudit/parser"
)

// InputJSON is the account of one input in JSON outputs ("inputs" of the
// contract): what was read and what became of every line.
type InputJSON struct {
	Path             string   `json:"path"`
	Stream           string   `json:"stream,omitempty"`
	Components       []string `json:"components"`
	ResourceID       string   `json:"resource_id,omitempty"`
	ResourceIDSource string   `json:"resource_id_source,omitempty"`
	FlinkVersion     string   `json:"flink_version,omitempty"`
	VersionSource    string   `json:"version_source,omitempty"`
	VersionFamily    string   `json:"version_family,omitempty"`
	Layout           string   `json:"layout"`
	Wrapper          string   `json:"wrapper,omitempty"`
	Gzip             bool     `json:"gzip,omitempty"`
	Slots            int      `json:"configured_slots,omitempty"`
	Lines            int      `json:"lines"`
	Records          int      `json:"records"`
	Events           int      `json:"events"`
	EventRecords     int      `json:"event_records"`
	Irrelevant       int      `json:"irrelevant"`
	Unparsed         int      `json:"unparsed"`
	Stray            int      `json:"stray_lines"`
	Framing          int      `json:"framing_lines,omitempty"`
	Truncated        int      `json:"truncated,omitempty"`
	First            string   `json:"first_time,omitempty"`
	Last             string   `json:"last_time,omitempty"`
	Error            string   `json:"error,omitempty"`
	DuplicateOf      string   `json:"duplicate_of,omitempty"`
	// SlotTables: for a TaskManager input, the table each of its processes
	// ran (logs that mix versions are judged per process).
	SlotTables []SlotTableJSON `json:"slot_tables,omitempty"`
}

// SlotTableJSON is the slot table one TaskManager process ran, and how
// that is known.
type SlotTableJSON struct {
	ResourceID string `json:"resource_id"`
	Model      string `json:"model"`
	Why        string `json:"why"`
}

// NewInputJSON converts an input summary for output.
func NewInputJSON(in *parser.InputSummary) InputJSON {
	comps := make([]string, 0, len(in.Components))
	for _, c := range in.Components {
		comps = append(comps, string(c))
	}
	fam := ""
	if !in.VersionMin.IsZero() && in.VersionMin.Family() == in.VersionMax.Family() {
		fam = in.VersionMin.Family()
	}
	return InputJSON{
		Path: in.Path, Stream: in.Stream, Components: comps,
		ResourceID: in.ResourceID, ResourceIDSource: in.ResourceIDSource,
		FlinkVersion: in.FlinkVersion, VersionSource: in.VersionSource, VersionFamily: fam,
		Layout: in.Layout, Wrapper: in.Wrapper, Gzip: in.Gzip, Slots: in.Slots,
		Lines: in.Lines, Records: in.Records, Events: in.EventCount, EventRecords: in.EventRecs,
		Irrelevant: in.Irrelevant, Unparsed: in.Unparsed, Stray: in.Stray, Framing: in.Framing,
		Truncated: in.Truncated, First: in.First.String(), Last: in.Last.String(), Error: in.Err, DuplicateOf: in.DuplicateOf,
	}
}

// WriteInputTable writes the per-input summary as a plain ASCII table.
func WriteInputTable(w io.Writer, inputs []parser.InputSummary) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header([]string{"input", "layout", "flink", "components", "taskmanager", "records", "events", "irrelevant", "unparsed", "stray"})
	for i := range inputs {
		in := &inputs[i]
		name := in.Path
		if in.Stream != "" {
			name += "#" + in.Stream
		}
		layout := in.Layout
		if in.Wrapper != "" {
			layout = in.Wrapper + "/" + layout
		}
		if in.Gzip {
			layout = "gzip/" + layout
		}
		if in.DuplicateOf != "" {
			layout = "duplicate of " + in.DuplicateOf
		}
		ver := in.FlinkVersion
		if ver == "" {
			ver = "?"
		} else if in.VersionSource == "inferred" {
			ver += " (inferred)"
		}
		var comps []string
		for _, c := range in.Components {
			comps = append(comps, strings.ToUpper(string(c)))
		}
		rows := []string{
			Escape(name), layout, Escape(ver), strings.Join(comps, "+"), Escape(in.ResourceID),
			fmt.Sprint(in.Records), fmt.Sprint(in.EventCount), fmt.Sprint(in.Irrelevant),
			fmt.Sprint(in.Unparsed), fmt.Sprint(in.Stray),
		}
		if err := t.Append(rows); err != nil {
			return err
		}
	}
	return t.Render()
}

// WriteInputSummary writes the per-input table when it fits in width
// columns, else one "key value" line per input, which wraps gracefully.
func WriteInputSummary(w io.Writer, inputs []parser.InputSummary, width int) error {
	if width <= 0 {
		width = unlimited
	}
	var b strings.Builder
	if err := WriteInputTable(&b, inputs); err != nil {
		return err
	}
	if fitsWidth(b.String(), width) {
		_, err := io.WriteString(w, b.String())
		return err
	}
	for i := range inputs {
		j := NewInputJSON(&inputs[i])
		name := j.Path
		if j.Stream != "" {
			name += "#" + j.Stream
		}
		ver := j.FlinkVersion
		if ver == "" {
			ver = "?"
		}
		line := fmt.Sprintf("input %s: %s, flink %s, %s", Escape(name), j.Layout, Escape(ver), strings.ToUpper(strings.Join(j.Components, "+")))
		if j.ResourceID != "" {
			line += ", taskmanager " + Escape(j.ResourceID)
		}
		line += fmt.Sprintf(", records %d, events %d, irrelevant %d, unparsed %d, stray %d", j.Records, j.Events, j.Irrelevant, j.Unparsed, j.Stray)
		if j.DuplicateOf != "" {
			line += ", duplicate of " + Escape(j.DuplicateOf) + " (its events are counted there)"
		}
		if _, err := fmt.Fprintln(w, strings.ReplaceAll(wrap(line, width-2), "\n", "\n  ")); err != nil {
			return err
		}
	}
	return nil
}

func fitsWidth(s string, width int) bool {
	for _, line := range strings.Split(s, "\n") {
		if len([]rune(line)) > width {
			return false
		}
	}
	return true
}
