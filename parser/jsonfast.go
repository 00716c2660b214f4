package parser

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A JSON log's records are decoded on every line, and decoding a whole
// object into a map (every key, every value, maps for nested objects) was
// nearly all of the time spent on JSON logs. recordFromObject reads only a
// few keys, so fastJSONObject checks the object's grammar in one pass (as
// strictly as the decoder) and decodes only the members whose key
// recordFromObject can look at, into the same values the decoder gives.

// jsonTopKeys are the top-level keys recordFromObject can read: every key
// of the lists it uses, and for a dotted key ("log.level") also its first
// part, which jsonGet follows into nested objects.
var jsonTopKeys = func() map[string]bool {
	keys := map[string]bool{}
	for _, list := range [][]string{jsonTimeKeys, jsonLevelKeys, jsonLoggerKeys, jsonThreadKeys, jsonMsgKeys,
		jsonFullKeys, jsonThrownKeys, jsonStackKeys, jsonErrorTypeKeys, jsonErrorMsgKeys, jsonShapeKeys} {
		for _, k := range list {
			keys[k] = true
			if first, _, dotted := strings.Cut(k, "."); dotted {
				keys[first] = true
			}
		}
	}
	return keys
}()

// jsonKeys numbers jsonTopKeys: a record's members are kept by number
// (jsonMembers), and a key is found among those of its length
// (jsonKeyID). A map from key to member cost two hashes of the key per
// member, and a JSON log's records have a dozen members: a quarter of its
// reading.
var jsonKeys = func() []jsonTopKey {
	exception := map[string]bool{}
	for _, list := range [][]string{jsonThrownKeys, jsonStackKeys, jsonErrorTypeKeys, jsonErrorMsgKeys} {
		for _, k := range list {
			exception[k] = true
			if first, _, dotted := strings.Cut(k, "."); dotted {
				exception[first] = true
			}
		}
	}
	var keys []jsonTopKey
	for k := range jsonTopKeys {
		keys = append(keys, jsonTopKey{k, exception[k]})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].name < keys[j].name })
	return keys
}()

type jsonTopKey struct {
	name      string
	exception bool // a key jsonThrown reads (or the first part of one)
}

// jsonKeysByLen lists the numbers of jsonKeys by the length of the key.
var jsonKeysByLen = func() [][]int {
	var byLen [][]int
	for id, k := range jsonKeys {
		for len(byLen) <= len(k.name) {
			byLen = append(byLen, nil)
		}
		byLen[len(k.name)] = append(byLen[len(k.name)], id)
	}
	return byLen
}()

// jsonKeyID returns the number of the key k among jsonKeys.
func jsonKeyID(k string) (int, bool) {
	if len(k) >= len(jsonKeysByLen) {
		return 0, false
	}
	for _, id := range jsonKeysByLen[len(k)] {
		if jsonKeys[id].name == k {
			return id, true
		}
	}
	return 0, false
}

// jsonMembers are the members of one JSON record that recordFromObject can
// read, by the number of their key (jsonKeys).
type jsonMembers struct {
	vals   []any
	has    []bool
	setIDs []int // the numbers set, to empty them again
}

// reset empties m for the next record: only what was set, so that no line
// of an earlier record is kept alive (clearing every value was a tenth of
// a JSON log's reading, write barriers included).
func (m *jsonMembers) reset() {
	if m.vals == nil {
		m.vals, m.has = make([]any, len(jsonKeys)), make([]bool, len(jsonKeys))
	}
	for _, id := range m.setIDs {
		m.vals[id], m.has[id] = nil, false
	}
	m.setIDs = m.setIDs[:0]
}

func (m *jsonMembers) set(id int, v any) {
	if !m.has[id] {
		m.setIDs = append(m.setIDs, id)
	}
	m.vals[id], m.has[id] = v, true
}

// fill sets m to the members of obj, an object encoding/json decoded.
func (m *jsonMembers) fill(obj map[string]any) {
	m.reset()
	for id, k := range jsonKeys {
		if v, ok := obj[k.name]; ok {
			m.set(id, v)
		}
	}
}

// jsonKeyRef is a key recordFromObject reads, numbered once (see get).
type jsonKeyRef struct {
	flat  int      // the key's number; -1 if it is none of jsonKeys (never)
	first int      // a dotted key's first part's number; -1 for a plain key
	rest  []string // the parts after the first
}

func jsonRef(key string) jsonKeyRef {
	r := jsonKeyRef{flat: -1, first: -1}
	if id, ok := jsonKeyID(key); ok {
		r.flat = id
	}
	if first, rest, dotted := strings.Cut(key, "."); dotted {
		if id, ok := jsonKeyID(first); ok {
			r.first = id
			r.rest = strings.Split(rest, ".")
		}
	}
	return r
}

func jsonRefs(keys []string) []jsonKeyRef {
	refs := make([]jsonKeyRef, len(keys))
	for i, k := range keys {
		refs[i] = jsonRef(k)
	}
	return refs
}

// get looks a key up flat ("log.level": ...) and, for dotted keys, nested
// ({"log": {"level": ...}}), as ECS producers differ.
func (m *jsonMembers) get(r *jsonKeyRef) (any, bool) {
	if r.flat >= 0 && m.has[r.flat] {
		return m.vals[r.flat], true
	}
	if r.first < 0 || !m.has[r.first] {
		return nil, false
	}
	cur := m.vals[r.first]
	for _, part := range r.rest {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// fastJSONObject returns the members of b (one JSON object, blanks around
// it allowed) that jsonTopKeys names, decoded as encoding/json decodes them
// into a map with UseNumber. It checks the grammar as it goes (RFC 8259, as
// encoding/json's scanner does); ok=false (not one valid object, or nested
// deeper than it cares to follow) leaves b to the decoder, which says what
// is wrong. exception says whether a member jsonThrown reads was kept (most
// records have none, and looking for them all was a tenth of the time).
// The members go into m (emptied first), which a stream reuses from record
// to record. maps, if not nil, gives the maps of nested objects, the same
// ones again at the next call.
func fastJSONObject(b []byte, m *jsonMembers, maps *jsonMaps) (exception, ok bool) {
	maps.reset()
	w := jsonWalker{b: b, maps: maps}
	w.blanks()
	if w.i >= len(b) || b[w.i] != '{' {
		return false, false
	}
	m.reset()
	if !w.object(m) {
		return false, false
	}
	w.blanks()
	return w.exception, w.i == len(b)
}

// jsonWalker checks JSON text from b[i] on; top-level members it keeps go
// into the map object is given, nested ones are only checked.
type jsonWalker struct {
	b     []byte
	i     int
	depth int
	// the last string str checked holds neither escapes nor non-ASCII
	// bytes: its text is its bytes
	plain bool
	// a member that jsonThrown reads was kept
	exception bool
	maps      *jsonMaps // where the maps of nested objects come from
}

// jsonMaps hands out emptied maps for the nested objects of one record's
// members, and the same ones again for the next record: log4j 2's
// JsonLayout nests its time ("instant") in every record, and a new map
// for it was a tenth of a JSON log's reading. What is decoded from a
// record is read before the next (recordFromObject), so nothing keeps a map.
type jsonMaps struct {
	maps []map[string]any
	used int
}

// jsonMapsKept bounds the maps kept: a record nesting more objects (none
// that a logger writes) gets maps of its own.
const jsonMapsKept = 16

func (p *jsonMaps) reset() {
	if p != nil {
		p.used = 0
	}
}

// get returns an empty map; p may be nil.
func (p *jsonMaps) get() map[string]any {
	if p == nil || p.used == jsonMapsKept {
		return map[string]any{}
	}
	if p.used == len(p.maps) {
		p.maps = append(p.maps, make(map[string]any, 4))
	}
	m := p.maps[p.used]
	p.used++
	clear(m)
	return m
}

// jsonMaxDepth: deeper input is left to the decoder (whose own limit is
// 10000); log records nest a few levels.
const jsonMaxDepth = 64

func (w *jsonWalker) blanks() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// object checks the object at b[i] ('{') and moves past it; keep, if not
// nil, receives the members jsonTopKeys names.
func (w *jsonWalker) object(keep *jsonMembers) bool {
	if empty, ok := w.enter('}'); !ok || empty {
		return ok
	}
	for {
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			return false
		}
		kStart := w.i
		if !w.str() {
			return false
		}
		rawKey, keyPlain := w.b[kStart:w.i], w.plain
		w.blanks()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return false
		}
		w.i++
		w.blanks()
		vStart := w.i
		if !w.value() {
			return false
		}
		if keep != nil {
			// the key's number, if it is one recordFromObject reads
			var id int
			var known bool
			if keyPlain {
				id, known = jsonKeyID(jsonView(rawKey[1 : len(rawKey)-1]))
			} else {
				id, known = jsonKeyID(jsonUnquote(rawKey[1 : len(rawKey)-1]))
			}
			if known {
				w.exception = w.exception || jsonKeys[id].exception
				var v any
				if w.b[vStart] == '"' {
					// a string (most members read) was checked just now:
					// not walked again to decode it
					if raw := w.b[vStart+1 : w.i-1]; w.plain {
						v = jsonView(raw)
					} else {
						v = jsonUnquote(raw)
					}
				} else {
					var ok bool
					if v, ok = jsonValue(w.b[vStart:w.i], w.maps); !ok {
						return false
					}
				}
				keep.set(id, v) // a repeated key: the last one wins, as in the decoder
			}
		}
		if done, ok := w.after('}'); !ok || done {
			return ok
		}
	}
}

func (w *jsonWalker) array() bool {
	if empty, ok := w.enter(']'); !ok || empty {
		return ok
	}
	for {
		if !w.value() {
			return false
		}
		if done, ok := w.after(']'); !ok || done {
			return ok
		}
	}
}

// enter moves past the opening bracket of a container that closes with
// closer: empty says it closed at once; ok=false, nested too deep.
func (w *jsonWalker) enter(closer byte) (empty, ok bool) {
	if w.depth++; w.depth > jsonMaxDepth {
		return false, false
	}
	w.i++
	w.blanks()
	if w.i < len(w.b) && w.b[w.i] == closer {
		w.i++
		w.depth--
		return true, true
	}
	return false, true
}

// after moves past what follows a member or an element: a comma (done
// false: more follow) or the closer (done); ok=false, anything else.
func (w *jsonWalker) after(closer byte) (done, ok bool) {
	w.blanks()
	if w.i >= len(w.b) {
		return false, false
	}
	switch w.b[w.i] {
	case ',':
		w.i++
		w.blanks()
		return false, true
	case closer:
		w.i++
		w.depth--
		return true, true
	}
	return false, false
}

func (w *jsonWalker) value() bool {
	if w.i >= len(w.b) {
		return false
	}
	switch c := w.b[w.i]; {
	case c == '"':
		return w.str()
	case c == '{':
		return w.object(nil)
	case c == '[':
		return w.array()
	case c == 't':
		return w.literal("true")
	case c == 'f':
		return w.literal("false")
	case c == 'n':
		return w.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return w.number()
	}
	return false
}

func (w *jsonWalker) literal(lit string) bool {
	if !bytes.HasPrefix(w.b[w.i:], []byte(lit)) {
		return false
	}
	w.i += len(lit)
	return true
}

// number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (w *jsonWalker) number() bool {
	b, i := w.b, w.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = jsonDigits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		if i = jsonDigits(b, i+1); b[i-1] == '.' {
			return false // no digit after the point
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		if i = jsonDigits(b, i); i == start {
			return false
		}
	}
	w.i = i
	return true
}

// jsonDigits returns the index after the run of digits from b[i].
func jsonDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// str checks the string at b[i] ('"'): no raw control characters, only
// JSON's escapes; any other byte (invalid UTF-8 too) is text, as for the
// decoder. Strings are most of a JSON log's bytes: the stretches between
// escapes are found with IndexByte and checked eight bytes at a time.
func (w *jsonWalker) str() bool {
	b := w.b
	w.plain = true
	quote := -1 // the next '"' at or after i, once looked for
	for i := w.i + 1; ; {
		if quote < i {
			q := bytes.IndexByte(b[i:], '"')
			if q < 0 {
				return false
			}
			quote = i + q
		}
		end := quote
		if e := bytes.IndexByte(b[i:quote], '\\'); e >= 0 {
			end = i + e
		}
		if !w.text(b[i:end]) {
			return false
		}
		i = end
		if i == quote {
			w.i = i + 1
			return true
		}
		// an escape
		w.plain = false
		i++
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if i+4 >= len(b) {
				return false
			}
			for _, h := range b[i+1 : i+5] {
				if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
					return false
				}
			}
			i += 4
		default:
			return false
		}
		i++
	}
}

// text checks a stretch of a string without quotes or escapes: false if it
// holds a control character; a byte past ASCII makes the string not plain.
func (w *jsonWalker) text(t []byte) bool {
	for ; len(t) >= 8; t = t[8:] {
		// a byte below 0x20 or from 0x80 up sets a high bit here (a borrow
		// only follows a byte below 0x20, which sets one already)
		if x := binary.LittleEndian.Uint64(t); (x-0x2020202020202020|x)&0x8080808080808080 != 0 && !w.textBytes(t[:8]) {
			return false
		}
	}
	return w.textBytes(t)
}

// textBytes is text byte by byte.
func (w *jsonWalker) textBytes(t []byte) bool {
	for _, c := range t {
		switch {
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			w.plain = false
		}
	}
	return true
}

// jsonValue decodes one valid JSON value as the decoder does into an any
// with UseNumber: strings with escapes or non-ASCII bytes through
// encoding/json (it replaces invalid UTF-8), the rest here.
func jsonValue(raw []byte, maps *jsonMaps) (any, bool) {
	w := jsonWalker{b: raw, maps: maps}
	v, ok := w.decode()
	return v, ok && w.i == len(raw)
}

// decode decodes the valid value at b[i] and moves past it.
func (w *jsonWalker) decode() (any, bool) {
	start := w.i
	switch w.b[start] {
	case '"':
		if !w.str() {
			return nil, false
		}
		if w.plain {
			return jsonView(w.b[start+1 : w.i-1]), true
		}
		return jsonUnquote(w.b[start+1 : w.i-1]), true
	case '{':
		m := w.maps.get()
		w.i++
		for {
			w.blanks()
			if w.b[w.i] == '}' {
				w.i++
				return m, true
			}
			kStart := w.i
			if !w.str() {
				return nil, false
			}
			key := jsonView(w.b[kStart+1 : w.i-1])
			if !w.plain {
				key = jsonUnquote(w.b[kStart+1 : w.i-1])
			}
			w.blanks()
			w.i++ // ':'
			w.blanks()
			v, ok := w.decode()
			if !ok {
				return nil, false
			}
			m[key] = v
			w.blanks()
			if w.b[w.i] == ',' {
				w.i++
			}
		}
	case '[':
		list := []any{}
		w.i++
		for {
			w.blanks()
			if w.b[w.i] == ']' {
				w.i++
				return list, true
			}
			v, ok := w.decode()
			if !ok {
				return nil, false
			}
			list = append(list, v)
			w.blanks()
			if w.b[w.i] == ',' {
				w.i++
			}
		}
	case 't':
		return true, w.literal("true")
	case 'f':
		return false, w.literal("false")
	case 'n':
		return nil, w.literal("null")
	}
	if !w.number() {
		return nil, false
	}
	return json.Number(jsonView(w.b[start:w.i])), true
}

// jsonView is b as a string that shares b's bytes, not a copy of them.
//
// It is worth its unsafety: BenchmarkJSONStrings reads the JSON test logs
// with views and with copies; views make 44% fewer allocations (79.7k
// against 141.5k per 4 MB read), 15% fewer bytes allocated, and the read
// 8-10% faster.
//
// The contract that makes it safe: a view lives only as long as the line's
// bytes are not reused, that is until the stream has built the record from
// the members (jsonDecoded). Everything a record keeps is copied out of
// them there (appended to the record's own buffers; the level through
// ownLevel, since strings.ToUpper of an upper-case level is the view
// itself). TestJSONViewsReadAsCopies holds the decoding with views to the
// decoding with copies.
func jsonView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if jsonCopyStrings {
		return string(b)
	}
	return unsafe.String(&b[0], len(b))
}

// jsonCopyStrings makes jsonView copy (for the benchmark and the test that
// hold views to their worth and their contract).
var jsonCopyStrings = false

// jsonUnquote decodes the text of a string str has checked (between its
// quotes) as encoding/json does: escapes decoded, a surrogate pair joined,
// a lone surrogate and every byte of invalid UTF-8 replaced by U+FFFD.
func jsonUnquote(in []byte) string {
	out := make([]byte, 0, len(in)+utf8.UTFMax)
	for i := 0; i < len(in); {
		switch c := in[i]; {
		case c == '\\':
			i++
			switch in[i] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := jsonHex4(in[i+1:])
				i += 4
				if utf16.IsSurrogate(r) {
					if i+6 < len(in) && in[i+1] == '\\' && in[i+2] == 'u' {
						if pair := utf16.DecodeRune(r, jsonHex4(in[i+3:])); pair != utf8.RuneError {
							out = utf8.AppendRune(out, pair)
							i += 7
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
			default: // '"', '\\', '/'
				out = append(out, in[i])
			}
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(in[i:])
			out = utf8.AppendRune(out, r)
			i += n
		}
	}
	return string(out)
}

// jsonHex4 reads the four hex digits str has checked.
func jsonHex4(h []byte) rune {
	var r rune
	for _, c := range h[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
