package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// TestDeterministicAcrossCoresAndOrder: the JSON of audit, timeline and slots
// is byte-identical whatever the order the files are given in and however
// many cores read and replay them — on a ten-TaskManager simulated incident
// with noise, skewed clocks and gzipped inputs, and on every simulated
// incident in testdata/logs.
func TestDeterministicAcrossCoresAndOrder(t *testing.T) {
	r, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 10, Slots: 4, Jobs: 8, Failovers: 4, Seed: 3, Debug: true, Noise: 5,
		Inject: []string{sim.FaultOverwrite, sim.FaultDelayedRequest, sim.FaultHeartbeatTimeout, sim.FaultTMRestart}})
	if err != nil {
		t.Fatal(err)
	}
	big := t.TempDir()
	for name, content := range r.Files {
		data, path := []byte(content), filepath.Join(big, name)
		if strings.HasSuffix(name, "-3.log") || strings.HasSuffix(name, "-7.log") {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data, path = b.Bytes(), path+".gz"
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sets := map[string]string{"ten-taskmanagers": big}
	incidents, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "logs", "sim-*"))
	for _, d := range incidents {
		sets[filepath.Base(d)] = d
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for name, dir := range sets {
		t.Run(name, func(t *testing.T) {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, e := range entries {
				files = append(files, filepath.Join(dir, e.Name()))
			}
			for _, cmd := range [][]string{{"audit", "--format", "json"}, {"timeline", "--format", "json"}, {"slots", "--format", "json"}} {
				var first []byte
				for k, procs := range []int{1, 2, 4, 1, 2} {
					runtime.GOMAXPROCS(procs)
					order := append([]string(nil), files...)
					rand.New(rand.NewPCG(uint64(k), 9)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
					var out, errOut bytes.Buffer
					Main(context.Background(), append(append([]string(nil), cmd...), order...), nil, &out, &errOut)
					if out.Len() == 0 {
						t.Fatalf("%v: no output: %s", cmd, errOut.String())
					}
					if first == nil {
						first = out.Bytes()
						continue
					}
					if !bytes.Equal(out.Bytes(), first) {
						t.Fatalf("%s with GOMAXPROCS=%d and order %v differs from the first run", strings.Join(cmd, " "), procs, order)
					}
				}
			}
		})
	}
}
