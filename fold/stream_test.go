package fold_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// TestBuildAuditsAsTheBatch: every bundled log, alone and as the bundled
// directories, audited on the fold's model (fold.Build) gives the batch
// audit's JSON and table, byte for byte — or the fold says it cannot take
// the logs yet (ErrNotFoldable), never answers otherwise.
func TestBuildAuditsAsTheBatch(t *testing.T) {
	t.Run("skew from the stream", testBuildAuditsAsTheBatch)
	// holding copies of the events after a few (as it does of what it
	// holds for long)
	restore := fold.OwnEarly()
	t.Run("copies", testBuildAuditsAsTheBatch)
	restore()
	// and from a read that keeps every request, where a window of the
	// stream cannot tell it
	defer fold.SkewFromReads()()
	t.Run("skew from a read", testBuildAuditsAsTheBatch)
}

func testBuildAuditsAsTheBatch(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(logs, "*"))
	folded, refused, dropped := 0, 0, 0
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			n, err := CompareFold(t, []string{p}, parser.Options{})
			switch {
			case errors.Is(err, fold.ErrNotFoldable):
				t.Log(err)
				refused++
			case err != nil:
				t.Fatal(err)
			default:
				folded++
				dropped += n
			}
		})
	}
	t.Logf("%d reads folded (%d stories dropped), %d refused", folded, dropped, refused)
	if folded < 10 || dropped < 20 {
		t.Errorf("only %d reads folded, %d stories dropped", folded, dropped)
	}
}

// CompareFold audits paths on the batch model and on the fold's, and
// fails t where the JSON or the table differ; it returns how many stories
// the fold dropped, or the error that stopped it.
func CompareFold(t *testing.T, paths []string, opts parser.Options) (int, error) {
	t.Helper()
	m, err := fold.Build(paths, opts)
	if err != nil {
		return 0, err
	}
	full, err := parser.Read(paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	batch := reconstruct.Build(full)
	for _, w := range []struct {
		name  string
		write func(a *report.Audit, b *bytes.Buffer) error
	}{
		{"json", func(a *report.Audit, b *bytes.Buffer) error { return a.WriteJSON(b) }},
		{"table", func(a *report.Audit, b *bytes.Buffer) error { return a.WriteTable(b, 120) }},
	} {
		var got, want bytes.Buffer
		if err := w.write(&report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}, &got); err != nil {
			t.Fatal(err)
		}
		if err := w.write(&report.Audit{Model: batch, Findings: rules.Run(batch, rules.All), FailOn: rules.Error, Rules: rules.All}, &want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("the fold's %s differs from the batch's:\n%s\nbatch:\n%s", w.name, got.String(), want.String())
		}
	}
	return m.Folded, nil
}
