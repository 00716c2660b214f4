package parser

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
)

// Flink's shipped log4j layout ("%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x
// - %m%n", and its time-only twin) is what nearly every input uses, and
// decoding headers is most of the parser's work on a noisy log. flinkHeader
// reads that layout without the general matcher's backtracking and without
// time.Date per line. It decides only the plain shape; anything unusual
// (another separator, more fraction digits, an odd logger) is left to the
// general matcher, so both always agree (FuzzFlinkHeader checks it).
type flinkHeader struct {
	dated bool
	// the day of the last dated header, so time.Date runs once a day
	dayKey int
	dayN   int64
	// the logger of the last header: records of one logger come in runs,
	// and a name already checked need not be checked byte by byte again
	prevLogger []byte
	// the minute of the last dated timestamp decoded ("yyyy-MM-dd HH:mm",
	// as two words), the time it stands for and whether its year was far:
	// a log's records share it dozens at a time, and only the seconds and
	// milliseconds after it are decoded then
	minute     [2]uint64
	minuteN    int64
	minuteFar  bool
	haveMinute bool
}

// newFlinkHeader returns a fast decoder for l, or nil when l is not one of
// Flink's shipped layouts.
func newFlinkHeader(l *Layout) *flinkHeader {
	switch l {
	case builtinLayout("flink"):
		return &flinkHeader{dated: true, dayKey: -1}
	case builtinLayout("flink-time"):
		return &flinkHeader{dayKey: -1}
	}
	return nil
}

func digits2(s []byte, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// match returns the header and decided=true when it is sure of the answer;
// decided=false means: ask the general matcher.
func (f *flinkHeader) match(s []byte) (h header, ok, decided bool) {
	t, pos, ok := f.matchTime(s)
	if !ok {
		return header{}, false, false
	}
	h.time = t
	if !f.matchRest(s, pos, &h) {
		return header{}, false, false
	}
	return h, true, true
}

// matchTime decodes the timestamp and the blank after it; ok=false means:
// ask the general matcher. pos is where the level's blanks start.
func (f *flinkHeader) matchTime(s []byte) (t flinklog.Time, pos int, ok bool) {
	if f.dated && f.haveMinute && len(s) >= 24 &&
		binary.LittleEndian.Uint64(s) == f.minute[0] && binary.LittleEndian.Uint64(s[8:]) == f.minute[1] {
		// the minute decoded last: ":ss,SSS " is what is left
		ss, ok1 := digits2(s, 17)
		f1, ok2 := digits2(s, 20)
		f2 := s[22] - '0'
		if s[16] != ':' || s[19] != ',' || !ok1 || !ok2 || f2 > 9 || ss > 60 || s[23] != ' ' {
			return t, 0, false
		}
		if f.minuteFar {
			return implausible, 24, true
		}
		return flinklog.Time{Kind: flinklog.TimeLocal, N: f.minuteN + int64(ss)*int64(time.Second) + int64(f1*10+int(f2))*int64(time.Millisecond)}, 24, true
	}
	farYear := false
	if f.dated {
		// yyyy-MM-dd HH:mm:ss,SSS
		if len(s) < 24 || s[4] != '-' || s[7] != '-' || s[10] != ' ' {
			return t, 0, false
		}
		y1, ok1 := digits2(s, 0)
		y2, ok2 := digits2(s, 2)
		mo, ok3 := digits2(s, 5)
		d, ok4 := digits2(s, 8)
		if !(ok1 && ok2 && ok3 && ok4) || mo < 1 || mo > 12 || d < 1 || d > 31 {
			return t, 0, false
		}
		key := (y1*100+y2)*10000 + mo*100 + d
		if key != f.dayKey {
			f.dayKey = key
			f.dayN = time.Date(y1*100+y2, time.Month(mo), d, 0, 0, 0, 0, time.UTC).UnixNano()
		}
		// UnixNano is undefined beyond 1678-2262: such a year reads as no
		// clock could have printed it, as the general matcher reads it
		// (wrapped around, the year 5020 was a plausible time)
		farYear = y1*100+y2 < 1700 || y1*100+y2 > 2200
		pos = 11
	} else if len(s) < 13 {
		return t, 0, false
	}
	// HH:mm:ss,SSS then a blank
	if s[pos+2] != ':' || s[pos+5] != ':' || s[pos+8] != ',' || len(s) < pos+13 {
		return t, 0, false
	}
	hh, ok1 := digits2(s, pos)
	mi, ok2 := digits2(s, pos+3)
	ss, ok3 := digits2(s, pos+6)
	f1, ok4 := digits2(s, pos+9)
	f2 := s[pos+11] - '0'
	if !(ok1 && ok2 && ok3 && ok4) || f2 > 9 || hh > 23 || mi > 59 || ss > 60 || s[pos+12] != ' ' {
		return t, 0, false
	}
	tod := int64(hh)*int64(time.Hour) + int64(mi)*int64(time.Minute) + int64(ss)*int64(time.Second) + int64(f1*10+int(f2))*int64(time.Millisecond)
	if f.dated {
		f.minute = [2]uint64{binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])}
		f.minuteN = f.dayN + int64(hh)*int64(time.Hour) + int64(mi)*int64(time.Minute)
		f.minuteFar, f.haveMinute = farYear, true
	}
	if farYear {
		t = implausible
	} else if f.dated {
		t = flinklog.Time{Kind: flinklog.TimeLocal, N: f.dayN + tod}
	} else {
		t = flinklog.Time{Kind: flinklog.TimeOfDay, N: tod}
	}
	return t, pos + 13, true
}

// matchRest decodes what follows the timestamp, from pos: the level, the
// logger, log4j 2's NDC and the dash before the message. false means: ask
// the general matcher.
func (f *flinkHeader) matchRest(s []byte, pos int, h *header) bool {
	pos = skipBlanks(s, pos)
	// level
	start := pos
	for pos < len(s) && (s[pos] >= 'A' && s[pos] <= 'Z' || s[pos] >= 'a' && s[pos] <= 'z') {
		pos++
	}
	if !isLevel(s[start:pos]) {
		return false
	}
	h.level = s[start:pos]
	pos = skipBlanks(s, pos)
	// logger: one Java name
	start = pos
	if n := len(f.prevLogger); n > 0 && pos+n < len(s) && (s[pos+n] == ' ' || s[pos+n] == '\t') && bytes.Equal(s[pos:pos+n], f.prevLogger) {
		pos += n
	} else {
		for pos < len(s) {
			k := loggerByte[s[pos]]
			if k == loggerEnd {
				break
			}
			if k == loggerBad {
				return false
			}
			pos++
		}
		if pos == start {
			return false
		}
		f.prevLogger = append(f.prevLogger[:0], s[start:pos]...)
	}
	h.logger = s[start:pos]
	pos = skipBlanks(s, pos)
	// log4j 2 prints the NDC as "[...]"
	if pos < len(s) && s[pos] == '[' {
		end := pos + 1
		for end < len(s) && s[end] != ']' {
			end++
		}
		if end == len(s) {
			return false
		}
		h.ndcSeen = true
		pos = skipBlanks(s, end+1)
	}
	if pos >= len(s) || s[pos] != '-' {
		return false
	}
	h.msg = s[skipBlanks(s, pos+1):]
	return true
}

const (
	loggerBad  = 0
	loggerName = 1
	loggerEnd  = 2
)

// loggerByte classifies the bytes of a logger name: part of a Java name, the
// blank that ends it, or anything else (not this layout).
var loggerByte = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '$', c == '_', c == '-':
			t[c] = loggerName
		case c == ' ', c == '\t':
			t[c] = loggerEnd
		}
	}
	return t
}()

func skipBlanks(s []byte, pos int) int {
	for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
		pos++
	}
	return pos
}
