package fold

import (
	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// SkewFromReads makes the fold estimate the skew from a read that keeps
// every request (as when a window of the stream cannot tell it) until the
// returned function is called.
func SkewFromReads() (restore func()) {
	was := skewStream
	skewStream = func(*parser.Result, parser.Options, bool) (map[int32]reconstruct.Skew, map[int32][2]flinklog.Pos, error) {
		return nil, nil, reconstruct.ErrSkewWindow
	}
	return func() { skewStream = was }
}

// OwnEarly makes the fold copy the events it holds after a few events
// (folder.own) until the returned function is called.
func OwnEarly() (restore func()) {
	every, after := ownEvery, ownAfter
	ownEvery, ownAfter = 3, 5
	return func() { ownEvery, ownAfter = every, after }
}

// EstimateSkewFirst makes the fold estimate the skew before it folds,
// whatever its sample says, until the returned function is called.
func EstimateSkewFirst() (restore func()) {
	speculate = false
	return func() { speculate = true }
}

// SampleNothing makes the first read keep no sample of the skew's lines
// (so the fold assumes no skew, and must find out when there is one)
// until the returned function is called.
func SampleNothing() (restore func()) {
	was := skewSample
	skewSample = 0
	return func() { skewSample = was }
}

// WatchWindows has f told how many lines of no allocation the processes'
// windows held at the end of each fold, until the returned function is
// called.
func WatchWindows(f func(n int)) (restore func()) {
	windowsHeld = f
	return func() { windowsHeld = nil }
}

// WatchDeferred has f told the most stories each fold kept for now
// (Narrow.Outside) at once, until the returned function is called.
func WatchDeferred(f func(n int)) (restore func()) {
	deferredHeld = f
	return func() { deferredHeld = nil }
}

// SpillToFile makes the timelines of the stories let go go to a file from
// the first (Narrow.Timelines) until the returned function is called.
func SpillToFile() (restore func()) {
	was := spillInMemory
	spillInMemory = 0
	return func() { spillInMemory = was }
}

// PruneEarly makes the fold prune the lines kept for the indexes that
// rest on them at every story let go, until the returned function is
// called.
func PruneEarly() (restore func()) {
	was := restsOnPrune
	restsOnPrune = 0
	return func() { restsOnPrune = was }
}
