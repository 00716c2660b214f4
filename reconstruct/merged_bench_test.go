package reconstruct

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// BenchmarkMergedCorpus streams the logs in SLOTAUDIT_BENCH_CORPUS (a
// directory, e.g. bench/alloc-dense's) through the two reads a streaming
// audit makes: a first read keeping only SkewKinds, EstimateSkew, and every
// input read again and merged (Merge). It reports the events merged a
// second and the process's peak RSS (peak-RSS-MB: Linux's VmHWM, the whole
// test binary's; first-read-RSS-MB: the same once the first read and the
// skew are done). SLOTAUDIT_BENCH_CHECK=1 also builds the batch model of a
// full read afterwards and holds every rank to it (that takes the batch
// path's memory: not for the largest corpora).
func BenchmarkMergedCorpus(b *testing.B) {
	dir := os.Getenv("SLOTAUDIT_BENCH_CORPUS")
	if dir == "" {
		b.Skip("SLOTAUDIT_BENCH_CORPUS names no corpus")
	}
	skewKind := map[flinklog.Kind]bool{}
	for _, k := range SkewKinds {
		skewKind[k] = true
	}
	var ranks []int32
	check := os.Getenv("SLOTAUDIT_BENCH_CHECK") == "1"
	n := 0
	var firstRSS float64
	for b.Loop() {
		first, err := parser.Read([]string{dir}, parser.Options{Keep: func(ev *flinklog.Event) bool { return skewKind[ev.Kind] }})
		if err != nil {
			b.Fatal(err)
		}
		skew := map[int32]int64{}
		for f, s := range EstimateSkew(first) {
			skew[f] = s.Offset
		}
		firstRSS = peakRSSMB()
		s, err := Merge(first, parser.Options{}, skew)
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		if check {
			ranks = make([]int32, 0, 1<<20)
		}
		for {
			_, ref, rank, ok, err := s.Next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			if check {
				for int(ref) >= len(ranks) {
					ranks = append(ranks, -1)
				}
				ranks[ref] = rank
			}
			n++
		}
		s.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(firstRSS, "first-read-RSS-MB")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	if check {
		full, err := parser.Read([]string{dir}, parser.Options{})
		if err != nil {
			b.Fatal(err)
		}
		m := Build(full)
		if len(ranks) != len(m.Rank) {
			b.Fatalf("%d events merged, the model ranks %d", len(ranks), len(m.Rank))
		}
		for i, r := range m.Rank {
			if ranks[i] != r {
				b.Fatalf("event %d merged at %d, the model ranks it %d", i, ranks[i], r)
			}
		}
	}
}

// peakRSSMB is the process's peak resident set (VmHWM) in MB, 0 where
// /proc does not say.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
