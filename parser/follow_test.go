package parser_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/sim"
)

// TestFollowerEqualsRead: logs that grow in bursts, cut anywhere (mid-line,
// mid-stack-trace), read by a Follower after every burst, give exactly what
// a fresh sequential read of the same bytes gives.
func TestFollowerEqualsRead(t *testing.T) {
	for _, v := range []string{"1.9.3", "1.12.7"} {
		r, err := sim.Run(sim.Config{Flink: v, TaskManagers: 2, Slots: 4, Jobs: 3, Failovers: 2, Seed: 5, Debug: true, Noise: 5,
			Inject: []string{sim.FaultOverwrite, sim.FaultHeartbeatTimeout}})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		names := []string{"jobmanager.log", "taskmanager-0.log", "taskmanager-1.log"}
		written := map[string]int{}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fl := parser.NewFollower([]string{dir}, parser.Options{})
		rng := rand.New(rand.NewPCG(1, 2))
		for burst := 0; ; burst++ {
			grew := false
			for _, n := range names {
				content := r.Files[n]
				if written[n] == len(content) {
					continue
				}
				end := min(len(content), written[n]+1+rng.IntN(len(content)/15+1))
				f, err := os.OpenFile(filepath.Join(dir, n), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(content[written[n]:end])
				f.Close()
				written[n], grew = end, true
			}
			if !grew {
				break
			}
			got, err := fl.Read()
			if err != nil {
				t.Fatal(err)
			}
			want, err := parser.Read([]string{dir}, parser.Options{Reference: true})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Inputs, want.Inputs) || !reflect.DeepEqual(got.Diagnostics, want.Diagnostics) {
				t.Fatalf("%s burst %d: summaries or diagnostics differ:\n got %+v\n want %+v", v, burst, got.Inputs, want.Inputs)
			}
			if len(got.Events) != len(want.Events) {
				t.Fatalf("%s burst %d: %d events, want %d", v, burst, len(got.Events), len(want.Events))
			}
			for i := range got.Events {
				if !reflect.DeepEqual(got.Events[i], want.Events[i]) {
					t.Fatalf("%s burst %d: event %d differs:\n got %+v\n want %+v", v, burst, i, got.Events[i], want.Events[i])
				}
			}
		}
		if n := fl.Pieces(); n < 10 {
			t.Errorf("%s: only %d pieces kept: the logs were not read incrementally", v, n)
		} else {
			t.Logf("%s: %d pieces kept across the bursts", v, n)
		}
	}
}
