package report

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// TestTimelineJSONIsTheEncoders: the hand-written timeline JSON is, to the
// byte, what NewJSONEncoder writes of the same AllocationJSON indented
// inside the document — over timelines drawn at random with every field
// empty or not, and strings of every kind the logs hold (quotes,
// backslashes, controls, C1 and bidi controls, invalid UTF-8, <>&,
// U+2028, non-ASCII).
func TestTimelineJSONIsTheEncoders(t *testing.T) {
	texts := []string{"", "plain text", `a "quoted" \ path`, "tab\there\nnew\rline\b\f\x00\x1f", "DEL\x7f C1 \u0085 bidi \u202e end",
		"bad \xff\xfe utf8", "<html> & 'x'", "line sep \u2028 \u2029", "ünïcödé 日本語 🙂", `\u003c not an escape`, "DEL alone \x7f"}
	rng := rand.New(rand.NewPCG(26, 1))
	str := func() string { return texts[rng.IntN(len(texts))] }
	opt := func() *int {
		if rng.IntN(3) == 0 {
			return nil
		}
		v := rng.IntN(40)
		return &v
	}
	place := func() *PlaceJSON {
		if rng.IntN(4) == 0 {
			return nil
		}
		return &PlaceJSON{Path: str(), Stream: str(), Line: rng.Int64N(1 << 40), RecordOnLine: int32(rng.IntN(3))}
	}
	for n := range 3000 {
		a := AllocationJSON{AllocationID: str(), JobID: str(), ResourceID: str()}
		if rng.IntN(10) > 0 {
			a.SlotIndexes = []int{}
			for range rng.IntN(3) {
				a.SlotIndexes = append(a.SlotIndexes, rng.IntN(100))
			}
		}
		if rng.IntN(10) > 0 {
			a.Slots = []HeldSlotJSON{}
			for range rng.IntN(3) {
				h := HeldSlotJSON{ResourceID: str(), Index: opt(), IndexSource: str(), Allocated: place(), Prior: rng.IntN(2) == 0,
					Freed: place(), Zombie: rng.IntN(2) == 0, Replaced: place()}
				if rng.IntN(2) == 0 {
					h.IndexEvidence = &IndexEvidenceJSON{How: str(), Where: place()}
				}
				a.Slots = append(a.Slots, h)
			}
		}
		if rng.IntN(10) > 0 {
			a.Events = []TimelineEventJSON{}
			for range rng.IntN(4) {
				a.Events = append(a.Events, TimelineEventJSON{Time: str(), AlignedTime: str(), Component: str(), Kind: str(), SlotIndex: opt(),
					Path: str(), Stream: str(), Line: rng.Int64N(1 << 40), RecordOnLine: int32(rng.IntN(3)), Text: str()})
			}
		}
		var buf bytes.Buffer
		enc := NewJSONEncoder(&buf)
		enc.SetIndent("    ", "  ")
		if err := enc.Encode(a); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		j := &jsonIndenter{prefix: "    "}
		j.allocation(&a)
		if !bytes.Equal(j.b, want) {
			t.Fatalf("timeline %d %+v:\nhand:    %q\nencoder: %q", n, a, j.b, want)
		}
	}
}

// BenchmarkTimelineJSON: every bundled log's timelines written the way
// NewJSONEncoder writes them (way=encoder, what WriteTimelineJSON did) and
// by hand (way=hand); `benchstat -col /way` compares the two.
func BenchmarkTimelineJSON(b *testing.B) {
	res, err := parser.Read([]string{"../testdata/logs"}, parser.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := reconstruct.Build(res)
	var all []AllocationJSON
	for _, a := range m.Allocations {
		all = append(all, NewAllocationJSON(m, a))
	}
	b.Run("way=encoder", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			for k := range all {
				buf.Reset()
				enc := NewJSONEncoder(&buf)
				enc.SetIndent("    ", "  ")
				if err := enc.Encode(all[k]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("way=hand", func(b *testing.B) {
		j := &jsonIndenter{prefix: "    "}
		for b.Loop() {
			for k := range all {
				j.b = j.b[:0]
				j.allocation(&all[k])
			}
		}
	})
}
