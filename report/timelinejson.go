package report

// This file writes a timeline's JSON by hand: the bytes NewJSONEncoder
// gives an AllocationJSON indented inside the document, without the
// encoder's reflection and its second pass that indents what it wrote —
// a third of the time of a session cluster's timelines (300,000
// allocations, 1.8 GB of JSON). TestTimelineJSONIsTheEncoders holds the
// two to the byte.

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// jsonIndenter appends indented JSON: each nested value one indent more,
// every line after the first starting with prefix.
type jsonIndenter struct {
	b      []byte
	prefix string
	depth  int
	strs   jsonStrings
}

// jsonStrings appends strings as NewJSONEncoder writes them.
type jsonStrings struct {
	// an encoder of the strings that need escaping
	enc *json.Encoder
	buf bytes.Buffer
}

// append appends s as NewJSONEncoder writes it: plain printable ASCII as
// it is, anything else through an encoder set as it is, and EscapeJSON.
func (j *jsonStrings) append(b []byte, s string) []byte {
	if !plainJSON(s) {
		if j.enc == nil {
			j.enc = json.NewEncoder(&j.buf)
			j.enc.SetEscapeHTML(false)
		}
		j.buf.Reset()
		_ = j.enc.Encode(s) // (a string always encodes)
		return append(b, EscapeJSON(bytes.TrimSuffix(j.buf.Bytes(), []byte("\n")))...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON reports whether s is printable ASCII with no quote or
// backslash: what a JSON string holds as it is. Eight bytes are looked at
// a time (an evidence line is a few hundred): a word that may hold
// another byte says no, which the encoder then settles.
func plainJSON(s string) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// (a byte of 0x80 or more; below 0x20; equal to '"', '\\' or DEL)
		q, bs, del := x^(lo*'"'), x^(lo*'\\'), x^(lo*0x7f)
		if (x|(x-lo*0x20)&^x|(q-lo)&^q|(bs-lo)&^bs|(del-lo)&^del)&hi != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (j *jsonIndenter) newline() {
	j.b = append(j.b, '\n')
	j.b = append(j.b, j.prefix...)
	for range j.depth {
		j.b = append(j.b, "  "...)
	}
}

// open begins an object or array.
func (j *jsonIndenter) open(c byte) {
	j.b = append(j.b, c)
	j.depth++
}

func (j *jsonIndenter) close(c byte, empty bool) {
	j.depth--
	if !empty {
		j.newline()
	}
	j.b = append(j.b, c)
}

// member begins the next member of an object: a comma after the one
// before, a new line, its name.
func (j *jsonIndenter) member(first *bool, name string) {
	if !*first {
		j.b = append(j.b, ',')
	}
	*first = false
	j.newline()
	j.b = append(j.b, '"')
	j.b = append(j.b, name...)
	j.b = append(j.b, `": `...)
}

// element begins the next element of an array.
func (j *jsonIndenter) element(first *bool) {
	if !*first {
		j.b = append(j.b, ',')
	}
	*first = false
	j.newline()
}

func (j *jsonIndenter) int(v int64) { j.b = strconv.AppendInt(j.b, v, 10) }

// string appends s as NewJSONEncoder writes it (jsonStrings).
func (j *jsonIndenter) string(s string) { j.b = j.strs.append(j.b, s) }

func (j *jsonIndenter) place(p *PlaceJSON) {
	if p == nil {
		j.b = append(j.b, "null"...)
		return
	}
	first := true
	j.open('{')
	j.where(&first, p.Path, p.Stream, p.Line, p.RecordOnLine)
	j.close('}', false)
}

// where appends the members that place a line: path, stream (when set),
// line, record_on_line (when not 0).
func (j *jsonIndenter) where(first *bool, path, stream string, line int64, rec int32) {
	j.member(first, "path")
	j.string(path)
	if stream != "" {
		j.member(first, "stream")
		j.string(stream)
	}
	j.member(first, "line")
	j.int(line)
	if rec != 0 {
		j.member(first, "record_on_line")
		j.int(int64(rec))
	}
}

// allocation appends a's JSON.
func (j *jsonIndenter) allocation(a *AllocationJSON) {
	first := true
	j.open('{')
	j.member(&first, "allocation_id")
	j.string(a.AllocationID)
	if a.JobID != "" {
		j.member(&first, "job_id")
		j.string(a.JobID)
	}
	if a.ResourceID != "" {
		j.member(&first, "resource_id")
		j.string(a.ResourceID)
	}
	j.member(&first, "slot_indexes")
	j.array(a.SlotIndexes == nil, len(a.SlotIndexes), func(k int) { j.int(int64(a.SlotIndexes[k])) })
	j.member(&first, "slots")
	j.array(a.Slots == nil, len(a.Slots), func(k int) { j.heldSlot(&a.Slots[k]) })
	j.member(&first, "events")
	j.array(a.Events == nil, len(a.Events), func(k int) { j.event(&a.Events[k]) })
	j.close('}', false)
}

// array appends an array of n elements, each appended by element (null
// for a nil slice, as the encoder writes it).
func (j *jsonIndenter) array(null bool, n int, element func(k int)) {
	if null {
		j.b = append(j.b, "null"...)
		return
	}
	j.open('[')
	el := true
	for k := range n {
		j.element(&el)
		element(k)
	}
	j.close(']', el)
}

func (j *jsonIndenter) heldSlot(h *HeldSlotJSON) {
	first := true
	j.open('{')
	j.member(&first, "resource_id")
	j.string(h.ResourceID)
	j.member(&first, "index")
	if h.Index == nil {
		j.b = append(j.b, "null"...)
	} else {
		j.int(int64(*h.Index))
	}
	j.member(&first, "index_source")
	j.string(h.IndexSource)
	if h.IndexEvidence != nil {
		j.member(&first, "index_evidence")
		inner := true
		j.open('{')
		j.member(&inner, "how")
		j.string(h.IndexEvidence.How)
		if h.IndexEvidence.Where != nil {
			j.member(&inner, "where")
			j.place(h.IndexEvidence.Where)
		}
		j.close('}', false)
	}
	j.member(&first, "allocated")
	j.place(h.Allocated)
	if h.Prior {
		j.member(&first, "prior")
		j.b = append(j.b, "true"...)
	}
	j.member(&first, "freed")
	j.place(h.Freed)
	if h.Zombie {
		j.member(&first, "zombie")
		j.b = append(j.b, "true"...)
	}
	if h.Replaced != nil {
		j.member(&first, "replaced")
		j.place(h.Replaced)
	}
	j.close('}', false)
}

func (j *jsonIndenter) event(e *TimelineEventJSON) {
	first := true
	j.open('{')
	if e.Time != "" {
		j.member(&first, "time")
		j.string(e.Time)
	}
	if e.AlignedTime != "" {
		j.member(&first, "aligned_time")
		j.string(e.AlignedTime)
	}
	if e.Component != "" {
		j.member(&first, "component")
		j.string(e.Component)
	}
	j.member(&first, "kind")
	j.string(e.Kind)
	if e.SlotIndex != nil {
		j.member(&first, "slot_index")
		j.int(int64(*e.SlotIndex))
	}
	j.where(&first, e.Path, e.Stream, e.Line, e.RecordOnLine)
	j.member(&first, "text")
	j.string(e.Text)
	j.close('}', false)
}
