// Command slotaudit audits Apache Flink slot allocations from TaskManager,
// ResourceManager and JobManager logs. See README.md for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
)

func main() {
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
