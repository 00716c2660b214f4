package reconstruct

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestSharedStatesEqualPerProbeSnapshots: the probes' window states, kept
// once per call and shared (takeSnapshots, statesOf), are exactly what a
// copy per probe and call gave (the definition below, the code before),
// for random probes and event times that go backwards, stand still and
// jump, with the table changing between calls.
func TestSharedStatesEqualPerProbeSnapshots(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for round := 0; round < 300; round++ {
		var probes []Probe
		at := int64(0)
		for range rng.IntN(40) {
			at += rng.Int64N(3 * int64(ReportWindow))
			probes = append(probes, Probe{At: flinklog.Time{Kind: flinklog.TimeLocal, N: at}, Window: ReportWindow})
		}
		r := newReplay(nil, nil, Config{Probes: ProbeList(probes)})
		// the definition: per probe, a copy of the tables each time its
		// window is visited, unless its last one is after the same event
		want := make([][]snapshot, len(probes))
		first := 0
		define := func(tm flinklog.Time, after int) {
			end := tm.Kind == flinklog.TimeNone
			closed := 0
			for p := first; p < len(probes); p++ {
				pr := probes[p]
				if !end && (tm.Kind != pr.At.Kind || tm.N <= pr.At.N-pr.Window) {
					break
				}
				if want[p] == nil || want[p][len(want[p])-1].After != after {
					want[p] = append(want[p], snapshot{After: after, Until: tm, Slots: [2][]Slot{r.Tables[Legacy].Slots(), r.Tables[Fixed].Slots()}})
				}
				if end || tm.N > pr.At.N+ReportLead {
					closed = p + 1
				}
			}
			first = max(first, closed)
		}
		now := int64(0)
		for i := range rng.IntN(60) {
			switch rng.IntN(4) {
			case 0:
				now -= rng.Int64N(2 * int64(ReportWindow)) // backwards
			case 1:
			default:
				now += rng.Int64N(4 * int64(ReportWindow))
			}
			tm := flinklog.Time{Kind: flinklog.TimeLocal, N: now}
			if rng.IntN(10) == 0 {
				tm.Kind = flinklog.TimeRelative
			}
			define(tm, i-1)
			r.takeSnapshots(tm, i-1)
			alloc, _ := flinklog.ParseID(fmtID(round*100 + i + 1))
			r.Tables[Legacy].Allocate(i%4, alloc, alloc)
			r.Tables[Fixed].Allocate(i%3, alloc, alloc)
		}
		define(flinklog.Time{}, 1000)
		r.takeSnapshots(flinklog.Time{}, 1000)
		var buf []*snapshot
		for p := range probes {
			buf = r.statesOf(p, buf)
			if len(buf) != len(want[p]) {
				t.Fatalf("round %d probe %d: %d states, want %d", round, p, len(buf), len(want[p]))
			}
			for k, s := range buf {
				w := want[p][k]
				if s.After != w.After || s.Until != w.Until || !slices.Equal(s.Slots[Legacy], w.Slots[Legacy]) || !slices.Equal(s.Slots[Fixed], w.Slots[Fixed]) {
					t.Fatalf("round %d probe %d state %d: %+v, want %+v", round, p, k, *s, w)
				}
			}
		}
	}
}

func fmtID(n int) string {
	const hex = "0123456789abcdef"
	b := []byte("00000000000000000000000000000000")
	for i := len(b) - 1; n > 0; i-- {
		b[i] = hex[n%16]
		n /= 16
	}
	return string(b)
}
