package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// TestEventsNarrowedAsTheFullRead: events narrowed to a time (the last
// minutes, from a time of day on, up to a time counted back, between two
// times), read keeping only what they show — a first read
// noting every event's time, a second keeping the window's — print what a
// read that keeps every event prints, byte for byte.
func TestEventsNarrowedAsTheFullRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := sim.RunInto(sim.Config{Flink: "1.18.1", TaskManagers: 3, Slots: 4, Jobs: 3, JobSeconds: 10, Minutes: 30, Seed: 4, Inject: []string{"tm-lost"}}, dir); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--since", "5m"},
		{"--since", "09:20:00"},
		{"--until", "25m"},
		{"--since", "20m", "--until", "10m"},
		{"--since", "2021-03-14T09:12:00", "--until", "2021-03-14T09:13:30"},
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			cmd := append([]string{"events", "--no-summary"}, args...)
			cmd = append(cmd, dir)
			got, gotErr, _ := sameAsFullRead(t, cmd...)
			if got == "" {
				t.Fatalf("no event in the window: the test narrows nothing\n%s", gotErr)
			}
		})
	}
}

// TestEventsStreamedAsTheFullRead: every event of large inputs (here any:
// foldAbove 0), written as each input is read again after a first read
// that keeps none, is what a read that keeps every event writes, byte for
// byte, with the same summary and exit: plain and gzipped logs, rotated
// ones and TaskManagers named only by the other components' lines, JSON
// logs, one TaskManager's; and logs with DEBUG slot
// reports (which a read again refuses once it meets a repeat, too late
// to read whole) are read whole, and the debug log says so.
func TestEventsStreamedAsTheFullRead(t *testing.T) {
	was := foldAbove
	foldAbove = 0
	defer func() { foldAbove = was }()
	cut := t.TempDir()
	if _, err := sim.RunInto(sim.Config{Flink: "1.12.7", TaskManagers: 4, Slots: 4, Jobs: 3, Minutes: 20, Seed: 5, CutBanners: true, RotateMinutes: 5, Inject: []string{"heartbeat-timeout"}}, cut); err != nil {
		t.Fatal(err)
	}
	modern := t.TempDir()
	if _, err := sim.RunInto(sim.Config{Flink: "1.18.1", TaskManagers: 3, Slots: 4, Jobs: 3, JobSeconds: 10, Minutes: 30, Seed: 4, Inject: []string{"tm-lost"}}, modern); err != nil {
		t.Fatal(err)
	}
	json := t.TempDir()
	if _, err := sim.RunInto(sim.Config{Flink: "1.11.6", TaskManagers: 2, Slots: 2, Jobs: 2, Minutes: 10, Seed: 2, Format: "json"}, json); err != nil {
		t.Fatal(err)
	}
	// a TaskManager of the 1.18 run, as the full read names it
	all, _, _ := runMain("events", "--no-summary", modern)
	tm := regexp.MustCompile(`"component":"tm","kind":"tm\.free",.*?"resource_id":"([^"]+)"`).FindStringSubmatch(all)
	if tm == nil {
		t.Fatalf("no TaskManager freed a slot:\n%.2000s", all)
	}
	debug := t.TempDir()
	if _, err := sim.RunInto(sim.Config{Flink: "1.9.3", TaskManagers: 3, Slots: 4, Jobs: 4, Minutes: 20, Seed: 2, Debug: true}, debug); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		streamed bool
	}{
		{"DEBUG slot reports", []string{debug}, true},
		{"rotated, cut banners", []string{cut}, true},
		{"1.18", []string{modern}, true},
		{"a TaskManager's", []string{"--taskmanager", strings.ToUpper(tm[1]), modern}, true},
		{"json", []string{json}, true},
		{"exports (DEBUG slot reports among them)", []string{"../../testdata/exports"}, true},
		{"bundled", []string{"../../testdata/logs"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := append([]string{"--log-level", "debug", "events"}, tc.args...)
			got, gotErr, wantErr := sameAsFullRead(t, cmd...)
			if g, w := tableOf(gotErr), tableOf(wantErr); g != w {
				t.Fatalf("summary:\n%s\nthe full read's:\n%s", g, w)
			}
			if strings.Count(got, "\n") < 10 {
				t.Fatalf("%d events written", strings.Count(got, "\n"))
			}
			if whole := strings.Contains(gotErr, "events read whole"); whole == tc.streamed {
				t.Fatalf("read whole %v, want %v:\n%s", whole, !tc.streamed, gotErr)
			}
		})
	}
}

// tableOf is the input table of stderr, without the debug log's lines.
func tableOf(stderr string) string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if f := strings.Fields(l); len(f) == 0 || f[0] != "DBG" && f[0] != "WRN" && f[0] != "INF" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// sameAsFullRead runs cmd, and again as a read that keeps every event
// (eventsKeep off), and fails unless both write the same and exit the
// same; it returns the output and both stderrs.
func sameAsFullRead(t *testing.T, cmd ...string) (got, gotErr, wantErr string) {
	t.Helper()
	got, gotErr, code := runMain(cmd...)
	eventsKeep = false
	want, wantErr, wantCode := runMain(cmd...)
	eventsKeep = true
	if code != wantCode || got != want {
		t.Fatalf("exit %d, the full read's %d; output:\n%.2000s\nthe full read's:\n%.2000s\n%s%s", code, wantCode, got, want, gotErr, wantErr)
	}
	return got, gotErr, wantErr
}
