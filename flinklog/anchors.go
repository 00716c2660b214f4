package flinklog

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// PushdownWords are the words a record must contain, one of them at least
// (as a substring, without case), for Classify or the version and identity
// readers to make anything of it. A log store asked only for the records
// that hold one of them returns everything that can change a verdict and
// leaves out the noise (checkpoints, network, user code): it is what
// slotaudit pushes down to a store it fetches from.
//
// They are derived from the catalogue when the package starts, so a new
// template brings its own word: the literal text of every template holds
// one (a test checks it). The seeds come first:
//   - "slot" and "allocation": most templates, and the exception texts
//     Classify reads ("No task slot allocated…", "Could not fulfill slot
//     request…", "The slot … has timed out", "A slot with allocationId…");
//   - "version", "akka", "pekko": the version banner and the RPC addresses
//     that bound the version (VersionHints);
//   - "resourceid", "taskmanager": identity ("Starting TaskManager with
//     ResourceID") and the heartbeat timeouts of TaskManagers found in
//     exception texts;
//   - "noresourceavailable": NoResourceAvailableException, in a failed
//     job's exception text.
//
// Each template that holds none of the words so far adds its longest
// word. Every word is ASCII letters only and lower case: a store that
// splits text into tokens (OpenSearch's analysers) keeps runs of letters
// together, so a word of letters is found inside a token as inside a line.
func PushdownWords() []string { return append([]string(nil), pushdownWords...) }

// MatchesPushdown reports whether text holds one of PushdownWords, as a
// store given them would decide: what a fetch may return.
func MatchesPushdown(text string) bool {
	low := strings.ToLower(text)
	for _, w := range pushdownWords {
		if strings.Contains(low, w) {
			return true
		}
	}
	return false
}

var pushdownSeeds = []string{
	"slot", "allocation", "version", "akka", "pekko", "resourceid", "taskmanager", "noresourceavailable",
}

var pushdownWords = func() []string {
	words := append([]string(nil), pushdownSeeds...)
	has := func(text string) bool {
		low := strings.ToLower(text)
		for _, w := range words {
			if strings.Contains(low, w) {
				return true
			}
		}
		return false
	}
	for _, t := range catalogue {
		lits := templateLiterals(t)
		if has(lits) {
			continue
		}
		best := ""
		for _, w := range letterWords(lits) {
			if len(w) > len(best) {
				best = w
			}
		}
		if best != "" {
			words = append(words, strings.ToLower(best))
		}
	}
	// a word inside another word makes it redundant
	sort.Slice(words, func(i, j int) bool {
		return len(words[i]) < len(words[j]) || len(words[i]) == len(words[j]) && words[i] < words[j]
	})
	var out []string
	for _, w := range words {
		dup := false
		for _, o := range out {
			if strings.Contains(w, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}()

// templateLiterals is a template's literal text, placeholders as blanks.
func templateLiterals(t *template) string {
	var b strings.Builder
	for _, sg := range t.segs {
		if sg.ph == phLiteral {
			b.Write(sg.lit)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// letterWords splits s into its runs of ASCII letters.
func letterWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
}

// Anchors are the texts that decide which records a reader must hand to
// Classify and VersionHints.Note: a record whose message and continuation
// lines hold none of them, and whose logger and message NeedsClassify
// does not single out, gives no event, is irrelevant and bounds no
// version. They are case-sensitive, as Classify reads: each event
// template's anchor (its longest literal, which matchTemplate checks
// before anything else), the exception texts scanExceptions reads, the
// message shapes VersionHints.Note reads, and the RPC addresses it reads
// (akka:// and pekko://, with or without .tcp). A reader that finds them
// (HasAnchor) and classifies only the records holding one
// gives what classifying every record gives.
func Anchors() []string { return append([]string(nil), anchorSet.anchors...) }

// NeedsClassify reports whether a record must be classified whatever
// anchors it holds: its logger is a slot class (an unknown message is
// unparsed, not irrelevant) or bounds the version by its name, or it is
// the TaskExecutor's and mentions slots in any case. msg is the record's
// first message line.
func NeedsClassify(info *LoggerInfo, msg []byte) bool {
	return info.SlotClass || info.VersionClass || info.TaskExecutor && containsFoldASCII(msg, "slot")
}

// containsFoldASCII is containsFold without the lower-cased copy: for a
// word of ASCII letters the two agree (no other character lower-cases to
// an ASCII letter of it, and invalid UTF-8 is replaced, never joined).
func containsFoldASCII(b []byte, word string) bool {
	first := word[0]
	for i := 0; i+len(word) <= len(b); i++ {
		if b[i]|0x20 != first {
			continue
		}
		k := 1
		for k < len(word) && b[i+k]|0x20 == word[k] {
			k++
		}
		if k == len(word) {
			return true
		}
	}
	return false
}

// HasAnchor reports whether b holds an anchor (see Anchors) or an RPC
// address (akka:// or pekko://, with or without .tcp).
//
// It looks at one place in anchorStride: every anchor is at least
// anchorMin bytes long, so each occurrence holds every anchorStride-th
// place of it, whatever its alignment, and for each alignment a table of
// 4-byte grams (hit, by gramHash) holds the gram of the anchor that sits
// there (the rarest one where a long anchor offers several), checked then
// in full. The RPC addresses, shorter, are found by their ":/".
//
// On amd64 with AVX2 a kernel first reads the places, and the pairs of
// bytes of pairTables, 56 bytes at a time with one branch; the portable
// code reads b only from where the kernel finds one (in about one record
// in fifty of a chatty log, half of them with an anchor).
func HasAnchor(b []byte) bool {
	from := 0
	if haveAnchorKernel && len(b) >= anchorKernelMin {
		if from = anchorKernel(b, (len(b)-anchorGram)/anchorStride*anchorStride); from < 0 {
			return false
		}
		// an anchor the kernel finds by its pair starts up to pairReach
		// before it, and may be sampled there
		from = max(from-anchorSet.pairReach, 0)
	}
	return hasAnchorFrom(b, from)
}

// hasAnchorFrom is HasAnchor, portable, for a b whose anchors are all
// sampled (at their gram in hit) from from on, a multiple of
// anchorStride, and whose RPC addresses all have their ":/" from there:
// it reads the sampled places from there, then the '/'.
func hasAnchorFrom(b []byte, from int) bool {
	a := &anchorSet
	for p := from; p+anchorGram <= len(b); p += anchorStride {
		g := binary.LittleEndian.Uint32(b[p:])
		if a.hit[gramHash(g)] != 0 && a.anchorAt(b, p, g) {
			return true
		}
	}
	for off := from + 1; off+1 < len(b); {
		i := bytes.IndexByte(b[off:len(b)-1], '/')
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if b[i-1] != ':' || b[i+1] != '/' {
			continue
		}
		for _, sch := range rpcSchemes {
			if q := i - 1 - len(sch); q >= 0 && string(b[q:i-1]) == sch {
				return true
			}
		}
	}
	return false
}

// anchorAt reports whether the gram g, at p in b, is one of an anchor
// that b holds there.
func (a *anchorTable) anchorAt(b []byte, p int, g uint32) bool {
	for k := gramHash(g) & tableMask; a.table[k].n > 0; k = (k + 1) & tableMask {
		e := &a.table[k]
		if e.gram != g {
			continue
		}
		for _, r := range a.refs[e.first : e.first+e.n] {
			w := a.anchors[r.anchor]
			if q := p - int(r.off); q >= 0 && q+len(w) <= len(b) && string(b[q:q+len(w)]) == w {
				return true
			}
		}
		return false
	}
	return false
}

// rpcSchemes: what VersionHints.Note looks for right before "://".
var rpcSchemes = []string{"pekko.tcp", "akka.tcp", "pekko", "akka"}

// pairAnchors: the anchors the kernel finds by a pair of bytes they hold,
// rather than by their sampled grams. "AllocationID{" is short: one of
// its alignments is sampled only at "tion", one of the commonest grams of
// English and of Kafka's fetch lines (partition, abortedTransactions),
// which stopped the kernel in one record in seven of a simulated chatty
// log; "D{" stops it nowhere there.
var pairAnchors = map[string]string{"AllocationID{": "D{"}

const (
	anchorGram   = 4
	anchorStride = 7
	// anchorMin: the shortest anchor HasAnchor's sampling finds
	anchorMin = anchorStride + anchorGram - 1
)

// tableMask: anchorSet.table's size, less one
const tableMask = 4095

// gramHash spreads a 4-byte gram over anchorSet.hit (anchors_amd64.s
// computes the same).
func gramHash(g uint32) uint32 { return (g * 0x9e3779b1) >> 16 }

type gramRef struct {
	anchor int32 // index in anchors
	off    int32 // where the gram sits in it
}

// gramEntry is a slot of anchorSet's table: a gram and its refs.
type gramEntry struct {
	gram     uint32
	first, n uint16 // refs[first:first+n]; n=0: an empty slot
}

// Bits of anchorTable.hit: a gram of an anchor the kernel finds by its
// grams, or of one it finds by a pair (the portable code reads both).
const (
	hitKernel = 1 << iota
	hitPortable
)

// anchorTable: the anchors; their sampled grams (hit, by gramHash: bytes
// rather than bits, so that the kernel tests one with one instruction);
// for a gram hit lets through, where it sits in which anchors (an
// open-addressed table: a map lookup per hit cost a fifth of the search);
// the pairs of bytes the kernel looks for (":/", then those of
// pairAnchors) as VPSHUFB tables (pairTables: the first bytes at their low
// nibble, then the second bytes at their first's, each twice for the two
// lanes of a 32-byte register; 0xff, no ASCII byte, elsewhere); and how
// far before its pair an anchor of pairAnchors starts, at most, rounded
// up to a multiple of anchorStride (pairReach).
type anchorTable struct {
	anchors    []string
	hit        [1 << 16]byte
	table      [tableMask + 1]gramEntry
	refs       []gramRef
	pairTables [64]byte
	pairReach  int
}

var anchorSet = func() (a anchorTable) {
	set := map[string]bool{string(noSlotAnchor): true, string(noResourceClass): true}
	for _, t := range catalogue {
		if t.kind != "" {
			set[string(t.anchor)] = true
		}
	}
	for _, ct := range causeTemplates {
		// what scanCauses looks for ("eartbeat of…" finds "heartbeat of…"
		// too, which it reads as "Heartbeat of…"); one too short to find
		// is replaced by the template's longest literal, which the text it
		// reads holds as it is
		w := ct.anchor
		if len(w) < anchorMin {
			w = ct.t.anchor
		}
		set[string(w)] = true
	}
	for _, h := range hintAnchors {
		set[h] = true
	}
	// an anchor holding another adds nothing
	for w := range set {
		for o := range set {
			if o != w && strings.Contains(w, o) {
				delete(set, w)
				break
			}
		}
	}
	for w := range set {
		a.anchors = append(a.anchors, w)
	}
	sort.Strings(a.anchors)

	keys := []string{":/"}
	for _, w := range a.anchors {
		key, ok := pairAnchors[w]
		if !ok {
			continue
		}
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
		at := strings.Index(w, key)
		if len(key) != 2 || at < 0 {
			panic("flinklog: pair " + strconv.Quote(key) + " of anchor " + strconv.Quote(w) + " is not one the kernel can look for")
		}
		a.pairReach = max(a.pairReach, (at+anchorStride-1)/anchorStride*anchorStride)
	}
	for i := range a.pairTables {
		a.pairTables[i] = 0xff
	}
	for _, key := range keys {
		n := key[0] & 15
		if a.pairTables[n] != 0xff || key[0] >= 0x80 {
			panic("flinklog: pair " + strconv.Quote(key) + " shares its first byte's low nibble with another, or is not ASCII")
		}
		for lane := 0; lane < 32; lane += 16 {
			a.pairTables[lane+int(n)] = key[0]
			a.pairTables[32+lane+int(n)] = key[1]
		}
	}

	grams := map[uint32][]gramRef{}
	var order []uint32
	for i, w := range a.anchors {
		if len(w) < anchorMin || strings.ContainsAny(w, "\r\n") {
			panic("flinklog: anchor " + strconv.Quote(w) + " is shorter than HasAnchor finds, or spans lines")
		}
		bit := byte(hitKernel)
		if _, ok := pairAnchors[w]; ok {
			bit = hitPortable
		}
		// An occurrence at q is sampled at its places k with q+k a
		// multiple of anchorStride: all of one residue of k. One gram of
		// each residue is enough, the rarest: a long anchor need not give
		// hit a common gram ("rom ", " con") that chatter would send to
		// the table at every turn.
		for r := 0; r < anchorStride; r++ {
			best, bestScore := r, -1<<30
			for k := r; k+anchorGram <= len(w); k += anchorStride {
				if score := gramRarity(w[k : k+anchorGram]); score > bestScore {
					best, bestScore = k, score
				}
			}
			g := binary.LittleEndian.Uint32([]byte(w[best : best+anchorGram]))
			a.hit[gramHash(g)] |= bit
			if grams[g] == nil {
				order = append(order, g)
			}
			grams[g] = append(grams[g], gramRef{int32(i), int32(best)})
		}
	}
	if 2*len(order) > len(a.table) {
		panic("flinklog: the anchors' grams overfill their table")
	}
	for _, g := range order {
		k := gramHash(g) & tableMask
		for a.table[k].n > 0 {
			k = (k + 1) & tableMask
		}
		a.table[k] = gramEntry{gram: g, first: uint16(len(a.refs)), n: uint16(len(grams[g]))}
		a.refs = append(a.refs, grams[g]...)
	}
	return a
}()

// gramRarity scores a gram by how seldom log text holds it, and so sends
// HasAnchor to the table: its bytes' rarity, less for each time
// commonGrams count its hash (its own, or another's that hit shares).
func gramRarity(g string) int {
	score := 0
	for _, c := range []byte(g) {
		score += byteRarity(c)
	}
	return score - 8*commonHashes[gramHash(binary.LittleEndian.Uint32([]byte(g)))]
}

// byteRarity weighs a byte by how seldom log text holds it (see
// rarestByte): HasAnchor samples the rarest grams of an anchor, so that
// common text (a heartbeat's "Received ") is seldom checked in full.
func byteRarity(c byte) int {
	switch {
	case c == ' ':
		return -2
	case c >= 'a' && c <= 'z':
		return 0
	case c >= '0' && c <= '9', c == '.', c == ',', c == ':', c == '-', c == '=':
		return 1
	case c >= 'A' && c <= 'Z':
		return 2
	}
	return 3
}

// commonGrams are 4-byte grams that log text is full of (English,
// heartbeats, Kafka fetches, logger names), and those of chatter, each
// weighed by how often it is met there (a gram of chatter twice: it
// recurs in every record of its kind): an anchor sampled at one would
// make HasAnchor check many places in full.
var commonGrams = func() map[string]int {
	m := map[string]int{}
	for _, w := range strings.Fields(`tion atio ing_ the_ _the and_ _and from rom_ _fro with ith_ _wit for_ _for
		requ eque ques uest est_ Rece ecei ceiv eive ived ved_ Mana mana anag nage ager ger_ sour ourc urce rce_
		esou reso Star tart art_ able arti tche ask_ Task task _to_ _res _man _of_ _job _slo _sl ed_t er_f
		ent_ _is_ _in_ ion_ _fro t_re _req ted_ _at_ ffse fset set_ Fetc etch tch_ hear eart artb rtbe tbea beat eat_
		Hear _hea time ime. _off t_of acti orte rofi ofil file ing. _Tas sk_m k_ma _Man Mana ager`) {
		m[strings.ReplaceAll(w, "_", " ")]++
	}
	for _, line := range chatter {
		for i := 0; i+anchorGram <= len(line); i++ {
			m[line[i:i+anchorGram]] += 2
		}
	}
	return m
}()

// chatter: what most records of a DEBUG log say (Kafka's consumer,
// heartbeats, ZooKeeper, checkpoints, the network stack), none of it read
// by Classify.
var chatter = []string{
	"[Consumer clientId=consumer-3, groupId=flink-events] Fetch READ_UNCOMMITTED at offset 632756606 for partition events-4 returned fetch data (error=NONE, highWaterMark=632761623, lastStableOffset = -1, logStartOffset = 0, abortedTransactions = null, recordsSizeInBytes=437502)",
	"[Consumer clientId=consumer-3, groupId=flink-events] Added READ_UNCOMMITTED fetch request for partition events-11 at offset 632756931 to node kafka-2.kafka:9092 (id: 2 rack: null)",
	"[Consumer clientId=consumer-1, groupId=flink] Sending READ_UNCOMMITTED IncrementalFetchRequest(toSend=(), toForget=(), implied=(events-0, events-1)) to broker kafka-0.kafka:9092 (id: 0 rack: null)",
	"[Consumer clientId=consumer-1, groupId=flink] Node 0 sent an incremental fetch response with throttleTimeMs = 0 for session 1538934432 with 0 response partition(s), 2 implied partition(s)",
	"Received heartbeat request from 861ef3e8f7038a6775e842a376565d67.",
	"Received heartbeat from 861ef3e8f7038a6775e842a376565d67.",
	"Got ping response for sessionid: 0x1000008a7ffd3cc after 0ms",
	"Received acknowledge message for checkpoint 17 from task 5c2f0e1a9b8d7c6e5f4a3b2c1d0e9f8a of job 3d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a at container-1.",
	"Starting checkpoint (160) CHECKPOINT on task Map (3/8)",
	"Completed checkpoint 17 for job 3d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a (12345 bytes, checkpointDuration=12 ms, finalizationTime=0 ms).",
	"Triggering checkpoint 18 (type=CheckpointType{name='Checkpoint', sharingFilesStrategy=FORWARD_BACKWARD}) @ 1615712400000 for job 3d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a.",
	"Successfully sent partition request to channel [id: 0x8c0e0d1a, L:/10.0.0.5:40123 - R:10.0.0.6:35211], client: [id: 0x1f2e3d4c]",
}

// commonHashes: commonGrams by gramHash.
var commonHashes = func() map[uint32]int {
	m := map[uint32]int{}
	for g, n := range commonGrams {
		if len(g) == anchorGram {
			m[gramHash(binary.LittleEndian.Uint32([]byte(g)))] += n
		}
	}
	return m
}()

// hintAnchors: the message shapes VersionHints.Note reads (besides its
// loggers and the RPC addresses).
var hintAnchors = []string{
	"AllocationID{", "Allocated slot for ", "Received task ", "Deploying ", "Request slot with profile ",
	"Requesting new slot [", "Slot with allocationId ", "Starting allocation of slot ",
	"Received resource requirements from job",
}
