package sim

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

var update = flag.Bool("update", false, "rewrite the simulated incidents under testdata/logs/sim-* and their goldens")

// incidents are the simulated incidents kept in testdata/logs: one per
// injectable fault, in several versions, layouts and log levels.
var incidents = map[string]Config{
	"sim-1.9.3-overwrite-debug":       {Flink: "1.9.3", TaskManagers: 2, Slots: 3, Jobs: 2, Failovers: 1, Inject: []string{FaultOverwrite}, Seed: 11, Debug: true},
	"sim-1.7.2-overwrite-info":        {Flink: "1.7.2", TaskManagers: 3, Slots: 4, Jobs: 3, Inject: []string{FaultOverwrite}, Seed: 12},
	"sim-1.11.6-overwrite-refused":    {Flink: "1.11.6", TaskManagers: 2, Slots: 3, Jobs: 2, Failovers: 1, Inject: []string{FaultOverwrite}, Seed: 13, Debug: true, Format: "json"},
	"sim-1.8.2-delayed-request-json":  {Flink: "1.8.2", TaskManagers: 2, Slots: 2, Jobs: 2, Inject: []string{FaultDelayedRequest}, Seed: 14, Format: "json"},
	"sim-1.12.7-heartbeat-timeout":    {Flink: "1.12.7", TaskManagers: 2, Slots: 3, Jobs: 3, Inject: []string{FaultHeartbeatTimeout}, Seed: 15, Debug: true},
	"sim-1.10.3-offer-reject-logback": {Flink: "1.10.3", TaskManagers: 2, Slots: 3, Jobs: 2, Inject: []string{FaultOfferReject}, Seed: 16, Debug: true, Layout: "logback"},
	"sim-1.11.6-tm-restart":           {Flink: "1.11.6", TaskManagers: 3, Slots: 2, Jobs: 3, Failovers: 1, Inject: []string{FaultTMRestart}, Seed: 17},
	// the declarative era
	"sim-1.18.1-tm-lost-slot-timeout": {Flink: "1.18.1", TaskManagers: 2, Slots: 3, Jobs: 2, Failovers: 1, Inject: []string{FaultTMLost, FaultSlotTimeout}, Seed: 3},
	"sim-1.14.6-slot-timeout-debug":   {Flink: "1.14.6", TaskManagers: 2, Slots: 3, Jobs: 2, Inject: []string{FaultSlotTimeout}, Seed: 21, Debug: true},
	"sim-2.1.0-k8s-tm-lost-json":      {Flink: "2.1.0", TaskManagers: 3, Slots: 2, Jobs: 2, Inject: []string{FaultTMLost}, Seed: 22, Format: "json", Deployment: "kubernetes"},
	"sim-1.17.2-not-enough-resources": {Flink: "1.17.2", TaskManagers: 2, Slots: 2, Jobs: 1, Inject: []string{FaultNotEnoughResources}, Seed: 23, Debug: true},
	"sim-1.16.3-jm-failover-shrink":   {Flink: "1.16.3", TaskManagers: 4, Slots: 3, Jobs: 2, Inject: []string{FaultJMFailover, FaultRequirementsShrink}, Seed: 24, Debug: true},
	"sim-1.15.4-overwrite-refused":    {Flink: "1.15.4", TaskManagers: 2, Slots: 3, Jobs: 1, Inject: []string{FaultOverwrite}, Seed: 25, Debug: true},
	// a 1.17 TaskManager logs "Allocated slot for A." twice for an accepted
	// dynamic duplicate: never the legacy two-"Allocated" overwrite
	"sim-1.18.1-duplicate-on-1.17.2-taskmanagers": {Flink: "1.18.1", TMFlink: "1.17.2", TaskManagers: 2, Slots: 3, Jobs: 1, Inject: []string{FaultOverwrite}, Seed: 27},
	"sim-1.20.0-rolling-upgrade-1.19.1-logback":   {Flink: "1.20.0", TMFlink: "1.19.1", TaskManagers: 2, Slots: 3, Jobs: 2, Inject: []string{FaultTMLost, FaultOfferReject}, Seed: 26, Layout: "logback"},
}

// TestIncidents: the simulated incidents in testdata/logs are what the
// simulator writes for their configuration (it is deterministic), audit
// finds exactly their truth, and the audit output matches its golden.
func TestIncidents(t *testing.T) {
	for name, cfg := range incidents {
		t.Run(name, func(t *testing.T) {
			r, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("..", "testdata", "logs", name)
			golden := filepath.Join("..", "testdata", "golden", "sim")
			truth, _ := json.MarshalIndent(r.Truth, "", "  ")
			truth = append(truth, '\n')
			if *update {
				os.RemoveAll(dir)
				must(t, os.MkdirAll(dir, 0o755))
				must(t, os.MkdirAll(golden, 0o755))
				for n, c := range r.Files {
					must(t, os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644))
				}
				must(t, os.WriteFile(filepath.Join(golden, name+".truth.json"), truth, 0o644))
			}
			for n, c := range r.Files {
				b, err := os.ReadFile(filepath.Join(dir, n))
				if err != nil || !bytes.Equal(b, []byte(c)) {
					t.Fatalf("%s/%s differs from what the simulator writes for %+v (go test ./sim -update rewrites it): %v", name, n, cfg, err)
				}
			}
			if b, err := os.ReadFile(filepath.Join(golden, name+".truth.json")); err != nil || !bytes.Equal(b, truth) {
				t.Fatalf("%s.truth.json differs: %v", name, err)
			}
			got, want := auditRun(t, r)
			if _, fp, fn, extra, missing := diff(got, want); fp+fn > 0 {
				t.Errorf("audit differs from the truth:\n extra   %v\n missing %v", extra, missing)
			}
			// The audit as a person reads it, on the files as committed.
			res, err := parser.Read([]string{dir}, parser.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range res.Inputs {
				res.Inputs[i].Path = filepath.ToSlash(filepath.Join(name, filepath.Base(res.Inputs[i].Path)))
			}
			for i := range res.Files {
				res.Files[i].Path = filepath.ToSlash(filepath.Join(name, filepath.Base(res.Files[i].Path)))
			}
			m := reconstruct.Build(res)
			a := &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}
			var out bytes.Buffer
			must(t, a.WriteTable(&out, 120))
			out.WriteString("\n")
			must(t, a.WriteExplain(&out, a.FindingIDs(), 120))
			g := filepath.Join(golden, name+".audit.txt")
			if *update {
				must(t, os.WriteFile(g, out.Bytes(), 0o644))
			}
			if b, err := os.ReadFile(g); err != nil || !bytes.Equal(b, out.Bytes()) {
				t.Errorf("%s differs from the audit (go test ./sim -update rewrites it): %v", g, err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
