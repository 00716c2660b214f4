package parser

// IDs and a profile as Flink prints them, for the tests' log lines (the
// templates' own tests in package flinklog use the same ones).
const (
	tA = "8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2f"
	tJ = "5f0b3c2d1e4a59687766554433221100"
	tP = "ResourceProfile{cpuCores=1.0000000000000000, taskHeapMemory=384.000mb (402653174 bytes), taskOffHeapMemory=0 bytes, managedMemory=512.000mb (536870920 bytes), networkMemory=128.000mb (134217730 bytes)}"
)
