package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/slotaudit/slotaudit/flinklog"
)

// jsonRecord is a decoded JSON log event, whatever the layout's key names.
type jsonRecord struct {
	time    flinklog.Time
	level   string
	logger  string
	thread  string
	msg     string
	thrown  string // stack trace or exception text, newline-separated
	shape   string // which layout's keys were found
	noLevel bool   // a record with no level and no logger (e.g. {"logEvent": ...})
}

// Key names by layout. The first present key wins.
var (
	jsonTimeKeys   = []string{"instant", "timeMillis", "@timestamp", "timestamp", "time", "ts", "date", "datetime", "asctime"}
	jsonLevelKeys  = []string{"level", "log.level", "severity", "levelname", "loglevel"}
	jsonLoggerKeys = []string{"loggerName", "logger_name", "log.logger", "logger", "_logger", "_logger_name", "category"}
	jsonThreadKeys = []string{"thread", "thread_name", "process.thread.name", "_thread", "_thread_name", "threadName"}
	jsonMsgKeys    = []string{"message", "msg", "short_message", "logEvent"}

	jsonFullKeys      = []string{"full_message"} // GELF
	jsonThrownKeys    = []string{"thrown", "exception"}
	jsonStackKeys     = []string{"stack_trace", "error.stack_trace", "stacktrace", "_exception", "exception.stacktrace"}
	jsonErrorTypeKeys = []string{"error.type"}
	jsonErrorMsgKeys  = []string{"error.message"}
)

// The same, numbered (jsonRef): looking them up is indexing, not hashing.
var (
	jsonTimeRefs      = jsonRefs(jsonTimeKeys)
	jsonLevelRefs     = jsonRefs(jsonLevelKeys)
	jsonLoggerRefs    = jsonRefs(jsonLoggerKeys)
	jsonThreadRefs    = jsonRefs(jsonThreadKeys)
	jsonMsgRefs       = jsonRefs(jsonMsgKeys)
	jsonFullRefs      = jsonRefs(jsonFullKeys)
	jsonThrownRefs    = jsonRefs(jsonThrownKeys)
	jsonStackRefs     = jsonRefs(jsonStackKeys)
	jsonErrorTypeRefs = jsonRefs(jsonErrorTypeKeys)
	jsonErrorMsgRefs  = jsonRefs(jsonErrorMsgKeys)
)

// decodeJSONRecord decodes one JSON log event: through fastJSONObject when
// it can, else (and for every error) through encoding/json into a map, the
// definition the fast path is tested against (decodeJSONRecordSlow).
func decodeJSONRecord(b []byte) (jsonRecord, error) {
	var m jsonMembers
	if exception, ok := fastJSONObject(b, &m, nil); ok {
		return recordFromObject(&m, exception)
	}
	return decodeJSONRecordSlow(b)
}

// decodeJSONRecordSlow decodes the whole object into a map.
func decodeJSONRecordSlow(b []byte) (jsonRecord, error) {
	var r jsonRecord
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return r, fmt.Errorf("invalid JSON: %s", jsonErrText(err))
	}
	if obj == nil {
		return r, fmt.Errorf("JSON value is not an object")
	}
	if dec.More() {
		return r, fmt.Errorf("invalid JSON: data after the object")
	}
	var m jsonMembers
	m.fill(obj)
	return recordFromObject(&m, true)
}

// recordFromObject reads a record from a decoded object. It looks only at
// the keys jsonTopKeys lists (and inside their values), and for an
// exception only when exception says obj may hold a key that tells one.
func recordFromObject(obj *jsonMembers, exception bool) (jsonRecord, error) {
	var r jsonRecord
	r.shape = jsonShape(obj)

	for i := range jsonTimeRefs {
		if v, ok := obj.get(&jsonTimeRefs[i]); ok {
			if t, ok := jsonTime(jsonTimeKeys[i], v); ok {
				r.time = t
				break
			}
		}
	}
	for i := range jsonLevelRefs {
		if v, ok := obj.get(&jsonLevelRefs[i]); ok {
			r.level = jsonLevel(v)
			if r.level != "" {
				break
			}
		}
	}
	r.logger = jsonString(obj, jsonLoggerRefs)
	r.thread = jsonString(obj, jsonThreadRefs)
	r.msg = jsonString(obj, jsonMsgRefs)
	if exception {
		r.thrown = jsonThrown(obj)
	}
	// GELF puts the message again, with the stack trace, in full_message.
	if full := jsonString(obj, jsonFullRefs); full != "" {
		msg, rest, _ := strings.Cut(full, "\n")
		if r.msg == "" {
			r.msg = msg
		}
		if r.thrown == "" {
			r.thrown = rest
		}
	}
	if r.msg == "" {
		// A message that is an object or a list is a record that cannot be
		// read, not an empty one.
		for i, k := range jsonMsgKeys {
			if v, ok := obj.get(&jsonMsgRefs[i]); ok {
				switch v.(type) {
				case map[string]any:
					return r, fmt.Errorf("the message field %q holds a JSON object, not text", k)
				case []any:
					return r, fmt.Errorf("the message field %q holds a JSON list, not text", k)
				}
			}
		}
	}
	r.noLevel = r.level == "" && r.logger == ""
	if r.msg == "" && r.noLevel {
		return r, fmt.Errorf("JSON object has none of the message keys (%s)", strings.Join(jsonMsgKeys, ", "))
	}
	return r, nil
}

func jsonErrText(err error) string {
	s := err.Error()
	if s == "unexpected EOF" {
		return "object cut off before its end"
	}
	return s
}

// jsonShapeKeys are the keys jsonShape looks for, in the order of the
// constants below.
var jsonShapeKeys = []string{"loggerName", "instant", "timeMillis", "ecs.version", "short_message", "_logger", "level_value", "logger_name", "@version", "stack_trace", "logEvent"}

const (
	shapeLoggerName = iota
	shapeInstant
	shapeTimeMillis
	shapeECSVersion
	shapeShortMessage
	shapeGELFLogger
	shapeLevelValue
	shapeLoggerNameLogstash
	shapeVersion
	shapeStackTrace
	shapeLogEvent
)

var jsonShapeRefs = jsonRefs(jsonShapeKeys)

func jsonShape(obj *jsonMembers) string {
	has := func(k int) bool { _, ok := obj.get(&jsonShapeRefs[k]); return ok }
	switch {
	case has(shapeLoggerName) && (has(shapeInstant) || has(shapeTimeMillis)):
		return "log4j2-jsonlayout"
	case has(shapeECSVersion):
		return "ecs"
	case has(shapeShortMessage) || has(shapeGELFLogger):
		return "gelf"
	case has(shapeLevelValue) || has(shapeLoggerNameLogstash) && has(shapeVersion) && has(shapeStackTrace):
		return "logstash-logback"
	case has(shapeLoggerNameLogstash) && has(shapeVersion):
		return "logstash"
	case has(shapeLoggerName):
		return "log4j2-json"
	case has(shapeLogEvent):
		return "logevent"
	}
	return "json"
}

// jsonString returns the first of keys that holds a string (or a number,
// as text).
func jsonString(obj *jsonMembers, keys []jsonKeyRef) string {
	for i := range keys {
		if v, ok := obj.get(&keys[i]); ok {
			switch x := v.(type) {
			case string:
				return x
			case json.Number:
				return x.String()
			}
		}
	}
	return ""
}

func jsonTime(key string, v any) (flinklog.Time, bool) {
	switch x := v.(type) {
	case map[string]any: // log4j2 "instant": {"epochSecond": .., "nanoOfSecond": ..}
		sec, ok1 := jsonInt(x["epochSecond"])
		nano, _ := jsonInt(x["nanoOfSecond"])
		if !ok1 {
			return flinklog.Time{}, false
		}
		if sec < 0 || sec > maxEpochSeconds {
			return implausible, true
		}
		return flinklog.Time{Kind: flinklog.TimeUTC, N: sec*1e9 + nano}, true
	case json.Number:
		f, err := x.Float64()
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			return flinklog.Time{}, false
		}
		switch {
		case f < 0 || f > 9e18:
			return implausible, true
		case key == "timeMillis" || f > 1e12 && f < 1e15:
			if f > maxEpochSeconds*1e3 {
				return implausible, true
			}
			return flinklog.Time{Kind: flinklog.TimeUTC, N: int64(f) * 1e6}, true
		case f >= 1e15:
			return flinklog.Time{Kind: flinklog.TimeUTC, N: int64(f)}, true
		default: // seconds, possibly with a fraction (GELF)
			return flinklog.Time{Kind: flinklog.TimeUTC, N: int64(math.Round(f * 1e9))}, true
		}
	case string:
		return parseISOTime(x)
	}
	return flinklog.Time{}, false
}

func jsonInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// jsonLevel normalises a level; numbers are syslog severities (GELF).
func jsonLevel(v any) string {
	switch x := v.(type) {
	case string:
		return strings.ToUpper(x)
	case json.Number:
		n, err := strconv.Atoi(x.String())
		if err != nil {
			return ""
		}
		switch {
		case n <= 3:
			return "ERROR"
		case n == 4:
			return "WARN"
		case n <= 6:
			return "INFO"
		default:
			return "DEBUG"
		}
	}
	return ""
}

// jsonThrown collects a record's exception text from any layout's fields.
func jsonThrown(obj *jsonMembers) string {
	thrown, _ := obj.get(&jsonThrownRefs[0])
	exception, _ := obj.get(&jsonThrownRefs[1])
	if t, ok := thrown.(map[string]any); ok {
		return thrownText(t)
	}
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if e, ok := exception.(map[string]any); ok { // Logstash v1 template
		cls, _ := e["exception_class"].(string)
		msg, _ := e["exception_message"].(string)
		st, _ := e["stacktrace"].(string)
		if st != "" {
			add(st)
		} else if cls != "" {
			add(cls + ": " + msg)
		}
	} else if s, ok := exception.(string); ok {
		add(s)
	}
	add(jsonString(obj, jsonStackRefs))
	if len(parts) == 0 {
		typ := jsonString(obj, jsonErrorTypeRefs)
		msg := jsonString(obj, jsonErrorMsgRefs)
		if typ != "" || msg != "" {
			add(strings.TrimPrefix(typ+": "+msg, ": "))
		}
	}
	return strings.Join(parts, "\n")
}

// thrownText renders log4j2 JsonLayout's "thrown" object: the stack trace is
// a string in some versions and an array of frames in others; causes nest.
func thrownText(t map[string]any) string {
	var b strings.Builder
	for depth := 0; t != nil && depth < 16; depth++ {
		if st, ok := t["extendedStackTrace"].(string); ok && st != "" {
			b.WriteString(st)
			if !strings.HasSuffix(st, "\n") {
				b.WriteByte('\n')
			}
			return b.String() // the string form already holds the causes
		}
		name, _ := t["name"].(string)
		msg, _ := t["message"].(string)
		if depth > 0 {
			b.WriteString("Caused by: ")
		}
		b.WriteString(name)
		if msg != "" {
			b.WriteString(": ")
			b.WriteString(msg)
		}
		b.WriteByte('\n')
		frames, _ := t["extendedStackTrace"].([]any)
		for _, f := range frames {
			if fm, ok := f.(map[string]any); ok {
				cls, _ := fm["class"].(string)
				meth, _ := fm["method"].(string)
				fmt.Fprintf(&b, "\tat %s.%s\n", cls, meth)
			}
		}
		t, _ = t["cause"].(map[string]any)
	}
	return b.String()
}

// jsonBalance reports whether b holds a complete JSON object: braces and
// brackets outside strings balance. depth<0 or a stray closer means broken.
func jsonBalance(b []byte) (complete bool, broken bool) {
	var j jsonScan
	if j.feed(b) {
		return false, true
	}
	return j.complete(), false
}

// jsonScan is jsonBalance fed piece by piece: an object collected line by
// line is scanned once, not again from its start at every line (which made
// a binary file with a '{' line and many short lines after it quadratic).
type jsonScan struct {
	depth               int
	inStr, esc, started bool
}

// feed scans b and reports whether the object is broken (more closers
// than openers); it stops there.
func (j *jsonScan) feed(b []byte) (broken bool) {
	for _, c := range b {
		if j.inStr {
			switch {
			case j.esc:
				j.esc = false
			case c == '\\':
				j.esc = true
			case c == '"':
				j.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			j.inStr = true
		case '{', '[':
			j.depth++
			j.started = true
		case '}', ']':
			j.depth--
			if j.depth < 0 {
				return true
			}
		}
	}
	return false
}

// complete reports whether what was fed is one whole object.
func (j *jsonScan) complete() bool { return j.started && j.depth == 0 && !j.inStr }

// maxEpochSeconds bounds epoch seconds a decoder multiplies into
// nanoseconds: beyond it (year 2262) the product overflows int64.
const maxEpochSeconds = 9_000_000_000
