package parser

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestFastTextAcrossBuffers: a log many times the line reader's buffer
// (256 KiB, whole or in pieces), of records of every
// length (continuation lines from none to more than a buffer's worth, slot events among chatter, an ESC line, a
// stray line), read from stdin and from a file, gives what the reference
// read gives: feedBlock leaves the record in progress at a buffer's end
// for the next, and the buffer takes more behind it.
func TestFastTextAcrossBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(26, 64))
	var b bytes.Buffer
	b.Write(fastTextHead(true))
	for i := 0; b.Len() < 4<<20; i++ {
		ts := fmt.Sprintf("2021-03-14 10:%02d:%02d,%03d ", i/60%60, i%60, i%1000)
		switch rng.IntN(12) {
		case 0:
			fmt.Fprintf(&b, "%sINFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl - Activate slot %032x.\n", ts, i)
		case 1:
			fmt.Fprintf(&b, "%sINFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Received task Source (%d/2).\n", ts, i)
		case 2:
			b.WriteString("stray stdout line " + fmt.Sprint(i) + "\n")
		case 3:
			fmt.Fprintf(&b, "%sWARN  org.apache.flink.runtime.taskmanager.Task                     - \x1b[31mred\x1b[0m %d\n", ts, i)
		default:
			fmt.Fprintf(&b, "%sDEBUG org.apache.kafka.clients.consumer.internals.Fetcher           - [Consumer clientId=consumer-3] Fetch %d\n", ts, i)
		}
		// continuation lines: mostly none, sometimes a stack trace,
		// once in a while more than a buffer holds
		lines := 0
		switch r := rng.IntN(400); {
		case r < 60:
			lines = 1 + rng.IntN(30)
		case r == 60:
			lines = 700 + rng.IntN(200)
		case r == 61:
			lines = pieceBuffer/90 + rng.IntN(500) // past a piece's buffer
		}
		for k := range lines {
			fmt.Fprintf(&b, "\tat org.apache.flink.runtime.Frame%d.method(Frame.java:%d) and some padding to make it long\n", k, i)
		}
	}
	in := b.Bytes()
	path := filepath.Join(t.TempDir(), "tm.log")
	if err := os.WriteFile(path, in, 0o644); err != nil {
		t.Fatal(err)
	}
	// stdin and the file are read line by line; the file in 1 MiB chunks
	// is read in pieces, through pieceReaders
	for _, tc := range []struct {
		src   string
		chunk int
	}{{"-", 0}, {path, 0}, {path, 1 << 20}} {
		src := tc.src
		if tc.chunk > 0 {
			o := Options{ChunkSize: tc.chunk, MaxRecord: 1 << 20}
			if _, ok := readFileChunked(path, &o, nil, false); !ok {
				t.Fatalf("%s in %d-byte chunks: not read in pieces", path, tc.chunk)
			}
		}
		opts := func(ref bool) Options {
			return Options{Stdin: bytes.NewReader(in), MaxRecord: 1 << 20, Reference: ref, ChunkSize: tc.chunk}
		}
		got, err := Read([]string{src}, opts(false))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := Read([]string{src}, opts(true))
		if err != nil {
			t.Fatal(err)
		}
		requireSameResult(t, got, ref)
		if got.Inputs[0].Records < 3000 || got.Len() < 500 {
			t.Fatalf("%s: %d records, %d events: the log was not read as meant", src, got.Inputs[0].Records, got.Len())
		}
	}
}
