package flinklog

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestTimeStringIsFormat: a local or UTC time is written as time.Format
// writes it — around the epoch, leap days, ends of years and centuries,
// the ends of the int64 range (years 1677 and 2262: every year of four
// digits, so appendDateTime's fallback to Format is never taken), and at
// random.
func TestTimeStringIsFormat(t *testing.T) {
	ns := []int64{0, -1, 1, 999_999, 1_000_000, -1_000_000, math.MaxInt64, math.MinInt64,
		time.Date(2020, 2, 29, 23, 59, 59, 999_999_999, time.UTC).UnixNano(),
		time.Date(1999, 12, 31, 23, 59, 59, 999_000_000, time.UTC).UnixNano(),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(1678, 1, 1, 0, 0, 0, 1, time.UTC).UnixNano(),
		time.Date(2262, 4, 11, 23, 47, 16, 854_775_807, time.UTC).UnixNano(),
	}
	rng := rand.New(rand.NewPCG(26, 3))
	for range 100_000 {
		ns = append(ns, rng.Int64(), rng.Int64N(4e18), -rng.Int64N(4e18))
	}
	for _, n := range ns {
		for kind, layout := range map[TimeKind]string{TimeLocal: "2006-01-02T15:04:05.000", TimeUTC: "2006-01-02T15:04:05.000Z"} {
			if got, want := (Time{Kind: kind, N: n}).String(), time.Unix(0, n).UTC().Format(layout); got != want {
				t.Fatalf("%d (%v): %q, want %q", n, kind, got, want)
			}
		}
	}
}
