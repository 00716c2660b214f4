//go:build !amd64 || purego

package flinklog

// Without a kernel, HasAnchor reads b with the portable code alone.
const (
	haveAnchorKernel = false
	anchorKernelMin  = 0
)

func anchorKernel(b []byte, last int) int { panic("flinklog: no anchor kernel") }
