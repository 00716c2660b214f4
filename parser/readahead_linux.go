package parser

import (
	"os"

	"golang.org/x/sys/unix"
)

const canAdvise = true

// openNoDelay opens path for reading without waiting: a path that turned
// into a FIFO after it was checked must not block the read-ahead.
func openNoDelay(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
}

// adviseWillNeed starts reading [off, off+n) of f into the page cache and
// returns without waiting for it. Failing is harmless: the parser reads
// the bytes itself.
func adviseWillNeed(f *os.File, off, n int64) {
	_ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_WILLNEED)
}
