//go:build unix

package flinklog

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestHasAnchorReadsOnlyB: HasAnchor reads no byte before or after b,
// however long b is: b lies right after an unreadable page, or right
// before one, and a read past it faults.
func TestHasAnchorReadsOnlyB(t *testing.T) {
	page := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 3*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	defer unix.Munmap(mem)
	if err := unix.Mprotect(mem[:page], unix.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	if err := unix.Mprotect(mem[2*page:], unix.PROT_NONE); err != nil {
		t.Skip("mprotect:", err)
	}
	data := mem[page : 2*page]
	texts := []string{noise + noise, "pekko.tcp://" + noise + noise}
	for _, w := range append(Anchors(), rpcForms...) {
		texts = append(texts, noise[:100]+w)
	}
	for _, text := range texts {
		for n := 0; n <= 300 && n <= len(text); n++ {
			src := text[len(text)-n:]
			for _, at := range []int{0, len(data) - n} {
				b := data[at : at+n : at+n]
				copy(b, src)
				checkHasAnchor(t, "at a page's edge", b, hasAnchorReference(b))
			}
		}
	}
}
