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
