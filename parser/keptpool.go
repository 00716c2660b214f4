package parser

import "sync"

// keptPool is a free list of buffers that, unlike sync.Pool, survives
// garbage collections. The read's big buffers (a file's 1 MiB head, a
// piece's 256 KiB reader) were sync.Pool's: every collection emptied it,
// a fresh buffer was made for the next piece, and the kernel faulted its
// pages in anew during the pread that filled it — a third of a chatty
// gigabyte's 12,000 page faults, which on a virtual machine cost as much
// as reading the bytes. A keptPool holds at most max buffers (a few per
// core: what is read at once), so it stays a few megabytes.
type keptPool[T any] struct {
	mu   sync.Mutex
	free []T
	max  int
	new  func() T
}

// get returns a kept buffer, or a new one when none is free.
func (p *keptPool[T]) get() T {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		x := p.free[n-1]
		var zero T
		p.free[n-1] = zero
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return x
	}
	p.mu.Unlock()
	return p.new()
}

// put keeps x for the next get, unless max are kept already.
func (p *keptPool[T]) put(x T) {
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, x)
	}
	p.mu.Unlock()
}
