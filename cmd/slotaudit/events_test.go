package main

import (
	"fmt"
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
			got, gotErr, code := runMain(cmd...)
			eventsKeep = false
			want, wantErr, wantCode := runMain(cmd...)
			eventsKeep = true
			if code != wantCode || got != want {
				t.Fatalf("exit %d, the full read's %d; output:\n%.2000s\nthe full read's:\n%.2000s\n%s%s", code, wantCode, got, want, gotErr, wantErr)
			}
			if got == "" {
				t.Fatalf("no event in the window: the test narrows nothing\n%s", gotErr)
			}
		})
	}
}
