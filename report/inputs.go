package report

import (
	"fmt"
	"io"
	"strings"
	"time"

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
	Duplicates       int      `json:"duplicates,omitempty"`
	Truncated        int      `json:"truncated,omitempty"`
	First            string   `json:"first_time,omitempty"`
	Last             string   `json:"last_time,omitempty"`
	Error            string   `json:"error,omitempty"`
	DuplicateOf      string   `json:"duplicate_of,omitempty"`
	// Fetched: an input fetched from a log store, how (see FetchedJSON).
	Fetched *FetchedJSON `json:"fetched,omitempty"`
	// SlotTables: for a TaskManager input, the table each of its processes
	// ran (logs that mix versions are judged per process).
	SlotTables []SlotTableJSON `json:"slot_tables,omitempty"`
}

// FetchedJSON is how an input fetched from a log store came to be: the
// query, the time range, and the records the store sent against those it
// counted (-1: the store does not count).
type FetchedJSON struct {
	Query    string `json:"query"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Records  int64  `json:"records"`
	Matched  int64  `json:"matched"`
	Selected int64  `json:"selected"`
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
		Irrelevant: in.Irrelevant, Unparsed: in.Unparsed, Stray: in.Stray, Framing: in.Framing, Duplicates: in.Duplicates,
		Truncated: in.Truncated, First: in.First.String(), Last: in.Last.String(), Error: in.Err, DuplicateOf: in.DuplicateOf,
		Fetched: fetchedJSON(in.Fetched),
	}
}

func fetchedJSON(f *parser.Fetched) *FetchedJSON {
	if f == nil {
		return nil
	}
	return &FetchedJSON{Query: f.Query, Start: f.Start.UTC().Format(time.RFC3339Nano), End: f.End.UTC().Format(time.RFC3339Nano),
		Records: f.Records, Matched: f.Matched, Selected: f.Selected}
}

// WriteInputTable writes the per-input summary, laid out for width
// columns (0: unknown, nothing wrapped): a table where it fits, else one
// "key value" record per input. Paths are relative to the directory all
// inputs share, said once.
func WriteInputTable(w io.Writer, inputs []parser.InputSummary, width int) error {
	w = ungluer{w}
	paths := make([]string, len(inputs))
	for i := range inputs {
		paths[i] = inputs[i].Path
	}
	pl := newPlaces(paths)
	pl.header(w, "inputs", width)
	g := &grid{heads: []string{"input", "layout", "flink", "components", "taskmanager", "records", "events", "irrelevant", "unparsed", "stray"},
		wrap: []bool{false, true, true, false, false, false, false, false, false, false}}
	for i := range inputs {
		in := &inputs[i]
		layout := Escape(in.Layout)
		if in.Wrapper != "" {
			layout = Escape(in.Wrapper) + "/" + layout
		}
		if in.Gzip {
			layout = "gzip/" + layout
		}
		if in.DuplicateOf != "" {
			layout = "duplicate of " + pl.path(in.DuplicateOf, "")
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
		g.add(pl.path(in.Path, in.Stream), layout, Escape(ver), strings.Join(comps, "+"), Escape(in.ResourceID),
			fmt.Sprint(in.Records), fmt.Sprint(in.EventCount), fmt.Sprint(in.Irrelevant),
			fmt.Sprint(in.Unparsed), fmt.Sprint(in.Stray))
	}
	if err := g.write(w, width); err != nil {
		return err
	}
	// What each store sent, once per source.
	said := map[*parser.Fetched]bool{}
	for i := range inputs {
		in := &inputs[i]
		if in.Fetched == nil || said[in.Fetched] {
			continue
		}
		said[in.Fetched] = true
		line := fmt.Sprintf("%s: %s", pl.path(in.Path, ""), Escape(in.Fetched.Summary))
		if _, err := fmt.Fprintln(w, strings.ReplaceAll(wrap(line, width-2), "\n", "\n  ")); err != nil {
			return err
		}
	}
	// Records a log-store export held twice (pages that overlap): counted
	// among the records, read once.
	for i := range inputs {
		in := &inputs[i]
		if in.Duplicates == 0 {
			continue
		}
		verb := "repeat"
		if in.Duplicates == 1 {
			verb = "repeats"
		}
		line := fmt.Sprintf("%s: %d of its records %s an earlier one exactly (same time and text): each is read once", pl.path(in.Path, in.Stream), in.Duplicates, verb)
		if _, err := fmt.Fprintln(w, strings.ReplaceAll(wrap(line, width-2), "\n", "\n  ")); err != nil {
			return err
		}
	}
	// How a TaskManager is known, when no banner says it: the provenance
	// a reader needs to trust (or doubt) the joins made under that name.
	for i := range inputs {
		in := &inputs[i]
		if in.ResourceID == "" || strings.HasPrefix(in.ResourceIDSource, "banner") || in.DuplicateOf != "" {
			continue
		}
		line := fmt.Sprintf("taskmanager %s of %s: %s", Escape(in.ResourceID), pl.path(in.Path, in.Stream), Escape(identityWords(in.ResourceIDSource)))
		if _, err := fmt.Fprintln(w, strings.ReplaceAll(wrap(line, width-2), "\n", "\n  ")); err != nil {
			return err
		}
	}
	return nil
}

// identityWords says in words where an input's ResourceID comes from.
func identityWords(src string) string {
	switch src {
	case "file name":
		return "named after the file: no line of the inputs gives its ResourceID"
	case "registration":
		return "the one TaskManager its ResourceManager registered (a MiniCluster)"
	case "container":
		return "its YARN container"
	case "pod":
		return "its pod"
	}
	return src
}

// WriteInputSummary writes the per-input summary of an audit: what
// WriteInputTable writes.
func WriteInputSummary(w io.Writer, inputs []parser.InputSummary, width int) error {
	return WriteInputTable(w, inputs, width)
}
