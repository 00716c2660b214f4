package fold

// The timelines of the stories a fold lets go (Narrow.Timelines): a
// timeline of every allocation shows each one, which the model, holding
// what is open or kept, does not. Each story is written out as it is let
// go — its lines (positions, times, kinds; texts a plain file's read let
// go are read back by position when written, as the batch reads them),
// and the slots it held — into a spill, in memory while it is small and
// in an unlinked temporary file after; the output reads them back in the
// order of their first line's rank, which is the batch's order of
// allocations. A slot let go with its index unknown in a table whose
// indexes the dynamic counter may settle (1.13+) is given its index when
// its process ends (Replay.DynamicCounter).

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// heldRec is a slot a story holds or held in a process's table, as
// reconstruct's heldIn walks the replay's steps: created by an allocation
// the table took, freed by the free the table took of its key.
type heldRec struct {
	ps        *procState
	key       int
	rank      int32 // its allocation line's, for the order of a story's slots
	allocated flinklog.Pos
	freed     flinklog.Pos
}

// noteHeld takes a replay step of ps, made by the event at pos and rank,
// into the slots the stories hold (heldIn's walk, one step at a time).
func (f *folder) noteHeld(ps *procState, st reconstruct.Step, s *story, pos flinklog.Pos, rank int32) {
	sem := ps.p.Runs
	switch {
	case st.Op == reconstruct.OpPrior || st.Op == reconstruct.OpAllocate && !st.Skipped[sem] &&
		(st.Outcomes[sem] == reconstruct.Accepted || st.Outcomes[sem] == reconstruct.Overwritten):
		h := &heldRec{ps: ps, key: int(st.Slot[sem]), rank: rank, allocated: pos}
		ps.open[h.key] = h
		if s != nil {
			s.held = append(s.held, h)
		}
	case st.Op == reconstruct.OpFree && !st.Skipped[sem] && st.Outcomes[sem] == reconstruct.Accepted:
		if h := ps.open[int(st.Slot[sem])]; h != nil {
			h.freed = pos
			delete(ps.open, h.key)
		}
	}
}

// spillStory writes s's timeline into the spill, as it is let go: its
// slots' indexes are what the replay knows now, the last it learns of
// them (their keys go with the story).
func (f *folder) spillStory(s *story) {
	sp := f.spill
	if sp.err != nil {
		return
	}
	fa := &sp.story
	*fa = reconstruct.FoldedAllocation{ID: s.id, Events: fa.Events[:0], Held: fa.Held[:0]}
	// Job and Resource as the batch model learns them: in line order
	byRef := append(sp.byRef[:0], s.evs...)
	slices.SortFunc(byRef, func(x, y keptEvent) int { return cmp.Compare(x.ref, y.ref) })
	var learn reconstruct.Allocation
	for _, k := range byRef {
		if ev := k.ev; ev.Alloc == s.id {
			learn.Learn(ev.Kind, ev.Component, ev.Job, ev.Resource)
		}
	}
	sp.byRef = byRef[:0]
	fa.Job, fa.Resource = learn.Job, learn.Resource
	for _, k := range s.evs {
		fa.Events = append(fa.Events, foldedEvent(k, s.id))
	}
	// in the merged order (a rotated log's lines held for their process
	// came later)
	slices.SortStableFunc(fa.Events, func(x, y reconstruct.FoldedEvent) int { return cmp.Compare(x.Rank, y.Rank) })
	held := append(sp.held[:0], s.held...)
	slices.SortStableFunc(held, func(x, y *heldRec) int { return cmp.Compare(x.rank, y.rank) })
	sp.pending = sp.pending[:0]
	for _, h := range held {
		info := h.ps.stream.IndexOf(h.key)
		pending := pendingIndex{}
		if info.Source == reconstruct.IndexUnknown {
			if ord, ok := h.ps.stream.CounterOrdinal(h.key); ok {
				pending = pendingIndex{proc: h.ps.no + 1, ord: ord}
			}
		}
		fa.Held = append(fa.Held, reconstruct.FoldedHeld{Resource: h.ps.resource, Index: info, Allocated: h.allocated, Freed: h.freed})
		sp.pending = append(sp.pending, pending)
	}
	clear(held)
	sp.held = held[:0]
	sp.add(fa)
}

// foldedEvent is k's event as a line of a timeline let go.
func foldedEvent(k keptEvent, id flinklog.ID) reconstruct.FoldedEvent {
	ev := k.ev
	e := reconstruct.FoldedEvent{Rank: k.rank, Pos: ev.Pos, Time: ev.Time, Component: ev.Component, Kind: ev.Kind,
		SlotIndex: ev.SlotIndex, Own: ev.Alloc == id}
	if sum, away := ev.TextAway(); away {
		e.TextSum, e.TextAway = sum, true
	} else {
		e.Text = ev.Text()
	}
	return e
}

// pendingIndex is a slot whose index the dynamic counter may give it when
// process proc-1 ends (0: none pending), as the ord-th slot request.
type pendingIndex struct {
	proc, ord int
}

// counterFate is what the end of a process decided of the dynamic
// counter (Replay.DynamicCounter).
type counterFate struct {
	applied bool
	witness flinklog.Pos
	slots   int
}

// spillInMemory is how many bytes of timelines a spill holds in memory
// before it moves them to a temporary file (a variable for the test that
// makes it move at once).
var spillInMemory = 16 << 20

// spill holds the timelines of the stories let go (reconstruct's
// FoldedTimelines).
type spill struct {
	spillFile
	index []spillAt
	// fates: each process's counter, set at the end (assemble)
	fates []counterFate
	// scratch reused from one story to the next
	story   reconstruct.FoldedAllocation
	byRef   []keptEvent
	held    []*heldRec
	pending []pendingIndex
	buf     []byte
}

// spillAt is where a story's timeline is in the spill, and its first
// line's rank.
type spillAt struct {
	off  int64
	n    uint32
	rank int32
}

// add writes fa (with sp.pending) out.
func (sp *spill) add(fa *reconstruct.FoldedAllocation) {
	b := encodeFolded(sp.buf[:0], fa, sp.pending)
	sp.buf = b
	sp.index = append(sp.index, spillAt{off: sp.write(b, "slotaudit-timelines-*"), n: uint32(len(b)), rank: fa.Events[0].Rank})
}

// seal ends the writing: the spill is read from now on.
func (sp *spill) seal(fates []counterFate) error {
	sp.fates = fates
	if sp.finish() != nil {
		sp.Close()
		return notFoldable("the timelines of the stories let go could not be kept: %v", sp.err)
	}
	// in the order of their first line's rank, and where two begin on
	// one line, in the order they were let go
	slices.SortStableFunc(sp.index, func(a, b spillAt) int { return cmp.Compare(a.rank, b.rank) })
	sp.story, sp.byRef, sp.held, sp.pending = reconstruct.FoldedAllocation{}, nil, nil, nil
	return nil
}

// Len is how many timelines the spill holds.
func (sp *spill) Len() int { return len(sp.index) }

// Each yields the timelines in the order of their first line's rank.
func (sp *spill) Each(yield func(*reconstruct.FoldedAllocation) error) error {
	var fa reconstruct.FoldedAllocation
	var pending []pendingIndex
	// a window of the file: the stories were let go in nearly the order
	// they are read in, so most are in the window the one before read
	var win []byte
	winAt := int64(-1)
	for _, at := range sp.index {
		var b []byte
		switch {
		case sp.file == nil:
			b = sp.mem[at.off : at.off+int64(at.n)]
		case winAt >= 0 && at.off >= winAt && at.off+int64(at.n) <= winAt+int64(len(win)):
			b = win[at.off-winAt : at.off-winAt+int64(at.n)]
		default:
			size := max(1<<20, int(at.n))
			if cap(win) < size {
				win = make([]byte, size)
			}
			win = win[:size]
			n, err := sp.file.ReadAt(win, at.off)
			if n < int(at.n) {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("reading the timelines of the stories a fold let go back: %w", err)
			}
			win, winAt = win[:n], at.off
			b = win[:at.n]
		}
		var err error
		if pending, err = decodeFolded(b, &fa, pending[:0]); err != nil {
			return err
		}
		for k, p := range pending {
			if p.proc == 0 {
				continue
			}
			if fate := sp.fates[p.proc-1]; fate.applied {
				fa.Held[k].Index = reconstruct.IndexInfo{Index: fate.slots + p.ord, Source: reconstruct.IndexInferred,
					How: "dynamic index counter", Pos: fate.witness}
			}
		}
		if err := yield(&fa); err != nil {
			return err
		}
	}
	return nil
}

// spillFile is bytes written once and read back by where they are: in
// memory while they are few (spillInMemory), in a temporary file after.
type spillFile struct {
	dir  string // where the file goes ("": os.TempDir)
	mem  []byte
	file *os.File
	w    *bufio.Writer
	size int64
	err  error
	// removed: the file was unlinked as it was made
	removed bool
}

// write appends b (to a file named as pattern, once there is one) and
// returns where it is; the first error is kept (err), and what comes
// after it is not written.
func (sf *spillFile) write(b []byte, pattern string) int64 {
	off := sf.size
	sf.size += int64(len(b))
	if sf.err != nil {
		return off
	}
	if sf.file == nil && len(sf.mem)+len(b) <= spillInMemory {
		sf.mem = append(sf.mem, b...)
		return off
	}
	if sf.file == nil {
		f, err := os.CreateTemp(sf.dir, pattern)
		if err != nil {
			sf.err = err
			return off
		}
		// unlinked at once where the system lets an open file go on
		// (the data stays until it is closed; nothing is left behind by
		// a run that is stopped); elsewhere, at Close
		if os.Remove(f.Name()) == nil {
			sf.removed = true
		}
		sf.file, sf.w = f, bufio.NewWriterSize(f, 1<<20)
		if _, err := sf.w.Write(sf.mem); err != nil {
			sf.err = err
			return off
		}
		sf.mem = nil
	}
	if _, err := sf.w.Write(b); err != nil {
		sf.err = err
	}
	return off
}

// Bytes is how many bytes were written.
func (sf *spillFile) Bytes() int64 { return sf.size }

// finish ends the writing (what is buffered goes to the file) and
// returns the first error the writing met.
func (sf *spillFile) finish() error {
	if sf.err == nil && sf.w != nil {
		sf.err = sf.w.Flush()
		sf.w = nil
	}
	return sf.err
}

// readAt reads len(b) bytes written at off.
func (sf *spillFile) readAt(b []byte, off int64) error {
	if sf.file == nil {
		if off < 0 || off+int64(len(b)) > int64(len(sf.mem)) {
			return io.ErrUnexpectedEOF
		}
		copy(b, sf.mem[off:])
		return nil
	}
	n, err := sf.file.ReadAt(b, off)
	if n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// Close lets go of the file.
func (sf *spillFile) Close() error {
	if sf.file == nil {
		return nil
	}
	err := sf.file.Close()
	if !sf.removed {
		if rerr := os.Remove(sf.file.Name()); err == nil {
			err = rerr
		}
	}
	sf.file = nil
	return err
}

// The spill's encoding of a timeline: varints, strings as a length and
// their bytes, IDs as 16 bytes after a byte that says whether there is
// one.

func encodeFolded(b []byte, fa *reconstruct.FoldedAllocation, pending []pendingIndex) []byte {
	b = appendID(b, fa.ID)
	b = appendID(b, fa.Job)
	b = appendString(b, fa.Resource)
	b = binary.AppendUvarint(b, uint64(len(fa.Events)))
	for i := range fa.Events {
		e := &fa.Events[i]
		b = binary.AppendVarint(b, int64(e.Rank))
		b = appendPos(b, e.Pos)
		b = append(b, byte(e.Time.Kind))
		b = binary.AppendVarint(b, e.Time.N)
		b = appendString(b, string(e.Component))
		b = appendString(b, string(e.Kind))
		b = binary.AppendVarint(b, int64(e.SlotIndex))
		flags := byte(0)
		if e.Own {
			flags |= 1
		}
		if e.TextAway {
			flags |= 2
		}
		b = append(b, flags)
		if e.TextAway {
			b = binary.AppendUvarint(b, uint64(e.TextSum))
		} else {
			b = appendString(b, e.Text)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(fa.Held)))
	for i := range fa.Held {
		h := &fa.Held[i]
		b = appendString(b, h.Resource)
		b = binary.AppendVarint(b, int64(h.Index.Index))
		b = append(b, byte(h.Index.Source))
		b = appendString(b, h.Index.How)
		b = appendPos(b, h.Index.Pos)
		b = appendPos(b, h.Allocated)
		b = appendPos(b, h.Freed)
		b = binary.AppendUvarint(b, uint64(pending[i].proc))
		b = binary.AppendVarint(b, int64(pending[i].ord))
	}
	return b
}

func appendID(b []byte, id flinklog.ID) []byte {
	if !id.IsSet() {
		return append(b, 0)
	}
	raw := id.Bytes()
	return append(append(b, 1), raw[:]...)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendPos(b []byte, p flinklog.Pos) []byte {
	b = binary.AppendVarint(b, int64(p.File))
	b = binary.AppendVarint(b, p.Line)
	return binary.AppendVarint(b, int64(p.Rec))
}

// decoder reads what encodeFolded wrote; the first thing that does not
// fit is its error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errors.New("a record a fold spilled is cut or damaged")
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) id() flinklog.ID {
	if d.byte() == 0 || d.err != nil {
		return flinklog.ID{}
	}
	if len(d.b) < 16 {
		d.fail()
		return flinklog.ID{}
	}
	var raw [16]byte
	copy(raw[:], d.b)
	d.b = d.b[16:]
	return flinklog.IDFromBytes(raw)
}

func (d *decoder) pos() flinklog.Pos {
	return flinklog.Pos{File: int32(d.varint()), Line: d.varint(), Rec: int32(d.varint())}
}

// count reads a number of entries of at least min bytes each, no more
// than what is left could hold.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.fail()
		return 0
	}
	return int(n)
}

// decodeFolded reads a timeline into fa (its slices reused) and the
// pending indexes of its slots into pending.
func decodeFolded(b []byte, fa *reconstruct.FoldedAllocation, pending []pendingIndex) ([]pendingIndex, error) {
	d := &decoder{b: b}
	fa.ID, fa.Job, fa.Resource = d.id(), d.id(), d.string()
	fa.Events = fa.Events[:0]
	for n := d.count(12); n > 0 && d.err == nil; n-- {
		var e reconstruct.FoldedEvent
		e.Rank = int32(d.varint())
		e.Pos = d.pos()
		e.Time.Kind = flinklog.TimeKind(d.byte())
		e.Time.N = d.varint()
		e.Component = flinklog.Component(d.string())
		e.Kind = flinklog.Kind(d.string())
		e.SlotIndex = int(d.varint())
		flags := d.byte()
		e.Own, e.TextAway = flags&1 != 0, flags&2 != 0
		if e.TextAway {
			e.TextSum = uint32(d.uvarint())
		} else {
			e.Text = d.string()
		}
		fa.Events = append(fa.Events, e)
	}
	fa.Held = fa.Held[:0]
	for n := d.count(13); n > 0 && d.err == nil; n-- {
		var h reconstruct.FoldedHeld
		h.Resource = d.string()
		h.Index.Index = int(d.varint())
		h.Index.Source = reconstruct.IndexSource(d.byte())
		h.Index.How = d.string()
		h.Index.Pos = d.pos()
		h.Allocated, h.Freed = d.pos(), d.pos()
		pending = append(pending, pendingIndex{proc: int(d.uvarint()), ord: int(d.varint())})
		fa.Held = append(fa.Held, h)
	}
	if d.err == nil && (len(d.b) != 0 || len(fa.Events) == 0) {
		d.fail()
	}
	return pending, d.err
}

// the spill is what the model hands an output (Model.FoldedTimelines)
var _ reconstruct.FoldedTimelines = (*spill)(nil)
