package report

import (
	"testing"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

func TestParseBound(t *testing.T) {
	day := time.Date(2020, 3, 17, 0, 0, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		in   string
		back time.Duration
		at   flinklog.Time
		bad  bool
	}{
		{"2h", 2 * time.Hour, flinklog.Time{}, false},
		{"90m", 90 * time.Minute, flinklog.Time{}, false},
		{"1d", 24 * time.Hour, flinklog.Time{}, false},
		{"1d12h", 36 * time.Hour, flinklog.Time{}, false},
		{"2020-03-17T14:00:11.501", 0, flinklog.Time{Kind: flinklog.TimeLocal, N: day + int64(14*time.Hour+11501*time.Millisecond)}, false},
		{"2020-03-17 14:01", 0, flinklog.Time{Kind: flinklog.TimeLocal, N: day + int64(14*time.Hour+time.Minute)}, false},
		{"2020-03-17", 0, flinklog.Time{Kind: flinklog.TimeLocal, N: day}, false},
		{"2020-03-17T14:00:00Z", 0, flinklog.Time{Kind: flinklog.TimeUTC, N: day + int64(14*time.Hour)}, false},
		{"14:00", 0, flinklog.Time{Kind: flinklog.TimeOfDay, N: int64(14 * time.Hour)}, false},
		{"14:00:30.5", 0, flinklog.Time{Kind: flinklog.TimeOfDay, N: int64(14*time.Hour + 30500*time.Millisecond)}, false},
		{"+12.5s", 0, flinklog.Time{Kind: flinklog.TimeRelative, N: int64(12500 * time.Millisecond)}, false},
		{"-2h", 0, flinklog.Time{}, true},
		{"0s", 0, flinklog.Time{}, true},
		{"yesterday", 0, flinklog.Time{}, true},
		{"99999d", 0, flinklog.Time{}, true},
	}
	for _, tc := range tests {
		b, err := ParseBound("--since", tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("ParseBound(%q) error %v, want bad=%v", tc.in, err, tc.bad)
			continue
		}
		if err == nil && (b.Back != tc.back || b.At != tc.at) {
			t.Errorf("ParseBound(%q) = back %v at %+v; want %v %+v", tc.in, b.Back, b.At, tc.back, tc.at)
		}
	}
}

// TestWindow: bounds are compared with times of their own kind; a time of
// day lands on the dated logs' first day; a duration counts back from the
// latest time; a time no bound can be compared with is kept, undecided.
func TestWindow(t *testing.T) {
	day := time.Date(2020, 3, 17, 0, 0, 0, 0, time.UTC).UnixNano()
	at := func(h, m int) flinklog.Time {
		return flinklog.Time{Kind: flinklog.TimeLocal, N: day + int64(time.Duration(h)*time.Hour+time.Duration(m)*time.Minute)}
	}
	res := parser.NewResult(nil, []flinklog.Event{{Time: at(13, 0)}, {Time: at(14, 0)}, {Time: at(15, 30)}})
	bound := func(s string) Bound {
		b, err := ParseBound("--since", s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name         string
		since, until string
		t            flinklog.Time
		in, decided  bool
	}{
		{"no bounds", "", "", at(1, 0), true, true},
		{"after a dated since", "2020-03-17T14:00", "", at(14, 30), true, true},
		{"before a dated since", "2020-03-17T14:00", "", at(13, 59), false, true},
		{"time of day on the first day", "14:00", "", at(13, 59), false, true},
		{"time of day, in", "14:00", "15:00", at(14, 59), true, true},
		{"after until", "", "15:00", at(15, 1), false, true},
		{"back from the end: 1h before 15:30", "1h", "", at(14, 29), false, true},
		{"back from the end, in", "1h", "", at(14, 31), true, true},
		{"an instant against local times", "2020-03-17T14:00:00Z", "", at(14, 1), true, true},
		{"JVM time cannot be compared with dates", "+5s", "", at(14, 0), true, false},
	}
	for _, tc := range tests {
		f := &Filter{Since: bound(tc.since), Until: bound(tc.until)}
		in, decided := f.resolve(res).contains(tc.t)
		if in != tc.in || decided != tc.decided {
			t.Errorf("%s: contains = %v, %v; want %v, %v", tc.name, in, decided, tc.in, tc.decided)
		}
	}
}
