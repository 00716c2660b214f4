package parser

import (
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
