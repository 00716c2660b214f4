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
	data := floorLog(b)
	b.SetBytes(int64(len(data)))
	lines := 0
	for b.Loop() {
		lr := newLineReader(bytes.NewReader(data), defaultMaxLine)
		for {
			if _, _, err := lr.next(); err != nil {
				break
			}
			lines++
		}
	}
	if lines == 0 {
		b.Fatal("no lines")
	}
}

// BenchmarkFloorHeaders: the line reader and the fast header decoder.
func BenchmarkFloorHeaders(b *testing.B) {
	data := floorLog(b)
	b.SetBytes(int64(len(data)))
	headers := 0
	for b.Loop() {
		lr := newLineReader(bytes.NewReader(data), defaultMaxLine)
		f := newFlinkHeader(builtinLayout("flink"))
		for {
			line, _, err := lr.next()
			if err != nil {
				break
			}
			if _, ok, _ := f.match(line); ok {
				headers++
			}
		}
	}
	if headers == 0 {
		b.Fatal("no headers decoded")
	}
}
