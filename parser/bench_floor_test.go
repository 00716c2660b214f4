package parser

import (
	"bytes"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// The floor benchmarks measure what the parser cannot avoid on the noisy
// TaskManager log of BenchmarkReadNoisyTM: cutting it into lines, and
// decoding each line's header as well. Set beside BenchmarkReadNoisyTM they
// show where a noisy log's time goes (issue 6: how far from grep speed an
// audit that accounts for every record can be).

func floorLog(b *testing.B) []byte {
	b.Helper()
	res, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 2, Slots: 4, Jobs: 4, Failovers: 2, Seed: 7,
		Debug: true, Noise: 40, Minutes: 20})
	if err != nil {
		b.Fatal(err)
	}
	return []byte(res.Files["taskmanager-0.log"])
}

// BenchmarkFloorLines: the line reader alone.
func BenchmarkFloorLines(b *testing.B) {
	benchFloor(b, func() func([]byte) bool { return func([]byte) bool { return true } })
}

// BenchmarkFloorHeaders: the line reader and the fast header decoder.
func BenchmarkFloorHeaders(b *testing.B) {
	benchFloor(b, func() func([]byte) bool {
		f := newFlinkHeader(builtinLayout("flink"))
		return func(line []byte) bool {
			_, ok, _ := f.match(line)
			return ok
		}
	})
}

// benchFloor reads the noisy log line by line and hands every line to a
// fresh per-pass function; it fails if no line is ever accepted.
func benchFloor(b *testing.B, pass func() func(line []byte) bool) {
	data := floorLog(b)
	b.SetBytes(int64(len(data)))
	accepted := 0
	for b.Loop() {
		lr := newLineReader(bytes.NewReader(data), defaultMaxLine)
		perLine := pass()
		for {
			line, _, err := lr.next()
			if err != nil {
				break
			}
			if perLine(line) {
				accepted++
			}
		}
	}
	if accepted == 0 {
		b.Fatal("no line accepted")
	}
}
