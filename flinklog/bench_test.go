package flinklog

import "testing"

// BenchmarkMatchTemplate: the classifier on one slot message and one noise
// message (most records of a real log are noise).
func BenchmarkMatchTemplate(b *testing.B) {
	slot := []byte("Free slot TaskSlot(index:4, state:ACTIVE, resource profile: ResourceProfile{cpuCores=1.0, heapMemoryInMB=42}, allocationId: 8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2f, jobId: 5f0b3c2d1e4a59687766554433221100).")
	noise := []byte("Checkpoint storage is set to 'jobmanager'")
	b.ReportAllocs()
	for b.Loop() {
		ev := NewEvent("")
		matchTemplate(slot, &ev)
		matchTemplate(noise, &ev)
	}
}
