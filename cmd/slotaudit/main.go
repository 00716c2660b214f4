// Command slotaudit audits Apache Flink slot allocations from TaskManager,
// ResourceManager and JobManager logs. See README.md for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
)

// gcPercent is the collector's growth target unless GOGC says otherwise:
// an audit's heap is mostly packed events without pointers, which a
// collection marks at little cost, and collecting at half the default
// growth took the peak RSS of a 225,000-allocation audit from 1.87 to
// 1.51 GB for the same CPU time (issue 26).
const gcPercent = 50

// gcPercentAfterRead is the growth target once the inputs are read, when
// what was read holds more than bigRead bytes of heap (unless GOGC says
// otherwise): it is kept to the end, and growth in proportion to it was
// headroom the model and the rules did not need (the last goal of a 300k
// allocation audit, 869 MB for 675 MB live; 20 took 7–8 % off its peak
// RSS: bench/README.md). A small read keeps the first target: collecting
// its small heap more often only cost time. The line between them once
// lay at 256 MB, and a read that shrank to just below it (the 300k
// audit's, when events went from 40 to 32 bytes) kept the first target
// and peaked 40 MB higher than before it shrank.
const (
	gcPercentAfterRead = 20
	bigRead            = 64 << 20
)

// settleGC lowers the growth target after a big read (gcPercentAfterRead).
func settleGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	if live[0].Value.Kind() == metrics.KindUint64 && live[0].Value.Uint64() > bigRead {
		debug.SetGCPercent(gcPercentAfterRead)
	}
}

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// SLOTAUDIT_CPUPROFILE=file writes a CPU profile of the run, for
	// bench/run and whoever chases a slow log; it is not a flag because
	// it is not part of the contract.
	if path := os.Getenv("SLOTAUDIT_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "slotaudit: SLOTAUDIT_CPUPROFILE: %v\n", err)
			os.Exit(exitUsage)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "slotaudit: SLOTAUDIT_CPUPROFILE: %v\n", err)
			os.Exit(exitUsage)
		}
		code := Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		_ = f.Close()
		os.Exit(code)
	}
	os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
