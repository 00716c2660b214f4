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
	skewStream = func(*parser.Result, parser.Options) (map[int32]reconstruct.Skew, map[int32][2]flinklog.Pos, error) {
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
