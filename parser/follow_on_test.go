package parser

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// TestFollowerReadsOn: the logs a follow cannot cut at record starts grow
// in bursts cut anywhere (mid-line, mid-stack-trace, mid-interleaving):
// kubectl --prefix output of a simulated cluster, whose streams interleave
// line by line (with and without --timestamps), the same cluster's YARN
// aggregation, and every test log that
// cannot be cut (YARN aggregation, time-of-day layouts, no layout). After
// every burst the follow gives what a reference read of the same bytes
// gives, and it keeps one reader from poll to poll: each poll reads what
// is new, not the file again.
func TestFollowerReadsOn(t *testing.T) {
	r, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 4, Jobs: 3, Failovers: 2, Seed: 5, Debug: true, Noise: 3,
		Inject: []string{sim.FaultOverwrite, sim.FaultHeartbeatTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string][]byte{
		"kubectl-prefix":            kubectlPrefix(r.Files, false, rand.New(rand.NewPCG(3, 4))),
		"kubectl-prefix-timestamps": kubectlPrefix(r.Files, true, rand.New(rand.NewPCG(5, 6))),
		"yarn-aggregated":           yarnAggregated(r.Files),
	}
	files, _ := filepath.Glob("../testdata/logs/*")
	for _, src := range files {
		data, err := os.ReadFile(src)
		if err != nil || len(data) == 0 || bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			continue
		}
		// repeated past the lines the wrapper and the layout are decided on
		for bytes.Count(data, []byte("\n")) < 4*detectLines {
			data = append(data, data...)
		}
		if !cuttable(t, data) {
			logs[filepath.Base(src)] = data
		}
	}
	for name, data := range logs {
		if cuttable(t, data) {
			t.Fatalf("%s can be cut: the test no longer tests reading on", name)
		}
	}
	for _, must := range []string{"1.12.1-yarn-aggregated.log", "1.18.1-kubectl-prefix-timestamps.log", "fixed-1.12-minicluster-time-only.log"} {
		if logs[must] == nil {
			t.Fatalf("%s is read in pieces now: the test no longer tests reading on", must)
		}
	}
	names := make([]string, 0, len(logs))
	for name := range logs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data := logs[name]
		// one worker; three, which read a first poll of much kubectl
		// --prefix output in shards
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/%d", name, workers), func(t *testing.T) {
				followOn(t, name, data, workers)
			})
		}
	}
}

// followOn writes data to a file in bursts, follows it with workers and
// checks every poll against a reference read, and that the reader is kept.
func followOn(t *testing.T, name string, data []byte, workers int) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fl := NewFollower([]string{p}, Options{Workers: workers, ChunkSize: 4 << 10})
	rng := rand.New(rand.NewPCG(uint64(len(data)), 7))
	var kept *fileReader
	polls, keptPolls := 0, 0
	for written := 0; written < len(data); polls++ {
		end := min(len(data), written+1+rng.IntN(len(data)/12+1))
		f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data[written:end])
		f.Close()
		written = end
		got, err := fl.Read()
		if err != nil {
			t.Fatal(err)
		}
		ref, err := Read([]string{p}, Options{Reference: true})
		if err != nil {
			t.Fatal(err)
		}
		requireSameResult(t, got, ref)
		if t.Failed() {
			t.Fatalf("after %d of %d bytes", written, len(data))
		}
		st := fl.state(p)
		switch {
		case st == nil || st.on == nil:
			if kept != nil {
				t.Fatalf("after %d of %d bytes: the reader kept was dropped", written, len(data))
			}
		case kept == nil:
			kept = st.on
		case st.on != kept:
			t.Fatalf("after %d of %d bytes: a new reader read the file again", written, len(data))
		default:
			keptPolls++
		}
	}
	if keptPolls < polls/2 {
		t.Errorf("the reader was kept for %d of %d polls", keptPolls, polls)
	}
	// a poll adds a piece, or one per shard when it read much --prefix or
	// YARN output in shards
	if sharded := fl.Pieces() > keptPolls+1; sharded != (workers > 1 && (strings.Contains(name, "prefix") || strings.Contains(name, "yarn"))) {
		t.Errorf("%d pieces in %d polls with %d workers", fl.Pieces(), polls, workers)
	}
}

// kubectlPrefix is what `kubectl logs --prefix [--timestamps]` of every pod
// writes: their lines interleaved at random (pod after pod when rng is
// nil), each prefixed with its pod.
func kubectlPrefix(files map[string]string, timestamps bool, rng *rand.Rand) []byte {
	var names []string
	for name := range files {
		if strings.HasSuffix(name, ".log") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	lines := make([][]string, len(names))
	for i, name := range names {
		lines[i] = strings.SplitAfter(strings.TrimSuffix(files[name], "\n"), "\n")
	}
	var out bytes.Buffer
	for n := 0; ; n++ {
		var left []int
		for i := range lines {
			if len(lines[i]) > 0 {
				left = append(left, i)
			}
		}
		if len(left) == 0 {
			break
		}
		i := left[0] // pod after pod, as kubectl logs without -f prints them
		if rng != nil {
			i = left[rng.IntN(len(left))]
		}
		line := strings.TrimSuffix(lines[i][0], "\n")
		lines[i] = lines[i][1:]
		fmt.Fprintf(&out, "[pod/flink-%s/flink-main-container] ", strings.TrimSuffix(names[i], ".log"))
		if timestamps {
			fmt.Fprintf(&out, "2021-03-14T09:%02d:%02d.%09dZ ", n/60000%60, n/1000%60, n%1000*1000)
		}
		out.WriteString(line + "\n")
	}
	return out.Bytes()
}

// cuttable reports whether a follow of data cuts it at record starts.
func cuttable(t *testing.T, data []byte) bool {
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, ok, decided := chunkableHead(f, nil, false)
	if !decided {
		t.Fatalf("%d bytes are too few to tell", len(data))
	}
	return ok
}

// BenchmarkFollowerAppendPrefix: what --follow pays per change on a large
// kubectl --prefix log (two pods of a noisy simulated cluster, ~40 MB):
// one line appended, then Read. Before a reader was kept from poll to
// poll, every change read the whole file again.
func BenchmarkFollowerAppendPrefix(b *testing.B) {
	r, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 4, Jobs: 4, Seed: 9, Debug: true, Noise: 100})
	if err != nil {
		b.Fatal(err)
	}
	pods := map[string]string{"jobmanager.log": r.Files["jobmanager.log"], "taskmanager-0.log": r.Files["taskmanager-0.log"]}
	p := filepath.Join(b.TempDir(), "all.log")
	if err := os.WriteFile(p, kubectlPrefix(pods, false, rand.New(rand.NewPCG(1, 1))), 0o644); err != nil {
		b.Fatal(err)
	}
	fl := NewFollower([]string{p}, Options{})
	if _, err := fl.Read(); err != nil {
		b.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const line = "[pod/flink-taskmanager-0/flink-main-container] 2021-03-14 09:15:00,000 DEBUG org.apache.kafka.clients.consumer.internals.Fetcher           - [Consumer clientId=consumer-3, groupId=flink-events] Added READ_UNCOMMITTED fetch request for partition events-1 at offset 1 to node kafka-1.kafka:9092 (id: 1 rack: null)\n"
	for b.Loop() {
		f.WriteString(line)
		if _, err := fl.Read(); err != nil {
			b.Fatal(err)
		}
	}
	if st := fl.state(p); st == nil || st.on == nil {
		b.Fatal("the log was not read on")
	}
}
