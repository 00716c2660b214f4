package parser

// The JSON exports: their detection (sniffJSON), the walk of their
// documents (readDocs) and the decoding of one record (the *Item
// functions). Each shape follows the public documentation named at it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
)

// sniffNode is what the start of a JSON value shows: its kind, a string's
// text, an object's members (to a few levels) or an array's first element
// (members[""]).
type sniffNode struct {
	kind    byte // '{', '[', '"' or 0 (another scalar)
	str     string
	members map[string]*sniffNode
}

func (n *sniffNode) has(keys ...string) bool {
	if n == nil {
		return false
	}
	for _, k := range keys {
		if _, ok := n.members[k]; ok {
			return true
		}
	}
	return false
}

func (n *sniffNode) get(k string) *sniffNode {
	if n == nil {
		return nil
	}
	return n.members[k]
}

func (n *sniffNode) text(k string) string {
	if m := n.get(k); m != nil && m.kind == '"' {
		return m.str
	}
	return ""
}

// sniffValue reads the value at dec's position as far as dec can (head
// may end inside it): members to depth levels, the first element of an
// array; the rest is read past.
func sniffValue(dec *json.Decoder, depth int) (*sniffNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	n := &sniffNode{}
	switch t := tok.(type) {
	case string:
		n.kind, n.str = '"', t
		return n, nil
	case json.Delim:
		n.kind = byte(t)
	default:
		return n, nil
	}
	if depth == 0 {
		return n, skipOpened(dec)
	}
	n.members = map[string]*sniffNode{}
	for first := true; dec.More(); first = false {
		key := ""
		if n.kind == '{' {
			tok, err := dec.Token()
			if err != nil {
				return n, err
			}
			key, _ = tok.(string)
		} else if !first {
			if err := skipValue(dec); err != nil {
				return n, err
			}
			continue
		}
		m, err := sniffValue(dec, depth-1)
		if m != nil {
			n.members[key] = m
		}
		if err != nil {
			return n, err
		}
	}
	_, err = dec.Token()
	return n, err
}

// skipValue reads past the value at dec's position.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return skipOpened(dec)
	}
	return nil
}

// skipOpened reads past the rest of an object or array whose opening
// delimiter was just read.
func skipOpened(dec *json.Decoder) error { return skipDepth(dec, nil) }

// skipDepth reads tokens until the value whose opening delimiter was just
// read is closed; every, when set, is called before each 1024th token.
func skipDepth(dec *json.Decoder, every func()) error {
	for depth, n := 1, 0; depth > 0; n++ {
		if every != nil && n%1024 == 1023 {
			every()
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// sniffJSON tells which JSON export head begins, from its first value,
// or (one record a line) from the first of its first lines that tells.
func sniffJSON(head []byte) string {
	dec := json.NewDecoder(bytes.NewReader(head))
	n, _ := sniffValue(dec, 4)
	kind := sniffKind(n)
	if kind != "" || n == nil || n.kind != '{' {
		return kind
	}
	// a record without the members that tell (a line without its
	// message): the next lines may tell, if they are all objects
	lines := bytes.Split(head, []byte("\n"))
	for i := 1; i < len(lines) && i < 16; i++ {
		l := bytes.TrimSpace(lines[i])
		if len(l) == 0 {
			continue
		}
		if l[0] != '{' {
			return ""
		}
		n, _ := sniffValue(json.NewDecoder(bytes.NewReader(l)), 4)
		switch k := sniffKind(n); k {
		case wrapESNDJSON, wrapLogcliJSONL, wrapVictoria:
			return k
		case "":
		default:
			return ""
		}
	}
	return ""
}

// sniffKind tells which export a value begins.
func sniffKind(n *sniffNode) string {
	if n == nil {
		return ""
	}
	if n.kind == '[' {
		// gcloud logging read --format json: an array of LogEntry
		// (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry)
		e := n.get("")
		if e != nil && e.kind == '{' && (e.has("logName") || e.has("insertId") && e.has("textPayload", "jsonPayload", "protoPayload") || e.has("receiveTimestamp") && e.has("resource")) {
			return wrapGcloudJSON
		}
		return ""
	}
	if n.kind != '{' {
		return ""
	}
	// Elasticsearch/OpenSearch search API responses, scroll and
	// point-in-time pages alike: {"took","timed_out","_shards","hits":{"hits":[…]}}
	// (https://www.elastic.co/guide/en/elasticsearch/reference/current/search-search.html#search-api-response-body),
	// with "_scroll_id" or "pit_id" first in scroll and PIT pages.
	if h := n.get("hits"); h != nil && h.kind == '{' && (n.has("took", "timed_out", "_shards", "_scroll_id", "pit_id") || h.has("hits") && h.has("total", "max_score")) ||
		n.has("took") && n.has("timed_out") {
		return wrapESSearch
	}
	// Loki: {"status":"success","data":{"resultType":"streams","result":[…]}}
	// (https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-logs-within-a-range-of-time)
	if d := n.get("data"); d != nil {
		if d.kind == '{' && (d.text("resultType") == "streams" || d.text("resultType") == "" && d.get("result").get("").has("stream") && d.get("result").get("").has("values")) {
			return wrapLokiRange
		}
		// Datadog: {"data":[{"id","type":"log","attributes":{…}}],"links","meta"}
		// (https://docs.datadoghq.com/api/latest/logs/#search-logs)
		if e := d.get(""); d.kind == '[' && e != nil && e.kind == '{' && e.has("attributes") && (e.text("type") == "log" || e.has("id")) {
			return wrapDatadogJSON
		}
	}
	// CloudWatch Logs: {"events":[{"logStreamName","timestamp","message","ingestionTime","eventId"}],"searchedLogStreams","nextToken"}
	// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html,
	// API_GetLogEvents.html: no logStreamName, nextForwardToken)
	if ev := n.get("events"); ev != nil && ev.kind == '[' {
		e := ev.get("")
		if e != nil && e.kind == '{' && (e.has("message") && e.has("timestamp") && e.has("logStreamName") || e.has("ingestionTime", "eventId")) ||
			e == nil && n.has("nextToken", "nextForwardToken", "nextBackwardToken", "searchedLogStreams") {
			return wrapCWEvents
		}
	}
	// One record an object, one a line:
	switch {
	case n.has("_source") && n.has("_index", "_id"):
		return wrapESNDJSON // elasticdump's documents
	case n.has("line") && n.has("timestamp") && len(n.members) <= 3 && (len(n.members) == 2 || n.has("labels")):
		return wrapLogcliJSONL // https://grafana.com/docs/loki/latest/query/logcli/ (--output jsonl)
	case n.has("_msg") && n.has("_time"):
		return wrapVictoria // https://docs.victoriametrics.com/victorialogs/querying/#http-api
	case (n.text("message") != "" || n.text("log") != "") && shippedOrigin(n):
		return wrapESNDJSON // _source objects alone: Filebeat's, Fluent Bit's
	}
	return ""
}

// shippedOrigin reports whether an object names its origin as a log
// shipper does (Filebeat, Fluent Bit, Fluentd): a record of a store,
// not a line a JSON layout wrote.
func shippedOrigin(n *sniffNode) bool {
	for _, k := range []string{"kubernetes", "k8s", "container", "host"} {
		if m := n.get(k); m != nil && m.kind == '{' {
			return true
		}
	}
	if m := n.get("log"); m != nil && m.kind == '{' && m.has("file") {
		return true
	}
	for k := range n.members {
		for _, p := range []string{"kubernetes.", "k8s.", "host.", "container.", "log.file."} {
			if strings.HasPrefix(k, p) {
				return true
			}
		}
	}
	return n.has("hostname", "pod_name")
}

// docWalk reads JSON documents (one after another: pages saved one after
// another, pretty-printed or not) with a streaming decoder: only one
// record's bytes at a time are decoded.
type docWalk struct {
	x    *exportReader
	dec  *json.Decoder
	lc   *lineCounter
	recs int // records of the current document
	// pending: a Loki stream's values, until its labels are known
	pending []pendingItem
}

type pendingItem struct {
	it                      exportItem
	first, last, start, end int64
}

func (x *exportReader) readDocs(r io.Reader) (int64, error) {
	lc := &lineCounter{r: r}
	w := &docWalk{x: x, dec: json.NewDecoder(lc), lc: lc}
	switch x.kind {
	case wrapLokiRange:
		x.extract = lokiValueItem
	case wrapCWEvents:
		x.extract = cloudWatchItem
	case wrapGcloudJSON:
		x.extract = gcloudItem
	case wrapDatadogJSON:
		x.extract = datadogItem
	default:
		x.extract = esDocItem
	}
	for {
		tok, err := w.dec.Token()
		if err == io.EOF {
			break
		}
		if err == nil {
			w.recs = 0
			line := lc.lineAt(w.dec.InputOffset() - 1) // the document's first token
			err = w.document(tok)
			if err == nil && w.recs == 0 {
				x.notes = append(x.notes, exportBad{line: line, why: "a JSON document of the export holds no log records (an error response, an empty page?)"})
			}
		}
		if err != nil {
			if lc.err != nil {
				return lc.lines(), lc.err
			}
			return w.fail(err)
		}
	}
	return lc.lines(), lc.err
}

// fail ends a walk that met what is not JSON (or JSON cut off): the rest
// of the input is one unparsed record.
func (w *docWalk) fail(err error) (int64, error) {
	why := "invalid JSON: " + jsonErrText(err)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		why = "the JSON document is cut off before its end"
	}
	at := w.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		at = se.Offset
	}
	line := w.lc.lineAt(at)
	rest, _ := io.ReadAll(io.LimitReader(w.dec.Buffered(), 200))
	if _, cerr := io.Copy(io.Discard, w.lc); cerr != nil && w.lc.err != nil {
		return w.lc.lines(), w.lc.err
	}
	w.x.broken(line, w.lc.lines(), why+"; the rest of the input is not read as records", bytes.TrimSpace(rest))
	return w.lc.lines(), nil
}

// document walks one top-level value whose first token was read.
func (w *docWalk) document(tok json.Token) error {
	d, _ := tok.(json.Delim)
	switch w.x.kind {
	case wrapGcloudJSON:
		if d != '[' {
			return w.skipRest(tok)
		}
		return w.array(w.record)
	case wrapESSearch:
		return w.path(tok, []string{"hits", "hits"}, w.record)
	case wrapCWEvents:
		return w.path(tok, []string{"events"}, w.record)
	case wrapDatadogJSON:
		return w.path(tok, []string{"data"}, w.record)
	case wrapLokiRange:
		if d != '{' {
			return w.skipRest(tok)
		}
		return w.object(func(k string) error {
			if k != "data" {
				return w.skip()
			}
			if ok, err := w.open('{'); !ok || err != nil {
				return err
			}
			streams := true
			return w.object(func(k string) error {
				switch k {
				case "resultType":
					tok, err := w.dec.Token()
					if s, ok := tok.(string); ok && s != "streams" {
						streams = false // a metric query's matrix or vector: no log lines
					} else if !ok {
						return w.skipRest(tok)
					}
					return err
				case "result":
					if !streams {
						return w.skip()
					}
					if ok, err := w.open('['); !ok || err != nil {
						return err
					}
					return w.array(w.lokiStream)
				}
				return w.skip()
			})
		})
	}
	return w.skipRest(tok)
}

// path follows the members named by keys from an object (whose '{' is
// the token tok) to an array, and calls elem for each of its elements;
// any other value is read past.
func (w *docWalk) path(tok json.Token, keys []string, elem func() error) error {
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return w.skipRest(tok)
	}
	return w.object(func(k string) error {
		if k != keys[0] {
			return w.skip()
		}
		if len(keys) == 1 {
			if ok, err := w.open('['); !ok || err != nil {
				return err
			}
			return w.array(elem)
		}
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		return w.path(tok, keys[1:], elem)
	})
}

// object calls member with each key of the object whose '{' was read;
// member reads the value.
func (w *docWalk) object(member func(key string) error) error {
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if err := member(key); err != nil {
			return err
		}
	}
	_, err := w.dec.Token()
	return err
}

// array calls elem for each element of the array whose '[' was read.
func (w *docWalk) array(elem func() error) error {
	for w.dec.More() {
		if err := elem(); err != nil {
			return err
		}
	}
	_, err := w.dec.Token()
	return err
}

// open reads the next value's first token: true when it opens what want
// says; any other value is read past.
func (w *docWalk) open(want json.Delim) (bool, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return false, err
	}
	if d, ok := tok.(json.Delim); ok && d == want {
		return true, nil
	}
	return false, w.skipRest(tok)
}

// skip reads past the next value.
func (w *docWalk) skip() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	return w.skipRest(tok)
}

// skipRest reads past the rest of the value tok began. The lines read past
// are forgotten as it goes (a large aggregation kept no newline offsets).
func (w *docWalk) skipRest(tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	return skipDepth(w.dec, func() { w.lc.lineAt(w.dec.InputOffset()) })
}

// raw decodes the next value as its bytes, and where they are.
func (w *docWalk) raw() (b []byte, first, last, start, end int64, err error) {
	var m json.RawMessage
	if err := w.dec.Decode(&m); err != nil {
		return nil, 0, 0, 0, 0, err
	}
	end = w.dec.InputOffset()
	start = end - int64(len(m))
	first, last = w.lc.lineAt(start), w.lc.lineAt(end)
	return m, first, last, w.x.base + start, w.x.base + end, nil
}

// record reads one element as a record.
func (w *docWalk) record() error {
	b, first, last, start, end, err := w.raw()
	if err != nil {
		return err
	}
	w.recs++
	w.x.add(w.x.extract(b), first, last, start, end, true)
	return nil
}

// lokiStream reads one element of a Loki result: {"stream":{labels},"values":[["<ns>","<line>"],…]}.
func (w *docWalk) lokiStream() error {
	if ok, err := w.open('{'); !ok || err != nil {
		return err
	}
	var labels map[string]string
	w.pending = w.pending[:0]
	err := w.object(func(k string) error {
		switch k {
		case "stream", "metric":
			return w.dec.Decode(&labels)
		case "values":
			if ok, err := w.open('['); !ok || err != nil {
				return err
			}
			return w.array(func() error {
				b, first, last, start, end, err := w.raw()
				if err != nil {
					return err
				}
				w.recs++
				w.pending = append(w.pending, pendingItem{lokiValueItem(b), first, last, start, end})
				return nil
			})
		}
		return w.skip()
	})
	o := labelsOrigin(labels)
	for _, p := range w.pending {
		p.it.origin = o
		w.x.add(p.it, p.first, p.last, p.start, p.end, true)
	}
	w.pending = w.pending[:0]
	return err
}

// decodeObject decodes b as one JSON object, numbers as json.Number.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %s", jsonErrText(err))
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// lookup finds key in m flat ("log.level": …) or nested ({"log":{"level":…}}),
// or any mix of them, as ECS producers differ.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for i := 0; i < len(key); i++ {
		if key[i] != '.' {
			continue
		}
		if sub, ok := m[key[:i]].(map[string]any); ok {
			if v, ok := lookup(sub, key[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// mapStrings is a getter of m's string members (numbers as text).
func mapStrings(m map[string]any) func(string) string {
	return func(k string) string {
		v, _ := lookup(m, k)
		switch x := v.(type) {
		case string:
			return x
		case json.Number:
			return x.String()
		}
		return ""
	}
}

// exportTimeKeys are where a stored record keeps its time (ECS and
// Filebeat's @timestamp, Fluent Bit's time, …).
var exportTimeKeys = []string{"@timestamp", "timestamp", "time", "_time", "date", "Date"}

// exportMsgKeys hold the message: ECS and Filebeat's message, Fluent
// Bit's and Docker's log (the raw line), msg.
var exportMsgKeys = []string{"message", "log", "msg", "Message", "Content", "content"}

// storedRecord reads what every store keeps of a record from its members:
// time, second order, message, origin; structured says that it holds a
// logger of its own (the JSON layout's record itself was stored).
func storedRecord(get func(string) (any, bool)) (it exportItem, hasMsg, structured bool) {
	for _, k := range exportTimeKeys {
		if v, ok := get(k); ok {
			if t, ok := exportTime(v); ok {
				it.time = t
				break
			}
		}
	}
	if v, ok := get("log.offset"); ok {
		if n, ok := v.(json.Number); ok {
			it.tie, _ = n.Int64()
		} else if s, ok := v.(string); ok {
			it.tie, _ = strconv.ParseInt(s, 10, 64)
		}
	}
	for _, k := range exportMsgKeys {
		if v, ok := get(k); ok {
			if s, ok := v.(string); ok {
				it.text, hasMsg = s, true
				break
			}
		}
	}
	for _, k := range jsonLoggerKeys {
		if v, ok := get(k); ok {
			if s, ok := v.(string); ok && s != "" {
				structured = true
				break
			}
		}
	}
	it.origin = originOf(func(k string) string {
		v, _ := get(k)
		if s, ok := v.(string); ok {
			return s
		}
		return ""
	})
	return it, hasMsg, structured
}

// noMessage is why a record without a message is not read.
func noMessage(it exportItem) string {
	if it.time.IsZero() {
		return "neither a timestamp nor a message field (" + strings.Join(exportMsgKeys, ", ") + ")"
	}
	return "no message field (" + strings.Join(exportMsgKeys, ", ") + ")"
}

// sourceItem reads a stored document (an Elasticsearch _source, a
// Filebeat or Fluent Bit event): raw log line(s) in message or log, or a
// JSON layout's record (it names its logger), handed over as the object.
// raw gives the document's own bytes, asked for only then.
func sourceItem(m map[string]any, raw func() []byte) exportItem {
	it, hasMsg, structured := storedRecord(func(k string) (any, bool) { return lookup(m, k) })
	if structured {
		var b bytes.Buffer
		if json.Compact(&b, raw()) == nil {
			it.text, it.obj = b.String(), true
			return it
		}
	}
	if !hasMsg {
		it.bad, it.detail = noMessage(it), raw()
	}
	return it
}

// esDocItem reads a search hit or an elasticdump line:
// {"_index","_id","_source":{…}} (or "fields":{"k":[v]} when _source was
// left out), or a bare _source object. It is decoded once, into a map.
func esDocItem(b []byte) exportItem {
	m, err := decodeObject(b)
	if err != nil {
		return exportItem{bad: err.Error(), detail: b}
	}
	if src, ok := m["_source"].(map[string]any); ok {
		return sourceItem(src, func() []byte {
			var h struct {
				Source json.RawMessage `json:"_source"`
			}
			_ = json.Unmarshal(b, &h)
			return h.Source
		})
	}
	if fields, ok := m["fields"].(map[string]any); ok {
		// the fields API: every value is a list
		for k, v := range fields {
			if l, ok := v.([]any); ok && len(l) > 0 {
				fields[k] = l[0]
			}
		}
		it, hasMsg, _ := storedRecord(func(k string) (any, bool) { v, ok := fields[k]; return v, ok })
		if !hasMsg {
			it.bad, it.detail = noMessage(it), b
		}
		return it
	}
	if _, ok := m["_index"]; ok {
		return exportItem{bad: "a hit without _source or fields", detail: b}
	}
	return sourceItem(m, func() []byte { return b })
}

// lokiValueItem reads one of a Loki stream's values: ["<ns>","<line>"],
// with structured metadata as a third element from Loki 3.
func lokiValueItem(b []byte) exportItem {
	var v []json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return exportItem{bad: "invalid JSON: " + jsonErrText(err), detail: b}
	}
	var it exportItem
	var ns string
	if len(v) > 0 && json.Unmarshal(v[0], &ns) == nil {
		if n, err := strconv.ParseInt(ns, 10, 64); err == nil {
			it.time = flinklog.Time{Kind: flinklog.TimeUTC, N: n}
		}
	}
	if len(v) < 2 || json.Unmarshal(v[1], &it.text) != nil {
		if it.time.IsZero() {
			it.bad = "neither a timestamp nor a message (a value is [\"<nanoseconds>\", \"<line>\"])"
		} else {
			it.bad = "no message (a value is [\"<nanoseconds>\", \"<line>\"])"
		}
		it.detail = b
	}
	return it
}

// logcliItem reads a line of logcli query --output jsonl:
// {"labels":{…},"line":"…","timestamp":"<RFC 3339>"}.
func logcliItem(b []byte) exportItem {
	var l struct {
		Labels    map[string]string `json:"labels"`
		Line      *string           `json:"line"`
		Timestamp string            `json:"timestamp"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return exportItem{bad: "invalid JSON: " + jsonErrText(err), detail: b}
	}
	it := exportItem{origin: labelsOrigin(l.Labels)}
	it.time, _ = parseExportTime(l.Timestamp)
	if l.Line == nil {
		it.bad, it.detail = noMessage(it), b
		return it
	}
	it.text = *l.Line
	return it
}

// victoriaItem reads a line of VictoriaLogs' query response:
// {"_msg":"…","_stream":"{k=\"v\"}","_time":"…", other fields…}.
func victoriaItem(b []byte) exportItem {
	m, err := decodeObject(b)
	if err != nil {
		return exportItem{bad: err.Error(), detail: b}
	}
	var it exportItem
	it.time, _ = parseExportTime(mapStrings(m)("_time"))
	get := mapStrings(m)
	it.origin = originOf(get)
	if it.origin.name == "" {
		it.origin = labelsOrigin(parseStreamLabels(get("_stream")))
	}
	msg, ok := m["_msg"].(string)
	if !ok {
		it.bad, it.detail = noMessage(it), b
		return it
	}
	it.text = msg
	return it
}

// cloudWatchItem reads an event of filter-log-events or get-log-events:
// {"logStreamName","timestamp":<ms>,"message","ingestionTime","eventId"}.
func cloudWatchItem(b []byte) exportItem {
	var e struct {
		Stream    string      `json:"logStreamName"`
		Timestamp json.Number `json:"timestamp"`
		Message   *string     `json:"message"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return exportItem{bad: "invalid JSON: " + jsonErrText(err), detail: b}
	}
	it := exportItem{origin: originOf(func(k string) string {
		if k == "logStreamName" {
			return e.Stream
		}
		return ""
	})}
	if ms, err := e.Timestamp.Int64(); err == nil && ms > 0 {
		it.time = flinklog.Time{Kind: flinklog.TimeUTC, N: ms * 1e6}
	}
	if e.Message == nil {
		it.bad, it.detail = noMessage(it), b
		return it
	}
	it.text = *e.Message
	return it
}

// gcloudItem reads a LogEntry: timestamp, textPayload or
// jsonPayload.message, resource.labels (pod_name, container_name), labels.
func gcloudItem(b []byte) exportItem {
	var e struct {
		JSONPayload json.RawMessage `json:"jsonPayload"`
	}
	m, err := decodeObject(b)
	if err != nil || json.Unmarshal(b, &e) != nil {
		return exportItem{bad: "invalid LogEntry", detail: b}
	}
	var it exportItem
	if ts, ok := m["timestamp"].(string); ok {
		it.time, _ = parseExportTime(ts)
	}
	get := mapStrings(m)
	it.origin = originOf(get)
	if it.origin.name == "" {
		if ln := get("logName"); ln != "" {
			it.origin.name = "log/" + ln
		}
	}
	if s, ok := m["textPayload"].(string); ok {
		it.text = s
		return it
	}
	if p, ok := m["jsonPayload"].(map[string]any); ok {
		pit, hasMsg, structured := storedRecord(func(k string) (any, bool) { return lookup(p, k) })
		var c bytes.Buffer
		if structured && json.Compact(&c, e.JSONPayload) == nil {
			it.text, it.obj = c.String(), true
			return it
		}
		if hasMsg {
			it.text = pit.text
			return it
		}
	}
	it.bad, it.detail = noMessage(it)+" (textPayload, jsonPayload.message)", b
	return it
}

// datadogItem reads an event of the Logs Search API:
// {"id","type":"log","attributes":{"timestamp","message","host","service","status","tags":["k:v"],"attributes":{…}}}.
func datadogItem(b []byte) exportItem {
	var e struct {
		Attributes struct {
			Timestamp  string         `json:"timestamp"`
			Message    *string        `json:"message"`
			Host       string         `json:"host"`
			Service    string         `json:"service"`
			Status     string         `json:"status"`
			Tags       []string       `json:"tags"`
			Attributes map[string]any `json:"attributes"`
		} `json:"attributes"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return exportItem{bad: "invalid JSON: " + jsonErrText(err), detail: b}
	}
	a := &e.Attributes
	var it exportItem
	it.time, _ = parseExportTime(a.Timestamp)
	tags := map[string]string{}
	for _, t := range a.Tags {
		if k, v, ok := strings.Cut(t, ":"); ok {
			if _, dup := tags[k]; !dup {
				tags[k] = v
			}
		}
	}
	attr := mapStrings(a.Attributes)
	it.origin = originOf(func(k string) string {
		switch k {
		case "host":
			return a.Host
		case "service":
			return a.Service
		}
		if v := tags[k]; v != "" {
			return v
		}
		return attr(k)
	})
	if a.Message == nil {
		it.bad, it.detail = noMessage(it), b
		return it
	}
	it.text = *a.Message
	// a log parsed by a pipeline keeps its logger apart (Datadog's
	// standard attributes logger.name, logger.thread_name, error.stack)
	if logger := attr("logger.name"); logger != "" {
		it.text, it.obj = synthObject(it.time, a.Status, logger, attr("logger.thread_name"), *a.Message, attr("error.stack")), true
	}
	return it
}

// synthObject writes a structured record as an ECS object, for the JSON
// layout's decoding; a time that is not an instant is left to the
// record's own (the stream takes it).
func synthObject(t flinklog.Time, level, logger, thread, msg, stack string) string {
	var b strings.Builder
	b.WriteByte('{')
	add := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kq, _ := json.Marshal(k)
		vq, _ := json.Marshal(v)
		b.Write(kq)
		b.WriteByte(':')
		b.Write(vq)
	}
	if t.Kind == flinklog.TimeUTC {
		add("@timestamp", time.Unix(0, t.N).UTC().Format(time.RFC3339Nano))
	}
	add("log.level", level)
	add("log.logger", logger)
	add("process.thread.name", thread)
	add("message", msg)
	add("error.stack_trace", stack)
	b.WriteByte('}')
	return b.String()
}

// exportTime reads a stored time: RFC 3339 (or without a zone: local),
// Kibana's "Mar 17, 2020 @ 13:59:28.500", or epoch seconds, milliseconds,
// microseconds or nanoseconds.
func exportTime(v any) (flinklog.Time, bool) {
	switch x := v.(type) {
	case string:
		return parseExportTime(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return flinklog.Time{}, false
		}
		return epochTime(f)
	case float64:
		return epochTime(x)
	}
	return flinklog.Time{}, false
}

func epochTime(f float64) (flinklog.Time, bool) {
	switch {
	case f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 9e18:
		return flinklog.Time{}, false
	case f >= 1e17:
		return flinklog.Time{Kind: flinklog.TimeUTC, N: int64(f)}, true
	case f >= 1e14:
		return flinklog.Time{Kind: flinklog.TimeUTC, N: int64(f * 1e3)}, true
	case f >= 1e11:
		return flinklog.Time{Kind: flinklog.TimeUTC, N: int64(f * 1e6)}, true
	}
	return flinklog.Time{Kind: flinklog.TimeUTC, N: int64(math.Round(f * 1e9))}, true
}

// parseExportTime reads a time as text (see exportTime).
func parseExportTime(s string) (flinklog.Time, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "'")) // a CSV's escaped formula sign
	if s == "" {
		return flinklog.Time{}, false
	}
	if t, ok := parseISOTime(s); ok {
		return t, true
	}
	for _, layout := range []string{"Jan 2, 2006 @ 15:04:05.000", "Jan 2, 2006 @ 15:04:05", "Jan 2, 2006 @ 15:04:05.000000000"} {
		if t, err := time.Parse(layout, s); err == nil {
			return flinklog.Time{Kind: flinklog.TimeLocal, N: t.UnixNano()}, true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return epochTime(f)
	}
	return flinklog.Time{}, false
}

// Where a record's origin is kept, by the names the shippers and stores
// give it: ECS and Filebeat (kubernetes.pod.name, container.name,
// host.name, log.file.path), Fluent Bit and Fluentd (kubernetes.pod_name,
// kubernetes.container_name), OpenTelemetry (k8s.pod.name), Promtail and
// Alloy labels (pod, container, filename), Google Cloud's resource labels,
// Datadog's tags (pod_name, kube_container_name).
var (
	originPodKeys       = []string{"kubernetes.pod.name", "kubernetes.pod_name", "k8s.pod.name", "kubernetes_pod_name", "k8s_pod_name", "resource.labels.pod_name", "pod_name", "pod"}
	originContainerKeys = []string{"kubernetes.container.name", "kubernetes.container_name", "k8s.container.name", "kubernetes_container_name", "k8s_container_name", "resource.labels.container_name", "kube_container_name", "container_name", "container.name", "container"}
	originHostKeys      = []string{"host.name", "host.hostname", "hostname", "host", "kubernetes.node.name", "node_name", "resource.labels.instance_id"}
	originFileKeys      = []string{"log.file.path", "filename", "filepath"}
)

// containerLog matches the name of a Kubernetes container log
// (/var/log/containers/<pod>_<namespace>_<container>-<id>.log), which
// Filebeat's log.file.path and the log streams Fluent Bit writes to
// CloudWatch are named after.
var containerLog = regexp.MustCompile(`(?:^|[/.])([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)_([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)_([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-[0-9a-f]{64}(?:\.log)?$`)

// podOfContainerLog returns the pod and container a container log's name
// names.
func podOfContainerLog(name string) (pod, container string) {
	if i := strings.LastIndex(name, "containers."); i >= 0 {
		name = name[i+len("containers."):] // Fluent Bit's tag kube.var.log.containers.…
	}
	m := containerLog.FindStringSubmatch(name)
	if m == nil {
		return "", ""
	}
	return m[1], m[3]
}

// originOf names a record's origin from its fields: a pod (and its
// container), else a CloudWatch log stream, else a host and its log file
// (or service), else nothing (the whole export is one stream).
func originOf(get func(string) string) exportOrigin {
	first := func(keys []string) string {
		for _, k := range keys {
			if v := get(k); v != "" {
				return v
			}
		}
		return ""
	}
	pod, container := first(originPodKeys), first(originContainerKeys)
	if pod == "" {
		for _, k := range []string{"log.file.path", "filename", "logStreamName"} {
			if p, c := podOfContainerLog(get(k)); p != "" {
				pod, container = p, c
				break
			}
		}
	}
	if pod != "" {
		name := "pod/" + pod
		if container != "" {
			name += "/" + container
		}
		return exportOrigin{name: name, hint: pod, hintSrc: "pod"}
	}
	if s := get("logStreamName"); s != "" {
		return exportOrigin{name: s}
	}
	host, file := first(originHostKeys), first(originFileKeys)
	if file == "" {
		file = get("service")
	}
	switch {
	case host != "" && file != "":
		return exportOrigin{name: "host/" + host + "/" + strings.TrimPrefix(file, "/")}
	case host != "":
		return exportOrigin{name: "host/" + host}
	case file != "":
		return exportOrigin{name: file}
	}
	return exportOrigin{}
}

// volatileLabels are labels that split one process's lines apart in Loki
// 3's answers (detected level, stdout or stderr): not part of an origin.
var volatileLabels = []string{"stream", "level", "detected_level", "severity", "log_level"}

// labelsOrigin names the origin of a stream's labels: originOf's, else
// the labels themselves, as Loki writes a stream selector.
func labelsOrigin(labels map[string]string) exportOrigin {
	if o := originOf(func(k string) string { return labels[k] }); o.name != "" {
		return o
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if !slices.Contains(volatileLabels, k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return exportOrigin{}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteByte('}')
	return exportOrigin{name: b.String()}
}

// parseStreamLabels reads a stream selector {k="v", …} (VictoriaLogs'
// _stream).
func parseStreamLabels(s string) map[string]string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil
	}
	s = s[1 : len(s)-1]
	m := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ,")
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		rest = strings.TrimSpace(rest)
		v, err := strconv.QuotedPrefix(rest)
		if err != nil {
			break
		}
		uq, _ := strconv.Unquote(v)
		m[strings.TrimSpace(k)] = uq
		s = rest[len(v):]
	}
	return m
}
