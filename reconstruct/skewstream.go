package reconstruct

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// The skew without holding every request: estimateSkew joins each
// TaskManager receipt to the first ResourceManager or JobManager line that
// sent it, which takes a table of every request of the read. Read in the
// merged order with no skew (Merge with none), a request and its receipts
// lie close together — as close as the clocks' skew and the protocol's
// latency — so SkewStream holds the requests and the receipts waiting for
// theirs for skewWindow of the stream's time only. What it lets go is
// accounted for, so that its answer is estimateSkew's or none:
//
//   - a receipt that finds no request, and whose wait ends, may have had a
//     request let go before it came: that request is older than the
//     window's start when the receipt came, which bounds the receipt's lag
//     from above; the answer stands only if every such bound of an input
//     lies below its skew (a lag that low cannot be the largest);
//   - a request that comes after a receipt of it stopped waiting is one
//     the window was too short for: SkewStream says so (ErrSkewWindow),
//     and the caller estimates the skew the batch way. A filter of the
//     keys that stopped waiting tells it, which may say so of a key that
//     did not (never the reverse): the batch way then, for nothing;
//   - a request whose key was sent before within the window, earlier in
//     the read's order than the one a receipt was joined to, is one the
//     batch estimate joins to instead: SkewStream says so too;
//   - a request whose key may have been sent before the window (a filter
//     of the keys let go says so), and an activation whose input may have
//     activated the AllocationID before, are joins the batch estimate may
//     not make, or makes to an earlier request: their lags are at most
//     what it would measure, and stand apart; the answer stands only if
//     each input's skew lies above them.

// skewWindow is how much of the stream's time SkewStream holds requests and
// receipts for: more than any lag between a request and its receipt, skew
// included, that it can measure.
var skewWindow = int64(30 * time.Minute)

// ErrSkewWindow says that SkewStream could not give estimateSkew's answer
// holding what it holds: the caller estimates the skew from a read that
// keeps every request instead.
var ErrSkewWindow = errors.New("the skew cannot be estimated from a window of the stream")

// skewKey is what a request and its receipts share: an AllocationID (a
// slot request, an offer matched), an attempt as an ID or as its text.
type skewKey struct {
	space uint8 // keyAlloc, keyAttempt, keyAttemptText, keyMatched
	id    flinklog.ID
	text  string
}

const (
	keyAlloc = iota
	keyAttempt
	keyAttemptText
	keyMatched
)

type sentAt struct {
	ref    parser.EventRef
	pos    flinklog.Pos
	file   int32
	t      flinklog.Time
	joined bool // a receipt was joined to it
	// maybeAgain: its key may have been sent before the window (a second
	// request, which the batch estimate does not join to)
	maybeAgain bool
}

type receipt struct {
	ref  parser.EventRef
	pos  flinklog.Pos
	file int32
	t    flinklog.Time
	now  int64 // the stream's time when it came
	// bounded: some request had been let go when it came (else a request
	// it finds no more can only be one that never was)
	bounded bool
}

// SkewStream estimates the skew from the events of the merged stream with
// no skew, in that order (Merge(res, opts, nil)).
type SkewStream struct {
	sent    map[skewKey]*sentAt
	waiting map[skewKey][]receipt
	// activated: the inputs whose first activation of an AllocationID has
	// been joined, while its request is held
	activated map[skewKey][]int32
	// the requests and the receipts waiting, in the order they came, to
	// let go of when they leave the window
	sentQ, waitQ []queued
	now          int64
	evictions    int
	stopped      keySet // the keys of receipts that stopped waiting
	// the keys of requests let go, and the (input, AllocationID) of
	// activations let go
	leftSent, leftActivated bloom
	best                    map[int32]Skew
	at                      map[int32][2]flinklog.Pos // the lines of each best
	// by input: the largest lag a receipt that stopped waiting may have
	// had, and the largest lag of a join the batch estimate may not make
	bound map[int32]int64
	// the unsure join of the largest lag, the earliest in the read's
	// order among those of that lag
	unsure map[int32]Skew
	// noMatched: the read holds no matched offer (NoMatchedOffers)
	noMatched bool
	err       error
}

type queued struct {
	key skewKey
	t   int64
}

// NewSkewStream starts an estimate; keys is about how many requests the
// read holds (the filter of the requests let go starts at that size).
func NewSkewStream(keys int) *SkewStream {
	return &SkewStream{sent: map[skewKey]*sentAt{}, waiting: map[skewKey][]receipt{}, activated: map[skewKey][]int32{},
		best: map[int32]Skew{}, at: map[int32][2]flinklog.Pos{}, bound: map[int32]int64{}, unsure: map[int32]Skew{},
		leftSent: newBloom(keys), leftActivated: newBloom(0)}
}

// NoMatchedOffers tells s that the read holds no matched offer
// (KindJMOfferMatched): no activation can be joined then, and s does not
// hold them. The batch estimate joins none either, so the answer is the
// same; what changes is what s holds and whether it can give it. A
// JobManager that does not log its matches (before 1.13, and at INFO)
// left every activation waiting the whole window, and each that stopped
// waiting in the filter every request looks in (at five million
// allocations, most of what the estimate held), its lag a bound that
// could refuse the answer for nothing.
func (s *SkewStream) NoMatchedOffers() { s.noMatched = true }

// Add takes the stream's next event.
func (s *SkewStream) Add(ev *flinklog.Event, ref parser.EventRef) {
	if s.err != nil || ev.Time.Kind == flinklog.TimeNone {
		return
	}
	if ev.Time.N > s.now {
		s.now = ev.Time.N
	}
	switch {
	case ev.Kind == flinklog.KindRMSlotRequest, ev.Kind == flinklog.KindRMAllocStart && ev.Alloc.IsSet():
		s.request(skewKey{space: keyAlloc, id: ev.Alloc}, ev, ref)
	case ev.Kind == flinklog.KindJMDeploy:
		if k, ok := attemptKey(ev.Attempt); ok {
			s.request(k, ev, ref)
		}
	case ev.Kind == flinklog.KindJMOfferMatched && ev.Alloc.IsSet():
		s.request(skewKey{space: keyMatched, id: ev.Alloc}, ev, ref)
	case ev.Kind == flinklog.KindTMSlotRequest:
		if ev.Alloc.IsSet() {
			s.receive(skewKey{space: keyAlloc, id: ev.Alloc}, ev, ref)
		}
	case ev.Kind == flinklog.KindTMTaskReceived:
		if k, ok := attemptKey(ev.Attempt); ok {
			s.receive(k, ev, ref)
		}
	case ev.Kind == flinklog.KindTMActivate && ev.Alloc.IsSet() && !s.noMatched:
		s.receive(skewKey{space: keyMatched, id: ev.Alloc}, ev, ref)
	}
	s.leave()
}

// attemptKey is an attempt's key, as estimateSkew looks it up.
func attemptKey(a string) (skewKey, bool) {
	if id, ok := parser.AttemptID(a); ok {
		return skewKey{space: keyAttempt, id: id}, true
	}
	return skewKey{space: keyAttemptText, text: a}, a != ""
}

// request is a line that sends key.
func (s *SkewStream) request(k skewKey, ev *flinklog.Event, ref parser.EventRef) {
	if prev := s.sent[k]; prev != nil {
		// estimateSkew joins to the first in the read's order
		if ref < prev.ref {
			if prev.joined {
				s.err = fmt.Errorf("%w: %v requested again before the request a receipt was joined to", ErrSkewWindow, k.id)
				return
			}
			prev.ref, prev.pos, prev.file, prev.t = ref, ev.Pos, ev.Pos.File, ev.Time
		}
		return
	}
	if s.stopped.has(k) {
		// a receipt of it stopped waiting before it came (or the filter
		// says so of another key)
		s.err = fmt.Errorf("%w: a request after its receipt stopped waiting (input %d, line %d)", ErrSkewWindow, ev.Pos.File, ev.Pos.Line)
		return
	}
	sa := &sentAt{ref: ref, pos: ev.Pos, file: ev.Pos.File, t: ev.Time, maybeAgain: s.leftSent.has(k)}
	s.sent[k] = sa
	s.sentQ = append(s.sentQ, queued{k, ev.Time.N})
	if rs := s.waiting[k]; len(rs) > 0 {
		delete(s.waiting, k)
		for _, r := range rs {
			s.join(k, sa, r)
		}
	}
}

// receive is a TaskManager line that answers key.
func (s *SkewStream) receive(k skewKey, ev *flinklog.Event, ref parser.EventRef) {
	r := receipt{ref: ref, pos: ev.Pos, file: ev.Pos.File, t: ev.Time, now: s.now, bounded: s.evictions > 0}
	if sa := s.sent[k]; sa != nil {
		s.join(k, sa, r)
		return
	}
	if len(s.waiting[k]) == 0 {
		s.waitQ = append(s.waitQ, queued{k, ev.Time.N})
	}
	s.waiting[k] = append(s.waiting[k], r)
}

// join measures receipt r against its request, as estimateSkew does.
func (s *SkewStream) join(k skewKey, sa *sentAt, r receipt) {
	unsure := sa.maybeAgain
	if k.space == keyMatched {
		// only an input's first activation of the AllocationID counts
		// (receipts come in each input's line order)
		// (the inputs as a list: one or two each, and a map made for
		// every AllocationID was most of the estimate's garbage)
		seen := s.activated[k]
		if slices.Contains(seen, r.file) {
			return
		}
		s.activated[k] = append(seen, r.file)
		unsure = unsure || s.leftActivated.hasActivated(k, r.file)
	}
	sa.joined = true
	if sa.file == r.file || sa.t.Kind != r.t.Kind {
		return
	}
	lag := sa.t.N - r.t.N
	if unsure {
		if u, ok := s.unsure[r.file]; !ok || lag > u.Offset || lag == u.Offset && r.ref < u.Because {
			s.unsure[r.file] = Skew{Offset: lag, Because: r.ref, Relative: sa.ref}
		}
		return
	}
	if b, ok := s.best[r.file]; !ok || lag > b.Offset || lag == b.Offset && r.ref < b.Because {
		s.best[r.file] = Skew{Offset: lag, Because: r.ref, Relative: sa.ref}
		s.at[r.file] = [2]flinklog.Pos{r.pos, sa.pos}
	}
}

// leave lets go of the requests and the receipts older than the window.
func (s *SkewStream) leave() {
	n := 0
	for ; n < len(s.sentQ) && s.now-s.sentQ[n].t > skewWindow; n++ {
		k := s.sentQ[n].key
		delete(s.sent, k)
		s.leftSent.add(k)
		for _, file := range s.activated[k] {
			s.leftActivated.addActivated(k, file)
		}
		delete(s.activated, k)
		s.evictions++
	}
	s.sentQ = s.sentQ[n:]
	n = 0
	for ; n < len(s.waitQ) && s.now-s.waitQ[n].t > skewWindow; n++ {
		k := s.waitQ[n].key
		rs := s.waiting[k]
		if len(rs) == 0 {
			continue // joined since
		}
		delete(s.waiting, k)
		s.stopped.add(k)
		for _, r := range rs {
			if r.bounded {
				// a request let go before r came was older than the window's
				// start then
				if lag := r.now - skewWindow - r.t.N; !s.hasBound(r.file) || lag > s.bound[r.file] {
					s.bound[r.file] = lag
				}
			}
		}
	}
	s.waitQ = s.waitQ[n:]
}

func (s *SkewStream) hasBound(file int32) bool { _, ok := s.bound[file]; return ok }

// Lines returns where the events each input's skew rests on lie
// (Skew.Because, Skew.Relative), once Skew has given it.
func (s *SkewStream) Lines(file int32) [2]flinklog.Pos { return s.at[file] }

// Skew ends the estimate: Model.Skew's offsets and the events they rest
// on, or ErrSkewWindow.
func (s *SkewStream) Skew() (map[int32]Skew, error) {
	if s.err != nil {
		return nil, s.err
	}
	// the receipts still waiting stop now
	for _, rs := range s.waiting {
		for _, r := range rs {
			if r.bounded {
				if lag := r.now - skewWindow - r.t.N; !s.hasBound(r.file) || lag > s.bound[r.file] {
					s.bound[r.file] = lag
				}
			}
		}
	}
	out := map[int32]Skew{}
	for file, b := range s.best {
		if bound, ok := s.bound[file]; ok && bound >= b.Offset {
			return nil, fmt.Errorf("%w: input %d: a receipt let go may have lagged %d ns, its skew is %d", ErrSkewWindow, file, bound, b.Offset)
		}
		// (an unsure join of the same lag stands only if the batch
		// estimate would not have taken it instead: it comes later)
		if u, ok := s.unsure[file]; ok && (u.Offset > b.Offset || u.Offset == b.Offset && u.Because < b.Because) {
			return nil, fmt.Errorf("%w: input %d: a join the batch estimate may not make lags %d ns, its skew is %d", ErrSkewWindow, file, u.Offset, b.Offset)
		}
		if b.Offset > 0 || b.Offset < -minNegativeSkew {
			out[file] = b
		}
	}
	for file := range s.bound {
		if _, ok := s.best[file]; !ok {
			return nil, fmt.Errorf("%w: input %d: only receipts let go", ErrSkewWindow, file) // a lag the batch estimate may have measured, and no other
		}
	}
	for file := range s.unsure {
		if _, ok := s.best[file]; !ok {
			return nil, fmt.Errorf("%w: input %d: only joins the batch estimate may not make", ErrSkewWindow, file)
		}
	}
	return out, nil
}

// bloom is a filter of keys: has may say yes of a key never added. Its
// hash is fixed (no random seed), so that a run of the same logs refuses
// or not alike. It grows with what is added, a layer at a time: a filter
// sized for every key a read could hold took, at five million
// allocations, 43 MB for the activations let go where the logs had none.
// Each new layer holds twice the keys of the last at 4 more bits a key,
// so that the chance of a false yes stays below twice the first layer's
// (16 bits and 8 probes a key: 6e-4 when full).
type bloom struct {
	layers []bloomLayer
	n      int // the keys added to the last layer
}

type bloomLayer struct {
	bits []uint64
	m    uint64 // len(bits)*64
	keys int    // what it holds before the next layer is made
}

func newBloom(keys int) bloom {
	return bloom{layers: []bloomLayer{newBloomLayer(max(keys, 1024), 16)}}
}

func newBloomLayer(keys, bitsPerKey int) bloomLayer {
	n := max(keys*bitsPerKey/64, 16)
	return bloomLayer{bits: make([]uint64, n), m: uint64(n) * 64, keys: keys}
}

// place is a probe's bit: h scaled into [0, m) by a multiplication, not
// a division (eight probes a key on every request and receipt: the
// divisions were a fifth of the skew's estimate).
func (b *bloomLayer) place(h uint64) uint64 {
	if b.m < 1<<32 {
		return (h >> 32) * b.m >> 32
	}
	return h % b.m
}

func (b *bloom) hashes(k skewKey) (uint64, uint64) { return keyHashes(k) }

// keyHashes are a key's two hashes (the filters' probes are x + i*y).
func keyHashes(k skewKey) (uint64, uint64) {
	x := keyHash(k)
	for i := 0; i < len(k.text); i++ { // FNV-1a over an attempt's text
		x = (x ^ uint64(k.text[i])) * 0x100000001b3
	}
	return mixHash(x)
}

// keyHash is the part of a key's hash its ID and space give.
func keyHash(k skewKey) uint64 {
	id := k.id.Bytes()
	return binary.LittleEndian.Uint64(id[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(id[8:])*0xc2b2ae3d27d4eb4f ^ uint64(k.space)*0x165667b19e3779f9
}

func mixHash(x uint64) (uint64, uint64) {
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 32
	return x, x>>32 | x<<32 | 1
}

// activatedHashes are the hashes of an input's activations of an
// AllocationID (k, whose text is empty) among those let go: k's with the
// input's four bytes as its text, made without making the text.
func activatedHashes(k skewKey, file int32) (uint64, uint64) {
	x := keyHash(k)
	for _, c := range [4]byte{byte(file), byte(file >> 8), byte(file >> 16), byte(file >> 24)} {
		x = (x ^ uint64(c)) * 0x100000001b3
	}
	return mixHash(x)
}

func (b *bloom) add(k skewKey) {
	x, y := b.hashes(k)
	b.addHashes(x, y)
}

func (b *bloom) has(k skewKey) bool {
	x, y := b.hashes(k)
	return b.hasHashes(x, y)
}

func (b *bloom) addActivated(k skewKey, file int32) { b.addHashes(activatedHashes(k, file)) }

func (b *bloom) hasActivated(k skewKey, file int32) bool {
	return b.hasHashes(activatedHashes(k, file))
}

func (b *bloom) addHashes(x, y uint64) {
	if len(b.layers) == 0 {
		*b = newBloom(0)
	}
	last := &b.layers[len(b.layers)-1]
	if b.n >= last.keys {
		b.layers = append(b.layers, newBloomLayer(2*last.keys, 16+4*len(b.layers)))
		b.n, last = 0, &b.layers[len(b.layers)-1]
	}
	b.n++
	for i := range uint64(8) {
		p := last.place(x + i*y)
		last.bits[p/64] |= 1 << (p % 64)
	}
}

func (b *bloom) hasHashes(x, y uint64) bool {
	for k := range b.layers {
		if b.layers[k].has(x, y) {
			return true
		}
	}
	return false
}

func (b *bloomLayer) has(x, y uint64) bool {
	for i := range uint64(8) {
		p := b.place(x + i*y)
		if b.bits[p/64]&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

// keySet is the set of keys by 56 bits of their hashes: it says yes of a
// key never added only when those bits are another's (about once in 2^48
// look-ups for each key its table holds: at five million allocations, in
// about one read of 10^7). The receipts that stopped waiting are held so,
// not filtered: a false yes there makes the estimate give way to a read
// that holds every request (about a GB at five million allocations), and
// the filter sized by events / 4 would, by its load on simulated DEBUG
// logs (a receipt per allocation stops waiting), say one in about one
// such read of ten. The hashes are spread over 256 tables by their top
// byte, each grown on its own (one table of them all took 64 MB at once
// as it grew); a table holds the next 48 bits of each, as 32 and 16 (6
// bytes a slot: 8-byte slots peaked 12 MB higher at five million).
type keySet struct {
	parts [256]keyTable
	n     int
}

type keyTable struct {
	lo []uint32 // 0: empty (a hash whose 32 bits are 0 is held as 1)
	hi []uint16
	n  int
}

// setHash is how k's hash is held: its table, and the 48 bits held.
func setHash(k skewKey) (part uint8, lo uint32, hi uint16) {
	x, _ := keyHashes(k)
	return uint8(x >> 56), max(uint32(x>>8), 1), uint16(x >> 40)
}

func (s *keySet) add(k skewKey) {
	part, lo, hi := setHash(k)
	t := &s.parts[part]
	if 4*(t.n+1) > 3*len(t.lo) {
		t.grow()
	}
	if t.insert(lo, hi) {
		s.n++
	}
}

// grow doubles the table, each hash placed again (its place comes from
// the bits held: homeOf).
func (t *keyTable) grow() {
	oldLo, oldHi := t.lo, t.hi
	size := max(2*len(oldLo), 64)
	t.lo, t.hi, t.n = make([]uint32, size), make([]uint16, size), 0
	for i, lo := range oldLo {
		if lo != 0 {
			t.insert(lo, oldHi[i])
		}
	}
}

// homeOf is where the probes for a hash start, from the bits held (so
// that a table grows from what it holds).
func homeOf(lo uint32, hi uint16) uint64 { return uint64(lo) | uint64(hi)<<32 }

func (t *keyTable) insert(lo uint32, hi uint16) bool {
	mask := uint64(len(t.lo) - 1)
	for i := homeOf(lo, hi) & mask; ; i = (i + 1) & mask {
		switch {
		case t.lo[i] == 0:
			t.lo[i], t.hi[i] = lo, hi
			t.n++
			return true
		case t.lo[i] == lo && t.hi[i] == hi:
			return false
		}
	}
}

func (s *keySet) has(k skewKey) bool {
	if s.n == 0 {
		return false
	}
	part, lo, hi := setHash(k)
	t := &s.parts[part]
	if t.n == 0 {
		return false
	}
	mask := uint64(len(t.lo) - 1)
	for i := homeOf(lo, hi) & mask; ; i = (i + 1) & mask {
		switch {
		case t.lo[i] == 0:
			return false
		case t.lo[i] == lo && t.hi[i] == hi:
			return true
		}
	}
}

// SkewOfStream estimates the skew of first's inputs (a read of them; opts
// its options) by reading them again, merged with no skew, through a
// SkewStream holding window of the stream (0: skewWindow). matched says
// whether the inputs hold a matched offer (KindJMOfferMatched; false
// only when they hold none: see NoMatchedOffers). The refs in each Skew
// are those of a read that keeps every event.
func SkewOfStream(first *parser.Result, opts parser.Options, matched bool, window time.Duration) (map[int32]Skew, error) {
	skew, _, err := skewOfStream(first, opts, matched, window)
	return skew, err
}

// SkewLinesOfStream is SkewOfStream with where the events each input's
// skew rests on lie.
func SkewLinesOfStream(first *parser.Result, opts parser.Options, matched bool) (map[int32]Skew, map[int32][2]flinklog.Pos, error) {
	return skewOfStream(first, opts, matched, 0)
}

// skewKinds are SkewKinds as a set, and without what is only read for
// matched offers.
var skewKinds, skewKindsNoMatched = func() (all, noMatched map[flinklog.Kind]bool) {
	all, noMatched = map[flinklog.Kind]bool{}, map[flinklog.Kind]bool{}
	for _, k := range SkewKinds {
		all[k] = true
		if k != flinklog.KindJMOfferMatched && k != flinklog.KindTMActivate {
			noMatched[k] = true
		}
	}
	return all, noMatched
}()

func skewOfStream(first *parser.Result, opts parser.Options, matched bool, window time.Duration) (map[int32]Skew, map[int32][2]flinklog.Pos, error) {
	if window > 0 {
		defer func(was int64) { skewWindow = was }(skewWindow)
		skewWindow = int64(window)
	}
	// Only the lines the skew is estimated from are read again and
	// merged: the answer is estimateSkew's (or none) in whatever order
	// the stream gives them, so long as each input's come in line order
	// (see SkewStream) — the merge of a few kinds is one.
	opts.OnlyKinds = skewKinds
	if !matched {
		opts.OnlyKinds = skewKindsNoMatched
	}
	m, err := Merge(first, opts, nil)
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	keys := 0
	for _, in := range first.Inputs {
		keys += in.EventCount / 4
	}
	s := NewSkewStream(keys)
	if !matched {
		s.NoMatchedOffers()
	}
	for {
		ev, ref, _, ok, err := m.Next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		s.Add(ev, ref)
	}
	skew, err := s.Skew()
	if err != nil {
		return nil, nil, err
	}
	lines := map[int32][2]flinklog.Pos{}
	for file := range skew {
		lines[file] = s.Lines(file)
	}
	return skew, lines, nil
}
