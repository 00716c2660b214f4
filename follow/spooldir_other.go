//go:build !linux

package follow

// inMemory cannot tell here: every directory is taken for a disk's.
func inMemory(string) bool { return false }

// freeBytes cannot tell here.
func freeBytes(string) int64 { return -1 }
