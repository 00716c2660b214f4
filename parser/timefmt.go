package parser

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
)

// dateFormat is a compiled java.text.SimpleDateFormat pattern (the subset
// log4j and logback layouts use). Parsing is deliberately lenient where real
// Flink logs vary: ',' and '.' before the fraction are interchangeable, as are
// ' ' and 'T' between date and time, and the fraction may have 1 to 9 digits.
type dateFormat struct {
	src   string
	parts []datePart
	// what the pattern holds decides the TimeKind of a parsed value
	hasDate, hasTime, hasZone bool
}

type datePartKind uint8

const (
	dpLiteral datePartKind = iota
	dpYear4
	dpYear2
	dpMonth      // 1-2 digits
	dpMonth2     // 2 digits
	dpMonthName  // Jan..Dec
	dpDay        // 1-2 digits
	dpDay2       // 2 digits
	dpHour       // 0-23, 1-2 digits
	dpHour2      // 2 digits
	dpHour12     // 1-12, with am/pm part
	dpMinute2    // 2 digits
	dpSecond2    // 2 digits
	dpFraction   // 1-9 digits
	dpAMPM       // AM / PM
	dpZone       // Z, +hhmm, +hh:mm
	dpDayName    // Mon..Sun (skipped)
	dpUnixMillis // whole value is epoch millis
	dpUnixSecs   // whole value is epoch seconds
)

type datePart struct {
	kind datePartKind
	lit  string
}

// namedDateFormats are log4j 2's named %d formats (log4j 1 uses the same
// names; its ISO8601 has a space instead of 'T', which leniency covers).
var namedDateFormats = map[string]string{
	"DEFAULT":        "yyyy-MM-dd HH:mm:ss,SSS",
	"ISO8601":        "yyyy-MM-dd'T'HH:mm:ss,SSS",
	"ISO8601_BASIC":  "yyyyMMdd'T'HHmmss,SSS",
	"ISO8601_OFFSET": "yyyy-MM-dd'T'HH:mm:ss,SSSXXX",
	"ABSOLUTE":       "HH:mm:ss,SSS",
	"DATE":           "dd MMM yyyy HH:mm:ss,SSS",
	"COMPACT":        "yyyyMMddHHmmssSSS",
	"UNIX_MILLIS":    "\x00millis",
	"UNIX":           "\x00secs",
}

func compileDateFormat(src string) (*dateFormat, error) {
	if named, ok := namedDateFormats[strings.ToUpper(src)]; ok {
		src = named
	}
	f := &dateFormat{src: src}
	switch src {
	case "\x00millis":
		f.parts = []datePart{{kind: dpUnixMillis}}
		f.hasDate, f.hasTime, f.hasZone = true, true, true
		return f, nil
	case "\x00secs":
		f.parts = []datePart{{kind: dpUnixSecs}}
		f.hasDate, f.hasTime, f.hasZone = true, true, true
		return f, nil
	}
	addLit := func(s string) {
		if n := len(f.parts); n > 0 && f.parts[n-1].kind == dpLiteral {
			f.parts[n-1].lit += s
			return
		}
		f.parts = append(f.parts, datePart{kind: dpLiteral, lit: s})
	}
	for i := 0; i < len(src); {
		c := src[i]
		if c == '\'' {
			j := strings.IndexByte(src[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("date format %q: unterminated quote", src)
			}
			if j == 0 {
				addLit("'")
			} else {
				addLit(src[i+1 : i+1+j])
			}
			i += j + 2
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			addLit(string(c))
			i++
			continue
		}
		j := i
		for j < len(src) && src[j] == c {
			j++
		}
		n := j - i
		i = j
		var k datePartKind
		switch c {
		case 'y', 'u':
			if n == 2 {
				k = dpYear2
			} else {
				k = dpYear4
			}
			f.hasDate = true
		case 'M', 'L':
			switch {
			case n >= 3:
				k = dpMonthName
			case n == 2:
				k = dpMonth2
			default:
				k = dpMonth
			}
			f.hasDate = true
		case 'd':
			if n == 2 {
				k = dpDay2
			} else {
				k = dpDay
			}
			f.hasDate = true
		case 'H', 'k':
			if n == 2 {
				k = dpHour2
			} else {
				k = dpHour
			}
			f.hasTime = true
		case 'h', 'K':
			k = dpHour12
			f.hasTime = true
		case 'm':
			k = dpMinute2
			f.hasTime = true
		case 's':
			k = dpSecond2
			f.hasTime = true
		case 'S', 'n':
			k = dpFraction
		case 'a':
			k = dpAMPM
		case 'Z', 'X', 'x', 'z':
			k = dpZone
			f.hasZone = true
		case 'E':
			k = dpDayName
		default:
			return nil, fmt.Errorf("date format %q: unsupported letter %q", src, c)
		}
		f.parts = append(f.parts, datePart{kind: k})
	}
	if !f.hasTime {
		return nil, fmt.Errorf("date format %q has no time of day", src)
	}
	return f, nil
}

var monthNames = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parse reads a timestamp at the start of s. It returns the time and the
// number of bytes consumed, or ok=false.
func (f *dateFormat) parse(s []byte) (t flinklog.Time, n int, ok bool) {
	year, month, day := 1970, 1, 1
	hour, minute, sec, nanos := 0, 0, 0, 0
	pm, hasAMPM := false, false
	zoneOff := 0
	pos := 0
	digits := func(min, max int) (int, bool) {
		v, i := 0, 0
		for i < max && pos+i < len(s) && s[pos+i] >= '0' && s[pos+i] <= '9' {
			v = v*10 + int(s[pos+i]-'0')
			i++
		}
		if i < min {
			return 0, false
		}
		pos += i
		return v, true
	}
	for pi, p := range f.parts {
		var good bool
		switch p.kind {
		case dpLiteral:
			good = true
			for j := 0; j < len(p.lit); j++ {
				if pos >= len(s) {
					return flinklog.Time{}, 0, false
				}
				want, got := p.lit[j], s[pos]
				if got != want && !lenientSep(want, got, f.parts, pi) {
					return flinklog.Time{}, 0, false
				}
				pos++
			}
		case dpYear4:
			year, good = digits(4, 4)
		case dpYear2:
			year, good = digits(2, 2)
			year += 2000
		case dpMonth:
			month, good = digits(1, 2)
		case dpMonth2:
			month, good = digits(2, 2)
		case dpMonthName:
			if pos+3 <= len(s) {
				name := strings.ToLower(string(s[pos : pos+3]))
				for mi, m := range monthNames {
					if m == name {
						month, good = mi+1, true
						pos += 3
						break
					}
				}
			}
		case dpDay:
			day, good = digits(1, 2)
		case dpDay2:
			day, good = digits(2, 2)
		case dpHour:
			hour, good = digits(1, 2)
		case dpHour2:
			hour, good = digits(2, 2)
		case dpHour12:
			hour, good = digits(1, 2)
		case dpMinute2:
			minute, good = digits(2, 2)
		case dpSecond2:
			sec, good = digits(2, 2)
		case dpFraction:
			start := pos
			var v int
			v, good = digits(1, 9)
			for k := pos - start; k < 9; k++ {
				v *= 10
			}
			nanos = v
		case dpAMPM:
			if pos+2 <= len(s) {
				switch strings.ToUpper(string(s[pos : pos+2])) {
				case "AM":
					good, hasAMPM = true, true
				case "PM":
					good, hasAMPM, pm = true, true, true
				}
				pos += 2
			}
		case dpZone:
			zoneOff, good = parseZone(s, &pos)
		case dpDayName:
			for pos < len(s) && (s[pos] >= 'a' && s[pos] <= 'z' || s[pos] >= 'A' && s[pos] <= 'Z') {
				pos++
				good = true
			}
		case dpUnixMillis, dpUnixSecs:
			var v int64
			start := pos
			for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' && pos-start < 19 {
				v = v*10 + int64(s[pos]-'0')
				pos++
			}
			if pos == start {
				return flinklog.Time{}, 0, false
			}
			if p.kind == dpUnixMillis {
				if v > maxEpochSeconds*1000 {
					return implausible, pos, true
				}
				return flinklog.Time{Kind: flinklog.TimeUTC, N: v * int64(time.Millisecond)}, pos, true
			}
			if v > maxEpochSeconds {
				return implausible, pos, true
			}
			return flinklog.Time{Kind: flinklog.TimeUTC, N: v * int64(time.Second)}, pos, true
		}
		if !good {
			return flinklog.Time{}, 0, false
		}
	}
	if hasAMPM {
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return flinklog.Time{}, 0, false
	}
	switch {
	case f.hasDate && (year < 1700 || year > 2200):
		return implausible, pos, true // UnixNano is undefined beyond 1678-2262
	case f.hasDate:
		tt := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC)
		if f.hasZone {
			return flinklog.Time{Kind: flinklog.TimeUTC, N: tt.UnixNano() - int64(zoneOff)*int64(time.Second)}, pos, true
		}
		return flinklog.Time{Kind: flinklog.TimeLocal, N: tt.UnixNano()}, pos, true
	default:
		d := int64(hour)*int64(time.Hour) + int64(minute)*int64(time.Minute) + int64(sec)*int64(time.Second) + int64(nanos)
		return flinklog.Time{Kind: flinklog.TimeOfDay, N: d}, pos, true
	}
}

// lenientSep allows ',' for '.' (and back) before a fraction, and 'T' for ' '
// (and back) between date and time.
func lenientSep(want, got byte, parts []datePart, idx int) bool {
	next := datePartKind(255)
	if idx+1 < len(parts) {
		next = parts[idx+1].kind
	}
	switch {
	case (want == ',' || want == '.') && (got == ',' || got == '.'):
		return next == dpFraction
	case (want == ' ' || want == 'T') && (got == ' ' || got == 'T'):
		return next == dpHour || next == dpHour2 || next == dpHour12
	}
	return false
}

func parseZone(s []byte, pos *int) (int, bool) {
	p := *pos
	if p >= len(s) {
		return 0, false
	}
	if s[p] == 'Z' {
		*pos = p + 1
		return 0, true
	}
	if s[p] != '+' && s[p] != '-' {
		return 0, false
	}
	sign := 1
	if s[p] == '-' {
		sign = -1
	}
	p++
	num := func() (int, bool) {
		if p+2 > len(s) || s[p] < '0' || s[p] > '9' || s[p+1] < '0' || s[p+1] > '9' {
			return 0, false
		}
		v := int(s[p]-'0')*10 + int(s[p+1]-'0')
		p += 2
		return v, true
	}
	h, ok := num()
	if !ok {
		return 0, false
	}
	if p < len(s) && s[p] == ':' {
		p++
	}
	m, ok := num()
	if !ok {
		m = 0
	}
	*pos = p
	return sign * (h*3600 + m*60), true
}

// parseISOTime parses the timestamps JSON layouts and container runtimes
// write: RFC 3339 with or without a zone and fraction, a space or '_' in
// place of 'T' (seen in a custom @timestamp: 2020-11-27_02:55:53.417).
func parseISOTime(s string) (flinklog.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 19 {
		return flinklog.Time{}, false
	}
	b := []byte(s)
	if b[10] == '_' || b[10] == ' ' {
		b[10] = 'T'
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return flinklog.Time{Kind: flinklog.TimeUTC, N: t.UnixNano()}, true
		}
	}
	// No zone: local wall-clock time. Accept ',' before the fraction too.
	str := strings.Replace(string(b), ",", ".", 1)
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", str); err == nil {
		return flinklog.Time{Kind: flinklog.TimeLocal, N: t.UnixNano()}, true
	}
	return flinklog.Time{}, false
}

// ParseTimeArg reads a time given on the command line (`slots --at`) in the
// forms events print: 2019-10-30T11:03:11.570 or "2019-10-30 11:03:11,570"
// (local wall clock, as Flink logs it; also to the minute or the day), a
// trailing Z or offset for an instant, 15:04:05.000 or 15:04 (time of day,
// "+1d" for the next day), or +12.345s (milliseconds since JVM start).
func ParseTimeArg(s string) (flinklog.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") && strings.HasSuffix(s, "s") {
		if d, err := time.ParseDuration(s[1:]); err == nil {
			return flinklog.Time{Kind: flinklog.TimeRelative, N: int64(d)}, nil
		}
	}
	if t, ok := parseISOTime(s); ok {
		return t, nil
	}
	day := int64(0)
	if i := strings.Index(s, "+"); i > 0 && strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(s[i+1 : len(s)-1])
		if err != nil {
			return flinklog.Time{}, fmt.Errorf("time %q: bad day offset", s)
		}
		day, s = int64(n), s[:i]
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return flinklog.Time{Kind: flinklog.TimeLocal, N: t.UnixNano()}, nil
		}
	}
	for _, layout := range []string{"15:04:05.999999999", "15:04:05", "15:04"} {
		if t, err := time.Parse(layout, strings.Replace(s, ",", ".", 1)); err == nil {
			tod := int64(t.Hour())*int64(time.Hour) + int64(t.Minute())*int64(time.Minute) + int64(t.Second())*int64(time.Second) + int64(t.Nanosecond())
			return flinklog.Time{Kind: flinklog.TimeOfDay, N: day*int64(24*time.Hour) + tod}, nil
		}
	}
	return flinklog.Time{}, fmt.Errorf("time %q: want 2006-01-02T15:04:05.000 (or a part of it down to the day), 15:04:05.000 or +12.345s", s)
}
