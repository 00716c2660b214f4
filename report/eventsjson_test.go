package report

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
)

// readTestLogs reads every test log as the batch does.
func readTestLogs(t testing.TB) *parser.Result {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "logs", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no test logs (%v)", err)
	}
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// encoderLine is what NewJSONEncoder writes of e: the line the
// hand-written eventLines must give.
func encoderLine(t testing.TB, e *EventJSON) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := NewJSONEncoder(&b).Encode(e); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func handLine(e *EventJSON) []byte {
	var j eventLines
	j.event(e)
	return j.b
}

// eventTexts are strings of every kind the logs hold: quotes,
// backslashes, controls, C1 and bidi controls, invalid UTF-8, <>&,
// U+2028, non-ASCII.
var eventTexts = []string{"", "plain text", `a "quoted" \ path`, "tab\there\nnew\rline\b\f\x00\x1f", "DEL\x7f C1 \u0085 bidi \u202e end",
	"bad \xff\xfe utf8", "<html> & 'x'", "line sep \u2028 \u2029", "ünïcödé 日本語 🙂", `\u003c not an escape`, "ESC \x1b[31m red"}

// TestEventJSONIsTheEncoders: every event of the test logs, events drawn
// at random with every field empty or not, and each field set alone (a
// field the hand-written lines forget, or write out of order, shows) give
// the encoder's line to the byte.
func TestEventJSONIsTheEncoders(t *testing.T) {
	check := func(what string, e *EventJSON) {
		t.Helper()
		if got, want := handLine(e), encoderLine(t, e); !bytes.Equal(got, want) {
			t.Fatalf("%s:\nhand:    %s\nencoder: %s", what, got, want)
		}
	}
	res := readTestLogs(t)
	n := 0
	for v := range res.All() {
		e := NewEventJSON(res, v)
		check(res.Files.Position(res.Event(v).Pos), &e)
		n++
	}
	if n < 1000 {
		t.Fatalf("only %d events in the test logs", n)
	}

	// each field alone, then all of them: a value that is not its type's
	// zero, so that omitempty keeps it
	typ := reflect.TypeFor[EventJSON]()
	var all EventJSON
	for i := range typ.NumField() {
		var one EventJSON
		for _, e := range []*EventJSON{&one, &all} {
			f := reflect.ValueOf(e).Elem().Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(eventTexts[(i+3)%len(eventTexts)] + "x")
			case reflect.Int, reflect.Int32, reflect.Int64:
				f.SetInt(int64(-7 + 13*i))
			case reflect.Bool:
				f.SetBool(true)
			case reflect.Pointer:
				v := i - 3
				f.Set(reflect.ValueOf(&v))
			case reflect.Slice:
				idx := 4
				f.Set(reflect.ValueOf([]SlotStatusJSON{{SlotID: "tm_1", ResourceID: "tm \"a\"", SlotIndex: &idx, AllocationID: "a", JobID: "j"}, {}}))
			default:
				t.Fatalf("field %s: a kind (%s) the test does not set", typ.Field(i).Name, f.Kind())
			}
		}
		check("only "+typ.Field(i).Name, &one)
	}
	check("every field", &all)

	rng := rand.New(rand.NewPCG(26, 2))
	str := func() string { return eventTexts[rng.IntN(len(eventTexts))] }
	opt := func() *int {
		if rng.IntN(3) == 0 {
			return nil
		}
		v := rng.IntN(40) - 5
		return &v
	}
	for k := range 3000 {
		e := EventJSON{Time: str(), Component: str(), Kind: str(), AllocationID: str(), JobID: str(), SlotIndex: opt(), ResourceID: str(),
			Path: str(), Stream: str(), Line: rng.Int64N(1 << 40), RecordOnLine: int32(rng.IntN(3)), EndLine: rng.Int64N(3) * 1000,
			Level: str(), SlotID: str(), Dynamic: rng.IntN(2) == 0, RequestedIndex: opt(), SlotState: str(), OtherAlloc: str(),
			InstanceID: str(), RequestID: str(), Task: str(), AttemptID: str(), From: str(), To: str(), Reason: str(), Version: str(),
			Count: rng.IntN(3) - 1, Text: str(), CauseLine: rng.Int64N(2) * 77, CauseText: str()}
		switch rng.IntN(3) {
		case 0:
		case 1:
			e.Slots = []SlotStatusJSON{}
		default:
			for range 1 + rng.IntN(3) {
				e.Slots = append(e.Slots, SlotStatusJSON{SlotID: str(), ResourceID: str(), SlotIndex: opt(), AllocationID: str(), JobID: str()})
			}
		}
		check("random event "+string(rune('0'+k%10)), &e)
	}
}

// FuzzEventJSON holds the hand-written line to the encoder's for any text
// in the fields the logs fill with what they print.
func FuzzEventJSON(f *testing.F) {
	for _, s := range eventTexts {
		f.Add(s, s, s, int64(3), 1)
	}
	f.Fuzz(func(t *testing.T, text, task, reason string, line int64, index int) {
		e := EventJSON{Kind: "tm.slot_allocated", Path: text, Line: line, SlotIndex: &index, Task: task, Reason: reason, Text: text,
			CauseText: reason, Slots: []SlotStatusJSON{{SlotID: task, ResourceID: text}}}
		if got, want := handLine(&e), encoderLine(t, &e); !bytes.Equal(got, want) {
			t.Fatalf("hand:    %s\nencoder: %s", got, want)
		}
	})
}

// BenchmarkEventLines compares the hand-written lines with the encoder's
// over the test logs' events.
func BenchmarkEventLines(b *testing.B) {
	res := readTestLogs(b)
	var evs []EventJSON
	for v := range res.All() {
		evs = append(evs, NewEventJSON(res, v))
	}
	b.Run("hand", func(b *testing.B) {
		var j eventLines
		for b.Loop() {
			for k := range evs {
				j.b = j.b[:0]
				j.event(&evs[k])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	})
	b.Run("encoder", func(b *testing.B) {
		var buf bytes.Buffer
		enc := NewJSONEncoder(&buf)
		for b.Loop() {
			for k := range evs {
				buf.Reset()
				if err := enc.Encode(&evs[k]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	})
}
