// Command slotaudit audits Apache Flink slot allocations from TaskManager,
// ResourceManager and JobManager logs. See README.md for the commands.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
