package fold

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// TestIdentitiesHoldNoEventText: what the join holds to the end (the
// ResourceIDs of the allocations unnamed lines served) is its own text,
// not a slice of an event's: a read again decodes a block's strings into
// one string, and one slice of it held keeps the block (a TaskManager log
// cut by retention serves tens of thousands of allocations: at five
// million allocations the blocks so kept took ~250 MB).
func TestIdentitiesHoldNoEventText(t *testing.T) {
	first, err := parser.Read([]string{"../testdata/logs/midstory-1.14-rotated-tm.log"}, parser.Options{DeferIdentities: true})
	if err != nil {
		t.Fatal(err)
	}
	id := newIdentities(first)
	tm := first.Inputs[0].File
	if !id.sc.Pending() {
		t.Fatal("the rotated TaskManager log is named by its own lines: nothing to join")
	}
	block := strings.Repeat("x", 1<<16) + "container_e01_1650000000000_0001_01_000002" + strings.Repeat("y", 1<<16)
	resource := block[1<<16 : len(block)-1<<16]
	at := func(s int64) flinklog.Time { return flinklog.Time{Kind: flinklog.TimeLocal, N: s * 1e9} }
	var allocs []flinklog.ID
	for k := range 3 {
		alloc, ok := flinklog.ParseID(strings.Repeat("0", 31) + string(rune('a'+k)))
		if !ok {
			t.Fatal("bad ID")
		}
		allocs = append(allocs, alloc)
		s := int64(100 * k)
		id.add(&flinklog.Event{Component: flinklog.ComponentRM, Kind: flinklog.KindRMSlotRequest, Alloc: alloc, Resource: resource, Time: at(s), Pos: flinklog.Pos{File: tm + 1, Line: int64(k + 1)}})
		id.add(&flinklog.Event{Component: flinklog.ComponentTM, Kind: flinklog.KindTMAllocated, Alloc: alloc, Time: at(s + 1), Pos: flinklog.Pos{File: tm, Line: int64(1000 + k)}})
		id.add(&flinklog.Event{Component: flinklog.ComponentTM, Kind: flinklog.KindTMFree, Alloc: alloc, Time: at(s + 2), Pos: flinklog.Pos{File: tm, Line: int64(2000 + k)}})
	}
	if _, _, err := id.finish(); err != nil {
		t.Fatal(err)
	}
	lo, hi := uintptr(unsafe.Pointer(unsafe.StringData(block))), uintptr(unsafe.Pointer(unsafe.StringData(block)))+uintptr(len(block))
	for _, alloc := range allocs {
		named := id.served[alloc]
		if len(named) != 1 || named[0].resource != resource {
			t.Fatalf("%s: served as %v, want named %s once", alloc, named, resource)
		}
		if p := uintptr(unsafe.Pointer(unsafe.StringData(named[0].resource))); p >= lo && p < hi {
			t.Errorf("%s: the ResourceID held is a slice of the event's text", alloc)
		}
	}
}
