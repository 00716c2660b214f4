package parser_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/sim"
)

// noisyDebugLog is a simulated 1.9.3 DEBUG TaskManager and JobManager log
// with the chatter of real DEBUG logs (Kafka fetches, heartbeats, ZooKeeper
// pings): what most bytes of a real incident's logs look like.
func noisyDebugLog(b *testing.B, name string) []byte {
	b.Helper()
	res, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 4, Jobs: 4, Failovers: 2, Seed: 7,
		Debug: true, Noise: 40, Minutes: 20})
	if err != nil {
		b.Fatal(err)
	}
	return []byte(res.Files[name])
}

func benchReadBytes(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.Read([]string{"-"}, parser.Options{Stdin: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadNoisyTM: a TaskManager DEBUG log, mostly Kafka client lines.
func BenchmarkReadNoisyTM(b *testing.B) { benchReadBytes(b, noisyDebugLog(b, "taskmanager-0.log")) }

// BenchmarkReadNoisyJM: a JobManager DEBUG log: slot reports, heartbeats,
// checkpoint acknowledgements.
func BenchmarkReadNoisyJM(b *testing.B) { benchReadBytes(b, noisyDebugLog(b, "jobmanager.log")) }

// BenchmarkReadOpenJSONObject: a line that opens a JSON object and never
// closes it, then many short lines (what a binary file often looks like):
// the object is collected up to MaxRecord, and each line must cost its own
// length, not the length collected so far.
func BenchmarkReadOpenJSONObject(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("{\"a\": [\n")
	for buf.Len() < 4<<20 {
		buf.WriteString("x\n")
	}
	benchReadBytes(b, buf.Bytes())
}

// sessionClusterLog is a simulated healthy 1.12.7 session cluster running
// short jobs: nearly every record is a slot-lifecycle event, the shape
// of issue 26's allocation-dense logs, written to a file so that it is
// read as an audit reads files (texts by sum, read back later).
func sessionClusterLog(b *testing.B, name string) string {
	b.Helper()
	res, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 4, Slots: 8, Jobs: 4, JobSeconds: 10, Seed: 26, Minutes: 30})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(path, []byte(res.Files[name]), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchReadFile(b *testing.B, path string) {
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		res, err := parser.Read([]string{path}, parser.Options{})
		if err != nil {
			b.Fatal(err)
		}
		events = res.Len()
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReadSessionTM: a TaskManager of a session cluster, nearly all
// of it slot lifecycle (the classifier's share of an allocation-dense
// audit).
func BenchmarkReadSessionTM(b *testing.B) {
	benchReadFile(b, sessionClusterLog(b, "taskmanager-0.log"))
}

// BenchmarkReadSessionJM: the JobManager and ResourceManager of that
// session cluster.
func BenchmarkReadSessionJM(b *testing.B) { benchReadFile(b, sessionClusterLog(b, "jobmanager.log")) }

// BenchmarkReadAgainSessionJM: the session cluster's JobManager read again
// as a fold reads it for its skew and its fold: from the file (parsed
// again), or from the first read's spill (decoded).
func BenchmarkReadAgainSessionJM(b *testing.B) {
	path := sessionClusterLog(b, "jobmanager.log")
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, from := range []string{"file", "spill"} {
		b.Run(from, func(b *testing.B) {
			opts := parser.Options{Keep: func(*flinklog.Event) bool { return false }}
			if from == "spill" {
				sp, err := parser.NewSpill(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				defer sp.Close()
				opts.Spill = sp
			}
			first, err := parser.Read([]string{path}, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(info.Size())
			b.ReportAllocs()
			events := 0
			for b.Loop() {
				ir, err := first.ReadAgain(0, parser.Options{})
				if err != nil {
					b.Fatal(err)
				}
				events = 0
				for {
					batch, err := ir.Next()
					if err != nil {
						b.Fatal(err)
					}
					if batch == nil {
						break
					}
					events += len(batch)
				}
			}
			if events != first.Inputs[0].EventCount {
				b.Fatalf("%d events read again, the read counted %d", events, first.Inputs[0].EventCount)
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
