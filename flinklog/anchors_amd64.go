//go:build amd64 && !purego

package flinklog

import "golang.org/x/sys/cpu"

// haveAnchorKernel: the kernel's pair compares are AVX2's.
var haveAnchorKernel = cpu.X86.HasAVX2

const (
	// anchorKernelMin: the shortest b the kernel reads (it reads pairs 32
	// places at a time); a shorter one is read by the portable code.
	anchorKernelMin = 33
)

// anchorKernel returns the first place p (a multiple of anchorStride) from
// which b may hold the sampled gram of an anchor (hitKernel in
// anchorSet.hit) at a place, or a pair of anchorSet.pairTables, or -1 when
// it holds neither; last is b's last sampled place. b holds none before p
// (at places before p, or starting before p). len(b) must be at least
// anchorKernelMin.
func anchorKernel(b []byte, last int) int {
	return anchorScanAVX2(b, &anchorSet.hit, &anchorSet.pairTables, last)
}

//go:noescape
func anchorScanAVX2(b []byte, hit *[1 << 16]byte, pairs *[64]byte, last int) int
