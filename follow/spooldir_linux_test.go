//go:build linux

package follow

import "testing"

// TestSpoolDirInMemory: a temporary directory given ($TMPDIR) on a file
// system held in memory is kept, and said to be in memory.
func TestSpoolDirInMemory(t *testing.T) {
	if !inMemory("/dev/shm") {
		t.Skip("no tmpfs at /dev/shm here")
	}
	t.Setenv("TMPDIR", "/dev/shm")
	if dir, inMem := SpoolDir(); dir != "/dev/shm" || !inMem {
		t.Errorf("SpoolDir() = %s, %v; want /dev/shm, true", dir, inMem)
	}
	t.Setenv("TMPDIR", t.TempDir())
	if dir, inMem := SpoolDir(); inMemory(dir) != inMem {
		t.Errorf("SpoolDir() = %s, %v, but inMemory says %v", dir, inMem, inMemory(dir))
	}
}

// TestSpoolFree: the spool says how much its file system has free, as
// statfs does (something, on the test's temporary directory).
func TestSpoolFree(t *testing.T) {
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if free := s.Free(); free <= 0 {
		t.Errorf("Free() = %d, want the bytes free of the temporary directory's file system", free)
	}
}
