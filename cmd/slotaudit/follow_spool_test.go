package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// TestFollowFoldsItsCopy: a follow that audits its copy of the inputs
// (--fold always: the spool, folded) tells the findings audit finds in the
// same logs, each once; and when every log is rotated (copytruncate, the
// copy set aside out of the follow's sight, chatter written on), the
// findings stay proven — from the spool's rotated copies — and the audits
// after the rotation are folded too.
func TestFollowFoldsItsCopy(t *testing.T) {
	for _, tc := range []struct {
		version string
		seed    uint64
	}{{"1.12.7", 2}, {"1.12.7", 7}, {"1.9.3", 4}, {"1.18.1", 5}} {
		seed := tc.seed
		dir, aside, spools := t.TempDir(), t.TempDir(), t.TempDir()
		if _, err := sim.RunInto(sim.Faulty(tc.version, seed), dir); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		Main(context.Background(), []string{"audit", "--format", "json", "--fold", "never", dir}, strings.NewReader(""), &out, &errOut)
		var doc struct {
			Findings []struct{ Fingerprint string }
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("%s seed %d: the audit's JSON: %v\n%s", tc.version, seed, err, errOut.String())
		}
		var want []string
		for _, f := range doc.Findings {
			want = append(want, f.Fingerprint)
		}
		slices.Sort(want)
		if len(want) == 0 {
			t.Fatalf("%s seed %d: the faulty cluster gave no finding", tc.version, seed)
		}

		var stderr lockedBuffer
		lines, stop := startFollow(t, []string{"--log-level", "debug", "audit", "--follow", "--fold", "always", "--spool-dir", spools, "--poll", "30ms", dir}, nil, &stderr)
		var told []string
		drain := func() {
			untilQuiet(lines, func(v map[string]any) {
				switch v["type"] {
				case "finding":
					told = append(told, v["fingerprint"].(string))
				case "retracted":
					t.Errorf("%s seed %d: retracted: %v", tc.version, seed, v)
				}
			})
		}
		drain()
		slices.Sort(told)
		if !slices.Equal(told, want) {
			t.Errorf("%s seed %d: the follow told %d findings %v, audit finds %d %v", tc.version, seed, len(told), told, len(want), want)
		}
		folds := strings.Count(stderr.String(), "model folded")
		if folds == 0 {
			t.Fatalf("%s seed %d: no audit of the follow was folded:\n%s", tc.version, seed, stderr.String())
		}

		if copies, _ := filepath.Glob(filepath.Join(spools, "slotaudit-follow-*", "*", "*")); len(copies) == 0 {
			t.Errorf("%s seed %d: no copy of the inputs under --spool-dir %s", tc.version, seed, spools)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		chatter := "2021-03-01 23:59:59,000 INFO  org.apache.flink.runtime.checkpoint.CheckpointCoordinator     - Completed checkpoint 1.\n"
		for _, en := range entries {
			path := filepath.Join(dir, en.Name())
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(aside, en.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(chatter), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		drain()
		last := stop()
		if slices.Sort(told); !slices.Equal(told, want) {
			t.Errorf("%s seed %d: after the rotation the follow had told %v, want %v", tc.version, seed, told, want)
		}
		if left, _ := os.ReadDir(spools); len(left) != 0 {
			t.Errorf("%s seed %d: the follow left %d entries in --spool-dir", tc.version, seed, len(left))
		}
		if last == nil || last["type"] != "summary" || last["findings"] != float64(len(want)) {
			t.Errorf("%s seed %d: the summary %v does not count the %d findings", tc.version, seed, last, len(want))
		}
		if n := strings.Count(stderr.String(), "model folded"); n <= folds {
			t.Errorf("%s seed %d: no audit after the rotation was folded (%d folds before, %d in all)", tc.version, seed, folds, n)
		}
	}
}

// TestFollowFoldsStdin: standard input followed with files is copied into
// the spool as it comes, read on by the follower as a file and folded with
// the files' copies (--fold always), named "-" all along: the follow tells
// the findings audit finds when the JobManager's log is given as a file,
// its evidence at "-".
func TestFollowFoldsStdin(t *testing.T) {
	// a faulty cluster some of whose findings rest on JobManager lines
	var tms string
	var jm []byte
	for seed := uint64(1); jm == nil && seed < 40; seed++ {
		res, err := sim.Run(sim.Faulty("1.12.7", seed))
		if err != nil {
			t.Fatal(err)
		}
		tms = t.TempDir()
		for name, text := range res.Files {
			if !strings.Contains(name, "jobmanager") {
				if err := os.WriteFile(filepath.Join(tms, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		var out, errOut bytes.Buffer
		jmLog := res.Files["jobmanager.log"]
		Main(context.Background(), []string{"audit", "--format", "ndjson", tms, "-"}, strings.NewReader(jmLog), &out, &errOut)
		if strings.Contains(out.String(), `"path":"-"`) {
			jm = []byte(jmLog)
		}
	}
	if jm == nil {
		t.Fatal("no simulated cluster has findings that rest on its JobManager's lines")
	}
	want := auditFingerprints(t, bytes.NewReader(jm), tms, "-")
	slices.Sort(want)

	stdin, feed := io.Pipe()
	var stderr lockedBuffer
	lines, stop := startFollow(t, []string{"--log-level", "debug", "audit", "--follow", "--fold", "always", "--spool-dir", t.TempDir(), "--poll", "30ms", tms, "-"}, stdin, &stderr)
	var told []string
	atDash := 0
	drain := func() {
		untilQuiet(lines, func(v map[string]any) {
			switch v["type"] {
			case "finding":
				told = append(told, v["fingerprint"].(string))
				for _, ev := range v["evidence"].([]any) {
					if ev.(map[string]any)["path"] == "-" {
						atDash++
					}
				}
			case "retracted":
				t.Errorf("retracted: %v", v)
			}
		})
	}
	half := bytes.LastIndexByte(jm[:len(jm)/2], '\n') + 1
	if _, err := feed.Write(jm[:half]); err != nil {
		t.Fatal(err)
	}
	drain()
	if _, err := feed.Write(jm[half:]); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	drain()
	last := stop()
	slices.Sort(told)
	if !slices.Equal(told, want) {
		t.Errorf("the follow told %v, audit finds %v", told, want)
	}
	if atDash == 0 {
		t.Error("no evidence at \"-\": the copy of standard input was not named after it")
	}
	if !strings.Contains(stderr.String(), "model folded") {
		t.Errorf("no audit was folded:\n%s", stderr.String())
	}
	if last == nil || last["type"] != "summary" {
		t.Errorf("the follow ended with %v, not its summary", last)
	}
}

// TestFollowSpoolDirMissing: a --spool-dir that cannot hold the copy is a
// usage error (exit 2), said before anything is read — not a follow that
// quietly holds every event.
func TestFollowSpoolDirMissing(t *testing.T) {
	log := filepath.Join("..", "..", "testdata", "logs", "legacy-1.8.2-race-debug-tm.log")
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	var out, stderr bytes.Buffer
	code := Main(context.Background(), []string{"audit", "--follow", "--spool-dir", missing, log}, nil, &out, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "--spool-dir") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and the flag named", code, out.String(), stderr.String(), exitUsage)
	}
}

// followSoak is how many clusters TestFollowModesAgree follows
// (go test ./cmd/slotaudit -run TestFollowModesAgree -follow-soak 20).
var followSoak = flag.Int("follow-soak", 1, "clusters TestFollowModesAgree follows")

// TestFollowModesAgree: a cluster's logs written in rounds — more lines
// appended to some, a log copied aside out of sight and truncated, then
// written on — are followed by the follower alone (--fold never) and by
// the folded copy (--fold always): what each has told and not retracted
// when all is written is the same.
func TestFollowModesAgree(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*followSoak); seed++ {
		version := []string{"1.12.7", "1.9.3", "1.18.1"}[seed%3]
		res, err := sim.Run(sim.Faulty(version, seed))
		if err != nil {
			t.Fatal(err)
		}
		// the rounds: each log's lines cut in four, written one part a
		// round; in round 2 the logs are rotated first (copytruncate): all
		// of them, or all but one
		names := slices.Sorted(maps.Keys(res.Files))
		kept := names[int(seed)%len(names)]
		parts := map[string][]string{}
		for _, name := range names {
			lines := strings.SplitAfter(res.Files[name], "\n")
			for k := range 4 {
				parts[name] = append(parts[name], strings.Join(lines[len(lines)*k/4:len(lines)*(k+1)/4], ""))
			}
		}
		live := map[string]map[string]bool{}
		for _, mode := range []string{"never", "always"} {
			dir := t.TempDir()
			write := func(name, text string) {
				f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(text)
				f.Close()
			}
			for _, name := range names {
				write(name, parts[name][0])
			}
			lines, stop := startFollow(t, []string{"audit", "--follow", "--fold", mode, "--spool-dir", t.TempDir(), "--poll", "30ms", dir}, nil, io.Discard)
			told := map[string]bool{}
			drain := func() {
				untilQuiet(lines, func(v map[string]any) {
					switch v["type"] {
					case "finding":
						told[v["fingerprint"].(string)] = true
					case "retracted":
						delete(told, v["fingerprint"].(string))
					}
				})
			}
			drain()
			for round := 1; round < 4; round++ {
				for _, name := range names {
					if round == 2 && (name != kept || seed%2 == 0) {
						if err := os.Truncate(filepath.Join(dir, name), 0); err != nil {
							t.Fatal(err)
						}
					}
				}
				for _, name := range names {
					write(name, parts[name][round])
				}
				drain()
			}
			stop()
			live[mode] = told
		}
		a, b := slices.Sorted(maps.Keys(live["never"])), slices.Sorted(maps.Keys(live["always"]))
		if len(a) == 0 {
			t.Errorf("%s seed %d: no finding stands at the end: nothing compared", version, seed)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s seed %d: the follower alone ends with %v, the folded copy with %v", version, seed, a, b)
		}
	}
}
