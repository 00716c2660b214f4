package flinklog

import (
	"encoding/binary"
	"strings"
)

// hasAnchorOld is HasAnchor as it was at 8de8e20, kept for
// BenchmarkHasAnchor to compare with in the same run: one 4-byte gram in
// every 7 bytes (of the rarest run of 7 of each anchor) looked up in a
// hashed bitmap, then a pass for '/'.
func hasAnchorOld(b []byte) bool {
	a := &oldAnchorSet
	for p := 0; p+4 <= len(b); p += 7 {
		g := binary.LittleEndian.Uint32(b[p:])
		h := (g * 0x9e3779b1) >> 16
		if a.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for k := h & 4095; a.table[k].n > 0; k = (k + 1) & 4095 {
			e := &a.table[k]
			if e.gram != g {
				continue
			}
			for _, r := range a.refs[e.first : e.first+e.n] {
				w := a.anchors[r.anchor]
				if q := p - int(r.off); q >= 0 && q+len(w) <= len(b) && string(b[q:q+len(w)]) == w {
					return true
				}
			}
			break
		}
	}
	return rpcSchemeReference(b)
}

type oldGramRef struct{ anchor, off int32 }

type oldGramEntry struct {
	gram     uint32
	first, n uint16
}

// oldAnchorSet is anchorSet as it was built for hasAnchorOld.
var oldAnchorSet = func() (a struct {
	anchors []string
	bits    [1 << 16 / 64]uint64
	table   [4096]oldGramEntry
	refs    []oldGramRef
}) {
	const stride, gram = 7, 4
	a.anchors = Anchors()
	rarity := func(c byte) int {
		switch {
		case c == ' ':
			return -2
		case c >= 'a' && c <= 'z':
			return 0
		case c >= '0' && c <= '9', c == '.', c == ',', c == ':', c == '-', c == '=':
			return 1
		case c >= 'A' && c <= 'Z':
			return 2
		}
		return 3
	}
	common := map[string]bool{}
	for _, w := range strings.Fields(`tion atio ing_ the_ _the and_ _and from rom_ _fro with ith_ _wit for_ _for
		requ eque ques uest est_ Rece ecei ceiv eive ived ved_ Mana mana anag nage ager ger_ sour ourc urce rce_
		esou reso Star tart art_ able arti tche ask_ Task task _to_ _res _man _of_ _job _slo _sl ed_t er_f
		ent_ _is_ _in_ ion_ _fro t_re _req ted_ _at_ ffse fset set_ Fetc etch tch_ hear eart artb rtbe tbea beat eat_
		Hear _hea time ime. _off t_of acti orte rofi ofil file ing. _Tas sk_m k_ma _Man Mana ager`) {
		common[strings.ReplaceAll(w, "_", " ")] = true
	}
	grams := map[uint32][]oldGramRef{}
	var order []uint32
	for i, w := range a.anchors {
		best, bestScore := 0, -1<<30
		for at := 0; at+stride+gram-1 <= len(w); at++ {
			score := 0
			for _, c := range []byte(w[at : at+stride+gram-1]) {
				score += rarity(c)
			}
			for k := at; k < at+stride; k++ {
				if common[w[k:k+gram]] {
					score -= 8
				}
			}
			if score > bestScore {
				best, bestScore = at, score
			}
		}
		for k := best; k < best+stride; k++ {
			g := binary.LittleEndian.Uint32([]byte(w[k : k+gram]))
			h := (g * 0x9e3779b1) >> 16
			a.bits[h>>6] |= 1 << (h & 63)
			if grams[g] == nil {
				order = append(order, g)
			}
			grams[g] = append(grams[g], oldGramRef{int32(i), int32(k)})
		}
	}
	for _, g := range order {
		k := ((g * 0x9e3779b1) >> 16) & 4095
		for a.table[k].n > 0 {
			k = (k + 1) & 4095
		}
		a.table[k] = oldGramEntry{gram: g, first: uint16(len(a.refs)), n: uint16(len(grams[g]))}
		a.refs = append(a.refs, grams[g]...)
	}
	return a
}()
