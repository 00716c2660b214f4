package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFollowSurvivesRotation: findings that lines already read proved stay
// proven when their log is rotated (copytruncate; rename and create), and
// when one input is deleted the others are still followed; a deleted input
// that returns is read again. So it is whether the follow holds what it
// read (--fold never), audits its copy of the inputs from the start
// (--fold always: the spool, folded), or holds what it read while the
// spool is kept beside (the default, for inputs this small), and when it
// goes from the one to the other (the default, once the events are as
// many as an audit folds: here, any).
func TestFollowSurvivesRotation(t *testing.T) {
	for _, mode := range []string{"never", "always", "auto", "switch"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "switch" {
				defer func(was int) { followSpoolEvents = was }(followSpoolEvents)
				followSpoolEvents = 1
				mode = "auto"
			}
			followThroughRotations(t, mode, followSpoolEvents == 1)
		})
	}
}

func followThroughRotations(t *testing.T, foldMode string, switches bool) {
	tmData, jmData := raceLogs(t)
	dir := t.TempDir()
	tm, jm := filepath.Join(dir, "taskmanager.log"), filepath.Join(dir, "jobmanager.log")
	other := filepath.Join(dir, "other", "taskmanager.log") // followed through its directory
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(tm, tmData, 0o644))
	must(os.WriteFile(jm, jmData, 0o644))
	must(os.MkdirAll(filepath.Dir(other), 0o755))
	chatter := "2020-03-17 14:10:00,000 DEBUG org.apache.kafka.clients.FetchSessionHandler             - [Consumer clientId=c] fetch\n"
	must(os.WriteFile(other, []byte(chatter), 0o644))

	var stderr lockedBuffer
	lines, stop := startFollow(t, []string{"audit", "--follow", "--fold", foldMode, "--log-level", "debug", "--poll", "30ms", tm, jm, filepath.Dir(other)}, nil, &stderr)
	findings, retracted := map[string]bool{}, 0
	drain := func() {
		untilQuiet(lines, func(v map[string]any) {
			switch v["type"] {
			case "finding":
				findings[v["fingerprint"].(string)] = true
			case "retracted":
				retracted++
				t.Errorf("retracted after a rotation: %v", v)
			}
		})
	}
	drain()
	proven := len(findings)
	if proven != 6 {
		t.Fatalf("%d findings before any rotation, want the race's 6", proven)
	}

	// copytruncate: the TaskManager's log is copied aside and emptied in
	// place, then goes on (same inode)
	must(os.WriteFile(tm+".1", tmData, 0o644))
	must(os.Truncate(tm, 0))
	f, err := os.OpenFile(tm, os.O_WRONLY|os.O_APPEND, 0)
	must(err)
	f.WriteString(strings.ReplaceAll(chatter, "14:10", "14:11"))
	f.Close()
	drain()

	// rename and create: the JobManager's log is moved away, a new one begins.
	// (Linked aside and replaced in one rename, so that no poll falls in the
	// moment between the two and sees the input gone: on a loaded machine
	// one did.)
	must(os.Link(jm, jm+".1"))
	must(os.WriteFile(jm+".new", []byte(strings.ReplaceAll(chatter, "14:10", "14:12")), 0o644))
	must(os.Rename(jm+".new", jm))
	drain()

	// one input deleted: the others go on being followed
	must(os.Remove(tm))
	f, err = os.OpenFile(other, os.O_WRONLY|os.O_APPEND, 0)
	must(err)
	f.WriteString(strings.ReplaceAll(chatter, "14:10", "14:13"))
	f.Close()
	drain()
	// and it comes back
	must(os.WriteFile(tm, []byte(strings.ReplaceAll(chatter, "14:10", "14:14")), 0o644))
	drain()

	last := stop()
	if len(findings) != proven || retracted != 0 {
		t.Errorf("after rotations: %d findings, %d retracted; want %d and none", len(findings), retracted, proven)
	}
	if last == nil || last["type"] != "summary" || last["findings"] != float64(proven) {
		t.Errorf("the summary %v does not count the %d proven findings", last, proven)
	}
	spooled := strings.Count(stderr.String(), "the follow audits its copy of the inputs")
	if want := map[string]int{"never": 0, "always": 1, "auto": map[bool]int{false: 0, true: 1}[switches]}[foldMode]; spooled != want {
		t.Errorf("--fold %s: the follow audited its copy of the inputs %d times by stderr, want %d:\n%s", foldMode, spooled, want, stderr.String())
	}
	for _, want := range []string{"the input is gone", "the input is back"} {
		if strings.Count(stderr.String(), want) != 1 {
			t.Errorf("stderr says %q %d times, want once:\n%s", want, strings.Count(stderr.String(), want), stderr.String())
		}
	}
}

// TestFollowNoticesSameSizeRewrite: a log rewritten with other content of
// the same size, its modification time put back, is read again.
func TestFollowNoticesSameSizeRewrite(t *testing.T) {
	for _, mode := range []string{"auto", "always"} {
		t.Run(mode, func(t *testing.T) { followThroughSameSizeRewrite(t, mode) })
	}
}

func followThroughSameSizeRewrite(t *testing.T, foldMode string) {
	b, jmData := raceLogs(t)
	// the same log with another AllocationID for the raced slot: as long
	a := bytes.ReplaceAll(b, []byte("c81f4e2a9b3d5f7061e2d4c6b8a09f13"), []byte("d81f4e2a9b3d5f7061e2d4c6b8a09f13"))
	dir, cmp := t.TempDir(), t.TempDir()
	tm, jm := filepath.Join(dir, "taskmanager.log"), filepath.Join(dir, "jobmanager.log")
	for p, data := range map[string][]byte{tm: a, jm: jmData, filepath.Join(cmp, "taskmanager.log"): b, filepath.Join(cmp, "jobmanager.log"): jmData} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := auditFingerprints(t, nil, cmp)
	st, err := os.Stat(tm)
	if err != nil {
		t.Fatal(err)
	}
	lines, stop := startFollow(t, []string{"audit", "--follow", "--fold", foldMode, "--poll", "30ms", tm, jm}, nil, io.Discard)
	live := map[string]bool{}
	drain := func() {
		untilQuiet(lines, func(v map[string]any) {
			switch v["type"] {
			case "finding":
				live[v["fingerprint"].(string)] = true
			case "retracted":
				delete(live, v["fingerprint"].(string))
			}
		})
	}
	drain()
	if err := os.WriteFile(tm, b, 0o644); err != nil { // same size, other content
		t.Fatal(err)
	}
	if err := os.Chtimes(tm, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	drain()
	stop()
	for _, fp := range want {
		if !live[fp] {
			t.Errorf("finding %s of the rewritten content was never streamed", fp)
		}
	}
}

// raceLogs are the TaskManager and JobManager logs of the 1.8.2 race at
// DEBUG (six findings).
func raceLogs(t *testing.T) (tm, jm []byte) {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "logs")
	tm, err := os.ReadFile(filepath.Join(src, "legacy-1.8.2-race-debug-tm.log"))
	if err != nil {
		t.Fatal(err)
	}
	jm, err = os.ReadFile(filepath.Join(src, "legacy-1.8.2-race-debug-jm.log"))
	if err != nil {
		t.Fatal(err)
	}
	return tm, jm
}

// untilQuiet hands take every line until none has come for 400 ms.
func untilQuiet(lines <-chan map[string]any, take func(map[string]any)) {
	for {
		select {
		case v := <-lines:
			take(v)
		case <-time.After(400 * time.Millisecond):
			return
		}
	}
}

// startFollow runs Main with args (a follow) on a goroutine, reading
// stdin, its diagnostics to stderr: the ndjson lines it writes, and stop,
// which ends it as a signal would, reads its lines to the end, waits for
// it and returns the last line it wrote (nil if none).
func startFollow(t *testing.T, args []string, stdin io.Reader, stderr io.Writer) (<-chan map[string]any, func() map[string]any) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, args, stdin, pw, stderr)
		pw.Close()
	}()
	lines := ndjsonLines(t, pr)
	stop := func() map[string]any {
		cancel()
		var last map[string]any
		for v := range lines {
			last = v
		}
		<-done
		return last
	}
	return lines, stop
}
