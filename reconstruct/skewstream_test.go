package reconstruct_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/sim"
)

// TestSkewStreamIsTheBatchSkew: over the bundled logs and the simulated
// incidents of every version (skewed clocks among them), the skew
// estimated from the merged stream holding a window of it is the batch
// estimate — offsets and the events they rest on — or says it cannot be
// (ErrSkewWindow); with the default window it always can on these logs.
// Windows down to a millisecond must never give another answer.
func TestSkewStreamIsTheBatchSkew(t *testing.T) {
	var reads [][]string
	paths, _ := filepath.Glob("../testdata/logs/*")
	for _, p := range paths {
		reads = append(reads, []string{p})
	}
	seeds := uint64(12)
	if testing.Short() {
		seeds = 3
	}
	for _, v := range sim.Versions {
		for seed := uint64(1); seed <= seeds; seed++ {
			dir := t.TempDir()
			if _, err := sim.RunInto(sim.Faulty(v, seed), dir); err != nil {
				t.Fatal(err)
			}
			reads = append(reads, []string{dir})
		}
	}
	skewed, exact, refused, noMatched := 0, 0, 0, 0
	for _, w := range []time.Duration{0, time.Millisecond, 200 * time.Millisecond, 5 * time.Second} {
		for _, paths := range reads {
			// (the skew names lines by ref: those of a read that folds
			// no slot report, as a read again hands them over)
			full, err := parser.Read(paths, parser.Options{Reference: true})
			if err != nil {
				continue
			}
			want := reconstruct.Build(full).Skew
			first, err := parser.Read(paths, parser.Options{Keep: func(*flinklog.Event) bool { return false }})
			if err != nil {
				t.Fatal(err)
			}
			// (told whether the logs hold a matched offer, as the fold's
			// first read tells it)
			matched := full.CountOf(flinklog.KindJMOfferMatched) > 0
			if !matched {
				noMatched++
			}
			got, err := reconstruct.SkewOfStream(first, parser.Options{}, matched, w)
			switch {
			case errors.Is(err, reconstruct.ErrNotMergeable):
				continue
			case errors.Is(err, reconstruct.ErrSkewWindow):
				if w == 0 {
					t.Errorf("%v: the default window cannot estimate the skew", paths)
				}
				refused++
				continue
			case err != nil:
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
				t.Errorf("%v, window %v: skew %+v, the batch's %+v", paths, w, got, want)
			}
			exact++
			if w == 0 && len(want) > 0 {
				skewed++
			}
		}
	}
	t.Logf("%d estimates equal to the batch's (%d skewed reads at the default window), %d refused by a short window; %d reads of logs without a matched offer",
		exact, skewed, refused, noMatched)
	if skewed < 10 || refused == 0 || noMatched == 0 || noMatched == len(reads)*4 {
		t.Errorf("%d skewed reads, %d refusals, %d reads without a matched offer: the test does not reach the window's cases", skewed, refused, noMatched)
	}
}

// TestSkewStreamReofferAfterWindow: a JobManager that fails over matches an
// offer of the same AllocationID again long after (the TaskManager offers
// its slots to the new leader), and the TaskManager activates it again:
// the batch estimate counts only the input's first activation, so the
// stream, which let the first go, must not take the second for a first —
// here its lag would be the largest. And a slot requested again long
// after (a second request of one AllocationID) is joined to the first by
// the batch estimate, not to the second. Either the stream gives the
// batch's answer or it says it cannot.
func TestSkewStreamReofferAfterWindow(t *testing.T) {
	base := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	at := func(d time.Duration) flinklog.Time { return flinklog.Time{Kind: flinklog.TimeUTC, N: base + int64(d)} }
	a, _ := flinklog.ParseID("0123456789abcdef0123456789abcdef")
	b, _ := flinklog.ParseID("fedcba9876543210fedcba9876543210")
	ev := func(file int32, line int64, kind flinklog.Kind, c flinklog.Component, alloc flinklog.ID, t time.Duration) flinklog.Event {
		e := flinklog.NewEvent(kind)
		e.Pos, e.Component, e.Alloc, e.Time = flinklog.Pos{File: file, Line: line}, c, alloc, at(t)
		return e
	}
	jm, tm := flinklog.ComponentJM, flinklog.ComponentTM
	rm := flinklog.ComponentRM
	cases := map[string][]flinklog.Event{
		"re-offer": {
			ev(0, 1, flinklog.KindJMOfferMatched, jm, a, 0),
			ev(1, 1, flinklog.KindTMActivate, tm, a, 100*time.Millisecond), // lag -100ms
			ev(0, 2, flinklog.KindJMTaskFailed, jm, flinklog.ID{}, time.Hour),
			ev(0, 3, flinklog.KindJMOfferMatched, jm, a, 2*time.Hour),
			ev(1, 2, flinklog.KindTMActivate, tm, a, 2*time.Hour+10*time.Millisecond), // lag -10ms, not a first
		},
		"requested again": {
			ev(0, 1, flinklog.KindRMSlotRequest, rm, b, 0),
			ev(1, 1, flinklog.KindTMSlotRequest, tm, b, 200*time.Millisecond), // lag -200ms
			ev(0, 2, flinklog.KindJMTaskFailed, jm, flinklog.ID{}, time.Hour),
			ev(0, 3, flinklog.KindRMSlotRequest, rm, b, 3*time.Hour),
			ev(1, 2, flinklog.KindTMSlotRequest, tm, b, 3*time.Hour+10*time.Millisecond), // -10ms against the second, -3h against the first
		},
	}
	for name, evs := range cases {
		t.Run(name, func(t *testing.T) {
			res := parser.NewResult(parser.Files{{Path: "jm.log"}, {Path: "tm.log"}}, evs)
			want := reconstruct.EstimateSkew(res)
			// the stream, in time order (no skew), with its refs
			order := make([]int, len(evs))
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(x, y int) int {
				return int(res.Time(parser.EventRef(x)).N - res.Time(parser.EventRef(y)).N)
			})
			s := reconstruct.NewSkewStream(16)
			for _, i := range order {
				s.Add(res.Event(parser.EventRef(i)), parser.EventRef(i))
			}
			got, err := s.Skew()
			if errors.Is(err, reconstruct.ErrSkewWindow) {
				// right: the second join's lag could be the largest, and
				// the batch estimate is made instead (taken for a first,
				// it gives another skew: a mutation that does fails here)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("skew %+v, the batch's %+v", got, want)
			}
		})
	}
}
