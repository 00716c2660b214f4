//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// The kernel of HasAnchor (see anchorKernel): the portable code's sampling,
// 8 places (56 bytes) at a time, and the two pairs of bytes of
// anchorSet.pairKeys (":/" of the RPC addresses, "D{") by 32-byte compares
// in the same pass, with one branch a block.
//
// Registers: SI b, DX len(b), DI anchorSet.hit, BX the first place of the
// block in hand, R8 where its pairs are read from, R12 the last place a
// block of 8 starts at, R13 the first of the last 4 places, R11B the
// grams' hit bytes or'ed, Y5 the pairs found, Y12 to Y15 the bytes of the
// two pairs (in every byte).

// PROBE ors into R11B the hit byte of the gram at pos+off (gramHash).
#define PROBE(pos, off) \
	IMUL3L $0x9e3779b1, off(SI)(pos*1), AX; \
	SHRL   $16, AX; \
	ORB    (DI)(AX*1), R11B

// HALF probes the 4 places from pos+off.
#define HALF(pos, off) \
	PROBE(pos, off); \
	PROBE(pos, off+7); \
	PROBE(pos, off+14); \
	PROBE(pos, off+21)

// PAIRS ors into Y5 the places of the 32 from pos+off where a pair starts.
#define PAIRS(pos, off) \
	VMOVDQU  off(SI)(pos*1), Y0; \
	VMOVDQU  off+1(SI)(pos*1), Y1; \
	VPCMPEQB Y0, Y12, Y2; \
	VPCMPEQB Y1, Y13, Y3; \
	VPAND    Y3, Y2, Y2; \
	VPCMPEQB Y0, Y14, Y0; \
	VPCMPEQB Y1, Y15, Y1; \
	VPAND    Y1, Y0, Y0; \
	VPOR     Y0, Y2, Y0; \
	VPOR     Y0, Y5, Y5

// FOUND ends the scan at BX when a probe (hitKernel) or a pair hit, and
// clears them for the next block.
#define FOUND \
	VPMOVMSKB Y5, AX; \
	ANDL      $const_hitKernel, R11; \
	ORL       R11, AX; \
	JNZ       found; \
	XORL      R11, R11; \
	VPXOR     Y5, Y5, Y5

// func anchorScanAVX2(b []byte, hit *[1 << 16]byte, pairs *[4]byte, last int) int
TEXT ·anchorScanAVX2(SB), NOSPLIT, $0-56
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), DX
	MOVQ hit+24(FP), DI
	MOVQ pairs+32(FP), AX
	MOVQ last+40(FP), R13
	VPBROADCASTB 0(AX), Y12
	VPBROADCASTB 1(AX), Y13
	VPBROADCASTB 2(AX), Y14
	VPBROADCASTB 3(AX), Y15
	XORL  R11, R11
	VPXOR Y5, Y5, Y5
	SUBQ  $21, R13      // the first of the last four places
	LEAQ  -35(R13), R12 // the last place a block of 8 starts at
	XORL  BX, BX
	XORL  R8, R8
	CMPQ  BX, R12
	JGT   half

block:
	// The places BX to BX+49 and the pairs from BX to BX+55, read from
	// R8 = BX-4 (0 for the first block) and BX+24, so that the loads end
	// before the last place (b holds 3 more bytes).
	HALF(BX, 0)
	HALF(BX, 28)
	PAIRS(R8, 0)
	PAIRS(BX, 24)
	FOUND
	ADDQ $56, BX
	LEAQ -4(BX), R8
	CMPQ BX, R12
	JLE  block

half:
	// The places BX to BX+21 and the pairs from BX to BX+27, unless the
	// last four places start at BX or before.
	CMPQ BX, R13
	JGE  end
	HALF(BX, 0)
	PAIRS(R8, 0)
	FOUND
	ADDQ $28, BX

end:
	// The last four places, and the pairs from len(b)-33 (at most BX,
	// which is at least last-21) to the end.
	HALF(R13, 0)
	LEAQ -33(DX), R8
	PAIRS(R8, 0)
	FOUND
	MOVQ $-1, BX

found:
	MOVQ BX, ret+48(FP)
	VZEROUPPER
	RET
