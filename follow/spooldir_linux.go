//go:build linux

package follow

import "golang.org/x/sys/unix"

// inMemory reports whether dir lies on a file system held in memory
// (tmpfs, ramfs): a spool there would take the memory it is meant to spare.
func inMemory(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	return st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC
}

// freeBytes is how much dir's file system has free for an unprivileged
// writer, or -1 when it cannot tell.
func freeBytes(dir string) int64 {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
