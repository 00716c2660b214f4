package flinklog

import "encoding/hex"

// ID is a Flink AbstractID (AllocationID, JobID, InstanceID, ...): 16 bytes
// printed by Flink as 32 lower-case hex digits. The zero ID is "absent";
// an all-zero JobID printed in a log (application mode) is present and
// distinct from absent, which is why presence is a separate flag.
type ID struct {
	b   [16]byte
	set bool
}

// Bytes returns the ID's 16 bytes (all zero for an absent ID), for a
// reader that hashes IDs without printing them.
func (id ID) Bytes() [16]byte { return id.b }

// IDFromBytes returns the (set) ID of the 16 bytes b, as Bytes gave them.
func IDFromBytes(b [16]byte) ID { return ID{b: b, set: true} }

// IsSet reports whether the ID was read from a log line.
func (id ID) IsSet() bool { return id.set }

// String returns the 32 lower-case hex digits, or "" for an absent ID.
func (id ID) String() string {
	if !id.set {
		return ""
	}
	var buf [32]byte
	hex.Encode(buf[:], id.b[:])
	return string(buf[:])
}

// ParseID decodes 32 hex digits (either case) into an ID.
func ParseID(s string) (ID, bool) { return parseIDBytes([]byte(s)) }

func parseIDBytes(s []byte) (ID, bool) {
	var id ID
	if len(s) != 32 {
		return id, false
	}
	bad := byte(0)
	for i := 0; i < 16; i++ {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		bad |= hi | lo
		id.b[i] = hi<<4 | lo&0x0f
	}
	if bad&0xf0 != 0 {
		return ID{}, false
	}
	id.set = true
	return id, true
}

// hexValue is each byte's value as a hex digit, or 0xff: a table, not
// branches, because every event's IDs pass through it (two or three 32-digit
// IDs a record on an allocation-dense log).
var hexValue = func() (t [256]byte) {
	for c := range t {
		t[c] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
		t[c-'a'+'A'] = c - 'a' + 10
	}
	return t
}()

func isHex(c byte) bool { return hexValue[c] != 0xff }

// scanHexID reads an ID at the start of s: exactly 32 hex digits not followed
// by another hex digit, or Flink 1.6/1.7's "AllocationID{<32 hex>}". It
// returns the ID and the number of bytes consumed. A SlotRequestId{...} or
// any other wrapper is refused, so a JM-internal request id is never taken
// for an AllocationID.
func scanHexID(s []byte) (ID, int) {
	const wrap = "AllocationID{"
	if len(s) >= len(wrap)+33 && string(s[:len(wrap)]) == wrap {
		id, ok := parseIDBytes(s[len(wrap) : len(wrap)+32])
		if ok && s[len(wrap)+32] == '}' {
			return id, len(wrap) + 33
		}
		return ID{}, 0
	}
	if len(s) < 32 {
		return ID{}, 0
	}
	if len(s) > 32 && isHex(s[32]) {
		return ID{}, 0
	}
	id, ok := parseIDBytes(s[:32])
	if !ok {
		return ID{}, 0
	}
	return id, 32
}
