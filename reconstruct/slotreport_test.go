package reconstruct

import (
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestCompareKeptSharesOnlyEqualInputs: a check whose report and table
// equal the previous check's (of the same model) gets the same rows, not
// a copy; any difference in either, or the other model, gets rows of its
// own, equal to compare's.
func TestCompareKeptSharesOnlyEqualInputs(t *testing.T) {
	a1, _ := flinklog.ParseID("4d281fc2b655ae175b84d7592d68df69")
	a2, _ := flinklog.ParseID("5e392fd3c766bf286c95e8603e79e070")
	report := func(alloc flinklog.ID) []flinklog.SlotStatus {
		return []flinklog.SlotStatus{{SlotID: "tm_0", Resource: "tm", Index: 0, Alloc: alloc}, {SlotID: "tm_1", Resource: "tm", Index: 1}}
	}
	table := func(alloc flinklog.ID) []Slot {
		return []Slot{{Index: 0, State: Active, Alloc: alloc}}
	}
	r := &Replay{}
	steps := []struct {
		name     string
		model    Semantics
		reported []flinklog.SlotStatus
		slots    []Slot
		shares   bool // the rows are the previous step's of that model
	}{
		{"first", Legacy, report(a1), table(a1), false},
		{"same again, other slices", Legacy, report(a1), table(a1), true},
		{"other model", Fixed, report(a1), table(a1), false},
		{"legacy after fixed", Legacy, report(a1), table(a1), true},
		{"report changed", Legacy, report(a2), table(a1), false},
		{"table changed", Legacy, report(a2), table(a2), false},
		{"table free", Legacy, report(a2), nil, false},
		{"same again", Legacy, report(a2), nil, true},
	}
	prev := map[Semantics][]SlotReportRow{}
	for _, s := range steps {
		rows, agrees := r.compareKept(int(s.model), s.reported, s.slots)
		want, wantAgrees := r.compare(s.reported, s.slots)
		if !reflect.DeepEqual(rows, want) || agrees != wantAgrees {
			t.Errorf("%s: rows %+v (%v), compare gives %+v (%v)", s.name, rows, agrees, want, wantAgrees)
		}
		shared := prev[s.model] != nil && len(rows) > 0 && &rows[0] == &prev[s.model][0]
		if shared != s.shares {
			t.Errorf("%s: shares the previous rows = %v, want %v", s.name, shared, s.shares)
		}
		prev[s.model] = rows
	}
}
