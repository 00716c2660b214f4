package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// TestChunkedJoinAdoptsLargePieces: a DEBUG JobManager log read in pieces
// large enough that their events are taken as they are (not copied) when
// joined gives exactly the events, summary and diagnostics of the
// reference read, TaskManager ResourceIDs included; and the pieces were
// indeed taken (a block less than full before the last).
func TestChunkedJoinAdoptsLargePieces(t *testing.T) {
	res, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 4, Slots: 3, Jobs: 2, Failovers: 1, Seed: 11, Debug: true, Minutes: 90, Once: true,
		Inject: []string{sim.FaultOverwrite}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var jm string
	var all []string
	for name, content := range res.Files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
		if strings.HasPrefix(name, "jobmanager") {
			jm = p
		}
	}
	info, err := os.Stat(jm)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{ChunkSize: int(info.Size() / 8), MaxLine: defaultMaxLine, MaxRecord: defaultMaxRecord}
	fr, ok := readFileChunked(jm, &opts, nil, false)
	if !ok {
		t.Fatal("the JobManager log was not read in pieces")
	}
	st := fr.streams[0]
	adopted := false
	for _, blk := range st.events.blocks[:max(0, len(st.events.blocks)-1)] {
		adopted = adopted || len(blk) < eventBlockLen
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
	requireSameResult(t, got, want)
}
