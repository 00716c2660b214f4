package reconstruct

import (
	"github.com/slotaudit/slotaudit/flinklog"
)

// ComparedReport is one slot report as compared with one model's table:
// what `slots` lists of it.
type ComparedReport struct {
	Probe  int          // its number among the process's reports
	Pos    flinklog.Pos // the report's line
	Time   flinklog.Time
	Agrees bool
	// After is the TaskManager line after which the table was compared
	// (SlotReportCheck.After; zero: before the process's first line).
	After flinklog.Pos
	Rows  []SlotReportRow // read only
}

// ComparedLog is every slot report a process's replay compared, kept out
// of the model: a fold keeps only the checks the rules read, and writes
// every report it compares into such a log for an output that lists them
// all (Process.SetCompared).
type ComparedLog interface {
	// Len is how many reports were compared.
	Len() int
	// Agreeing is how many of them agree with model m's table.
	Agreeing(m Semantics) int
	// Each calls f with each report, in report order, as compared with
	// model m's table; the report is valid only during the call. The
	// first error f returns, or reading the log back meets, ends it.
	Each(m Semantics, f func(*ComparedReport) error) error
}

// SetCompared gives a process that a fold replayed the log of every slot
// report its replay compared.
func (p *Process) SetCompared(log ComparedLog) { p.compared = log }

// ComparedCount is how many of process p's slot reports were compared
// with its table, and how many agree with model m's.
func (mod *Model) ComparedCount(p *Process, m Semantics) (n, agreeing int) {
	if p.compared != nil {
		return p.compared.Len(), p.compared.Agreeing(m)
	}
	for _, chk := range p.Replay.checks {
		n += int(chk.N)
		if chk.Agrees[m] {
			agreeing += int(chk.N)
		}
	}
	return n, agreeing
}

// EachCompared calls f with each slot report of process p compared with
// its table, in report order, as compared with model m's table (see
// ComparedLog.Each).
func (mod *Model) EachCompared(p *Process, m Semantics, f func(*ComparedReport) error) error {
	if p.compared != nil {
		return p.compared.Each(m, f)
	}
	var cr ComparedReport
	for k, chk := range p.Replay.Checks() {
		rep := p.SlotReport(k)
		cr = ComparedReport{Probe: k, Pos: mod.Result.Pos(rep), Time: mod.Result.Time(rep), Agrees: chk.Agrees[m], Rows: chk.Rows(m)}
		if a := chk.After[m]; a >= 0 {
			cr.After = mod.Result.Pos(a)
		}
		if err := f(&cr); err != nil {
			return err
		}
	}
	return nil
}
