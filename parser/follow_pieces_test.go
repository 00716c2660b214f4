package parser

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFollowerReadsMuchInPieces: a follow that starts on a large log, and
// a poll that finds much appended, read what is new in pieces on several
// cores (as Read reads a large file) and give what a sequential reference
// read of the same bytes gives, for every test log, in every layout and in
// JSON; the logs that cannot be cut (container wrappers, time-of-day
// layouts, no layout, a pretty-printed JSON object open at a cut) fall back
// to one piece and must give the same too.
func TestFollowerReadsMuchInPieces(t *testing.T) {
	files, _ := filepath.Glob("../testdata/logs/*")
	inPieces := 0
	for _, src := range files {
		data, err := os.ReadFile(src)
		if err != nil || len(data) == 0 {
			continue
		}
		t.Run(filepath.Base(src), func(t *testing.T) {
			big := data
			// past the 256 lines a layout is decided on at both polls
			for len(big) < 96<<10 || bytes.Count(big[:len(big)*2/3], []byte("\n")) < 2*detectLines {
				big = append(big, data...)
			}
			p := filepath.Join(t.TempDir(), filepath.Base(src))
			// the follow starts on two thirds of it, cut mid-line; the
			// rest arrives at once
			cut := len(big) * 2 / 3
			if err := os.WriteFile(p, big[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			// the custom pattern cannot be detected (goldenOptions gives it too)
			layout := map[string]string{"1.18.0-custom-pattern-tm.log": "%d{ISO8601} %p [%t] %c{1}: %m%n"}[filepath.Base(src)]
			fl := NewFollower([]string{p}, Options{ChunkSize: 4 << 10, Layout: layout})
			for poll, upto := range []int{cut, len(big)} {
				if poll > 0 {
					f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					f.Write(big[cut:upto])
					f.Close()
				}
				got, err := fl.Read()
				if err != nil {
					t.Fatal(err)
				}
				ref, err := Read([]string{p}, Options{Reference: true, Layout: layout})
				if err != nil {
					t.Fatal(err)
				}
				requireSameResult(t, got, ref)
			}
			if fl.Pieces() > 2 {
				inPieces++
			}
		})
	}
	t.Logf("%d of %d test logs were followed in pieces", inPieces, len(files))
	if inPieces < 5 {
		t.Errorf("only %d logs were followed in pieces: the test no longer tests that", inPieces)
	}
}

// lastHeaderForward is lastHeader as it was before it looked back from
// the end: the whole range read forward, line by line, through a 64 KiB
// line buffer. It is lastHeader's definition.
func lastHeaderForward(f *os.File, from, to int64, how *chunkable) int64 {
	last := from
	br := bufio.NewReaderSize(io.NewSectionReader(f, from, to-from), 64<<10)
	off := from
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// a long line: not a header start we need; skip the rest of it
			off += int64(len(line))
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				off += int64(len(line))
			}
			if err != nil {
				return last
			}
			continue
		}
		if err != nil {
			return last // an incomplete last line
		}
		l := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if off > from {
			if how.recordStart(l) {
				last = off
			}
		}
		off += int64(len(line))
	}
}

// TestLastHeader: looking back from the end finds the header that reading
// forward finds, among short and long lines (around the 64 KiB line
// limit), CRLF, JSON records, ranges that start mid-file and end mid-line,
// in Flink's layout and in JSON.
func TestLastHeader(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	header := "2021-03-14 09:26:38,006 DEBUG org.apache.kafka.clients.consumer.internals.Fetcher           - fetch"
	hows := []*chunkable{{layout: builtinLayout("flink"), fast: newFlinkHeader(builtinLayout("flink"))}, {json: true}}
	dir := t.TempDir()
	for round := 0; round < 300; round++ {
		var b bytes.Buffer
		for n := rng.IntN(12); n > 0; n-- {
			switch rng.IntN(7) {
			case 0, 1:
				b.WriteString(header)
			case 6: // a JSON record, maybe indented
				b.WriteString(strings.Repeat(" ", rng.IntN(2)) + `{"level":"INFO","message":"m"}`)
			case 2:
				b.WriteString("\tat org.apache.flink.Foo.bar(Foo.java:1)")
			case 3: // a long line around the limit, a header or not
				l := 64<<10 - 3 + rng.IntN(6)
				if rng.IntN(2) == 0 {
					b.WriteString(header + string(bytes.Repeat([]byte("x"), l-len(header))))
				} else {
					b.Write(bytes.Repeat([]byte("y"), l))
				}
			case 4:
				b.WriteString(header + "\r")
			case 5: // a longer stretch than lastHeader's blocks
				b.Write(bytes.Repeat([]byte("z"), 100<<10+rng.IntN(100)))
			}
			if rng.IntN(8) > 0 || n > 1 {
				b.WriteByte('\n')
			}
		}
		data := b.Bytes()
		p := filepath.Join(dir, "log")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 4; k++ {
			// from is 0 or a line start, to anywhere after it
			from := int64(0)
			if k > 0 && len(data) > 0 {
				from = int64(bytes.LastIndexByte(data[:rng.IntN(len(data))], '\n') + 1)
			}
			to := from + int64(rng.IntN(len(data)-int(from)+1))
			how := hows[k%2]
			want := lastHeaderForward(f, from, to, how)
			if got := lastHeader(f, from, to, how); got != want {
				t.Fatalf("round %d (json %t): lastHeader(%d, %d) = %d, forward %d", round, how.json, from, to, got, want)
			}
		}
		f.Close()
	}
}
