package flinklog

import (
	"bytes"
	"sync"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

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

// sessionMessages are the messages (first lines) of a simulated session
// cluster's JobManager and a TaskManager (1.12.7, INFO): nearly every
// record a slot lifecycle line, as in an allocation-dense log.
var sessionMessages = sync.OnceValues(func() ([][]byte, error) {
	res, err := sim.Run(sim.Config{Flink: "1.12.7", TaskManagers: 4, Slots: 8, Jobs: 4, JobSeconds: 10, Seed: 26, Minutes: 10})
	if err != nil {
		return nil, err
	}
	var msgs [][]byte
	for _, name := range []string{"jobmanager.log", "taskmanager-0.log"} {
		for _, m := range recordMessages([]byte(res.Files[name])) {
			if i := bytes.IndexByte(m, '\n'); i >= 0 {
				m = m[:i]
			}
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
})

// BenchmarkMatchSession: template matching (matchTemplate, what Classify
// runs on a record that may give an event) over an allocation-dense log's
// messages, per message.
func BenchmarkMatchSession(b *testing.B) {
	msgs, err := sessionMessages()
	if err != nil {
		b.Fatal(err)
	}
	matched := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		matched = 0
		for _, m := range msgs {
			ev := NewEvent("")
			if _, ok := matchTemplate(m, &ev); ok {
				matched++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
	if matched < len(msgs)/2 {
		b.Fatalf("%d of %d messages matched", matched, len(msgs))
	}
}
