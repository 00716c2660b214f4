package flinklog

import (
	"bytes"
	"hash/crc32"
	"strings"
)

// Record is one log record as a reader assembled it: a header line (or
// JSON object) and its continuation lines. Classify reads it and keeps
// none of its slices: a reader may reuse their memory for the next record.
type Record struct {
	Start, End int64 // the record's first and last physical lines
	Time       Time
	Level      string
	Logger     []byte // the logger name as printed, "" when the layout prints none
	Msg        []byte // the first line of the message
	Body       []byte // continuation lines / exception text, '\n'-joined
	// BodyAt: the physical line each line of Body was read from (text
	// records; a JSON record's lines are all inside its object: none)
	BodyAt []int64
	First  []byte // the first physical line as read, for evidence (see MaxTextLen)
	// MsgAt: where the message starts in First (0 when not known). Any
	// value keeps Text exact; the right one lets identical slot reports
	// share the text of their message (see splitText).
	MsgAt int
	// LevelAt: where the level starts in First (0 when not known)
	LevelAt int
}

// Status is what Classify made of a record.
type Status uint8

// The statuses of a record.
const (
	StatusIrrelevant Status = iota // a record the slot lifecycle does not need
	StatusEvents                   // the record gave at least one event
	StatusUnparsed                 // a slot message that matches no known template
)

// MaxTextLen caps Event.Text: evidence shows the line, not megabytes of
// it. A reader keeps the first MaxTextLen+1 bytes of a record's first line
// in Record.First: the byte past the cap tells Classify that it cut.
const MaxTextLen = 2048

// A Classifier turns records into events. It remembers the matches of
// recent slot reports (a DEBUG JobManager logs the same ones every
// heartbeat), so one Classifier serves the records of one input in turn;
// the zero value is ready.
type Classifier struct {
	// Reference turns off every shortcut (skipping records that cannot
	// match, the slot report cache): the slow path that the fast one is
	// tested against. The events are the same.
	Reference bool
	// SumText: events keep a sum of their text, not the text (see
	// Event.LetTextGo), but for slot reports, whose repeats are written
	// out from it. A reader that can read a record's line again sets it:
	// the text of every event was a string made for each and dropped.
	SumText bool
	reports reportCache
}

// Forget lets go of what the classifier remembers (its memory, not its
// settings): the next record is classified as by a new one.
func (c *Classifier) Forget() { c.reports = reportCache{} }

// Classify turns a record into events, handing each to emit in order. It
// returns StatusUnparsed with a reason when the record comes from a slot
// class (or mentions slots on the TaskExecutor) but matches no known
// template.
//
// info is what the record's logger says (NewLoggerInfo), which callers
// cache. Each event's Pos.Line is the record's first line (Pos.File is the
// caller's to set), and its Text the record's first line.
func (c *Classifier) Classify(r *Record, info *LoggerInfo, emit func(Event)) (Status, string) {
	return classify(r, info, c.Reference, c.SumText, &c.reports, emit)
}

// classify is Classify. reports, when not nil, remembers recent slot
// reports' matches (see reportCache); reference turns every shortcut off.
func classify(r *Record, info *LoggerInfo, reference, sumText bool, reports *reportCache, emit func(Event)) (Status, string) {
	msg := bytes.TrimSpace(r.Msg)
	logComp := info.Component
	// Most records can match no template and hold no exception evidence:
	// they are decided without building an event. A record that can match
	// only known non-events is decided the same way when its logger would
	// make it irrelevant unmatched too (see unmatched).
	eventsOnly := !info.SlotClass && !info.TaskExecutor
	var buf [16]int
	cands := prefixCandidates(msg, buf[:0]) // matched below, unless msg is not all that is matched
	if !reference && !mayMatchCandidates(msg, cands, eventsOnly) && !hasNoAnchor(msg) && !hasNoAnchor(r.Body) && !hasCauseAnchor(msg, r.Body) {
		return unmatched(info, msg)
	}
	base := NewEvent("")
	base.Pos = Pos{Line: r.Start}
	base.EndLine = r.End
	base.Time = r.Time
	base.Level = Level(r.Level)

	n := 0
	var head, tail string
	var sum uint32
	out := func(ev Event) {
		// Most records give no event: the evidence text is copied only
		// for those that do.
		if n == 0 {
			switch {
			case ev.Kind == KindRMSlotReport:
				head, tail = splitText(r.First, shareAt(r), reports)
			case sumText:
				sum = cappedSum(r.First)
			default:
				head = capText(r.First)
			}
		}
		if sumText && ev.Kind != KindRMSlotReport {
			ev.LetTextGo(sum)
		} else {
			ev.SetText(head, tail)
		}
		n++
		emit(ev)
	}

	ev := base
	full := msg
	if len(r.Body) > 0 && bytes.HasPrefix(msg, []byte("Received slot report from instance")) {
		full = append(append(append([]byte(nil), msg...), '\n'), r.Body...)
	}
	var t *template
	var ok bool
	switch {
	case reports != nil && !reference && bytes.HasPrefix(msg, slotReportPrefix):
		t, ok = reports.match(full, &ev)
	case len(full) == len(msg):
		t, ok = matchCandidates(full, cands, &ev)
	default:
		t, ok = matchTemplate(full, &ev)
	}
	var noSlotSeen []ID
	switch {
	case ok && t.kind == "":
		// a known message that is not an event
	case ok:
		ev.Component = t.comp
		if logComp != ComponentUnknown {
			ev.Component = logComp
		}
		keep := true
		switch ev.Kind {
		case KindJMTaskFailed:
			keep = ev.To == "FAILED"
			if ev.Component == ComponentTM {
				ev.Kind = KindTMTaskFailed
			}
			ev.Reason = exceptionSummary(msg, r.Body)
		case KindJMJobState, KindRMAllocFailed, KindTMOfferFailed, KindTaskNoSlot, KindTMAllocRefused:
			if ev.Reason == "" || ev.Kind == KindRMAllocFailed || ev.Kind == KindJMJobState {
				if s := exceptionSummary(nil, r.Body); s != "" {
					ev.Reason = s
				}
			}
		case KindMetaVersion:
			ev.Version = strings.TrimSuffix(ev.Version, ",")
		}
		if ev.Kind == KindTaskNoSlot {
			noSlotSeen = append(noSlotSeen, ev.Alloc)
		}
		if keep {
			out(ev)
		}
	}

	// Evidence inside exception texts: the JM logs the TM's
	// TaskSubmissionException in a failed task's stack trace, and
	// NoResourceAvailableException in a failed job's.
	comp := logComp
	if comp == ComponentUnknown && ok {
		comp = ev.Component
	}
	scanExceptions(msg, r, func(e Event) {
		if e.Kind == KindTaskNoSlot {
			for _, a := range noSlotSeen {
				if a == e.Alloc {
					return
				}
			}
			noSlotSeen = append(noSlotSeen, e.Alloc)
		}
		if e.Kind == KindJMNoResource && ok && ev.Kind == KindJMNoResource {
			return
		}
		if e.Kind == KindTMFreeReason && comp == ComponentTM {
			return // the TaskManager's own free already says it
		}
		if e.Kind == KindTMAllocRefused && comp != ComponentTM {
			return // a refusal is the TaskManager's own table's; elsewhere it is hearsay
		}
		if e.Kind == KindHeartbeatTimeout && ok && ev.Kind == KindHeartbeatTimeout {
			return // the record's own message says it
		}
		x := base
		x.Kind, x.Alloc, x.Job, x.Reason = e.Kind, e.Alloc, e.Job, e.Reason
		x.Resource, x.SlotIndex = e.Resource, e.SlotIndex
		x.CauseLine, x.CauseText = e.CauseLine, e.CauseText
		x.Component = comp
		if x.Component == ComponentUnknown && e.Kind == KindJMNoResource {
			x.Component = ComponentJM
		}
		out(x)
	})

	switch {
	case n > 0:
		return StatusEvents, ""
	case ok:
		return StatusIrrelevant, ""
	}
	return unmatched(info, msg)
}

var slotReportPrefix = []byte("Received slot report from instance")

// reportCache remembers the matches of recent slot reports. A JobManager at
// DEBUG logs every TaskManager's report every ten seconds, nearly always the
// same text as that TaskManager's last one; parsing them was a third of the
// time on such a log. An event from the cache shares the Slots of the first
// (nothing changes an event's Slots once made).
type reportCache struct {
	m     map[string]cachedMatch
	bytes int
	// the message parts of slot report lines (splitText), by their bytes;
	// cut lines apart, since their tail ends in "…"
	tails, cutTails map[string]string
	tailBytes       int
}

type cachedMatch struct {
	t  *template
	ev Event
}

// reportCacheBytes bounds the text a cache keeps: past it, it starts afresh.
const reportCacheBytes = 4 << 20

// match is matchTemplate(msg, ev) for a slot report, from the cache when the
// same text was matched before. Only the matched fields come from the cache:
// the record's own position, time and level stay.
func (c *reportCache) match(msg []byte, ev *Event) (*template, bool) {
	if hit, ok := c.m[string(msg)]; ok {
		if hit.t != nil {
			pos, end, tm, lvl := ev.Pos, ev.EndLine, ev.Time, ev.Level
			*ev = hit.ev
			ev.Pos, ev.EndLine, ev.Time, ev.Level = pos, end, tm, lvl
		}
		return hit.t, hit.t != nil
	}
	t, ok := matchTemplate(msg, ev)
	if c.m == nil || c.bytes+len(msg) > reportCacheBytes {
		c.m, c.bytes = map[string]cachedMatch{}, 0
	}
	if len(msg) <= reportCacheBytes/4 {
		c.m[string(msg)] = cachedMatch{t, *ev}
		c.bytes += len(msg)
	}
	return t, ok
}

// internTail returns rest (with "…" when cut) as a string, the same string
// for the same bytes while the cache holds it.
func (c *reportCache) internTail(rest []byte, cut bool) string {
	tails := &c.tails
	if cut {
		tails = &c.cutTails
	}
	if t, ok := (*tails)[string(rest)]; ok {
		return t
	}
	t := string(rest)
	if cut {
		t += "…"
	}
	if c.tailBytes+len(t) > reportCacheBytes {
		c.tails, c.cutTails, c.tailBytes = nil, nil, 0
	}
	if *tails == nil {
		*tails = map[string]string{}
	}
	(*tails)[string(rest)] = t
	c.tailBytes += len(t)
	return t
}

// unmatched decides a record that gave no event and matched no template.
func unmatched(info *LoggerInfo, msg []byte) (Status, string) {
	switch {
	case info.SlotClass && len(msg) > 0:
		return StatusUnparsed, "message from a slot class matches no known template"
	case info.TaskExecutor && containsFold(msg, "slot"):
		return StatusUnparsed, "TaskExecutor message about slots matches no known template"
	}
	return StatusIrrelevant, ""
}

// shareAt is where the part of r's first line that the same report sent
// again shares starts: after the timestamp, which Flink's layouts print
// before the level (the thread, which varies, is shared by the reports of
// one dispatcher thread: a few strings for a day of heartbeats). Without a
// known level before the message, it is where the message starts.
func shareAt(r *Record) int {
	at := messageAt(r)
	if r.LevelAt > 0 && r.LevelAt < at {
		return r.LevelAt
	}
	return at
}

// messageAt is where r's message starts in its first line: known from the
// header of a text record; in a JSON record, where the message's first
// bytes appear (the line starts with its timestamp, the message sits inside
// the object). Any answer keeps the evidence exact (see splitText); a good
// one lets identical reports share their text.
func messageAt(r *Record) int {
	if r.MsgAt > 0 || len(r.Msg) == 0 {
		return r.MsgAt
	}
	return max(0, bytes.Index(r.First, r.Msg[:min(len(r.Msg), 64)]))
}

// splitText is capText(first) cut in two at msgAt (clamped): the head,
// and the rest, interned in c when c is not nil. Whatever msgAt is, head+
// tail is the capped line; cutting where the message starts is what lets
// reports that differ only in their timestamp share the tail.
func splitText(first []byte, msgAt int, c *reportCache) (head, tail string) {
	b, cut := first, len(first) > MaxTextLen
	if cut {
		b = b[:MaxTextLen]
	}
	msgAt = max(0, min(msgAt, len(b)))
	head = string(b[:msgAt])
	rest := b[msgAt:]
	if c == nil {
		tail = string(rest)
		if cut {
			tail += "…"
		}
		return head, tail
	}
	return head, c.internTail(rest, cut)
}

// TextSum is the sum an event that lets its text go keeps of it
// (Event.LetTextGo): CRC-32C, which the CPU computes (a byte-at-a-time
// FNV of every event's line was 4 % of an allocation-dense audit).
func TextSum(s string) uint32 { return crc32.Update(0, castagnoli, []byte(s)) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// LineSum is TextSum of the text a record's first line b gives (capped
// as Classify caps it), without making the string: what a reader that
// reads a line back checks it by.
func LineSum(b []byte) uint32 { return cappedSum(b) }

// cappedSum is TextSum(capText(b)), without making the string.
func cappedSum(b []byte) uint32 {
	if len(b) <= MaxTextLen {
		return crc32.Update(0, castagnoli, b)
	}
	return crc32.Update(crc32.Update(0, castagnoli, b[:MaxTextLen]), castagnoli, []byte("…"))
}

func capText(b []byte) string {
	if len(b) > MaxTextLen {
		// one allocation: slot reports are cut here on every heartbeat
		var sb strings.Builder
		sb.Grow(MaxTextLen + len("…"))
		sb.Write(b[:MaxTextLen])
		sb.WriteString("…")
		return sb.String()
	}
	return string(b)
}

func containsFold(b []byte, sub string) bool {
	return bytes.Contains(bytes.ToLower(b), []byte(sub))
}

var (
	noSlotTemplate  = compileTemplate(KindTaskNoSlot, ComponentUnknown, "No task slot allocated for job ID {J} and allocation ID {A}.", "")
	noSlotAnchor    = []byte("No task slot allocated for job ID ")
	noResourceClass = []byte("NoResourceAvailableException")
)

// scanExceptions finds slot evidence in exception texts: every
// "No task slot allocated for job ID J and allocation ID A.", the first
// NoResourceAvailableException message, and (see scanCauses) the lost
// TaskManagers, unfulfillable requests and slot timeouts that failed tasks
// and pasted stack traces carry. msg is r's message, trimmed. An event read
// below the record's first line carries that line (see causeLines).
func scanExceptions(msg []byte, r *Record, emit func(Event)) {
	if hasCauseAnchor(msg, r.Body) {
		scanCauses(msg, r, emit)
	}
	// Both anchors start with "No": one search for 'N' per part finds
	// whether either is there, and most records hold neither.
	if !hasNoAnchor(msg) && !hasNoAnchor(r.Body) {
		return
	}
	causeLines(msg, r, func(line []byte, at causeAt) bool {
		for rest := line; ; {
			i := bytes.Index(rest, noSlotAnchor)
			if i < 0 {
				break
			}
			text := bytes.TrimRight(rest[i:], " \r\t")
			ev := NewEvent("")
			if noSlotTemplate.match(text, &ev) {
				ev.Reason = "TaskSubmissionException: " + string(text)
				at.set(&ev, line)
				emit(ev)
			}
			rest = rest[i+len(noSlotAnchor):]
		}
		return true
	})
	causeLines(msg, r, func(line []byte, at causeAt) bool {
		i := bytes.Index(line, noResourceClass)
		if i < 0 {
			return true
		}
		text := bytes.TrimSpace(bytes.TrimPrefix(line[i+len(noResourceClass):], []byte(":")))
		reason := "NoResourceAvailableException"
		if len(text) > 0 {
			reason += ": " + capString(string(text), 400)
		}
		ev := NewEvent(KindJMNoResource)
		ev.Reason = reason
		at.set(&ev, line)
		emit(ev)
		return false
	})
}

// causeAt is where a line of a record's exception text lies: below says it
// is below the record's first line (a continuation line, or a line of a
// JSON record's message or stack trace after the first); line is its
// physical line (a JSON record's own line when it has none of its own).
type causeAt struct {
	below bool
	line  int64
}

// set gives ev, read from text on the line at, that line as its cause
// (nothing for the record's first line: that is the event's own Text).
func (at causeAt) set(ev *Event, text []byte) {
	if !at.below {
		return
	}
	ev.CauseLine = at.line
	ev.CauseText = capText(bytes.TrimRight(text, "\r"))
}

// causeLines calls fn with each line of r's exception text, its message
// msg first and then its continuation lines, and where the line lies, until
// fn returns false.
func causeLines(msg []byte, r *Record, fn func(line []byte, at causeAt) bool) {
	for part, below := msg, false; ; part, below = r.Body, true {
		for k := 0; len(part) > 0; k++ {
			line := part
			if nl := bytes.IndexByte(part, '\n'); nl >= 0 {
				line, part = part[:nl], part[nl+1:]
			} else {
				part = nil
			}
			at := causeAt{below, r.Start}
			if below && k < len(r.BodyAt) {
				at.line = r.BodyAt[k]
			}
			if !fn(line, at) {
				return
			}
		}
		if below {
			return
		}
	}
}

// hasNoAnchor reports whether b holds noSlotAnchor or noResourceClass.
func hasNoAnchor(b []byte) bool {
	for off := 0; off < len(b); {
		i := bytes.IndexByte(b[off:], 'N')
		if i < 0 {
			return false
		}
		rest := b[off+i:]
		if bytes.HasPrefix(rest, noSlotAnchor) || bytes.HasPrefix(rest, noResourceClass) {
			return true
		}
		off += i + 1
	}
	return false
}

func capString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// exceptionSummary returns the most telling exception line of a record: the
// root "Caused by:" if there is one, else the first exception line.
func exceptionSummary(msg, body []byte) string {
	var first, last string
	// (line by line where they lie: a job's state line, most often with
	// no body at all, made a slice of lines every time)
	for rest := body; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		l := bytes.TrimSpace(line)
		if len(l) == 0 || bytes.HasPrefix(l, []byte("at ")) || bytes.HasPrefix(l, []byte("...")) {
			continue
		}
		isCause := bytes.HasPrefix(l, []byte("Caused by: "))
		l = bytes.TrimPrefix(l, []byte("Caused by: "))
		if !LooksLikeExceptionHeader(l) {
			continue
		}
		s := shortenException(string(l))
		if first == "" {
			first = s
		}
		if isCause {
			last = s
		}
	}
	if last != "" {
		return capString(last, 400)
	}
	if first != "" {
		return capString(first, 400)
	}
	// Flink ≥ 1.14 may put the cause on the message line itself.
	if i := bytes.Index(msg, []byte("with failure cause: ")); i >= 0 {
		return capString(string(msg[i+len("with failure cause: "):]), 400)
	}
	return ""
}

// shortenException turns "org.apache.flink.x.FooException: msg" into
// "FooException: msg".
func shortenException(s string) string {
	head, rest, found := strings.Cut(s, ":")
	if i := strings.LastIndexByte(head, '.'); i >= 0 && !strings.ContainsAny(head, " ") {
		head = head[i+1:]
	}
	if !found {
		return head
	}
	return head + ":" + rest
}

var (
	causedBy = []byte("Caused by: ")
	// facts that exception texts carry, each with the template that reads it
	causeTemplates = []struct {
		anchor []byte
		t      *template
	}{
		{[]byte("eartbeat of TaskManager with id "), compileTemplate(KindHeartbeatTimeout, ComponentUnknown, "Heartbeat of TaskManager with id {R} timed out.", "TaskManager")},
		{[]byte("TaskManager with id "), compileTemplate(KindHeartbeatTimeout, ComponentUnknown, "TaskManager with id {R} is no longer reachable.", "TaskManager")},
		{[]byte("Could not fulfill slot request "), compileTemplate(KindRMAllocFailed, ComponentUnknown, "Could not fulfill slot request {A}.{*}", "")},
		{[]byte("The slot "), compileTemplate(KindTMFreeReason, ComponentUnknown, "The slot {A} has timed out.", "")},
		// 2.1 refuses a duplicate AllocationID with this exception only (DEBUG)
		{[]byte("A slot with allocationId "), compileTemplate(KindTMAllocRefused, ComponentUnknown, "A slot with allocationId {A} and resource profile {P} is already assigned to job {J} with subtask index {N}.", ReasonAllocatedElsewhere)},
	}
)

// hasCauseAnchor reports whether a record may carry a fact scanCauses
// reads: it has exception lines (a body, or a message that is itself an
// exception line, as in a pasted trace) holding one of the anchors.
func hasCauseAnchor(msg, body []byte) bool {
	if len(body) == 0 && !bytes.HasPrefix(msg, causedBy) && !LooksLikeExceptionHeader(msg) {
		return false
	}
	if bytes.HasPrefix(msg, slotReportPrefix) {
		return false // a DEBUG slot report's lines are SlotStatus entries, every heartbeat
	}
	for _, ct := range causeTemplates {
		if bytes.Contains(msg, ct.anchor) || bytes.Contains(body, ct.anchor) {
			return true
		}
	}
	return false
}

// scanCauses reads, from the exception lines of a record (a failed task's
// cause, a pasted stack trace), the facts that arrive there without a
// header of their own: a TaskManager whose heartbeat timed out or that
// became unreachable, a slot request the ResourceManager could not fulfill,
// a slot that timed out. Each is emitted once per record, with the first
// line that says it.
func scanCauses(msg []byte, r *Record, emit func(Event)) {
	seen := map[string]bool{}
	causeLines(msg, r, func(line []byte, at causeAt) bool {
		for _, ct := range causeTemplates {
			i := bytes.Index(line, ct.anchor)
			if i < 0 {
				continue
			}
			// the template starts a little before the anchor
			start := i
			switch ct.t.kind {
			case KindHeartbeatTimeout:
				if ct.anchor[0] == 'e' && i > 0 {
					start = i - 1 // "Heartbeat" or "heartbeat" (a line that starts "eartbeat" is neither)
				}
			}
			text := bytes.TrimRight(line[start:], " \r\t")
			if len(text) > 0 && text[0] == 'h' {
				text = append([]byte{'H'}, text[1:]...)
			}
			ev := NewEvent("")
			if !ct.t.match(text, &ev) {
				continue
			}
			key := string(ct.t.kind) + ev.Resource + ev.Alloc.String()
			if seen[key] {
				continue
			}
			seen[key] = true
			e := NewEvent(ct.t.kind)
			e.Resource, e.Alloc, e.Job, e.SlotIndex, e.Reason = ev.Resource, ev.Alloc, ev.Job, ev.SlotIndex, ct.t.reason
			if e.Reason == "" {
				e.Reason = capString(string(text), 400)
			}
			at.set(&e, line)
			emit(e)
		}
		return true
	})
}

// LooksLikeExceptionHeader reports whether a line starts a Java exception
// text. It matches "pkg.Class: message", "pkg.Class" and
// "pkg.Outer$Inner: message": a dotted Java name whose last part starts upper
// case and ends in Exception, Error or Throwable, or any dotted name followed
// by ": ". A reader takes such a line for a continuation of the record
// above it (a stack trace pasted without indentation); Classify reads
// exception texts by it.
func LooksLikeExceptionHeader(b []byte) bool {
	end := bytes.IndexByte(b, ':')
	name := b
	if end >= 0 {
		name = b[:end]
	}
	if len(name) < 3 || bytes.IndexByte(name, '.') < 0 || bytes.ContainsAny(name, " \t/") {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '$' || c == '_') {
			return false
		}
	}
	last := name[bytes.LastIndexByte(name, '.')+1:]
	if len(last) == 0 || !(last[0] >= 'A' && last[0] <= 'Z') {
		return false
	}
	if end >= 0 {
		return true
	}
	return bytes.HasSuffix(last, []byte("Exception")) || bytes.HasSuffix(last, []byte("Error")) || bytes.HasSuffix(last, []byte("Throwable"))
}
