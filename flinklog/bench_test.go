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

// BenchmarkHasAnchor: the anchor search on the messages of chatter (Kafka
// fetches, heartbeats, ZooKeeper pings, checkpoints): what nearly every
// record of a noisy log costs it.
func BenchmarkHasAnchor(b *testing.B) {
	msgs := [][]byte{
		[]byte("[Consumer clientId=consumer-3, groupId=flink-events] Fetch READ_UNCOMMITTED at offset 632756606 for partition events-4 returned fetch data (error=NONE, highWaterMark=632761623, lastStableOffset = -1, logStartOffset = 0, abortedTransactions = null, recordsSizeInBytes=437502)"),
		[]byte("[Consumer clientId=consumer-3, groupId=flink-events] Added READ_UNCOMMITTED fetch request for partition events-11 at offset 632756931 to node kafka-2.kafka:9092 (id: 2 rack: null)"),
		[]byte("Received heartbeat request from 861ef3e8f7038a6775e842a376565d67."),
		[]byte("Got ping response for sessionid: 0x1000008a7ffd3cc after 0ms"),
		[]byte("Starting checkpoint (160) CHECKPOINT on task Map (3/8)"),
	}
	n := 0
	for _, m := range msgs {
		n += len(m)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, m := range msgs {
			if HasAnchor(m) {
				b.Fatalf("an anchor in %q", m)
			}
		}
	}
}
