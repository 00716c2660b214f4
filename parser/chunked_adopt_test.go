package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// TestChunkedJoinAdoptsLargePieces: a TaskManager log read in pieces
// large enough that their events are taken as they are (not copied) when
// joined gives exactly the events, summary and diagnostics of the
// reference read, ResourceIDs included (a restart whose new ResourceID is
// named pieces later); and the pieces were indeed taken (a block less than
// full before the last). A simulated DEBUG run is read with it: its
// JobManager log's slot reports fold into few events, per piece.
func TestChunkedJoinAdoptsLargePieces(t *testing.T) {
	res, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 4, Slots: 3, Jobs: 2, Failovers: 1, Seed: 11, Debug: true, Minutes: 90, Once: true,
		Inject: []string{sim.FaultOverwrite}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var all []string
	for name, content := range res.Files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	const pre = "2021-01-12 09:30:00,000 INFO  org.apache.flink.runtime.taskexecutor."
	banner := pre + "TaskManagerRunner      [] -  Starting TaskManager (Version: 1.11.3, Scala: 2.12, Rev:fa0c6a0, Date:2020-12-12T02:11:20+01:00)\n"
	var b strings.Builder
	activate := func(n int) {
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "%sslot.TaskSlotTableImpl [] - Activate slot %032x.\n", pre, i+1)
		}
	}
	b.WriteString(banner + pre + "TaskManagerRunner      [] - Starting TaskManager with ResourceID: tm-a\n")
	activate(3000)
	b.WriteString(banner)
	activate(3000)
	b.WriteString(pre + "TaskManagerRunner      [] - Starting TaskManager with ResourceID: tm-b\n")
	activate(100)
	tm := filepath.Join(dir, "taskmanager-restarts.log")
	if err := os.WriteFile(tm, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	all = append(all, tm)

	opts := Options{ChunkSize: b.Len() / 8, MaxLine: defaultMaxLine, MaxRecord: defaultMaxRecord}
	fr, ok := readFileChunked(tm, &opts, nil, false)
	if !ok {
		t.Fatal("the TaskManager log was not read in pieces")
	}
	st := fr.streams[0]
	adopted := false
	for _, blk := range st.events.blocks[:max(0, len(st.events.blocks)-1)] {
		adopted = adopted || len(blk.evs) < eventBlockLen
	}
	if !adopted {
		t.Fatalf("%d events in %d blocks: no piece was taken as it is", st.events.len(), len(st.events.blocks))
	}

	got, err := Read(all, Options{ChunkSize: opts.ChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Read(all, Options{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.repeats) == 0 {
		t.Fatal("no slot report was folded: the DEBUG run does not test joining repeats")
	}
	requireSameResult(t, got, want)
}
