package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// TestFoldWrappedLogs: the simulated incidents of every version as a
// container runtime keeps them (CRI, Docker's JSON, kubectl --timestamps:
// every line wrapped, a long one split by CRI into pieces) audit on the
// fold's model as the batch audits them, byte for byte, and fold.
func TestFoldWrappedLogs(t *testing.T) {
	seeds := uint64(seedCount(3, 1))
	total, folded := 0, 0
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			for seed := uint64(1); seed <= seeds; seed++ {
				r, err := Run(scenarioFor(v, seed))
				if err != nil {
					t.Fatal(err)
				}
				for _, wrapper := range []string{"cri", "docker", "kubectl"} {
					dir := t.TempDir()
					for name, text := range r.Files {
						if err := os.WriteFile(filepath.Join(dir, name), []byte(wrapLines(t, text, wrapper)), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					total++
					if foldsAsTheBatch(t, []string{dir}, fmt.Sprintf("seed %d, %s", seed, wrapper), func(full *parser.Result) {
						if full.Inputs[0].Wrapper == "" {
							t.Fatalf("%s: the read found no wrapper", wrapper)
						}
					}) {
						folded++
					}
				}
			}
		})
	}
	t.Logf("%d wrapped reads, %d folded", total, folded)
	if folded < total {
		t.Errorf("only %d of %d wrapped reads folded", folded, total)
	}
}

// wrapLines wraps every line of text as a container runtime writes it
// (cri, docker, kubectl --timestamps), at made-up instants a millisecond
// apart; CRI splits a line longer than 120 bytes into partial pieces.
func wrapLines(t *testing.T, text, wrapper string) string {
	t.Helper()
	var b strings.Builder
	at := time.Date(2021, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		at = at.Add(time.Millisecond)
		ts := at.Format(time.RFC3339Nano)
		switch wrapper {
		case "cri":
			for len(line) > 120 {
				fmt.Fprintf(&b, "%s stdout P %s\n", ts, line[:120])
				line = line[120:]
			}
			fmt.Fprintf(&b, "%s stdout F %s\n", ts, line)
		case "docker":
			j, err := json.Marshal(map[string]string{"log": line + "\n", "stream": "stdout", "time": ts})
			if err != nil {
				t.Fatal(err)
			}
			b.Write(j)
			b.WriteByte('\n')
		default:
			fmt.Fprintf(&b, "%s %s\n", ts, line)
		}
	}
	return b.String()
}

// foldsAsTheBatch folds paths (a refusal fails the test: since the
// fourteenth session these logs hold nothing a fold refuses, DEBUG slot
// reports included) and audits the fold's model and the batch's in JSON
// and as a table: the same bytes, or the test fails, saying what (the
// read's; check looks at the full read first). It reports whether it
// folded.
func foldsAsTheBatch(t *testing.T, paths []string, what string, check func(full *parser.Result)) bool {
	t.Helper()
	m, first, err := foldWithFirst(t, paths, parser.Options{})
	if errors.Is(err, fold.ErrNotFoldable) {
		// (DEBUG slot reports fold too, since the fourteenth session:
		// these logs hold nothing a fold refuses)
		t.Fatalf("%s: refused: %v", what, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	full, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check(full)
	batch := reconstruct.Build(full)
	for _, format := range []string{"json", "table"} {
		if got, want := auditText(t, m, format), auditText(t, batch, format); got != want {
			t.Fatalf("%s: the fold's %s differs from the batch's:\n%s\nbatch:\n%s", what, format, got, want)
		}
	}
	if got, want := timesketchText(t, m, first), timesketchText(t, batch, nil); got != want {
		t.Fatalf("%s: the fold's Timesketch export differs from the batch's:\n%s\nbatch:\n%s", what, got, want)
	}
	return true
}

// seedCount is how many seeds a test of incidents runs: normal, short
// under -short, or -soak's.
func seedCount(normal, short int) int {
	switch {
	case *soak > 0:
		return *soak
	case testing.Short():
		return short
	}
	return normal
}
