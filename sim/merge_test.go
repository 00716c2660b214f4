package sim

import (
	"errors"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// TestMergedIsTheModelsOrder: the simulated incidents of every version, as
// collected logs arrive (rotated, gzipped, in any order), read again and
// merged after a first read that kept nothing give every event of the full
// read with Model.Rank's rank — or the merge is refused (a DEBUG
// JobManager's repeated slot reports, times of two kinds), never answered
// otherwise.
func TestMergedIsTheModelsOrder(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 4
	}
	if *soak > 0 {
		seeds = *soak
	}
	merged, refused, events := 0, 0, 0
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				r, err := Run(scenarioFor(v, seed))
				if err != nil {
					t.Fatal(err)
				}
				paths := writeRun(t, r)
				read := func(keep func(*flinklog.Event) bool, reference bool) *parser.Result {
					res, err := parser.Read(paths, parser.Options{ChunkSize: *chunk, Keep: keep, Reference: reference})
					if err != nil {
						t.Fatal(err)
					}
					return res
				}
				// the first read keeps only what the skew is estimated from
				skewKind := map[flinklog.Kind]bool{}
				for _, k := range reconstruct.SkewKinds {
					skewKind[k] = true
				}
				full, first := read(nil, false), read(func(ev *flinklog.Event) bool { return skewKind[ev.Kind] }, false)
				// the model of a read that numbers the events as Merge does:
				// one that folds no slot report into a Repeat (Build names
				// rotated logs' events: full stays as read)
				m := reconstruct.Build(read(nil, true))
				// (a record's events share its position: in order)
				at := map[flinklog.Pos][]parser.EventRef{}
				for ref, pos := range full.AllAt() {
					at[pos] = append(at[pos], ref)
				}
				skew := map[int32]int64{}
				for f, s := range reconstruct.EstimateSkew(first) {
					skew[f] = s.Offset
				}
				for f, s := range m.Skew {
					if skew[f] != s.Offset {
						t.Fatalf("seed %d: input %d's skew is %d, the model's %d", seed, f, skew[f], s.Offset)
					}
				}
				if len(skew) != len(m.Skew) {
					t.Fatalf("seed %d: %d inputs skewed, the model skews %d", seed, len(skew), len(m.Skew))
				}
				s, err := reconstruct.Merge(first, parser.Options{ChunkSize: *chunk}, skew)
				if errors.Is(err, reconstruct.ErrNotMergeable) {
					t.Logf("seed %d: %v", seed, err)
					refused++
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for {
					ev, ref, rank, ok, err := s.Next()
					if errors.Is(err, reconstruct.ErrNotMergeable) {
						t.Logf("seed %d: %v", seed, err)
						refused++
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						if n != full.Len() {
							t.Fatalf("seed %d: %d events merged, the read has %d", seed, n, full.Len())
						}
						merged++
						events += n
						break
					}
					if rank != m.Rank[ref] {
						t.Fatalf("seed %d: %s merged at %d, the model ranks it %d", seed, full.Files.Position(ev.Pos), rank, m.Rank[ref])
					}
					want := full.Event(at[ev.Pos][0])
					at[ev.Pos] = at[ev.Pos][1:]
					want.SetRepeatSpan(0, 0) // (a read again hands every report over)
					if !reflect.DeepEqual(*ev, *want) {
						t.Fatalf("seed %d: ref %d is\n %+v\nthe read's is\n %+v", seed, ref, *ev, *want)
					}
					n++
				}
				s.Close()
			}
		})
	}
	t.Logf("%d incidents merged (%d events) as the model orders them; %d refused", merged, events, refused)
	if merged < len(Versions) {
		t.Errorf("only %d incidents merged", merged)
	}
}

// TestMergeReadsRotatedFilesAFewAtATime: a long run's TaskManager logs
// rotated into a file an hour (--rotate-minutes) are merged in
// Model.Rank's order while only the files near the merge's time are read
// at once (an hour ahead of each file's first line): a fold of a
// directory of rotated logs holds a few readers a TaskManager, not one a
// file.
func TestMergeReadsRotatedFilesAFewAtATime(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Flink: "1.18.1", TaskManagers: 3, Slots: 4, Jobs: 4, JobSeconds: 30, Minutes: 12 * 60, RotateMinutes: 60, Seed: 4}
	if _, err := RunInto(cfg, dir); err != nil {
		t.Fatal(err)
	}
	full, err := parser.Read([]string{dir}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(full)
	skew := map[int32]int64{}
	for f, s := range m.Skew {
		skew[f] = s.Offset
	}
	s, err := reconstruct.Merge(full, parser.Options{}, skew)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for {
		_, ref, rank, ok, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if m.Rank[ref] != rank {
			t.Fatalf("event %d merged at rank %d, the model's %d", ref, rank, m.Rank[ref])
		}
		n++
	}
	if n != full.Len() {
		t.Fatalf("merged %d events of %d", n, full.Len())
	}
	inputs := len(full.Inputs)
	if s.Peak() > reconstruct.MostOpen(full) || s.Peak()*3 > inputs {
		t.Errorf("%d of %d inputs read at once (MostOpen says %d)", s.Peak(), inputs, reconstruct.MostOpen(full))
	}
	t.Logf("%d inputs, at most %d read at once (MostOpen %d)", inputs, s.Peak(), reconstruct.MostOpen(full))
}
