package parser

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// A JSON log's records are decoded on every line, and decoding a whole
// object into a map (every key, every value, maps for nested objects) was
// nearly all of the time spent on JSON logs. recordFromObject reads only a
// few keys, so fastJSONObject checks the object with json.Valid (the same
// grammar the decoder accepts) and then decodes only the members whose key
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

// fastJSONObject returns the members of b (one JSON object, blanks around
// it allowed) that jsonTopKeys names, decoded as encoding/json decodes them
// into a map with UseNumber. ok=false (not an object, not valid JSON, or
// more than one value) leaves b to the decoder, which says what is wrong.
func fastJSONObject(b []byte) (map[string]any, bool) {
	i := jsonSkipBlanks(b, 0)
	if i >= len(b) || b[i] != '{' || !json.Valid(b) {
		return nil, false
	}
	obj := make(map[string]any, 8)
	i++
	for {
		i = jsonSkipBlanks(b, i)
		if b[i] == '}' {
			return obj, true
		}
		kEnd := jsonStringEnd(b, i)
		key, ok := jsonKey(b[i:kEnd])
		if !ok {
			return nil, false
		}
		i = jsonSkipBlanks(b, kEnd) + 1 // the colon
		i = jsonSkipBlanks(b, i)
		vEnd := jsonValueEnd(b, i)
		if jsonTopKeys[key] {
			v, ok := jsonValue(b[i:vEnd])
			if !ok {
				return nil, false
			}
			obj[key] = v // a repeated key: the last one wins, as in the decoder
		}
		i = jsonSkipBlanks(b, vEnd)
		if b[i] == ',' {
			i++
		}
	}
}

func jsonSkipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonStringEnd returns the index after the string that starts at b[i]
// (a quote) in valid JSON.
func jsonStringEnd(b []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		j += k
		backslashes := 0
		for m := j - 1; b[m] == '\\'; m-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1
		}
		j++
	}
}

// jsonValueEnd returns the index after the value that starts at b[i] in
// valid JSON.
func jsonValueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return jsonStringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; ; {
			switch b[j] {
			case '"':
				j = jsonStringEnd(b, j)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
		j++
	}
	return j
}

// jsonKey decodes a member's key (a JSON string).
func jsonKey(raw []byte) (string, bool) {
	if s, plain := jsonPlainString(raw); plain {
		return s, true
	}
	var key string
	if err := json.Unmarshal(raw, &key); err != nil {
		return "", false
	}
	return key, true
}

// jsonPlainString returns the text of a JSON string with neither escapes
// nor bytes outside printable ASCII, which decodes to itself.
func jsonPlainString(raw []byte) (string, bool) {
	in := raw[1 : len(raw)-1]
	for _, c := range in {
		if c == '\\' || c >= utf8.RuneSelf {
			return "", false
		}
	}
	return string(in), true
}

// jsonValue decodes one valid JSON value as the decoder does into an any
// with UseNumber.
func jsonValue(raw []byte) (any, bool) {
	switch raw[0] {
	case '"':
		if s, plain := jsonPlainString(raw); plain {
			return s, true
		}
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return json.Number(string(raw)), true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}
