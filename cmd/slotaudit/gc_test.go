package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestSettleGC: after a read that left a big heap the collector's growth
// target drops to gcPercentAfterRead; after a small one, or when GOGC is
// set, it stays.
func TestSettleGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	t.Setenv("GOGC", "")

	runtime.GC()
	settleGC()
	if got := debug.SetGCPercent(gcPercent); got != gcPercent {
		t.Errorf("after a small read the target is %d, want %d", got, gcPercent)
	}

	read := make([]byte, bigRead+(64<<20))
	for i := range read {
		read[i] = byte(i)
	}
	runtime.GC()
	settleGC()
	if got := debug.SetGCPercent(gcPercent); got != gcPercentAfterRead {
		t.Errorf("after a big read the target is %d, want %d", got, gcPercentAfterRead)
	}

	t.Setenv("GOGC", "100")
	settleGC()
	if got := debug.SetGCPercent(gcPercent); got != gcPercent {
		t.Errorf("with GOGC set the target is %d, want it left at %d", got, gcPercent)
	}
	runtime.KeepAlive(read)
}
