package fold_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/sim"
)

// TestComparedReportsAsTheBatch: every bundled log, alone and as the
// bundled directories, and DEBUG session clusters of each kind of table
// (one with an overwrite, whose reports disagree), folded with every slot
// report compared written out as it is (Narrow.Reports) — in memory, and
// in a file from the first — give the batch's `slots` listing every
// report (JSON, and the text of every report and of those that differ),
// byte for byte; or the fold says it cannot take the logs yet.
func TestComparedReportsAsTheBatch(t *testing.T) {
	session := func(v string, inject ...string) sim.Config {
		return sim.Config{Flink: v, TaskManagers: 3, Slots: 3, Jobs: 5, JobSeconds: 5, StreamingJobs: 1, Minutes: 60, Seed: 8, Debug: true, Inject: inject}
	}
	inputs := bundledAnd(t, session("1.9.3", sim.FaultOverwrite), session("1.12.7"), session("1.14.6"), session("2.1.0"))
	for _, file := range []bool{false, true} {
		restore := func() {}
		if file {
			restore = fold.SpillToFile()
		}
		folded, reports, differing := 0, 0, 0
		for _, in := range inputs {
			m, batch := foldAndBatch(t, in, fold.Narrow{Reports: true})
			if m == nil {
				continue
			}
			folded++
			if m.Compared == nil {
				if full := batch.Result; full.CountOf(flinklog.KindRMSlotReport) > 0 {
					t.Fatalf("%v: logs with slot reports folded with none written out", in)
				}
				continue
			}
			for _, out := range []string{"json", "all", "differing"} {
				got, want := slotsListing(t, m, out), slotsListing(t, batch, out)
				if got != want {
					t.Fatalf("%v (in a file: %v): the fold's slots (%s) differs from the batch's:\n%s\nbatch:\n%s", in, file, out, got, want)
				}
				if out == "json" {
					reports += strings.Count(got, `"compared_after"`)
					differing += strings.Count(got, `"agrees": false,`+"\n"+`          "compared_after"`)
				}
			}
			if err := m.Compared.Close(); err != nil {
				t.Fatal(err)
			}
		}
		restore()
		t.Logf("in a file: %v: %d inputs folded, %d slot reports listed, %d of them differing", file, folded, reports, differing)
		if folded < 10 || reports < 1000 || differing == 0 {
			t.Errorf("in a file: %v: only %d inputs folded, %d slot reports listed, %d differing", file, folded, reports, differing)
		}
	}
}

// slotsListing is what `slots` writes of every table at the end of each
// log, under both models, listing the slot reports: as JSON, or as text
// with every report or only those that differ.
func slotsListing(t *testing.T, m *reconstruct.Model, out string) string {
	t.Helper()
	tables, _ := report.SlotsTables(m, &report.Filter{}, []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed}, nil, true)
	var b bytes.Buffer
	var err error
	switch out {
	case "json":
		err = report.WriteSlotsTablesJSON(&b, tables)
	case "all":
		err = report.WriteSlotsTablesText(&b, tables, report.ReportsAll, 120)
	default:
		err = report.WriteSlotsTablesText(&b, tables, report.ReportsDiffering, 120)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestComparedReportsWithNoRoom: where the reports compared cannot go to
// a file (no such directory), the fold says it cannot take the logs and
// the caller builds the batch model — never a listing with reports
// missing; with a directory (Narrow.SpillDir), they go there.
func TestComparedReportsWithNoRoom(t *testing.T) {
	defer fold.SpillToFile()()
	in := bundledAnd(t, sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 4, Jobs: 4, JobSeconds: 5, Minutes: 20, Seed: 3, Debug: true})
	dir := in[len(in)-1]
	_, err := fold.BuildNarrowed(dir, parser.Options{}, fold.Narrow{Reports: true, SpillDir: filepath.Join(t.TempDir(), "gone")})
	if !errors.Is(err, fold.ErrNotFoldable) || !strings.Contains(err.Error(), "slot reports compared could not be kept") {
		t.Fatalf("with no directory to write to: %v", err)
	}
	spillDir := t.TempDir()
	m, err := fold.BuildNarrowed(dir, parser.Options{}, fold.Narrow{Reports: true, SpillDir: spillDir})
	if err != nil {
		t.Fatal(err)
	}
	if m.Compared == nil {
		t.Fatal("no slot report written out")
	}
	// (unlinked as it was made: open, in the directory)
	if open := openIn(t, spillDir); open != 1 {
		t.Errorf("%d files open in the directory given, want 1", open)
	}
	if err := m.Compared.Close(); err != nil {
		t.Fatal(err)
	}
	if open := openIn(t, spillDir); open != 0 {
		t.Errorf("%d files open in the directory given once closed", open)
	}
}

// openIn counts the files this process holds open in dir (Linux: none
// elsewhere, where the test is skipped).
func openIn(t *testing.T, dir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}
