package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/sim"
)

// TestSlotsStreamedEqualsBuilt: `slots` renders its tables one slot report
// at a time (WriteSlotsTablesJSON, WriteSlotsTablesText); what it writes
// is byte for byte what the tables built whole give (NewReplayJSON with
// WriteSlotsJSON, WriteSlotsTable), for every detail level and model, on
// the test logs with DEBUG slot reports and on simulated DEBUG runs with
// faults (reports that agree and reports that differ), and for no tables.
func TestSlotsStreamedEqualsBuilt(t *testing.T) {
	type input struct {
		name  string
		paths func(t *testing.T) []string
	}
	logs := func(files ...string) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			var paths []string
			for _, f := range files {
				paths = append(paths, filepath.Join("..", "testdata", "logs", f))
			}
			return paths
		}
	}
	simulated := func(cfg sim.Config) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			res, err := sim.Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var paths []string
			for name, content := range res.Files {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
			return paths
		}
	}
	inputs := []input{
		{"race-debug-1.8.2", logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")},
		{"k8s-restart-1.11.3", logs("fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log")},
		{"race-on-fixed-1.10.3", logs("fixed-1.10.3-race-refused-tm.log", "fixed-1.10.3-race-refused-jm.log")},
		{"debug-1.9", logs("legacy-1.9.1-debug-tm.log")},
		{"sim-1.9.3-faults", simulated(sim.Config{Flink: "1.9.3", TaskManagers: 3, Slots: 4, Jobs: 3, Failovers: 3, Seed: 7, Debug: true, Minutes: 20,
			Inject: []string{"overwrite", "delayed-request", "heartbeat-timeout"}})},
		{"sim-1.12.7-json", simulated(sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 2, Jobs: 1, Seed: 3, Debug: true, Minutes: 10, Format: "json"})},
	}
	models := []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed}
	agreeing, differing := 0, 0
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			res, err := parser.Read(in.paths(t), parser.Options{})
			if err != nil {
				t.Fatal(err)
			}
			m := reconstruct.Build(res)
			for _, detail := range []ReportDetail{ReportsDiffering, ReportsAll, ReportsNone} {
				var built []TaskManagerJSON
				var tables []SlotsTable
				for _, tm := range m.TaskManagers {
					for _, p := range tm.Processes {
						for _, s := range models {
							j, err := NewReplayJSON(m, tm, p, p.Replay, s)
							if err != nil {
								t.Fatal(err)
							}
							if detail == ReportsNone {
								j.SlotReports = nil
							}
							built = append(built, j)
							tables = append(tables, SlotsTable{M: m, TM: tm, P: p, R: p.Replay, Semantics: s, Reports: detail != ReportsNone})
							if detail == ReportsAll {
								for _, rep := range j.SlotReports {
									if rep.Agrees {
										agreeing++
									} else {
										differing++
									}
								}
							}
						}
					}
				}
				compareWriters(t, "json", func(b *bytes.Buffer) error { return WriteSlotsJSON(b, built) },
					func(b *bytes.Buffer) error { return WriteSlotsTablesJSON(b, tables) })
				for _, width := range []int{0, 80} {
					compareWriters(t, fmt.Sprintf("text at width %d", width), func(b *bytes.Buffer) error { return WriteSlotsTable(b, m.Result.Files, built, detail, width) },
						func(b *bytes.Buffer) error { return WriteSlotsTablesText(b, tables, detail, width) })
				}
			}
		})
	}
	if agreeing == 0 || differing == 0 {
		t.Errorf("%d agreeing and %d differing slot reports: the inputs must have both", agreeing, differing)
	}
	t.Run("no tables", func(t *testing.T) {
		compareWriters(t, "json nil", func(b *bytes.Buffer) error { return WriteSlotsJSON(b, nil) },
			func(b *bytes.Buffer) error { return WriteSlotsTablesJSON(b, nil) })
		compareWriters(t, "json empty", func(b *bytes.Buffer) error { return WriteSlotsJSON(b, []TaskManagerJSON{}) },
			func(b *bytes.Buffer) error { return WriteSlotsTablesJSON(b, []SlotsTable{}) })
	})
}

func compareWriters(t *testing.T, what string, built, streamed func(*bytes.Buffer) error) {
	t.Helper()
	var want, got bytes.Buffer
	if err := built(&want); err != nil {
		t.Fatal(err)
	}
	if err := streamed(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		i := 0
		for i < min(got.Len(), want.Len()) && got.Bytes()[i] == want.Bytes()[i] {
			i++
		}
		t.Fatalf("%s: streamed output differs from the tables built whole at byte %d:\n got  %q\n want %q", what, i,
			got.Bytes()[max(0, i-80):min(got.Len(), i+80)], want.Bytes()[max(0, i-80):min(want.Len(), i+80)])
	}
}
