package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLineNumbersNeverWrap: an input longer than the line numbers events
// keep is read up to the last number and says so; no number wraps.
func TestLineNumbersNeverWrap(t *testing.T) {
	defer func(n int32) { maxLines = n }(maxLines)
	maxLines = 10
	data, err := os.ReadFile(filepath.Join("..", "testdata", "logs", "legacy-1.8.2-race-debug-tm.log"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tm.log")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Read([]string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Inputs[0].Lines; got != 10 {
		t.Errorf("%d lines read, want 10", got)
	}
	for _, ev := range res.Events {
		if ev.Pos.Line < 1 || ev.Pos.Line > 10 {
			t.Errorf("event at line %d", ev.Pos.Line)
		}
	}
	said := false
	for _, d := range res.Diagnostics {
		said = said || strings.Contains(d.Summary, "more than 10 lines")
	}
	if !said {
		t.Errorf("no diagnostic says the input was read only up to line 10: %+v", res.Diagnostics)
	}
}
