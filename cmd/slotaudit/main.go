// Command slotaudit audits Apache Flink slot allocations from TaskManager,
// ResourceManager and JobManager logs. See README.md for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
)

// gcPercent is the collector's growth target unless GOGC says otherwise:
// an audit's heap is mostly packed events without pointers, which a
// collection marks at little cost, and collecting at half the default
// growth took the peak RSS of a 225,000-allocation audit from 1.87 to
// 1.51 GB for the same CPU time (issue 26).
const gcPercent = 50

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
