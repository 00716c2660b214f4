package reconstruct

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// TestMergedIsTheModelsOrder: over every bundled log, alone and as the
// bundled directories, the inputs read again and merged (a first read
// keeping nothing, the skew from the model) give every event of the read
// that kept them all, each with its ref and Model.Rank's rank — or the
// merge is refused, never answered otherwise.
func TestMergedIsTheModelsOrder(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/logs/*")
	merged, refused := 0, 0
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			n, err := checkMerged(t, []string{p})
			switch {
			case errors.Is(err, ErrNotMergeable):
				t.Log(err)
				refused++
			case err != nil:
				t.Fatal(err)
			default:
				merged += n
			}
		})
	}
	t.Logf("%d events merged as the model orders them; %d reads refused", merged, refused)
	if merged < 1000 {
		t.Errorf("only %d events merged", merged)
	}
}

// checkMerged merges paths' inputs read again and holds each event to the
// model of a full read; it returns how many events it merged.
func checkMerged(t *testing.T, paths []string) (int, error) {
	t.Helper()
	full, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Skip(err)
	}
	// the model of a read that numbers events as Merge does: one that
	// folds no slot report into a Repeat; the events are full's, by
	// position (a record's in order)
	ref, err := parser.Read(paths, parser.Options{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	m := Build(ref)
	at := map[flinklog.Pos][]parser.EventRef{}
	for r, pos := range full.AllAt() {
		at[pos] = append(at[pos], r)
	}
	first, err := parser.Read(paths, parser.Options{Keep: func(*flinklog.Event) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	skew := map[int32]int64{}
	for f, s := range m.Skew {
		skew[f] = s.Offset
	}
	s, err := Merge(first, parser.Options{}, skew)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	n := 0
	for {
		ev, ref, rank, ok, err := s.Next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		if int(ref) >= full.Len() {
			t.Fatalf("ref %d of %d events", ref, full.Len())
		}
		if rank != m.Rank[ref] {
			t.Fatalf("event %d (%s) merged at %d, the model ranks it %d", ref, full.Files.Position(ev.Pos), rank, m.Rank[ref])
		}
		if len(at[ev.Pos]) == 0 {
			t.Fatalf("ref %d (%s): no such event in the read", ref, full.Files.Position(ev.Pos))
		}
		want := full.Event(at[ev.Pos][0])
		at[ev.Pos] = at[ev.Pos][1:]
		want.SetRepeatSpan(0, 0) // (a read again hands every report over)
		if !reflect.DeepEqual(*ev, *want) {
			t.Fatalf("ref %d is\n %+v\nthe read's is\n %+v", ref, *ev, *want)
		}
		n++
	}
	if n != full.Len() {
		t.Fatalf("%d events merged, the read has %d", n, full.Len())
	}
	return n, nil
}
