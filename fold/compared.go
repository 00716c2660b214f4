package fold

// Every slot report compared, for an output that lists them all (slots
// --reports differing|all, Narrow.Reports). A fold keeps only the checks
// the rules read (LeanReports); the output lists every report with the
// table it was compared with. So each report is written out as its
// process's replay compares it — its line, its time and, unless it came
// out as the report before it did, its check under both models — into a
// spill shared by the processes (in memory while it is small, in a
// temporary file after), each process's records in chunks of its own.
// The output reads a process's chunks back in order
// (reconstruct.ComparedLog). Holding every report and check instead, a
// fold held what the batch holds, in 2.7 times its time (1.17 GB, 52.8 s
// against 1.11 GB, 19.5 s at 300,000 allocations).

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// comparedChunk is how many bytes of a process's records are gathered
// before they are written out as one chunk.
const comparedChunk = 16 << 10

// comparedLog is one process's reports as its replay compared them.
type comparedLog struct {
	out      *spillFile // shared by the processes' logs
	buf      []byte     // records not written out yet
	chunks   []comparedAt
	n        int
	agreeing [2]int
	// last is the check of the record before (a joined report's), and
	// next the probe number after its
	last *reconstruct.SlotReportCheck
	next int
}

// comparedAt is where a chunk of a process's records is in the spill.
type comparedAt struct {
	off int64
	n   uint32
}

// Flags of a record and of a row.
const (
	recNewCheck    = 1 // a check follows (else: the one before's)
	recSameInFixed = 2 // the fixed table's check is the legacy one's

	rowAgrees        = 1
	rowSameAlloc     = 2 // the replayed slot's AllocationID is the reported one
	rowSameJob       = 4 // its JobID is the reported one
	rowIndexIsTheKey = 8 // its key is the reported index
)

// add writes report ev as rc says it was compared.
func (l *comparedLog) add(ev *flinklog.Event, rc reconstruct.ReportChecked) {
	chk := rc.Check
	flags := byte(0)
	joined := rc.Joined && l.last != nil
	if !joined {
		flags |= recNewCheck
		if chk.Agrees[reconstruct.Legacy] == chk.Agrees[reconstruct.Fixed] && rc.After[reconstruct.Legacy] == rc.After[reconstruct.Fixed] &&
			slices.Equal(chk.Rows(reconstruct.Legacy), chk.Rows(reconstruct.Fixed)) {
			flags |= recSameInFixed
		}
	}
	b := append(l.buf, flags)
	b = binary.AppendUvarint(b, uint64(rc.Probe-l.next)) // (reports compared with no state are skipped)
	l.next = rc.Probe + 1
	b = appendPos(b, ev.Pos)
	b = append(b, byte(ev.Time.Kind))
	b = binary.AppendVarint(b, ev.Time.N)
	if !joined {
		for m := range 2 {
			if m == int(reconstruct.Fixed) && flags&recSameInFixed != 0 {
				break
			}
			b = appendCheck(b, chk.Agrees[m], rc.After[m], chk.Rows(reconstruct.Semantics(m)))
		}
	}
	l.last = chk
	l.n++
	for m, a := range chk.Agrees {
		if a {
			l.agreeing[m]++
		}
	}
	l.buf = b
	if len(b) >= comparedChunk {
		l.flush()
	}
}

func appendCheck(b []byte, agrees bool, after flinklog.Pos, rows []reconstruct.SlotReportRow) []byte {
	if agrees {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendPos(b, after)
	b = binary.AppendUvarint(b, uint64(len(rows)))
	for _, r := range rows {
		flags := byte(0)
		if r.Agrees {
			flags |= rowAgrees
		}
		if r.Replayed.Alloc == r.Reported {
			flags |= rowSameAlloc
		}
		if r.Replayed.Job == r.Job {
			flags |= rowSameJob
		}
		if r.Replayed.Index == r.Index {
			flags |= rowIndexIsTheKey
		}
		b = append(b, flags, byte(r.Replayed.State))
		b = binary.AppendVarint(b, int64(r.Index))
		b = appendID(b, r.Reported)
		b = appendID(b, r.Job)
		if flags&rowSameAlloc == 0 {
			b = appendID(b, r.Replayed.Alloc)
		}
		if flags&rowSameJob == 0 {
			b = appendID(b, r.Replayed.Job)
		}
		if flags&rowIndexIsTheKey == 0 {
			b = binary.AppendVarint(b, int64(r.Replayed.Index))
		}
	}
	return b
}

// flush writes the records gathered out as a chunk.
func (l *comparedLog) flush() {
	if len(l.buf) == 0 {
		return
	}
	off := l.out.write(l.buf, "slotaudit-reports-*")
	l.chunks = append(l.chunks, comparedAt{off: off, n: uint32(len(l.buf))})
	l.buf = l.buf[:0]
}

// Len is how many reports were compared.
func (l *comparedLog) Len() int { return l.n }

// Agreeing is how many agree with model m's table.
func (l *comparedLog) Agreeing(m reconstruct.Semantics) int { return l.agreeing[m] }

// Each reads the reports back, in order, as compared with model m's table.
func (l *comparedLog) Each(m reconstruct.Semantics, f func(*reconstruct.ComparedReport) error) error {
	var buf []byte
	var cr reconstruct.ComparedReport
	var checks [2]reconstruct.ComparedReport // the last check's, by model
	n, k := 0, 0
	for _, at := range l.chunks {
		if cap(buf) < int(at.n) {
			buf = make([]byte, at.n)
		}
		buf = buf[:at.n]
		if err := l.out.readAt(buf, at.off); err != nil {
			return fmt.Errorf("reading the slot reports a fold compared back: %w", err)
		}
		d := &decoder{b: buf}
		for len(d.b) > 0 && d.err == nil {
			flags := d.byte()
			k += int(d.uvarint())
			pos := d.pos()
			t := flinklog.Time{Kind: flinklog.TimeKind(d.byte()), N: d.varint()}
			if flags&recNewCheck != 0 {
				decodeCheck(d, &checks[reconstruct.Legacy])
				if flags&recSameInFixed != 0 {
					// (rows of its own: the next check is read into the legacy one's)
					legacy, fixed := &checks[reconstruct.Legacy], &checks[reconstruct.Fixed]
					fixed.Agrees, fixed.After, fixed.Rows = legacy.Agrees, legacy.After, append(fixed.Rows[:0], legacy.Rows...)
				} else {
					decodeCheck(d, &checks[reconstruct.Fixed])
				}
			} else if n == 0 {
				d.fail()
			}
			if d.err != nil {
				break
			}
			cr = checks[m]
			cr.Probe, cr.Pos, cr.Time = k, pos, t
			k++
			n++
			if err := f(&cr); err != nil {
				return err
			}
		}
		if d.err != nil {
			return fmt.Errorf("reading the slot reports a fold compared back: %w", d.err)
		}
	}
	if n != l.n {
		return fmt.Errorf("reading the slot reports a fold compared back: %d of %d", n, l.n)
	}
	return nil
}

// decodeCheck reads what appendCheck wrote into cr (its rows reused).
func decodeCheck(d *decoder, cr *reconstruct.ComparedReport) {
	cr.Agrees = d.byte() == 1
	cr.After = d.pos()
	rows := cr.Rows[:0]
	for n := d.count(4); n > 0 && d.err == nil; n-- {
		var r reconstruct.SlotReportRow
		flags := d.byte()
		if r.Replayed.State = reconstruct.SlotState(d.byte()); r.Replayed.State > reconstruct.Releasing {
			d.fail()
		}
		r.Index = int(d.varint())
		r.Reported, r.Job = d.id(), d.id()
		r.Agrees = flags&rowAgrees != 0
		r.Replayed.Alloc, r.Replayed.Job, r.Replayed.Index = r.Reported, r.Job, r.Index
		if flags&rowSameAlloc == 0 {
			r.Replayed.Alloc = d.id()
		}
		if flags&rowSameJob == 0 {
			r.Replayed.Job = d.id()
		}
		if flags&rowIndexIsTheKey == 0 {
			r.Replayed.Index = int(d.varint())
		}
		rows = append(rows, r)
	}
	cr.Rows = rows
}
