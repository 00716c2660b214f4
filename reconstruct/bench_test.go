package reconstruct

import (
	"fmt"
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/internal/benchcorpus"
	"github.com/slotaudit/slotaudit/parser"
)

// manyTaskManagers is a read of n TaskManager logs, each a banner and one
// allocation's request, allocation and free, named by its banner: a large
// cluster's directory of small logs.
func manyTaskManagers(n int) *parser.Result {
	var files parser.Files
	var inputs []parser.InputSummary
	var events []flinklog.Event
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range n {
		res := fmt.Sprintf("tm-%d", i)
		files = append(files, parser.FileInfo{Path: fmt.Sprintf("logs/taskmanager-%d.log", i)})
		inputs = append(inputs, parser.InputSummary{File: int32(i), ResourceID: res, ResourceIDSource: "banner"})
		alloc, _ := flinklog.ParseID(fmt.Sprintf("%032x", i+1))
		for line, kind := range []flinklog.Kind{flinklog.KindMetaVersion, flinklog.KindTMSlotRequest, flinklog.KindTMAllocated, flinklog.KindTMFree} {
			ev := flinklog.NewEvent(kind)
			ev.Pos = flinklog.Pos{File: int32(i), Line: int64(line + 1)}
			ev.Time = flinklog.Time{Kind: flinklog.TimeUTC, N: start + int64(i)*1e6 + int64(line)*1e3}
			ev.Component, ev.Resource = flinklog.ComponentTM, res
			if kind == flinklog.KindMetaVersion {
				ev.Version = "1.12.7"
			} else {
				ev.Alloc = alloc
			}
			events = append(events, ev)
		}
	}
	res := parser.NewResult(files, events)
	res.Inputs = inputs
	return res
}

// BenchmarkBuildTaskManagers holds Build linear in the number of
// TaskManagers: compare ns/op at 1,000 and 4,000 (benchstat): four times
// the logs must cost about four times as much. Joining rotated logs by
// comparing every pair of inputs made it quadratic (10,000 logs: 13.1 s
// for the whole audit, 2.7 s without it).
func BenchmarkBuildTaskManagers(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			res := manyTaskManagers(n)
			b.ReportAllocs()
			for b.Loop() {
				Build(res)
			}
		})
	}
}

// BenchmarkBuildCorpus builds the model of the files of the directory
// SLOTAUDIT_BENCH_CORPUS names (bench/run's corpora, read once as an audit
// reads them): the model's share of an audit's time, beside
// parser.BenchmarkReadCorpus. Skipped without the variable.
func BenchmarkBuildCorpus(b *testing.B) {
	files, _ := benchcorpus.Files(b)
	res, err := parser.Read(files, parser.Options{})
	if err != nil {
		b.Fatal(err)
	}
	allocs := 0
	for b.Loop() {
		allocs = len(Build(res).Allocations)
	}
	b.ReportMetric(float64(allocs), "allocations")
}
