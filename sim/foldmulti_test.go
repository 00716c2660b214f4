package sim

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/parser"
)

// TestFoldFilesOfSeveralLogs: the simulated incidents of every version
// as one file of every pod's lines (`kubectl logs --prefix`, the pods'
// lines interleaved) and as YARN's aggregation of the containers' logs
// (`yarn logs -applicationId`; the logs alone, and with each container's
// other files, more logs than a file read again whole may hold) audit on
// the fold's model as the batch audits them, byte for byte, and fold:
// each log of the file is read again on its own, from its stretch of the
// file (the kubectl file also pod after pod, each with two sidecars, as
// kubectl writes a selector's pods without -f).
func TestFoldFilesOfSeveralLogs(t *testing.T) {
	seeds := uint64(seedCount(3, 1))
	total, folded := 0, 0
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			for seed := uint64(1); seed <= seeds; seed++ {
				cfg := scenarioFor(v, seed)
				if cfg.Format == "json" {
					continue // (YARN's and kubectl's files here are of text logs)
				}
				r, err := Run(cfg)
				if err != nil {
					t.Fatal(err)
				}
				names := slices.Sorted(func(yield func(string) bool) {
					for name := range r.Files {
						if !yield(name) {
							return
						}
					}
				})
				for _, how := range []string{"kubectl", "kubectl, pod after pod", "yarn", "yarn, every container's files"} {
					path := filepath.Join(t.TempDir(), "several.log")
					if err := os.WriteFile(path, []byte(severalLogs(r, names, how)), 0o644); err != nil {
						t.Fatal(err)
					}
					total++
					if foldsAsTheBatch(t, []string{path}, fmt.Sprintf("seed %d, %s", seed, how), func(full *parser.Result) {
						if len(full.Inputs) < 2 {
							t.Fatalf("%s: the read found %d log(s) in the file", how, len(full.Inputs))
						}
						if how != "yarn" && how != "kubectl" && len(full.Inputs) <= parser.MaxLogsReadAgain {
							t.Fatalf("%s: %d logs in the file", how, len(full.Inputs))
						}
					}) {
						folded++
					}
				}
			}
		})
	}
	// (a refusal fails foldsAsTheBatch: DEBUG incidents fold too)
	t.Logf("%d files of several logs, %d folded", total, folded)
	if folded < total {
		t.Errorf("only %d of %d files of several logs folded", folded, total)
	}
}

// severalLogs is one file of the run's logs: kubectl's --prefix (a line of
// each pod's in turn) or YARN's aggregation (a container's log after the
// other's, framed).
func severalLogs(r *Result, names []string, how string) string {
	var b strings.Builder
	if how == "yarn" || how == "yarn, every container's files" {
		for k, name := range names {
			// a container's files as YARN aggregates them: the log, and
			// (the second way) what the launch and the JVM wrote besides,
			// so that a session cluster of a few TaskManagers is a file
			// of more logs than a read again reads whole
			files := [][2]string{{name, r.Files[name]}}
			if how != "yarn" {
				base := strings.TrimSuffix(name, filepath.Ext(name))
				files = [][2]string{{"prelaunch.out", "Setting up env variables\nSetting up job resources\nLaunching container\n"},
					files[0], {base + ".out", ""}, {base + ".err", "SLF4J: Class path contains multiple SLF4J bindings.\n"}}
			}
			for _, f := range files {
				text := f[1]
				fmt.Fprintf(&b, "Container: container_e03_1614000000000_0007_01_%06d on host-%d_45454\n", k+1, k)
				b.WriteString("LogAggregationType: AGGREGATED\n=====================================================================\n")
				fmt.Fprintf(&b, "LogType:%s\nLogLastModifiedTime:Mon Feb 22 14:05:00 +0000 2021\nLogLength:%d\nLogContents:\n", f[0], len(text))
				b.WriteString(text)
				if text != "" && !strings.HasSuffix(text, "\n") {
					b.WriteByte('\n')
				}
				fmt.Fprintf(&b, "End of LogType:%s\n*******************************************************************************\n\n", f[0])
			}
		}
		return b.String()
	}
	lines := make([][]string, len(names))
	for k, name := range names {
		lines[k] = strings.Split(strings.TrimSuffix(r.Files[name], "\n"), "\n")
	}
	if how == "kubectl, pod after pod" {
		// as kubectl writes a selector's pods without -f: one pod's
		// containers after another's, the main container's and two
		// sidecars' (more logs than a file read again whole may hold)
		for k, name := range names {
			pod := strings.TrimSuffix(name, filepath.Ext(name))
			for _, l := range lines[k] {
				fmt.Fprintf(&b, "[pod/flink-%s/flink-main-container] %s\n", pod, l)
			}
			fmt.Fprintf(&b, "[pod/flink-%s/istio-proxy] 2021-03-14T09:00:00.000Z\tinfo\tEnvoy proxy is ready\n", pod)
			fmt.Fprintf(&b, "[pod/flink-%s/fluent-bit] [2021/03/14 09:00:00] [ info] [engine] started (pid=1)\n", pod)
		}
		return b.String()
	}
	for i := 0; ; i++ {
		more := false
		for k, name := range names {
			if i < len(lines[k]) {
				more = true
				fmt.Fprintf(&b, "[pod/flink-%s/flink-main-container] %s\n", strings.TrimSuffix(name, filepath.Ext(name)), lines[k][i])
			}
		}
		if !more {
			return b.String()
		}
	}
}

// TestFoldManyPodsInOneFile: `kubectl logs -f --prefix` of a session
// cluster of 20 TaskManagers — 21 logs whose lines interleave in one
// file — folds from the first read's spill and audits as the batch
// audits it, byte for byte. Without the spill each log would be read
// again by reading the whole file, 21 times a pass, and the fold refuses.
func TestFoldManyPodsInOneFile(t *testing.T) {
	r, err := Run(Config{Flink: "1.12.7", TaskManagers: 20, Slots: 2, Jobs: 6, JobSeconds: 5, Minutes: 3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(r.Files))
	path := filepath.Join(t.TempDir(), "pods.log")
	if err := os.WriteFile(path, []byte(severalLogs(r, names, "kubectl")), 0o644); err != nil {
		t.Fatal(err)
	}
	unspilled, err := parser.Read([]string{path}, parser.Options{Keep: fold.NewFirstKeep(), DeferIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(unspilled.Inputs) != 21 {
		t.Fatalf("%d logs read from the file, want 21", len(unspilled.Inputs))
	}
	if _, err := fold.FromFirst(unspilled, parser.Options{}); !errors.Is(err, fold.ErrNotFoldable) {
		t.Fatalf("folded without the spill: %v", err)
	}
	if !foldsAsTheBatch(t, []string{path}, "20 TaskManagers' pods in one file", func(*parser.Result) {}) {
		t.Fatal("refused with the spill")
	}
}
