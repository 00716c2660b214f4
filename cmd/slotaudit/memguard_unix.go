//go:build unix

package main

import (
	"math"
	"syscall"
)

// addressSpaceLimit is RLIMIT_AS (ulimit -v) in bytes, when one is set.
func addressSpaceLimit() (int64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil || rl.Cur == math.MaxUint64 || rl.Cur >= math.MaxInt64 {
		return 0, false
	}
	return int64(rl.Cur), true
}
