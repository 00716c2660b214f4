package flinklog

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/slotaudit/slotaudit/sim"
)

// simMessages are the message bodies (the text after " - ", with the
// continuation lines) of the records of a simulated chatty DEBUG cluster,
// as the text hot path hands them to HasAnchor: nearly all of them chatter.
var simMessages = sync.OnceValues(func() ([][]byte, error) {
	res, err := sim.Run(sim.Config{Flink: "1.9.3", TaskManagers: 4, Slots: 4, Jobs: 6, Seed: 1,
		Debug: true, Noise: 25, Minutes: 10})
	if err != nil {
		return nil, err
	}
	var msgs [][]byte
	for _, name := range []string{"jobmanager.log", "taskmanager-0.log", "taskmanager-1.log"} {
		msgs = append(msgs, recordMessages([]byte(res.Files[name]))...)
	}
	return msgs, nil
})

// testdataMessages are those of the project's text test logs: real
// shapes, many of them slot records.
var testdataMessages = sync.OnceValues(func() ([][]byte, error) {
	files, err := filepath.Glob("../testdata/logs/*.log")
	if err != nil {
		return nil, err
	}
	var msgs [][]byte
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, recordMessages(data)...)
	}
	return msgs, nil
})

// recordMessages splits a log in Flink's text layout into its records'
// messages: from the first non-blank after the header's " - " to the end
// of the record's last continuation line.
func recordMessages(data []byte) [][]byte {
	var msgs [][]byte
	start := -1 // where the record in progress's message starts
	end := 0
	flush := func() {
		if start >= 0 {
			msgs = append(msgs, data[start:end])
		}
		start = -1
	}
	for at := 0; at < len(data); {
		n := bytes.IndexByte(data[at:], '\n')
		if n < 0 {
			n = len(data) - at
		}
		line := data[at : at+n]
		if len(line) > 4 && line[0] >= '0' && line[0] <= '9' && line[3] >= '0' && line[3] <= '9' {
			if d := bytes.Index(line, []byte(" - ")); d >= 0 {
				flush()
				start = at + d + 3
				for start < at+n && data[start] == ' ' {
					start++
				}
			}
		}
		end = at + n
		at += n + 1
	}
	flush()
	return msgs
}

// BenchmarkHasAnchor: the anchor search, record by record, on the messages
// of a simulated chatty DEBUG log (sim: 6.7 MB, read from memory as a
// whole; sim-l2: one message in 25 of it, 200 kB, which stay in the
// caches as the record the parser has just read does), of the test logs
// (testdata, mostly slot records) and of a few lines of chatter. old is
// the search as it was (hasAnchorOld), for a comparison in the same run;
// portable is the search without the kernel (what other architectures
// run).
func BenchmarkHasAnchor(b *testing.B) {
	chatter := [][]byte{
		[]byte("[Consumer clientId=consumer-3, groupId=flink-events] Fetch READ_UNCOMMITTED at offset 632756606 for partition events-4 returned fetch data (error=NONE, highWaterMark=632761623, lastStableOffset = -1, logStartOffset = 0, abortedTransactions = null, recordsSizeInBytes=437502)"),
		[]byte("[Consumer clientId=consumer-3, groupId=flink-events] Added READ_UNCOMMITTED fetch request for partition events-11 at offset 632756931 to node kafka-2.kafka:9092 (id: 2 rack: null)"),
		[]byte("Received heartbeat request from 861ef3e8f7038a6775e842a376565d67."),
		[]byte("Got ping response for sessionid: 0x1000008a7ffd3cc after 0ms"),
		[]byte("Starting checkpoint (160) CHECKPOINT on task Map (3/8)"),
	}
	simL2 := func() ([][]byte, error) {
		msgs, err := simMessages()
		var some [][]byte
		for i := 0; i < len(msgs); i += 25 {
			some = append(some, msgs[i])
		}
		return some, err
	}
	inputs := []struct {
		name string
		msgs func() ([][]byte, error)
	}{
		{"sim", simMessages},
		{"sim-l2", simL2},
		{"testdata", testdataMessages},
		{"chatter", func() ([][]byte, error) { return chatter, nil }},
	}
	impls := []struct {
		name string
		fn   func([]byte) bool
	}{
		{"old", hasAnchorOld},
		{"new", HasAnchor},
		{"portable", func(b []byte) bool { return hasAnchorFrom(b, 0) }},
	}
	for _, in := range inputs {
		msgs, err := in.msgs()
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			n += len(m)
		}
		for _, impl := range impls {
			b.Run("input="+in.name+"/impl="+impl.name, func(b *testing.B) {
				b.SetBytes(int64(n))
				found := 0
				for b.Loop() {
					found = 0
					for _, m := range msgs {
						if impl.fn(m) {
							found++
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(msgs)), "ns/record")
				b.ReportMetric(float64(found)/float64(len(msgs)), "anchored/record")
			})
		}
	}
}
