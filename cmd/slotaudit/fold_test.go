package main

import (
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestFoldBudget: under --fold auto the first read keeps every event up to
// foldEvents, and says it kept them all; past that, only what a fold's
// first read keeps, and it says it did not.
func TestFoldBudget(t *testing.T) {
	keep, full := foldBudget()
	chatter := flinklog.NewEvent(flinklog.KindTMFree)
	refusal := flinklog.NewEvent(flinklog.KindTMAllocRefused)
	for i := range foldEvents {
		if !keep(&chatter) {
			t.Fatalf("event %d not kept under the budget", i)
		}
	}
	if !full() {
		t.Fatal("the budget says it dropped something at its limit")
	}
	if keep(&chatter) {
		t.Error("a free kept past the budget")
	}
	if !keep(&refusal) {
		t.Error("a refusal line (it says which table a process ran) dropped past the budget")
	}
	if full() {
		t.Error("past the budget, the read is said to be full")
	}
}
