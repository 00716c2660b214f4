package flinklog

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync/atomic"
)

// A template is one Flink log message shape, written the way the catalogue
// writes it: literal text with typed placeholders. Compiling it once gives a
// matcher that needs no regular expression.
//
// Placeholders:
//
//	{A} AllocationID (32 hex, or AllocationID{32 hex} in 1.6/1.7)   -> Event.Alloc
//	{O} another AllocationID (occupant, actual id)                    -> Event.Other
//	{J} JobID                                                          -> Event.Job
//	{I} InstanceID                                                     -> Event.Instance
//	{N} slot index, {M} requested index                                -> SlotIndex, RequestedIndex
//	{n} a count                                                        -> Count
//	{S} SlotID <resource>_<index|dynamic>                              -> SlotID, Resource, SlotIndex, Dynamic
//	{R} ResourceID (free text, host:port metadata stripped)            -> Resource
//	{P} ResourceProfile (balanced braces)                              -> skipped
//	{T} task name, {X} ExecutionAttemptID                              -> Task, Attempt
//	{Q} SlotRequestId (never an AllocationID)                          -> Request
//	{F} {TO} state names                                               -> From, To
//	{C} free-text cause                                                -> Reason
//	{V} version                                                        -> Version
//	{TS} TaskSlot(index:N, state:S, ..., allocationId: A, jobId: J)   -> SlotIndex, SlotState, Alloc, Job
//	{SR} SlotReport{...} (may span lines)                              -> Slots
//	{*} free text, skipped
type template struct {
	kind   Kind
	comp   Component // used when the logger does not say
	text   string
	reason string // fixed Event.Reason
	segs   []tseg
	prefix []byte // literal the message must start with ("" when it starts with a placeholder)
	anchor []byte // longest literal, checked before matching
	// anchorStr and anchorRare: the anchor searched for by its rarest byte
	// (containsAt); bytes.Contains starts from the first byte, often a blank
	anchorStr  string
	anchorRare int
	full       bool // match against message and continuation lines ({SR})
	// tail: the message may go on past the template's end (see endsMessage)
	tail bool
}

type phKind uint8

const (
	phLiteral phKind = iota
	phAlloc
	phOther
	phJob
	phInstance
	phIndex
	phReqIndex
	phCount
	phSlotID
	phResource
	phProfile
	phTask
	phAttempt
	phRequest
	phFrom
	phTo
	phCause
	phVersion
	phTaskSlot
	phSlotReport
	phSkip
)

var phNames = map[string]phKind{
	"A": phAlloc, "O": phOther, "J": phJob, "I": phInstance, "N": phIndex, "M": phReqIndex, "n": phCount,
	"S": phSlotID, "R": phResource, "P": phProfile, "T": phTask, "X": phAttempt, "Q": phRequest,
	"F": phFrom, "TO": phTo, "C": phCause, "V": phVersion, "TS": phTaskSlot, "SR": phSlotReport, "*": phSkip,
}

type tseg struct {
	ph  phKind
	lit []byte
}

func compileTemplate(kind Kind, comp Component, text, reason string) *template {
	t := &template{kind: kind, comp: comp, text: text, reason: reason}
	s := text
	for len(s) > 0 {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			t.segs = append(t.segs, tseg{lit: []byte(s)})
			break
		}
		j := strings.IndexByte(s[i:], '}')
		name := ""
		if j > 0 {
			name = s[i+1 : i+j]
		}
		ph, ok := phNames[name]
		if !ok {
			// a literal brace (SlotReport{, ResourceProfile{...)
			t.segs = append(t.segs, tseg{lit: []byte(s[:i+1])})
			s = s[i+1:]
			continue
		}
		if i > 0 {
			t.segs = append(t.segs, tseg{lit: []byte(s[:i])})
		}
		t.segs = append(t.segs, tseg{ph: ph})
		if ph == phSlotReport {
			t.full = true
		}
		s = s[i+j+1:]
	}
	// merge adjacent literals
	var merged []tseg
	for _, sg := range t.segs {
		if n := len(merged); n > 0 && sg.ph == phLiteral && merged[n-1].ph == phLiteral {
			merged[n-1].lit = append(merged[n-1].lit, sg.lit...)
			continue
		}
		merged = append(merged, sg)
	}
	t.segs = merged
	if t.segs[0].ph == phLiteral {
		t.prefix = t.segs[0].lit
	}
	for _, sg := range t.segs {
		if sg.ph == phLiteral && len(sg.lit) > len(t.anchor) {
			t.anchor = sg.lit
		}
	}
	t.anchorStr, t.anchorRare = string(t.anchor), rarestByte(t.anchor)
	if last := t.segs[len(t.segs)-1]; last.ph == phLiteral && !t.full {
		switch last.lit[len(last.lit)-1] {
		case '.', ']', ')':
			t.tail = true
		}
	}
	return t
}

// endsMessage reports whether rest, what a message holds past a template's
// end, is a tail the template may leave unread. Custom Flink builds (and
// some vendors' patches) append their own words to a standard message:
// "Allocated slot for A. (pool x)". A template whose text ends in a period
// or a closing bracket (see compileTemplate) still reads such a message
// when the words are separated from that last character by a blank;
// anything glued to it ("A.x", or an ID's 33rd hex digit before the
// period) makes it another message. A reading of the whole message is
// preferred to one with a tail: a task name may hold ". " itself.
func endsMessage(rest []byte) bool {
	return len(rest) > 1 && (rest[0] == ' ' || rest[0] == '\t')
}

// rarestByte returns the index of the byte of lit least likely in a log
// message: punctuation other than the everyday ".,:-=", then upper case, then
// the rest; the first of equals.
func rarestByte(lit []byte) int {
	// a blank is as common as a letter here (byteRarity ranks it below)
	rank := func(c byte) int { return max(byteRarity(c), 0) }
	best := 0
	for i := range lit {
		if rank(lit[i]) > rank(lit[best]) {
			best = i
		}
	}
	return best
}

// match fills ev from msg if the whole message has the template's shape,
// or starts with it and goes on after a blank (see endsMessage).
func (t *template) match(msg []byte, ev *Event) bool {
	ok, _ := t.matchTail(msg, ev, true)
	return ok
}

// matchTail is match that says whether the message went on past the
// template's end (tail), for matchTemplate, which prefers a template that
// reads the whole message. ev gets what a whole reading finds, and what a
// reading of the start finds when fillTail is set.
func (t *template) matchTail(msg []byte, ev *Event, fillTail bool) (ok, tail bool) {
	if len(t.prefix) > 0 && !bytes.HasPrefix(msg, t.prefix) {
		return false, false
	}
	if len(t.anchor) > 0 && !containsAt(msg, t.anchorStr, t.anchorRare) {
		return false, false
	}
	st := matchState{budget: matchBudget}
	scratch := *ev
	if !t.matchAt(msg, 0, 0, &scratch, &st) {
		if !st.tailSeen {
			return false, false
		}
		if !fillTail {
			return true, true
		}
		// No reading takes the whole message: the first that ends
		// before a separated tail, found again (rare: the first pass
		// keeps no copy of it, to stay cheap).
		st = matchState{budget: matchBudget, takeTail: true}
		scratch = *ev
		if !t.matchAt(msg, 0, 0, &scratch, &st) {
			return false, false
		}
		tail = true
	}
	scratch.Kind = t.kind
	if t.reason != "" && scratch.Reason == "" {
		scratch.Reason = t.reason
	}
	*ev = scratch
	return true, tail
}

// matchBudget bounds the steps one match may take: free-text placeholders
// backtrack, and nested backtracking on a hostile line must stay linear-ish.
const matchBudget = 4096

// matchState is what one match carries through its backtracking: the steps
// left; whether some reading ended before a separated tail (tailSeen); and
// whether such a reading is taken (takeTail, once no reading took the
// whole message).
type matchState struct {
	budget             int
	tailSeen, takeTail bool
}

func (t *template) matchAt(s []byte, si, pos int, ev *Event, st *matchState) bool {
	st.budget--
	if st.budget < 0 {
		return false
	}
	if si == len(t.segs) {
		if pos == len(s) {
			return true
		}
		if t.tail && endsMessage(s[pos:]) {
			st.tailSeen = true
			return st.takeTail
		}
		return false
	}
	sg := &t.segs[si]
	rest := s[pos:]
	switch sg.ph {
	case phLiteral:
		if !bytes.HasPrefix(rest, sg.lit) {
			return false
		}
		return t.matchAt(s, si+1, pos+len(sg.lit), ev, st)
	case phAlloc, phOther, phJob, phInstance:
		id, n := scanHexID(rest)
		if n == 0 {
			return false
		}
		switch sg.ph {
		case phAlloc:
			ev.Alloc = id
		case phOther:
			ev.Other = id
		case phJob:
			ev.Job = id
		case phInstance:
			ev.Instance = id
		}
		return t.matchAt(s, si+1, pos+n, ev, st)
	case phIndex, phReqIndex, phCount:
		v, n := scanInt(rest)
		if n == 0 {
			return false
		}
		switch sg.ph {
		case phIndex:
			ev.SlotIndex = v
		case phReqIndex:
			ev.RequestedIndex = v
		default:
			ev.Count = v
		}
		return t.matchAt(s, si+1, pos+n, ev, st)
	case phAttempt:
		n := 0
		for n < len(rest) && (isHex(rest[n]) || rest[n] == '_') {
			n++
		}
		if n < 32 {
			return false
		}
		ev.Attempt = string(rest[:n])
		return t.matchAt(s, si+1, pos+n, ev, st)
	case phRequest:
		const w = "SlotRequestId{"
		if bytes.HasPrefix(rest, []byte(w)) && len(rest) >= len(w)+33 && rest[len(w)+32] == '}' {
			if _, ok := parseIDBytes(rest[len(w) : len(w)+32]); ok {
				ev.Request = string(rest[len(w) : len(w)+32])
				return t.matchAt(s, si+1, pos+len(w)+33, ev, st)
			}
		}
		if id, n := scanHexID(rest); n == 32 {
			ev.Request = id.String()
			return t.matchAt(s, si+1, pos+n, ev, st)
		}
		return false
	case phFrom, phTo:
		n := 0
		for n < len(rest) && (rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] == '_') {
			n++
		}
		if n == 0 {
			return false
		}
		if sg.ph == phFrom {
			ev.From = stateName(rest[:n])
		} else {
			ev.To = stateName(rest[:n])
		}
		return t.matchAt(s, si+1, pos+n, ev, st)
	case phVersion:
		n := 0
		for n < len(rest) && rest[n] != ',' && rest[n] != ' ' && rest[n] != ')' {
			n++
		}
		if n == 0 {
			return false
		}
		ev.Version = string(rest[:n])
		return t.matchAt(s, si+1, pos+n, ev, st)
	case phTaskSlot:
		n, ok := parseTaskSlot(rest, ev)
		if !ok {
			return false
		}
		return t.matchAt(s, si+1, pos+n, ev, st)
	case phSlotReport:
		n, ok := parseSlotReport(rest, ev)
		if !ok {
			return false
		}
		return t.matchAt(s, si+1, pos+n, ev, st)
	case phProfile:
		if bytes.HasPrefix(rest, []byte("ResourceProfile{")) {
			end := balancedEnd(rest, '{', '}')
			if end < 0 {
				return false
			}
			return t.matchAt(s, si+1, pos+end+1, ev, st)
		}
		return t.matchFree(s, si, pos, ev, st)
	default:
		return t.matchFree(s, si, pos, ev, st)
	}
}

// matchFree matches free text up to an occurrence of the next literal,
// shortest first, trying later occurrences when the rest does not match.
func (t *template) matchFree(s []byte, si, pos int, ev *Event, st *matchState) bool {
	if si+1 == len(t.segs) {
		if !validFree(t.segs[si].ph, s[pos:]) {
			return false
		}
		t.setFree(t.segs[si].ph, s[pos:], ev)
		return true
	}
	next := t.segs[si+1]
	if next.ph != phLiteral {
		// two placeholders in a row: not used by the catalogue
		return false
	}
	from := pos
	for tries := 0; tries < 64; tries++ {
		i := bytes.Index(s[from:], next.lit)
		if i < 0 {
			return false
		}
		end := from + i
		if !validFree(t.segs[si].ph, s[pos:end]) {
			return false
		}
		t.setFree(t.segs[si].ph, s[pos:end], ev)
		if t.matchAt(s, si+1, end, ev, st) {
			return true
		}
		from = end + 1
	}
	return false
}

// validFree rejects values a placeholder can never hold. ResourceIDs and
// SlotIDs have no blanks (a longer candidate would only swallow the text
// after them), and are never empty.
func validFree(ph phKind, v []byte) bool {
	switch ph {
	case phResource, phSlotID:
		return len(v) > 0 && !bytes.ContainsAny(v, " \t")
	}
	return true
}

func (t *template) setFree(ph phKind, v []byte, ev *Event) {
	switch ph {
	case phSlotID:
		setSlotID(ev, internText(v))
	case phResource:
		ev.Resource = normalizeResource(internText(v))
	case phTask:
		ev.Task = internText(v)
	case phCause:
		ev.Reason = internText(v)
	}
}

// freeTexts holds the free texts templates read last (ResourceIDs,
// SlotIDs, task names, causes), by a hash of their bytes: a cluster
// repeats them line after line, and a string made for every event was a
// third of the objects an allocation-dense read allocated. A lossy cache
// that every reader shares: an entry another text took only costs a
// string, never a wrong one.
var freeTexts [1 << 12]atomic.Pointer[string]

var freeTextSeed = maphash.MakeSeed()

// internText returns v as a string, the one made before when the cache
// still holds it.
func internText(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if len(v) > 200 {
		return string(v)
	}
	e := &freeTexts[maphash.Bytes(freeTextSeed, v)&uint64(len(freeTexts)-1)]
	if p := e.Load(); p != nil && *p == string(v) {
		return *p
	}
	s := string(v)
	e.Store(&s)
	return s
}

// setSlotID splits "<resource>_<index>" at the last '_'. ResourceIDs contain
// '_' themselves (YARN containers), the index never does.
func setSlotID(ev *Event, s string) {
	ev.SlotID = s
	i := strings.LastIndexByte(s, '_')
	if i <= 0 {
		return
	}
	ev.Resource = normalizeResource(s[:i])
	switch tail := s[i+1:]; tail {
	case "dynamic":
		ev.Dynamic = true
	default:
		if v, err := strconv.Atoi(tail); err == nil {
			ev.SlotIndex = v
		}
	}
}

// normalizeResource strips the "(host:port)" metadata Flink 1.12+ appends to
// YARN and Kubernetes ResourceIDs, so the same TaskManager has one name in
// every message.
func normalizeResource(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		return s[:i]
	}
	return s
}

func scanInt(s []byte) (int, int) {
	n := 0
	neg := false
	if n < len(s) && s[n] == '-' {
		neg = true
		n++
	}
	start := n
	v := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' && n-start < 9 {
		v = v*10 + int(s[n]-'0')
		n++
	}
	if n == start {
		return 0, 0
	}
	if neg {
		v = -v
	}
	return v, n
}

// balancedEnd returns the index of the closer matching s[0], or -1.
func balancedEnd(s []byte, open, close byte) int {
	// from close to close, the opens between counted at once: a loop over
	// every byte was a fourth of reading a "Free slot TaskSlot(…)" line
	depth := 0
	for off := 0; ; {
		i := bytes.IndexByte(s[off:], close)
		if i < 0 {
			return -1
		}
		i += off
		depth += bytes.Count(s[off:i], []byte{open}) - 1
		if depth == 0 {
			return i
		}
		off = i + 1
	}
}

// parseTaskSlot reads "TaskSlot(index:N, state:S, resource profile: P,
// allocationId: A, jobId: J)". The profile holds parentheses and commas, so
// the fields are found by their labels, not by splitting.
func parseTaskSlot(s []byte, ev *Event) (int, bool) {
	if !bytes.HasPrefix(s, []byte("TaskSlot(")) {
		return 0, false
	}
	end := balancedEnd(s[len("TaskSlot"):], '(', ')')
	if end < 0 {
		return 0, false
	}
	end += len("TaskSlot")
	body := s[len("TaskSlot("):end]
	if v, ok := labelled(body, "index:"); ok {
		if n, k := scanInt(v); k > 0 {
			ev.SlotIndex = n
		}
	} else {
		return 0, false
	}
	if v, ok := labelled(body, "state:"); ok {
		k := 0
		for k < len(v) && v[k] >= 'A' && v[k] <= 'Z' {
			k++
		}
		ev.SlotState = string(v[:k])
	}
	if v, ok := labelled(body, "allocationId: "); ok {
		if id, n := scanHexID(v); n > 0 {
			ev.Alloc = id
		}
	}
	if v, ok := labelled(body, "jobId: "); ok {
		if id, n := scanHexID(v); n > 0 {
			ev.Job = id
		}
	}
	return end + 1, true
}

// labelled returns what follows the last occurrence of label in s. The last
// one, because a resource profile's extended resources are free text.
func labelled(s []byte, label string) ([]byte, bool) {
	// bytes.LastIndex hashes every byte (Rabin-Karp); one byte of the
	// label, rare in these bodies, is looked for alone: its first upper-case
	// letter or its colon (a resource profile is lower-case words, '=',
	// digits and commas; "index:" looked for by its 'i' stopped at every
	// word of it).
	k := rareByte(label)
	for end := len(s) - len(label) + 1 + k; end > k; {
		i := bytes.LastIndexByte(s[:end], label[k])
		if i < k {
			break
		}
		if string(s[i-k:i-k+len(label)]) == label {
			return s[i-k+len(label):], true
		}
		end = i
	}
	return nil, false
}

// rareByte returns where labelled looks for label: at its first upper-case
// letter, else its first colon, else its start.
func rareByte(label string) int {
	colon := -1
	for i := 0; i < len(label); i++ {
		switch c := label[i]; {
		case c >= 'A' && c <= 'Z':
			return i
		case c == ':' && colon < 0:
			colon = i
		}
	}
	return max(colon, 0)
}

// parseSlotReport reads "SlotReport{slotsStatus=[SlotStatus{...}, ...]}"
// (≤ 1.11) or "SlotReport{" NL TAB "SlotStatus{...}" ... "}" (≥ 1.12).
func parseSlotReport(s []byte, ev *Event) (int, bool) {
	if !bytes.HasPrefix(s, []byte("SlotReport{")) {
		return 0, false
	}
	end := balancedEnd(s[len("SlotReport"):], '{', '}')
	if end < 0 {
		return 0, false
	}
	end += len("SlotReport")
	body := s[len("SlotReport{"):end]
	ev.Slots = ev.Slots[:0]
	for {
		i := bytes.Index(body, []byte("SlotStatus{"))
		if i < 0 {
			break
		}
		body = body[i+len("SlotStatus"):]
		e := balancedEnd(body, '{', '}')
		if e < 0 {
			return 0, false
		}
		ev.Slots = append(ev.Slots, parseSlotStatus(body[1:e]))
		body = body[e+1:]
	}
	return end + 1, true
}

func parseSlotStatus(b []byte) SlotStatus {
	st := SlotStatus{Index: -1}
	if v, ok := labelled(b, "slotID="); ok {
		// the SlotID ends at ", " followed by the next field name
		end := len(v)
		for _, next := range []string{", resourceProfile=", ", allocationID=", ", jobID="} {
			if k := bytes.Index(v, []byte(next)); k >= 0 && k < end {
				end = k
			}
		}
		var tmp Event
		tmp.SlotIndex = -1
		setSlotID(&tmp, string(v[:end]))
		st.SlotID, st.Resource, st.Index = tmp.SlotID, tmp.Resource, tmp.SlotIndex
	}
	if v, ok := labelled(b, "allocationID="); ok {
		if id, n := scanHexID(v); n > 0 {
			st.Alloc = id
		}
	}
	if v, ok := labelled(b, "jobID="); ok {
		if id, n := scanHexID(v); n > 0 {
			st.Job = id
		}
	}
	return st
}

func (t *template) String() string { return fmt.Sprintf("%s %q", t.kind, t.text) }

// stateName returns the name of a task or job state as a string: one of
// Flink's (ExecutionState, JobStatus) without allocating, as every job and
// task transition of a busy cluster names two.
func stateName(b []byte) string {
	switch string(b) {
	case "CREATED":
		return "CREATED"
	case "SCHEDULED":
		return "SCHEDULED"
	case "DEPLOYING":
		return "DEPLOYING"
	case "INITIALIZING":
		return "INITIALIZING"
	case "RUNNING":
		return "RUNNING"
	case "FINISHED":
		return "FINISHED"
	case "CANCELING":
		return "CANCELING"
	case "CANCELLING":
		return "CANCELLING"
	case "CANCELED":
		return "CANCELED"
	case "FAILING":
		return "FAILING"
	case "FAILED":
		return "FAILED"
	case "RESTARTING":
		return "RESTARTING"
	case "RECONCILING":
		return "RECONCILING"
	case "SUSPENDED":
		return "SUSPENDED"
	}
	return string(b)
}
