package sim

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// record is one log record as a process emits it, on the host's clock.
type record struct {
	at     int64 // host clock, ms since the scenario's base time
	level  string
	logger string
	thread string
	msg    string
	thrown []string // exception lines (first: "Class: message"), rendered as a stack trace
	raw    bool     // a stdout line, not a log record
}

// output is where the run's log files go: the layout every record is
// written in, the chatter, and the files made so far. Records are written
// as they are emitted, so a run's memory does not grow with its logs.
type output struct {
	f      *flavor // the JobManager's: every file is written in its layout
	format string
	layout string
	debug  bool
	base   time.Time
	seed   uint64
	noise  int   // chatter records per process and second, 0 for none
	until  int64 // the end of the run: chatter goes on until then
	create func(name string) (io.WriteCloser, error)
	rotate int64      // a TaskManager's log goes to a new file every rotate ms of its clock (0: never; Config.RotateMinutes)
	made   []*logFile // the files made, in the order they were
	err    error      // the first error making or writing a file; nothing is written after it
}

// logBuffer is how much of a file is buffered before it is written.
const logBuffer = 64 << 10

// logFile is the log of one process (one file). A process logs in order,
// so each record is written as it is added, in that order: nothing edits,
// reorders or adds to a record afterwards (the exception lines given with
// one are never changed later either). The file is made when its first
// record arrives.
type logFile struct {
	Name  string
	out   *output
	tm    bool  // a TaskManager's (its chatter is a TaskManager's)
	skew  int64 // the host's clock minus true time: no later record is older than now+skew
	n     int   // records added so far
	w     *bufio.Writer
	c     io.Closer
	noise *noiseSource
	clock stampCache
	// piece is the file of a rotated log being written, of pieces (0: the
	// log is not rotated)
	piece, pieces int
}

// fileName is the name a log file is written under in the run's format.
func (l *logFile) fileName() string {
	if l.out.format == "json" {
		return strings.TrimSuffix(l.Name, ".log") + ".json"
	}
	return l.Name
}

// empty reports whether nothing was logged to the file yet.
func (l *logFile) empty() bool { return l.n == 0 }

// open creates the file (and its chatter source) when it gets its first
// record, or at the end of the run if it never does.
func (l *logFile) open(at int64) bool {
	o := l.out
	if o.err != nil {
		return false
	}
	name := l.fileName()
	if l.tm && o.rotate > 0 {
		l.pieces = int(max(1, (o.until+o.rotate-1)/o.rotate))
		l.piece = l.pieceOf(at)
		name = l.pieceName(l.piece)
	}
	wc, err := o.create(name)
	if err != nil {
		o.err = err
		return false
	}
	l.w, l.c = bufio.NewWriterSize(errWriter{wc, o}, logBuffer), wc
	o.made = append(o.made, l)
	if o.noise > 0 && o.debug {
		l.noise = newNoiseSource(o.seed, l.Name, o.noise, l.tm, o.until)
	}
	return true
}

// add writes a record, after the chatter due before it; a DEBUG record
// only with debug.
func (l *logFile) add(r record) {
	o := l.out
	if l.w == nil && !l.open(r.at) || o.err != nil {
		return
	}
	first := l.n == 0
	l.n++
	// Chatter runs from the process's first record to its last, between
	// them in time (and on to the end of the run: close).
	if first && l.noise != nil {
		l.noise.next += r.at
	}
	if !first {
		l.chatter(r.at)
	}
	if r.level == "DEBUG" && !o.debug {
		return
	}
	l.write(r)
}

// chatter writes the chatter due up to host time until (inclusive).
func (l *logFile) chatter(until int64) {
	for l.noise != nil && l.noise.next <= until {
		l.write(l.noise.record())
	}
}

// catchUp writes the chatter due by true time now: every later record of
// the file is at now+skew or after, so it would be written before that
// record anyway, and a process that logs seldom (an idle TaskManager, a
// replaced pod's file) does not leave its chatter all to the end.
func (l *logFile) catchUp(now int64) {
	if l.noise != nil && l.n > 0 {
		l.chatter(min(now+l.skew, l.noise.until))
	}
}

// close writes the chatter due until the end of the run (a process that
// stopped writing slot records still runs, and chatters), flushes and
// closes the file; after an error it only closes it, as the run's files
// are not to be used.
func (l *logFile) close() error {
	var err error
	if l.out.err == nil {
		if l.n > 0 {
			l.chatter(l.out.until)
		}
		err = l.w.Flush()
	}
	if cerr := l.c.Close(); err == nil {
		err = cerr
	}
	return err
}

func (l *logFile) write(r record) {
	if l.pieces > 0 {
		if k := l.pieceOf(r.at); k > l.piece {
			l.roll(k)
		}
	}
	writeRecord(l.w, l.out.f, l.out.format, l.out.layout, l.out.base, r, &l.clock)
}

// pieceOf is the file of a rotated log a record at host time at goes to.
func (l *logFile) pieceOf(at int64) int {
	return int(min(max(at, 0)/l.out.rotate, int64(l.pieces-1)))
}

// pieceName is the name of file k of a rotated log, as log4j's
// DefaultRolloverStrategy names them: the last is the log's own name, the
// one before it name.1, and so on back.
func (l *logFile) pieceName(k int) string {
	name := l.fileName()
	if n := l.pieces - 1 - k; n > 0 {
		name += "." + strconv.Itoa(n)
	}
	return name
}

// roll ends the file being written and goes on in file k of the rotated
// log.
func (l *logFile) roll(k int) {
	o := l.out
	if err := l.w.Flush(); err != nil {
		return
	}
	if err := l.c.Close(); err != nil && o.err == nil {
		o.err = err
		return
	}
	wc, err := o.create(l.pieceName(k))
	if err != nil {
		o.err = err
		return
	}
	l.piece = k
	l.w, l.c = bufio.NewWriterSize(errWriter{wc, o}, logBuffer), wc
}

// stampCache holds the text of the last second a file's records were
// stamped with: a record's time is that and its milliseconds, and
// formatting the whole time for each record was a tenth of a long run.
type stampCache struct {
	sec  int64
	text string // "2006-01-02 15:04:05" of sec; "" before the first record
}

// stamp appends the record time at (ms since base) as "2006-01-02
// 15:04:05" and sep and three digits of milliseconds, as time.Format does.
func (c *stampCache) stamp(b *bufio.Writer, base time.Time, at int64, sep byte) {
	sec, ms := at/1000, at%1000
	if ms < 0 {
		sec, ms = sec-1, ms+1000
	}
	if c.text == "" || sec != c.sec {
		c.sec, c.text = sec, base.Add(time.Duration(sec)*time.Second).Format("2006-01-02 15:04:05")
	}
	b.WriteString(c.text)
	b.WriteByte(sep)
	b.WriteByte(byte('0' + ms/100))
	b.WriteByte(byte('0' + ms/10%10))
	b.WriteByte(byte('0' + ms%10))
}

// pad writes s and spaces up to width characters, as %-*s does.
func pad(b *bufio.Writer, s string, width int) {
	b.WriteString(s)
	if n := utf8.RuneCountInString(s); n < width {
		b.WriteString(spaces[:min(width-n, len(spaces))])
	}
}

const spaces = "                                                                " // 64

// errWriter keeps the first error writing any file, so the run stops at
// it (bufio.Writer keeps its error to itself until the next Flush).
type errWriter struct {
	w io.Writer
	o *output
}

func (e errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.o.err == nil {
		e.o.err = err
	}
	return n, err
}

func writeRecord(b *bufio.Writer, f *flavor, format, layout string, base time.Time, r record, clock *stampCache) {
	if r.raw {
		b.WriteString(r.msg)
		b.WriteByte('\n')
		return
	}
	if format == "json" {
		b.WriteString(jsonRecord(f, r, base.Add(time.Duration(r.at)*time.Millisecond)))
		b.WriteByte('\n')
		return
	}
	// by hand rather than with fmt: a month of a session cluster is
	// tens of millions of records
	if layout == "logback" {
		// "%s [%s] %-5s %s - %s\n"
		clock.stamp(b, base, r.at, '.')
		b.WriteString(" [")
		b.WriteString(r.thread)
		b.WriteString("] ")
		pad(b, r.level, 5)
		b.WriteByte(' ')
		b.WriteString(r.logger)
	} else {
		// "%s %-5s %-60s [] - %s\n" (log4j 2), "%s %-5s %-60s  - %s\n" (log4j 1)
		clock.stamp(b, base, r.at, ',')
		b.WriteByte(' ')
		pad(b, r.level, 5)
		b.WriteByte(' ')
		pad(b, r.logger, 60)
		if f.Log4j2 {
			b.WriteString(" []")
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString(" - ")
	b.WriteString(r.msg)
	b.WriteByte('\n')
	for _, line := range stackLines(r.thrown) {
		b.WriteString(line)
		b.WriteByte('\n')
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
