package parser

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestJoinIdentities: a TaskManager log without its banner takes the one
// ResourceID the other components name its AllocationIDs under; when they
// name two, it keeps its file name and a warning names both.
func TestJoinIdentities(t *testing.T) {
	src := filepath.Join("..", "testdata", "logs", "sim-1.9.3-overwrite-debug")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cut := func(s string) string {
		var kept []string
		for _, l := range strings.SplitAfter(s, "\n") {
			if !strings.Contains(l, "Starting TaskManager with ResourceID") {
				kept = append(kept, l)
			}
		}
		return strings.Join(kept, "")
	}
	jm, tm := read("jobmanager.log"), cut(read("taskmanager-0.log"))
	const id = "0b2388533393d767b52328809d2321ad"
	// one slot report that files an allocated slot of this TaskManager
	// under another id
	loc := regexp.MustCompile(`slotID=` + id + `_\d+, resourceProfile=ResourceProfile\{[^}]*\}, allocationID=[0-9a-f]{32}`).FindStringIndex(jm)
	if loc == nil {
		t.Fatal("no allocated slot in a slot report")
	}
	at := loc[0]
	conflicting := jm[:at] + "slotID=ffffffffffffffffffffffffffffffff_" + jm[at+len("slotID="+id+"_"):]
	tests := []struct {
		name, jm  string
		want, src string
		warning   string
	}{
		{"agreeing lines", jm, id, "joined by ", ""},
		{"two ResourceIDs", conflicting, "taskmanager-0", "file name", "under 2 ResourceIDs: " + id},
		{"no other component", "", "taskmanager-0", "file name", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			paths := []string{filepath.Join(dir, "taskmanager-0.log")}
			if err := os.WriteFile(paths[0], []byte(tm), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.jm != "" {
				paths = append(paths, filepath.Join(dir, "jobmanager.log"))
				if err := os.WriteFile(paths[1], []byte(tc.jm), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res, err := Read(paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var in *InputSummary
			for i := range res.Inputs {
				if strings.HasSuffix(res.Inputs[i].Path, "taskmanager-0.log") {
					in = &res.Inputs[i]
				}
			}
			if in.ResourceID != tc.want || !strings.HasPrefix(in.ResourceIDSource, tc.src) {
				t.Errorf("identity %s (%s), want %s (%s…)", in.ResourceID, in.ResourceIDSource, tc.want, tc.src)
			}
			for i := range res.events.list() {
				if ev := res.events.event(i); ev.Pos.File == in.File && ev.Component == flinklog.ComponentTM && ev.Resource != "" && ev.Resource != tc.want {
					t.Fatalf("event at line %d names TaskManager %s, the input %s", ev.Pos.Line, ev.Resource, tc.want)
				}
			}
			warned := false
			for _, d := range res.Diagnostics {
				warned = warned || tc.warning != "" && strings.Contains(d.Summary, tc.warning)
			}
			if warned != (tc.warning != "") {
				t.Errorf("warning %q given: %v; diagnostics %+v", tc.warning, warned, res.Diagnostics)
			}
		})
	}
}
