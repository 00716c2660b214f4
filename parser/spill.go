package parser

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/slotaudit/slotaudit/flinklog"
)

// The spill: every event a read classifies, packed as the read packs
// them, written to a file as the read goes — whatever Keep keeps of them —
// so that reading an input again (ReadAgain) decodes its events instead of
// parsing its file again. A fold reads every input twice more after its
// first read (the skew, then the fold), and those reads were half of its
// CPU on an allocation-dense cluster; decoding a block costs a small part
// of parsing the lines it came from. A log of a file of many logs (a log
// store's export, kubectl logs --prefix of many pods) is read again from
// its own blocks, not by reading the whole file once for each log.
//
// Slot reports are spilled each as an event, where the read keeps a
// report that says what an earlier one said as its Repeat: a read again
// hands every report over where its line is, as a read that folds none
// (Options.noFold) gives it. What the spill does not hold (everything once
// a write failed: a full disk), the input is read again from its file as
// before.

// Spill is the file a read (Options.Spill) writes its events to. It is
// unlinked at once (where a file can be while it is open): the space goes
// back when it is closed, or when the process ends however it ends. Safe
// for concurrent use.
type Spill struct {
	mu   sync.Mutex
	f    *os.File
	size int64
	err  error
	// name: the file, where it could not be unlinked while open (not
	// on Linux): removed by Close
	name string
}

// NewSpill makes a spill in dir (os.TempDir when empty).
func NewSpill(dir string) (*Spill, error) {
	f, err := os.CreateTemp(dir, "slotaudit-spill-")
	if err != nil {
		return nil, err
	}
	sp := &Spill{f: f}
	if os.Remove(f.Name()) != nil {
		sp.name = f.Name()
	}
	return sp, nil
}

// Close lets the spill's file go; the reads again of a Result read with it
// then read their files again.
func (s *Spill) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if s.err == nil {
		s.err = errSpillClosed
	}
	if s.name != "" {
		if rerr := os.Remove(s.name); err == nil {
			err = rerr
		}
	}
	return err
}

// Bytes is how much the spill holds.
func (s *Spill) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Err is the write that failed, if one did (every log spilled is then
// read again from its file).
func (s *Spill) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(s.err, errSpillClosed) {
		return nil
	}
	return s.err
}

var errSpillClosed = errors.New("spill closed")

// write appends b and returns where it begins.
func (s *Spill) write(b []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	off := s.size
	if _, err := s.f.WriteAt(b, off); err != nil {
		s.err = fmt.Errorf("spill: %w", err)
		return 0, s.err
	}
	s.size += int64(len(b))
	return off, nil
}

// readAt reads a part back.
func (s *Spill) readAt(b []byte, off int64) error {
	s.mu.Lock()
	f, err := s.f, s.err
	s.mu.Unlock()
	if f == nil || err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	_, err = f.ReadAt(b, off)
	return err
}

// spillLog is what a stream spilled: its blocks in the spill, in order.
type spillLog struct {
	sp    *Spill
	blk   *eventBlock // being filled
	parts []spillPart
	n     int // events
	// away: the events' texts went (read back by position, as a read
	// again of the file that does not keep texts lets them go)
	away bool
	// bad says why the log cannot be read back from the spill
	bad string
}

// encodeBuffers are what blocks are encoded into on their way to the
// spill: one a log, kept, was 50 KB for each of a directory's hundreds;
// a sync.Pool's, emptied by every collection, were grown anew block after
// block (a 300k fold took 8 % more CPU with them: bench/ab 3).
var encodeBuffers = &keptPool[*[]byte]{max: 4 * runtime.GOMAXPROCS(0), new: func() *[]byte { b := make([]byte, 0, 64<<10); return &b }}

// spillPart is one block in the spill: where, its events, and the lines
// to move them by (a piece of a file spills before it is joined).
type spillPart struct {
	off    int64
	size   int32
	events int32
	shift  int64
}

func newSpillLog(sp *Spill) *spillLog { return &spillLog{sp: sp} }

// add spills ev.
func (l *spillLog) add(ev flinklog.Event) {
	if l.bad != "" {
		return
	}
	if l.blk == nil {
		l.blk = newEventBlock(eventBlockLen)
	}
	if l.away && ev.Kind != flinklog.KindRMSlotReport {
		// (a report keeps its text in the read's blocks too: eventBlock.push)
		if _, away := ev.TextAway(); !away {
			ev.LetTextGo(textSum(ev.Text()))
		}
	}
	l.blk.push(&ev)
	l.n++
	if l.blk.full() {
		l.flush()
	}
}

// fail gives up the log.
func (l *spillLog) fail(why string) {
	l.bad = why
	if l.blk != nil {
		l.blk.close()
		l.blk = nil
	}
	l.parts = nil
}

// flush writes the block being filled.
func (l *spillLog) flush() {
	if l == nil || l.blk == nil || l.bad != "" {
		return
	}
	blk := l.blk
	l.blk = nil
	blk.close()
	if len(blk.evs) == 0 {
		return
	}
	bp := encodeBuffers.get()
	defer func() {
		if cap(*bp) <= 1<<20 {
			encodeBuffers.put(bp)
		}
	}()
	buf, err := encodeBlock((*bp)[:0], blk)
	*bp = buf
	if err != nil {
		l.fail(err.Error())
		return
	}
	off, err := l.sp.write(buf)
	if err != nil {
		l.fail(err.Error())
		return
	}
	l.parts = append(l.parts, spillPart{off: off, size: int32(len(buf)), events: int32(len(blk.evs))})
}

// absorb appends o, a piece read after l whose line 1 is line offset+1.
func (l *spillLog) absorb(o *spillLog, offset int64) {
	l.flush()
	o.flush()
	if o.bad != "" {
		l.fail(o.bad)
	}
	if l.bad != "" {
		return
	}
	for _, p := range o.parts {
		p.shift += offset
		l.parts = append(l.parts, p)
	}
	l.n += o.n
	o.parts = nil
}

// done ends the log, and returns it, or nil when it cannot be read back.
func (l *spillLog) done() *spillLog {
	if l == nil {
		return nil
	}
	l.flush()
	if l.bad != "" {
		return nil
	}
	return l
}

// replay hands the log's events to e, as a read again of its file would.
func (l *spillLog) replay(e *emitter) error {
	var words []uint64
	for _, p := range l.parts {
		if e.stop.Load() {
			return errStopped
		}
		var buf []byte
		words, buf = spillBuffer(words, int(p.size))
		if err := l.sp.readAt(buf, p.off); err != nil {
			return err
		}
		// (the block's events are buf's bytes: it is read through before
		// buf is read into again, by e.send)
		blk, err := decodeBlock(buf)
		if err != nil {
			return err
		}
		if len(blk.evs) != int(p.events) {
			return fmt.Errorf("spill: a block of %d events read back as %d", p.events, len(blk.evs))
		}
		if p.shift != 0 {
			blk.shiftLines(p.shift)
		}
		e.send(blk)
	}
	if e.stop.Load() {
		return errStopped
	}
	return nil
}

// The encoding of a closed block: a header of counts, then its tables.
// The fixed-size ones (the packed events, IDs, files, words) are written
// as they lie in memory: the spill is read back by the process that wrote
// it, never elsewhere.
//
// The header is padded to 48 bytes and the tables that are read back in
// place (decodeBlock: the events, files and words) come first, each a
// multiple of 4 or 8 bytes long, so that each lies aligned for its type
// in a buffer that is (spillBuffer).
const blockHeader = 48

func encodeBlock(b []byte, blk *eventBlock) ([]byte, error) {
	if len(blk.spans) > 0 {
		return nil, errors.New("a block with repeat spans")
	}
	// (grown once to what the block takes: grown as it was written, a
	// block of slot reports was copied over and again, most of a small
	// read's spill)
	b = slices.Grow(b, encodedLen(blk))
	var h [blockHeader]byte
	for i, n := range [...]int{len(blk.evs), len(blk.strs), len(blk.ids), len(blk.shapes), len(blk.files), len(blk.words), len(blk.slotLists), 0} {
		binary.LittleEndian.PutUint32(h[4*i:], uint32(n))
	}
	binary.LittleEndian.PutUint64(h[32:], uint64(blk.baseTime))
	h[40] = blk.lastShape
	if blk.hasBase {
		h[41] = 1
	}
	b = append(b, h[:]...)
	b = append(b, rawBytes(blk.evs)...)
	b = append(b, rawBytes(blk.files)...)
	b = append(b, rawBytes(blk.words)...)
	b = append(b, rawBytes(blk.ids)...)
	for _, s := range blk.shapes {
		b = appendString(b, string(s.kind))
		b = appendString(b, string(s.level))
		b = appendString(b, string(s.component))
	}
	// (the strings' lengths, then their bytes: read back as one string
	// that each is a part of, one allocation a block)
	for _, s := range blk.strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	for _, s := range blk.strs {
		b = append(b, s...)
	}
	for _, list := range blk.slotLists {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, st := range list {
			b = appendString(b, st.SlotID)
			b = appendString(b, st.Resource)
			b = binary.AppendVarint(b, int64(st.Index))
			b = append(b, rawBytes([]flinklog.ID{st.Alloc, st.Job})...)
		}
	}
	return b, nil
}

// encodedLen is the length of blk's encoding.
func encodedLen(blk *eventBlock) int {
	n := blockHeader + len(rawBytes(blk.evs)) + len(rawBytes(blk.files)) + len(rawBytes(blk.words)) + len(rawBytes(blk.ids))
	str := func(l int) int { return uvarintLen(uint64(l)) + l }
	for _, sh := range blk.shapes {
		n += str(len(sh.kind)) + str(len(sh.level)) + str(len(sh.component))
	}
	for _, s := range blk.strs {
		n += str(len(s))
	}
	for _, list := range blk.slotLists {
		n += uvarintLen(uint64(len(list)))
		for _, st := range list {
			v := int64(st.Index)
			n += str(len(st.SlotID)) + str(len(st.Resource)) + uvarintLen(uint64(v<<1)^uint64(v>>63)) + 2*int(unsafe.Sizeof(st.Alloc))
		}
	}
	return n
}

// uvarintLen is how many bytes binary.AppendUvarint writes for x.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// decodeBlock reads back what encodeBlock wrote: a closed block. Its
// events, files and words are b's bytes themselves (b must lie aligned,
// as spillBuffer's do, and be kept as it is while the block is read): a
// copy of each, zeroed first, was a fifth of decoding.
func decodeBlock(b []byte) (*eventBlock, error) {
	bad := errors.New("spill: a block does not read back")
	if len(b) < blockHeader {
		return nil, bad
	}
	var n [8]int
	for i := range n {
		n[i] = int(binary.LittleEndian.Uint32(b[4*i:]))
	}
	blk := &eventBlock{baseTime: int64(binary.LittleEndian.Uint64(b[32:])), lastShape: b[40], hasBase: b[41] == 1}
	r := spillReader{b: b[blockHeader:]}
	blk.evs = viewRaw[packedEvent](&r, n[0])
	blk.files = viewRaw[int32](&r, n[4])
	blk.words = viewRaw[uint32](&r, n[5])
	blk.ids = readRaw[flinklog.ID](&r, n[2])
	blk.shapes = make([]eventShape, n[3])
	for i := range blk.shapes {
		blk.shapes[i] = eventShape{kind: flinklog.Kind(r.str()), level: flinklog.Level(r.str()), component: flinklog.Component(r.str())}
	}
	blk.strs = make([]string, n[1])
	lens := make([]int, n[1])
	total := 0
	for i := range lens {
		lens[i] = int(r.uvarint())
		total += lens[i]
	}
	if total > len(r.b) || total < 0 {
		return nil, bad
	}
	all := string(r.b[:total])
	r.b = r.b[total:]
	for i, k := range lens {
		blk.strs[i], all = all[:k], all[k:]
	}
	if n[6] > 0 {
		blk.slotLists = make([][]flinklog.SlotStatus, n[6])
		for i := range blk.slotLists {
			k := int(r.uvarint())
			if k == 0 || r.err {
				continue
			}
			list := make([]flinklog.SlotStatus, k)
			for j := range list {
				list[j].SlotID, list[j].Resource = r.str(), r.str()
				list[j].Index = int(r.varint())
				ids := readRaw[flinklog.ID](&r, 2)
				if len(ids) == 2 {
					list[j].Alloc, list[j].Job = ids[0], ids[1]
				}
			}
			blk.slotLists[i] = list
		}
	}
	if r.err || len(r.b) != 0 {
		return nil, bad
	}
	return blk, nil
}

// rawBytes is s as it lies in memory.
func rawBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

// readRaw reads n values written by rawBytes (of a type with no pointers).
func readRaw[T any](r *spillReader, n int) []T {
	var z T
	size := n * int(unsafe.Sizeof(z))
	if n == 0 || r.err {
		return nil
	}
	if size > len(r.b) {
		r.err = true
		return nil
	}
	out := make([]T, n)
	copy(rawBytes(out), r.b[:size])
	r.b = r.b[size:]
	return out
}

// viewRaw is readRaw without the copy: the values are r's bytes, which
// must lie aligned for T.
func viewRaw[T any](r *spillReader, n int) []T {
	var z T
	size := n * int(unsafe.Sizeof(z))
	if n == 0 || r.err {
		return nil
	}
	if size > len(r.b) || uintptr(unsafe.Pointer(&r.b[0]))%unsafe.Alignof(z) != 0 {
		r.err = true
		return nil
	}
	out := unsafe.Slice((*T)(unsafe.Pointer(&r.b[0])), n)
	r.b = r.b[size:]
	return out[:n:n] // (an append to it copies: never into the bytes after)
}

// spillBuffer returns a buffer of n bytes that lies aligned for any of
// the tables decodeBlock reads in place, reusing buf when it is large
// enough.
func spillBuffer(buf []uint64, n int) ([]uint64, []byte) {
	words := (n + 7) / 8
	if cap(buf) < words {
		buf = make([]uint64, words)
	}
	buf = buf[:words]
	return buf, unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), n)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// spillReader reads a block's encoding; err is set by the first read past
// its end.
type spillReader struct {
	b   []byte
	err bool
}

func (r *spillReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *spillReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *spillReader) str() string {
	n := r.uvarint()
	if r.err || n > uint64(len(r.b)) {
		r.err = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
