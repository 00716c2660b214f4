package sim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// record is one log record as a process emits it, on the host's clock.
type record struct {
	at     int64 // host clock, ms since the scenario's base time
	seq    int   // emission order, to keep records of one millisecond in order
	level  string
	logger string
	thread string
	msg    string
	thrown []string // exception lines (first: "Class: message"), rendered as a stack trace
	raw    bool     // a stdout line, not a log record
}

// logFile collects the records of one file.
type logFile struct {
	Name    string
	records []record
}

func (l *logFile) add(r record) {
	r.seq = len(l.records)
	l.records = append(l.records, r)
}

// render writes the file in a layout. Records keep their emission order
// (a process logs in order; timestamps from different threads may still
// interleave), DEBUG records are dropped unless debug.
func (l *logFile) render(f *flavor, format, layout string, debug bool, base time.Time, noise *noiseSource) string {
	recs := append([]record(nil), l.records...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].seq < recs[j].seq })
	var b strings.Builder
	for i, r := range recs {
		// Noise runs from the process's first record to its last, between
		// them in time.
		if noise != nil && i == 0 {
			noise.next += r.at
		}
		for noise != nil && i > 0 && noise.next <= r.at {
			writeRecord(&b, f, format, layout, base, noise.record())
		}
		if r.level == "DEBUG" && !debug {
			continue
		}
		writeRecord(&b, f, format, layout, base, r)
	}
	// A process that stopped writing slot records still runs, and chatters,
	// until the end of the run.
	for noise != nil && len(recs) > 0 && noise.next <= noise.until {
		writeRecord(&b, f, format, layout, base, noise.record())
	}
	return b.String()
}

func writeRecord(b *strings.Builder, f *flavor, format, layout string, base time.Time, r record) {
	t := base.Add(time.Duration(r.at) * time.Millisecond)
	if r.raw {
		b.WriteString(r.msg + "\n")
		return
	}
	if format == "json" {
		b.WriteString(jsonRecord(f, r, t))
		b.WriteByte('\n')
		return
	}
	ts := t.Format("2006-01-02 15:04:05,000")
	if layout == "logback" {
		fmt.Fprintf(b, "%s [%s] %-5s %s - %s\n", t.Format("2006-01-02 15:04:05.000"), r.thread, r.level, r.logger, r.msg)
	} else if f.Log4j2 {
		fmt.Fprintf(b, "%s %-5s %-60s [] - %s\n", ts, r.level, r.logger, r.msg)
	} else {
		fmt.Fprintf(b, "%s %-5s %-60s  - %s\n", ts, r.level, r.logger, r.msg)
	}
	for _, line := range stackLines(r.thrown) {
		b.WriteString(line + "\n")
	}
}

// stackLines renders an exception: its first line, then frames.
func stackLines(thrown []string) []string {
	if len(thrown) == 0 {
		return nil
	}
	out := []string{thrown[0]}
	for _, fr := range thrown[1:] {
		out = append(out, "\tat "+fr)
	}
	return out
}

// jsonRecord renders a record as log4j 2's JsonTemplateLayout with the ECS
// template for the declarative era (1.13+), as its JsonLayout (compact) for
// 1.11-1.12, or as log4j 1's Logstash JSONEventLayoutV1 for older versions.
// Times are the host's wall clock taken as UTC.
func jsonRecord(f *flavor, r record, t time.Time) string {
	var obj map[string]any
	if f.Declarative {
		// EcsLayout.json: dotted keys at the top level
		obj = map[string]any{
			"@timestamp":          t.UTC().Format("2006-01-02T15:04:05.000Z"),
			"ecs.version":         "1.2.0",
			"log.level":           r.level,
			"message":             r.msg,
			"process.thread.name": r.thread,
			"log.logger":          r.logger,
		}
		if len(r.thrown) > 0 {
			name, msg, _ := strings.Cut(r.thrown[0], ": ")
			obj["error.type"], obj["error.message"], obj["error.stack_trace"] = name, msg, strings.Join(stackLines(r.thrown), "\n")
		}
	} else if f.Log4j2 {
		obj = map[string]any{
			"instant":    map[string]any{"epochSecond": t.Unix(), "nanoOfSecond": t.Nanosecond()},
			"thread":     r.thread,
			"level":      r.level,
			"loggerName": r.logger,
			"message":    r.msg,
			"endOfBatch": false,
			"loggerFqcn": "org.apache.logging.slf4j.Log4jLogger",
		}
		if len(r.thrown) > 0 {
			name, msg, _ := strings.Cut(r.thrown[0], ": ")
			obj["thrown"] = map[string]any{"name": name, "message": msg, "extendedStackTrace": strings.Join(stackLines(r.thrown), "\n")}
		}
	} else {
		obj = map[string]any{
			"@timestamp":  t.UTC().Format("2006-01-02T15:04:05.000Z"),
			"@version":    1,
			"level":       r.level,
			"logger_name": r.logger,
			"thread_name": r.thread,
			"message":     r.msg,
		}
		if len(r.thrown) > 0 {
			name, msg, _ := strings.Cut(r.thrown[0], ": ")
			obj["exception"] = map[string]any{"exception_class": name, "exception_message": msg, "stacktrace": strings.Join(stackLines(r.thrown), "\n")}
		}
	}
	b, _ := json.Marshal(obj)
	return string(b)
}
