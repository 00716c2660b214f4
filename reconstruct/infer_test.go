package reconstruct

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// inferOnlyIndexLeftByScan is inferOnlyIndexLeft as it was: every key
// looked at for every unknown one. It is the definition the faster one is
// held to.
func inferOnlyIndexLeftByScan(r *Replay) {
	for _, info := range r.Indexes.All() {
		if info.Index >= r.cfg.Slots {
			return
		}
	}
	keys := r.Indexes.Keys()
	for changed := true; changed; {
		changed = false
		for _, k := range keys {
			if r.Indexes.At(k).Index >= 0 {
				continue
			}
			taken := map[int]bool{}
			var last flinklog.Pos
			for _, o := range keys {
				if info := r.Indexes.At(o); o != k && info.Index >= 0 && r.overlaps(k, o) {
					taken[info.Index] = true
					if last.Less(info.Pos) {
						last = info.Pos
					}
				}
			}
			if len(taken) != r.cfg.Slots-1 {
				continue
			}
			for idx := 0; idx < r.cfg.Slots; idx++ {
				if !taken[idx] {
					r.Indexes.Set(k, IndexInfo{Index: idx, Source: IndexInferred, How: "only index left", Pos: last})
					changed = true
				}
			}
		}
	}
}

// TestInferOnlyIndexLeftEqualsScan: on slots of random lives (some held to
// the end, some from before the log, some created at the same step, some
// shorter than a step) with
// some indexes printed, the inference looking only at the slots held
// meanwhile settles exactly what the scan of every slot settles, in the
// same passes (the order an index is settled in decides the next).
func TestInferOnlyIndexLeftEqualsScan(t *testing.T) {
	for seed := uint64(0); seed < 400; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			slots := 1 + rng.IntN(4)
			n := 1 + rng.IntN(60)
			steps := 2*n + 2
			r := newReplay(nil, nil, Config{StaticOnly: true, Slots: slots})
			r.Steps = make([]Step, steps)
			step := 0
			for i := 0; i < n; i++ {
				step += rng.IntN(3) // 0: born at the step of the one before
				key := r.newKey(min(step, steps-1))
				life := r.life[key]
				switch rng.IntN(7) {
				case 6: // held since before the log (a prior slot)
					life = [2]int{-1, -1}
				case 0: // held to the end
				case 1:
					life[1] = life[0] // freed where it was made
				default:
					life[1] = min(life[0]+1+rng.IntN(8), steps)
				}
				r.life[key] = life
				if rng.IntN(3) == 0 {
					r.Indexes.Set(key, IndexInfo{Index: rng.IntN(slots), Source: IndexObserved,
						Pos: flinklog.Pos{Line: int64(1 + rng.IntN(1000))}})
				}
			}
			want := &Replay{cfg: r.cfg, Steps: r.Steps, life: r.life}
			for key, info := range r.Indexes.All() {
				want.Indexes.Set(key, info)
			}
			inferOnlyIndexLeftByScan(want)
			r.inferOnlyIndexLeft()
			if got, want := maps.Collect(r.Indexes.All()), maps.Collect(want.Indexes.All()); !maps.Equal(got, want) {
				t.Fatalf("slots %d, lives %v:\n got  %v\n want %v", slots, r.life, got, want)
			}
		})
	}
}

// BenchmarkInferOnlyIndexLeft: a TaskManager of 4 slots cycling 20,000
// allocations, every other one's index unknown (the scan of every slot for
// each took seconds here; see heldMeanwhile).
func BenchmarkInferOnlyIndexLeft(b *testing.B) {
	const n, slots = 20000, 4
	build := func() *Replay {
		r := newReplay(nil, nil, Config{StaticOnly: true, Slots: slots})
		r.Steps = make([]Step, 2*n+2)
		for i := 0; i < n; i++ {
			key := r.newKey(2 * (i / slots))
			r.life[key] = [2]int{2 * (i / slots), 2*(i/slots) + 2}
			if i%2 == 0 {
				r.Indexes.Set(key, IndexInfo{Index: i % slots, Source: IndexObserved, Pos: flinklog.Pos{Line: int64(i + 1)}})
			}
		}
		return r
	}
	for b.Loop() {
		b.StopTimer()
		r := build()
		b.StartTimer()
		r.inferOnlyIndexLeft()
	}
}
