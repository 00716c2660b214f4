package sim

import (
	"fmt"
	"math/rand/v2"
)

// noiseSource writes the DEBUG chatter that dominates real Flink DEBUG logs
// and has nothing to do with slots: heartbeat bookkeeping, ZooKeeper pings,
// checkpoint acknowledgements, and the Kafka consumer of the user's job
// (the bulk on a TaskManager). Benchmarks need it: a parser that is fast on
// slot lines only is not fast on real logs.
type noiseSource struct {
	rng    *rand.Rand
	perSec int  // records per simulated second
	tm     bool // a TaskManager (Kafka fetches) rather than the JobManager
	peer   string
	job    string
	offset int64
	next   int64   // host time (ms) of the next record
	frac   float64 // the part of a millisecond carried to the next gap (above 1000 records/s)
	until  int64   // the end of the run
}

func newNoiseSource(seed uint64, name string, perSec int, tm bool, until int64) *noiseSource {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	rng := rand.New(rand.NewPCG(seed, h))
	n := &noiseSource{rng: rng, perSec: perSec, tm: tm, offset: rng.Int64N(1 << 30), until: until}
	n.peer = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	n.job = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	n.advance()
	return n
}

// advance moves to the next record: exponential gaps at the given rate.
// Up to 1000 records a second the gap is at least a millisecond, as it has
// always been (the corpora and goldens made so far stay the same); above,
// several records share a millisecond, as they do in busy real logs, so that
// the rate keeps growing to gigabytes of chatter per cluster (with the
// millisecond floor it stopped near 1000 a second).
func (n *noiseSource) advance() {
	gap := n.rng.ExpFloat64() * 1000 / float64(n.perSec)
	if n.perSec <= 1000 {
		n.next += 1 + int64(gap)
		return
	}
	n.frac += gap
	whole := int64(n.frac)
	n.frac -= float64(whole)
	n.next += whole
}

// record returns the record due at n.next and schedules the one after.
func (n *noiseSource) record() record {
	r := record{at: n.next, level: "DEBUG"}
	n.advance()
	k := n.rng.IntN(100)
	switch {
	case n.tm && k < 70:
		part := n.rng.IntN(12)
		n.offset += 1 + n.rng.Int64N(500)
		r.logger, r.thread = "org.apache.kafka.clients.consumer.internals.Fetcher", "Kafka Fetcher for Source: events -> Map (1/8)"
		if k < 40 {
			r.msg = fmt.Sprintf("[Consumer clientId=consumer-3, groupId=flink-events] Fetch READ_UNCOMMITTED at offset %d for partition events-%d returned fetch data (error=NONE, highWaterMark=%d, lastStableOffset = -1, logStartOffset = 0, abortedTransactions = null, recordsSizeInBytes=%d)",
				n.offset, part, n.offset+n.rng.Int64N(10000), n.rng.IntN(1<<20))
		} else {
			r.msg = fmt.Sprintf("[Consumer clientId=consumer-3, groupId=flink-events] Added READ_UNCOMMITTED fetch request for partition events-%d at offset %d to node kafka-%d.kafka:9092 (id: %d rack: null)",
				part, n.offset, part%3, part%3)
		}
	case k < 80:
		r.logger, r.thread = "org.apache.flink.runtime.heartbeat.HeartbeatManagerImpl", "flink-akka.actor.default-dispatcher-"+fmt.Sprint(2+n.rng.IntN(20))
		if n.tm {
			r.msg = fmt.Sprintf("Received heartbeat request from %s.", n.peer)
		} else {
			r.msg = fmt.Sprintf("Received heartbeat from %s.", n.peer)
		}
	case k < 90:
		r.logger, r.thread = "org.apache.flink.shaded.zookeeper.org.apache.zookeeper.ClientCnxn", "main-SendThread(zookeeper-0.zookeeper:2181)"
		r.msg = fmt.Sprintf("Got ping response for sessionid: 0x%x after %dms", 0x1000008a7ff0000+n.rng.Int64N(1<<16), n.rng.IntN(5))
	default:
		r.logger, r.thread = "org.apache.flink.runtime.checkpoint.CheckpointCoordinator", "jobmanager-future-thread-"+fmt.Sprint(1+n.rng.IntN(8))
		r.msg = fmt.Sprintf("Received acknowledge message for checkpoint %d from task %016x%016x of job %s at container-%d.",
			1+n.rng.IntN(500), n.rng.Uint64(), n.rng.Uint64(), n.job, n.rng.IntN(10))
		if n.tm {
			r.logger, r.thread = "org.apache.flink.streaming.runtime.tasks.StreamTask", "Map (3/8)"
			r.msg = fmt.Sprintf("Starting checkpoint (%d) CHECKPOINT on task Map (3/8)", 1+n.rng.IntN(500))
		}
	}
	return r
}
