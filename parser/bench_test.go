package parser

import (
	"bytes"
	"os"
	"testing"
)

// benchInput repeats test logs to a few MB, in memory, so the benchmarks
// measure parsing rather than the disk.
func benchInput(b *testing.B, names ...string) []byte {
	b.Helper()
	var one []byte
	for _, n := range names {
		data, err := os.ReadFile("../testdata/logs/" + n)
		if err != nil {
			b.Fatal(err)
		}
		one = append(one, data...)
	}
	return bytes.Repeat(one, (4<<20)/len(one)+1)
}

func benchRead(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read([]string{"-"}, Options{Stdin: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadText: log4j text logs of TM and JM, INFO and DEBUG.
func BenchmarkReadText(b *testing.B) {
	benchRead(b, benchInput(b, "legacy-1.6.2-race-tm.log", "1.13.2-declarative-jm.log", "fixed-1.10.0-refused-duplicate-tm.log"))
}

// BenchmarkReadJSON: log4j2 JsonLayout and ECS records.
func BenchmarkReadJSON(b *testing.B) {
	benchRead(b, benchInput(b, "1.19.1-jsonlayout-tm.json", "1.20.0-ecs-jm.json"))
}
