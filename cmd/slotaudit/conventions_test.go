package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManPages: docs/man/man1 is what 'slotaudit man' writes for this
// source (go test ./cmd/slotaudit -run ManPages -update rewrites it).
func TestManPages(t *testing.T) {
	var out bytes.Buffer
	pages, err := manPages(newRootCmd(&env{stdout: &out, stderr: &out}))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "man", "man1")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range pages {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	have, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(have) != len(pages) {
		t.Errorf("docs/man/man1 holds %d pages, slotaudit writes %d; run go test ./cmd/slotaudit -run ManPages -update", len(have), len(pages))
	}
	for name, b := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("docs/man/man1/%s is not what slotaudit writes; run go test ./cmd/slotaudit -run ManPages -update", name)
		}
	}
	for _, want := range []string{"slotaudit.1", "slotaudit-audit.1", "slotaudit-explain.1", "slotaudit-timeline.1", "slotaudit-slots.1", "slotaudit-events.1", "slotaudit-simulate.1"} {
		if !strings.Contains(string(pages[want]), ".SH EXAMPLE") && want != "slotaudit.1" {
			t.Errorf("%s has no EXAMPLE section", want)
		}
	}
}

// TestEveryCommandHasExamples: every command a user can see shows how it
// is used, and every --format, --model… completes to its values.
func TestEveryCommandHasExamples(t *testing.T) {
	var out bytes.Buffer
	root := newRootCmd(&env{stdout: &out, stderr: &out})
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Example == "" {
			t.Errorf("%s has no examples", c.Name())
		}
		for _, flag := range []string{"format", "model", "reports", "flink", "inject", "only", "color"} {
			f := c.Flags().Lookup(flag)
			if f == nil {
				f = c.InheritedFlags().Lookup(flag)
			}
			if f == nil {
				continue
			}
			fn, ok := c.GetFlagCompletionFunc(flag)
			if !ok {
				t.Errorf("%s --%s does not complete its values", c.Name(), flag)
				continue
			}
			vals, _ := fn(c, nil, "")
			if len(vals) < 2 {
				t.Errorf("%s --%s completes to %v", c.Name(), flag, vals)
			}
		}
	}
}
