package parser

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/sim"
)

// TestFollowerReadsStdin: standard input that comes in bursts cut anywhere
// (mid-line, mid-record, inside a line longer than MaxLine) is read by a
// follow as it comes: after every burst it gives what a reference read of
// everything that came so far gives, and after the end too. Text and JSON
// logs, kubectl --prefix output, CRLF line ends and an overlong line.
func TestFollowerReadsStdin(t *testing.T) {
	r, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 2, Slots: 4, Jobs: 3, Failovers: 2, Seed: 5, Debug: true, Noise: 2,
		Inject: []string{sim.FaultOverwrite}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 1, Slots: 4, Jobs: 2, Seed: 6, Debug: true, Noise: 2, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	tm := r.Files["taskmanager-0.log"]
	long := tm[:len(tm)/2] + "2021-03-14 09:00:00,000 INFO  org.apache.flink.Foo - " + strings.Repeat("x", 10000) + "\n" + tm[len(tm)/2:]
	inputs := map[string]string{
		"text":     tm,
		"json":     j.Files["taskmanager-0.json"],
		"prefix":   string(kubectlPrefix(r.Files, true, rand.New(rand.NewPCG(7, 8)))),
		"crlf":     strings.ReplaceAll(r.Files["jobmanager.log"], "\n", "\r\n"),
		"overlong": long,
		// before the reader is kept (the wrapper is decided on 64 lines)
		"overlong-first": strings.Repeat("z", 10000) + "\n" + tm,
		"no-end":         strings.TrimSuffix(tm, "\n"),
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			pr, pw := io.Pipe()
			opts := Options{MaxLine: 4096, MaxRecord: 8192}
			follow := opts
			follow.Stdin = pr
			fl := NewFollower([]string{"-"}, follow)
			rng := rand.New(rand.NewPCG(uint64(len(data)), 9))
			var kept *fileReader
			check := func(upto int) {
				t.Helper()
				got, err := fl.Read()
				if err != nil {
					t.Fatal(err)
				}
				ref := opts
				ref.Reference, ref.Stdin = true, strings.NewReader(data[:upto])
				want, err := Read([]string{"-"}, ref)
				if err != nil {
					t.Fatal(err)
				}
				requireSameResult(t, got, want)
				if t.Failed() {
					t.Fatalf("after %d of %d bytes", upto, len(data))
				}
				switch on := fl.stdin.on; {
				case kept == nil:
					kept = on
				case on != kept:
					t.Fatalf("after %d of %d bytes: the reader kept was replaced", upto, len(data))
				}
			}
			for written := 0; written < len(data); {
				end := min(len(data), written+1+rng.IntN(len(data)/10+1))
				if _, err := io.WriteString(pw, data[written:end]); err != nil {
					t.Fatal(err)
				}
				written = end
				waitStdin(t, fl, written, false)
				check(written)
			}
			pw.Close()
			waitStdin(t, fl, len(data), true)
			check(len(data))
			if kept == nil {
				t.Error("no reader was kept: every poll read everything again")
			}
		})
	}
}

// TestFollowerStdinOverlongLine: of a line that never ends, a follow of
// standard input holds no more than the line limit.
func TestFollowerStdinOverlongLine(t *testing.T) {
	pr, pw := io.Pipe()
	fl := NewFollower([]string{"-"}, Options{MaxLine: 4096, Stdin: pr})
	chunk := bytes.Repeat([]byte("y"), 64<<10)
	written := 0
	for range 64 { // 4 MiB of one line
		pw.Write(chunk)
		written += len(chunk)
		waitStdin(t, fl, written, false)
		if _, err := fl.Read(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fl.stdin.data); n > 4097 {
		t.Errorf("%d bytes of the line held, want at most 4097", n)
	}
	pw.Close()
	waitStdin(t, fl, written, true)
	res, err := fl.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Inputs[0].Truncated; got != 1 {
		t.Errorf("%d truncated lines, want 1", got)
	}
}

// waitStdin waits until fl has read n bytes of standard input (and, with
// ended, its end): a pipe's writer returns once the bytes are read, a
// moment before they are counted.
func waitStdin(t *testing.T, fl *Follower, n int, ended bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		read, end := fl.Stdin()
		if read == int64(n) && (end || !ended) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %d bytes (ended %t), want %d (%t)", read, end, n, ended)
		}
		time.Sleep(time.Millisecond)
	}
}
