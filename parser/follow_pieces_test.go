package parser

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
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

// TestWrappedLogsInPieces: a Flink log inside each container runtime's
// wrapper that a log can be cut in (CRI with lines split into "P" pieces,
// Docker's JSON with lines split into pieces without "\n", kubectl logs
// --timestamps) is read in pieces and followed (from two thirds, then the
// rest at once), and gives what the reference read gives.
func TestWrappedLogsInPieces(t *testing.T) {
	data, err := os.ReadFile("../testdata/logs/legacy-1.8.2-race-debug-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for len(lines) < 1200 {
		lines = append(lines, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")...)
	}
	wrap := map[string]func(i int, line string) string{
		wrapCRI: func(i int, line string) string {
			ts := fmt.Sprintf("2020-03-17T14:00:%02d.%09dZ stdout ", i/1000%60, i)
			if i%3 == 0 && len(line) > 20 { // split, as runtimes split long lines
				return ts + "P " + line[:len(line)/2] + "\n" + ts + "F " + line[len(line)/2:] + "\n"
			}
			return ts + "F " + line + "\n"
		},
		wrapDocker: func(i int, line string) string {
			piece := func(s string) string {
				b, _ := json.Marshal(map[string]string{"log": s, "stream": "stdout", "time": "2020-03-17T14:00:00.000000000Z"})
				return string(b) + "\n"
			}
			if i%3 == 0 && len(line) > 20 {
				return piece(line[:len(line)/2]) + piece(line[len(line)/2:]+"\n")
			}
			return piece(line + "\n")
		},
		wrapKubeTS: func(i int, line string) string {
			return fmt.Sprintf("2020-03-17T14:00:%02d.%09dZ %s\n", i/1000%60, i, line)
		},
	}
	for _, w := range []string{wrapCRI, wrapDocker, wrapKubeTS} {
		t.Run(w, func(t *testing.T) {
			var b strings.Builder
			for i, line := range lines {
				b.WriteString(wrap[w](i, line))
			}
			big := []byte(b.String())
			p := filepath.Join(t.TempDir(), "tm.log")
			if err := os.WriteFile(p, big, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := chunkableInput(f, nil, false)
			f.Close()
			if !ok || c.wrapper != w {
				t.Fatalf("chunkableInput: %v %+v, want the %s wrapper", ok, c, w)
			}
			ref, err := Read([]string{p}, Options{Reference: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Read([]string{p}, Options{ChunkSize: 4 << 10})
			if err != nil {
				t.Fatal(err)
			}
			requireSameResult(t, got, ref)
			if got.Inputs[0].Wrapper != w {
				t.Fatalf("wrapper %q", got.Inputs[0].Wrapper)
			}

			cut := len(big) * 2 / 3
			if err := os.WriteFile(p, big[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			fl := NewFollower([]string{p}, Options{ChunkSize: 4 << 10})
			for poll := 0; poll < 2; poll++ {
				if poll > 0 {
					f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					f.Write(big[cut:])
					f.Close()
				}
				got, err := fl.Read()
				if err != nil {
					t.Fatal(err)
				}
				ref, err := Read([]string{p}, Options{Reference: true})
				if err != nil {
					t.Fatal(err)
				}
				requireSameResult(t, got, ref)
			}
			if fl.Pieces() <= 2 {
				t.Errorf("%d pieces: not followed in pieces", fl.Pieces())
			}
		})
	}
}
