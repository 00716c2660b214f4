package parser

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLineNumbersNeverWrap: an input longer than the line numbers events
// keep is read up to the last number and says so; no number wraps.
func TestLineNumbersNeverWrap(t *testing.T) {
	defer func(n int64) { maxLines = n }(maxLines)
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
	for _, ev := range res.events.list() {
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

// TestLineNumbersPast32Bits: a reader that is already past 2^31−1 lines
// goes on counting; numbers are 64-bit from the reader to every event.
func TestLineNumbersPast32Bits(t *testing.T) {
	lr := newLineReader(strings.NewReader("a\nb\nc\n"), 1<<20)
	lr.no = math.MaxInt32 - 1
	var got []int64
	for {
		if _, _, err := lr.next(); err != nil {
			break
		}
		got = append(got, lr.no)
	}
	want := []int64{math.MaxInt32, math.MaxInt32 + 1, math.MaxInt32 + 2}
	if !slices.Equal(got, want) {
		t.Errorf("line numbers %v, want %v", got, want)
	}
}
