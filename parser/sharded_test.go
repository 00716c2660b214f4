package parser

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/sim"
)

// shardedLogs are files to read in shards. kubectl --prefix: the test log
// repeated, and a simulated cluster's pods interleaved line by line (a
// failover and an overwrite among them) or pod after pod, with --timestamps, and with
// lines no pod prefix opens (kubectl's own complaints) mixed in. YARN
// aggregation: the test log repeated, and the same cluster's logs, one
// container each, with an empty stdout log beside each.
func shardedLogs(t testing.TB) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile("../testdata/logs/1.18.1-kubectl-prefix-timestamps.log")
	if err != nil {
		t.Fatal(err)
	}
	yarn, err := os.ReadFile("../testdata/logs/1.12.1-yarn-aggregated.log")
	if err != nil {
		t.Fatal(err)
	}
	// repeated, the same container logs come again: their streams go on
	logs := map[string][]byte{"testdata-prefix": bytes.Repeat(data, 40), "testdata-yarn": bytes.Repeat(yarn, 20)}
	r, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 4, Slots: 3, Jobs: 3, Failovers: 2, Seed: 11, Debug: true, Noise: 3,
		Inject: []string{sim.FaultOverwrite, sim.FaultHeartbeatTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	logs["sim-prefix"] = kubectlPrefix(r.Files, false, rand.New(rand.NewPCG(1, 2)))
	logs["sim-prefix-timestamps"] = kubectlPrefix(r.Files, true, rand.New(rand.NewPCG(3, 4)))
	logs["sim-prefix-pod-after-pod"] = kubectlPrefix(r.Files, false, nil)
	logs["sim-yarn"] = yarnAggregated(r.Files)
	// kubectl's own lines between the pods' (they make a stream of their own)
	var mixed bytes.Buffer
	for i, line := range bytes.SplitAfter(logs["sim-prefix"], []byte("\n")) {
		if i%5000 == 4999 {
			fmt.Fprintf(&mixed, "error: unexpected EOF while reading logs (%d)\n", i)
		}
		mixed.Write(line)
	}
	logs["sim-prefix-mixed"] = mixed.Bytes()
	return logs
}

// TestShardedReadEqualsSequential: a large kubectl --prefix file or YARN
// aggregated log read by two, three or five workers, each parsing the streams it owns, gives what
// a sequential reference read gives.
func TestShardedReadEqualsSequential(t *testing.T) {
	for name, data := range shardedLogs(t) {
		p := filepath.Join(t.TempDir(), name+".log")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ref, err := Read([]string{p}, Options{Reference: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(ref.Inputs) < 2 {
			t.Fatalf("%s: %d streams, want several", name, len(ref.Inputs))
		}
		for _, workers := range []int{2, 3, 5} {
			t.Run(fmt.Sprintf("%s/%d", name, workers), func(t *testing.T) {
				opts := Options{ChunkSize: 4 << 10, Workers: workers, MaxLine: defaultMaxLine, MaxRecord: defaultMaxRecord}
				fr, ok := readFileSharded(p, &opts, nil, false)
				if !ok {
					t.Fatal("not read in shards")
				}
				if len(fr.streams) != len(ref.Inputs) {
					t.Fatalf("%d streams, reference %d", len(fr.streams), len(ref.Inputs))
				}
				got, err := Read([]string{p}, Options{ChunkSize: 4 << 10, Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				requireSameResult(t, got, ref)
			})
		}
	}
}

// TestShardedReadDeclines: what readFileSharded must leave to the
// sequential read: a file under two chunks, a file without pod prefixes,
// one worker, as many files as workers, the reference read.
func TestShardedReadDeclines(t *testing.T) {
	logs := shardedLogs(t)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "prefix.log")
	plain := filepath.Join(dir, "plain.log")
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(logs["sim-prefix"]), "\n") {
		if _, rest, ok := cutKubePrefix([]byte(line)); ok {
			b.Write(rest)
		}
	}
	for p, data := range map[string][]byte{prefix: logs["sim-prefix"], plain: []byte(b.String())} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	size := len(logs["sim-prefix"])
	for _, c := range []struct {
		what string
		path string
		opts Options
	}{
		{"under two chunks", prefix, Options{ChunkSize: size/2 + 1, Workers: 2}},
		{"no pod prefixes", plain, Options{ChunkSize: 4 << 10, Workers: 2}},
		{"one worker", prefix, Options{ChunkSize: 4 << 10, Workers: 1}},
		{"a file for every worker", prefix, Options{ChunkSize: 4 << 10, Workers: 2, files: 2}},
		{"reference", prefix, Options{ChunkSize: 4 << 10, Workers: 2, Reference: true}},
	} {
		c.opts.MaxLine, c.opts.MaxRecord = defaultMaxLine, defaultMaxRecord
		if _, ok := readFileSharded(c.path, &c.opts, nil, false); ok {
			t.Errorf("%s: read in shards", c.what)
		}
	}
	// and the one that must be
	opts := Options{ChunkSize: 4 << 10, Workers: 2, MaxLine: defaultMaxLine, MaxRecord: defaultMaxRecord}
	if _, ok := readFileSharded(prefix, &opts, nil, false); !ok {
		t.Error("the prefix file was not read in shards")
	}
}

// FuzzShardedRead: whatever the bytes, a kubectl --prefix file read in
// shards gives what the sequential reference read gives.
func FuzzShardedRead(f *testing.F) {
	for _, data := range shardedLogs(f) {
		f.Add(data[:min(len(data), 48<<10)])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return
		}
		p := filepath.Join(dir, "in.log")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ref, refErr := Read([]string{p}, Options{Reference: true, MaxLine: 4096, MaxRecord: 8192})
		got, err := Read([]string{p}, Options{ChunkSize: 1 << 10, MaxLine: 4096, MaxRecord: 8192, Workers: 3})
		if (err == nil) != (refErr == nil) {
			t.Fatalf("error %v, sequential %v", err, refErr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got.Inputs, ref.Inputs) || !reflect.DeepEqual(got.Diagnostics, ref.Diagnostics) || !reflect.DeepEqual(got.Expanded(), ref.Expanded()) {
			t.Fatalf("read in shards differs from the sequential read")
		}
		// each log read again (a YARN log from its stretch of the file)
		// gives the read's events
		eachReadAgain(t, got, Options{MaxLine: 4096, MaxRecord: 8192}, func(in InputSummary, evs []flinklog.Event) {
			sameAsRead(t, evs, got, in)
		})
	})
}

// yarnAggregated is what `yarn logs -applicationId` prints of files: one
// container each, its log and an empty .out beside it.
func yarnAggregated(files map[string]string) []byte {
	var names []string
	for name := range files {
		if strings.HasSuffix(name, ".log") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out bytes.Buffer
	out.WriteString("21/03/14 09:00:00 INFO client.RMProxy: Connecting to ResourceManager at rm-host/10.0.0.1:8032\n")
	for i, name := range names {
		base := strings.TrimSuffix(name, ".log")
		for _, log := range []struct{ name, text string }{{name, files[name]}, {base + ".out", ""}} {
			fmt.Fprintf(&out, "\nContainer: container_e03_1615700000000_0001_01_%06d on worker-%d_45454\n", i+1, i)
			out.WriteString("LogAggregationType: AGGREGATED\n=====================================================================\n")
			fmt.Fprintf(&out, "LogType:%s\nLogLastModifiedTime:Sun Mar 14 10:00:00 +0000 2021\nLogLength:%d\nLogContents:\n", log.name, len(log.text))
			out.WriteString(log.text)
			fmt.Fprintf(&out, "End of LogType:%s\n*******************************************************************************\n", log.name)
		}
	}
	return out.Bytes()
}

// TestShardsPerFile: a file gets the workers it has to itself, and no
// shards below two.
func TestShardsPerFile(t *testing.T) {
	for _, c := range []struct{ workers, files, want int }{
		{2, 1, 2}, {2, 2, 1}, {8, 1, 8}, {8, 3, 2}, {8, 5, 1}, {8, 0, 8}, {1, 1, 1},
	} {
		o := Options{Workers: c.workers, files: c.files}
		if got := o.shardsPerFile(); got != c.want {
			t.Errorf("%d workers, %d files: %d shards, want %d", c.workers, c.files, got, c.want)
		}
	}
}
