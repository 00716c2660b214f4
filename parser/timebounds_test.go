package parser

import (
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestTimeBoundsInAnyOrder: the bounds of a set of times are the same in
// every order they are noted in (a fold notes them in the merged order, a
// read in its own), ties between a local and a UTC time included.
func TestTimeBoundsInAnyOrder(t *testing.T) {
	local := func(n int64) flinklog.Time { return flinklog.Time{Kind: flinklog.TimeLocal, N: n} }
	utc := func(n int64) flinklog.Time { return flinklog.Time{Kind: flinklog.TimeUTC, N: n} }
	rel := func(n int64) flinklog.Time { return flinklog.Time{Kind: flinklog.TimeRelative, N: n} }
	tests := []struct {
		name       string
		times      []flinklog.Time
		first      flinklog.Time
		latestKind flinklog.TimeKind
		latest     int64
	}{
		{"local only", []flinklog.Time{local(5), local(3), local(9)}, local(3), flinklog.TimeLocal, 9},
		{"a tie of kinds", []flinklog.Time{utc(3), local(3), utc(8)}, local(3), flinklog.TimeUTC, 8},
		{"no date", []flinklog.Time{rel(7), {}, rel(2)}, flinklog.Time{}, flinklog.TimeRelative, 7},
		{"dated and relative", []flinklog.Time{rel(70), utc(4), {}}, utc(4), flinklog.TimeRelative, 70},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for rot := range tt.times {
				var b TimeBounds
				for i := range tt.times {
					b.Note(tt.times[(i+rot)%len(tt.times)])
				}
				first, ok := b.FirstDated()
				if ok != !tt.first.IsZero() || first != tt.first {
					t.Errorf("order %d: first dated %v (%v), want %v", rot, first, ok, tt.first)
				}
				if n, ok := b.Latest(tt.latestKind); !ok || n != tt.latest {
					t.Errorf("order %d: latest %v = %d (%v), want %d", rot, tt.latestKind, n, ok, tt.latest)
				}
				if _, ok := b.Latest(flinklog.TimeOfDay); ok {
					t.Errorf("order %d: a latest time of day, where none was noted", rot)
				}
			}
		})
	}
}
