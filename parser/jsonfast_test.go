package parser

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// jsonRecordCases are JSON records built to reach the fast decoder's
// corners; FuzzJSONRecord starts from them too.
var jsonRecordCases = []string{
	`{"instant":{"epochSecond":1615712401,"nanoOfSecond":746000000},"level":"DEBUG","loggerName":"a.B","message":"m","thread":"t"}`,
	`  {"@timestamp":"2021-03-14T09:00:00.123Z","log.level":"info","log.logger":"a.B","message":"x","ecs.version":"1.2.0"}  ` + "\n",
	`{"@timestamp":"2021-03-14T09:00:00Z","log":{"level":"WARN","logger":"a.B"},"message":"nested ECS","process":{"thread":{"name":"t"}},"error":{"type":"E","message":"boom"}}`,
	`{"lev\u0065l":"INFO","logger":"a","msg":"escaped key"}`,
	`{"level":"INFO","level":"ERROR","logger":"a","msg":"repeated key: the last wins"}`,
	`{"level":"INFO","logger":"a","message":"tab\tand \u00e9 and \"quotes\" and \\ and \ud83d\ude00"}`,
	"{\"level\":\"INFO\",\"logger\":\"a\",\"message\":\"invalid utf-8 \xff\xfe here\"}",
	// surrogates as encoding/json reads them: a pair joined, anything else U+FFFD
	`{"level":"INFO","logger":"a","message":"lone high at the end \ud83d"}`,
	`{"level":"INFO","logger":"a","message":"high then not low \ud83d\u0041, low first \ude00\ud83d, high high low \ud83d\ud83d\ude00"}`,
	`{"level":"INFO","logger":"a","message":"upper-case hex \u00E9 \uD83D\uDE00, escaped backslash after high \ud83d\\u0041"}`,
	"{\"level\":\"INFO\",\"logger\":\"a\",\"message\":\"invalid \xff then \\u00e9 and \xe2\x82 cut rune \\n\"}",
	`{"l\u0065vel":"INFO","logg\u0065r":"a","m\u0065ssag\u0065":"\u003e keys with escapes"}`,
	"{\"lev\xffel\":\"INFO\",\"logger\":\"a\",\"message\":\"invalid utf-8 in a key\"}",
	`{"timeMillis":1615712401123,"level":"INFO","loggerName":"a","message":"n","unrelated":{"deep":[1,2,{"x":"}"}]}}`,
	`{"timestamp":1615712401.5,"level":6,"_logger":"a","short_message":"gelf","full_message":"gelf\nat x"}`,
	`{"ts":-1,"level":null,"logger":true,"message":false}`,
	`{"level":"INFO","logger":"a","message":{"not":"text"}}`,
	`{"level":"INFO","logger":"a","message":["a","list"]}`,
	`{"level":"INFO","logger":"a","thrown":{"name":"E","message":"m","extendedStackTrace":[{"class":"C","method":"m"}],"cause":{"name":"F"}}}`,
	`{"level":"INFO","logger":"a","exception":{"exception_class":"E","exception_message":"m"}}`,
	`{"level":"INFO","logger":"a","message":"x"}{"level":"INFO"}`,
	`{"level":"INFO","logger":"a","message":"x"} trailing`,
	`{"level":"INFO","logger":"a","message":"x"`,
	`{"level":"INFO",,"logger":"a"}`,
	`{"n":01,"message":"x","level":"I"}`,
	`{"message":"x","level":"I","n":1e+}`,
	`{"message":"x","level":"I","n":1.}`,
	`{"message":"x","level":"I","n":-}`,
	`{"message":"x","level":"I","n":-0.0E-07}`,
	`["not","an","object"]`,
	`null`,
	`{}`,
	` `,
	`{"a":"\u12"}`,
	"{\"message\":\"raw control \x01 char\",\"level\":\"I\"}",
	`{"message":"x","level":"I","n":-0.5e-3,"t":true,"f":false,"z":null}`,
}

// TestFastJSONEqualsDecoder: on the cases above and on every line of every
// JSON log in testdata (among them the real-log shapes, real-*.json), the
// fast decoder gives what decoding the whole object gives, errors included.
func TestFastJSONEqualsDecoder(t *testing.T) {
	inputs := append([]string(nil), jsonRecordCases...)
	paths, _ := filepath.Glob("../testdata/logs/*.json")
	if real, _ := filepath.Glob("../testdata/logs/real-*.json"); len(real) == 0 {
		t.Fatal("no real-log shape in JSON (../testdata/logs/real-*.json)")
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			inputs = append(inputs, sc.Text())
		}
		f.Close()
	}
	fast := 0
	for _, in := range inputs {
		got, gotErr := decodeJSONRecord([]byte(in))
		want, wantErr := decodeJSONRecordSlow([]byte(in))
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%.300q:\n fast %+v, %v\n slow %+v, %v", in, got, gotErr, want, wantErr)
		}
		if _, ok := fastJSONObject([]byte(in), &jsonMembers{}, nil); ok {
			fast++
		}
	}
	if fast < len(inputs)/4 {
		t.Errorf("the fast decoder took %d of %d inputs; it should take every valid object", fast, len(inputs))
	}
	t.Logf("%d inputs, %d through the fast decoder", len(inputs), fast)
}

// TestJSONKeyRefs: every key recordFromObject reads is numbered, and so is
// the first part of a dotted one: a key left out would never be found.
func TestJSONKeyRefs(t *testing.T) {
	for _, list := range [][]string{jsonTimeKeys, jsonLevelKeys, jsonLoggerKeys, jsonThreadKeys, jsonMsgKeys,
		jsonFullKeys, jsonThrownKeys, jsonStackKeys, jsonErrorTypeKeys, jsonErrorMsgKeys, jsonShapeKeys} {
		for _, k := range list {
			r := jsonRef(k)
			if r.flat < 0 || jsonKeys[r.flat].name != k {
				t.Errorf("%q: numbered %d", k, r.flat)
			}
			if strings.Contains(k, ".") && (r.first < 0 || !strings.HasPrefix(k, jsonKeys[r.first].name+".")) {
				t.Errorf("%q: first part numbered %d", k, r.first)
			}
		}
	}
	if _, ok := jsonKeyID("endOfBatch"); ok {
		t.Error("a key no list names is numbered")
	}
}

// TestJSONViewsReadAsCopies: decoding with views gives what decoding with
// copies gives. Every JSON test log, read three times over, gives the same
// events both ways.
func TestJSONViewsReadAsCopies(t *testing.T) {
	names, err := filepath.Glob("../testdata/logs/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no JSON test logs: %v", err)
	}
	read := func(data []byte, copies bool) []string {
		jsonCopyStrings = copies
		defer func() { jsonCopyStrings = false }()
		res, err := Read([]string{"-"}, Options{Stdin: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for v := range res.All() {
			ev := res.Event(v)
			out = append(out, fmt.Sprintf("%+v %q", *ev, ev.Text()))
		}
		return out
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.Repeat(data, 3)
		views, copies := read(data, false), read(data, true)
		if len(views) == 0 {
			t.Errorf("%s: no events", name)
		}
		if !slices.Equal(views, copies) {
			t.Errorf("%s: events read with views differ from those read with copies", name)
		}
	}
}

// BenchmarkJSONStrings: what jsonView's sharing is worth, against copies.
func BenchmarkJSONStrings(b *testing.B) {
	data := benchInput(b, "1.19.1-jsonlayout-tm.json", "1.20.0-ecs-jm.json")
	for _, copies := range []bool{false, true} {
		name := map[bool]string{false: "view", true: "copy"}[copies]
		b.Run(name, func(b *testing.B) {
			jsonCopyStrings = copies
			defer func() { jsonCopyStrings = false }()
			benchRead(b, data)
		})
	}
}
