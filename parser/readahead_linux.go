package parser

import (
	"os"

	"golang.org/x/sys/unix"
)

const canAdvise = true

// adviseWillNeed starts reading [off, off+n) of f into the page cache and
// returns without waiting for it. Failing is harmless: the parser reads
// the bytes itself.
func adviseWillNeed(f *os.File, off, n int64) {
	_ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_WILLNEED)
}
