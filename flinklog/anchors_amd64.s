//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// The kernel of HasAnchor (see anchorKernel): the portable code's sampling,
// 8 places (56 bytes) at a time, and the pairs of bytes of
// anchorSet.pairTables (":/" of the RPC addresses, "D{") by 32-byte
// shuffles and compares in the same pass, with one branch a block.
//
// Registers: SI b, DX len(b), DI anchorSet.hit, BX the first place of the
// block in hand, R8 where its pairs are read from, R12 the last place a
// block of 8 starts at, R13 the first of the last 4 places, R11B the
// grams' hit bytes or'ed, Y5 the pairs found, Y12 and Y13 the pairs'
// first and second bytes by the first's low nibble (anchorSet.pairTables).

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

// PAIRS ors into Y5 the places of the 32 from pos+off where a pair starts:
// a byte is the first of a pair if Y12 holds it at its low nibble, and
// the byte after it is the second if Y13 holds that at the same nibble
// (VPSHUFB gives 0 for a byte of 0x80 or more, which is no first byte).
#define PAIRS(pos, off) \
	VMOVDQU  off(SI)(pos*1), Y0; \
	VPSHUFB  Y0, Y12, Y1; \
	VPCMPEQB Y0, Y1, Y1; \
	VPSHUFB  Y0, Y13, Y2; \
	VPCMPEQB off+1(SI)(pos*1), Y2, Y2; \
	VPAND    Y2, Y1, Y1; \
	VPOR     Y1, Y5, Y5

// FOUND ends the scan at BX when a probe (hitKernel) or a pair hit. When
// it goes on, R11 and Y5 are 0 again: the and clears R11's other bits,
// and a compare's byte is 0 when its top bit is.
#define FOUND \
	VPMOVMSKB Y5, AX; \
	ANDL      $const_hitKernel, R11; \
	ORL       R11, AX; \
	JNZ       found

// func anchorScanAVX2(b []byte, hit *[1 << 16]byte, pairs *[64]byte, last int) int
TEXT ·anchorScanAVX2(SB), NOSPLIT, $0-56
	MOVQ    b_base+0(FP), SI
	MOVQ    b_len+8(FP), DX
	MOVQ    hit+24(FP), DI
	MOVQ    pairs+32(FP), AX
	MOVQ    last+40(FP), R13
	VMOVDQU 0(AX), Y12
	VMOVDQU 32(AX), Y13
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
