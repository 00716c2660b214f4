package parser

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestEventPackGivesItsEventsBack: every event of the bundled logs, packed
// one by one (across many blocks), reads back field for field, and a
// result made of the pack gives them as a result made of the events does.
func TestEventPackGivesItsEventsBack(t *testing.T) {
	full, err := Read([]string{"../testdata/logs"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []flinklog.Event
	var p EventPack
	for i := 0; i < full.Len(); i++ {
		ev := full.Event(EventRef(i))
		evs = append(evs, *ev)
		p.Add(ev)
	}
	if p.Len() != len(evs) || len(evs) < eventBlockLen {
		t.Fatalf("packed %d of %d events (want more than a block)", p.Len(), len(evs))
	}
	packed, listed := full.WithPack(&p), full.WithEvents(evs)
	var scratch flinklog.Event
	for i := range evs {
		if got := p.Read(i, &scratch); !reflect.DeepEqual(*got, evs[i]) {
			t.Fatalf("event %d reads back as\n %+v\nnot\n %+v", i, *got, evs[i])
		}
		if a, b := packed.Event(EventRef(i)), listed.Event(EventRef(i)); !reflect.DeepEqual(a, b) || packed.Text(EventRef(i)) != listed.Text(EventRef(i)) {
			t.Fatalf("event %d of the packed result differs:\n %+v\n %+v", i, a, b)
		}
	}
}

// TestThinIsTheKeepRead: a read thinned to what a Keep keeps gives the
// events a read with that Keep gives, for every bundled log, whole and in
// pieces (where the read folded no slot report).
func TestThinIsTheKeepRead(t *testing.T) {
	keep := func(ev *flinklog.Event) bool {
		return ev.Kind == flinklog.KindTMAllocRefused || ev.Kind == flinklog.KindTMAllocExists || ev.Kind == flinklog.KindRMSlotRequest
	}
	paths, _ := filepath.Glob("../testdata/logs/*")
	thinned := 0
	for _, p := range paths {
		full, err := Read([]string{p}, Options{})
		if err != nil {
			continue
		}
		if len(full.repeats) > 0 {
			continue // (left as it is)
		}
		kept, err := Read([]string{p}, Options{Keep: keep, DeferIdentities: true})
		if err != nil {
			t.Fatal(err)
		}
		full.Thin(keep)
		if got, want := full.events.list(), kept.events.list(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: thinned %d events, the Keep read %d", p, len(got), len(want))
		}
		thinned++
	}
	if thinned < 20 {
		t.Errorf("only %d logs thinned", thinned)
	}
}
