package parser_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

func gzipTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stripPaths makes two results comparable when only the file names differ.
func stripPaths(res *parser.Result) ([]flinklog.Event, []parser.InputSummary) {
	ins := append([]parser.InputSummary(nil), res.Inputs...)
	for i := range ins {
		ins[i].Path, ins[i].Gzip = "", false
		ins[i].ResourceID = strings.TrimSuffix(ins[i].ResourceID, ".log")
	}
	evs := res.Expanded()
	for i := range evs {
		evs[i].Resource = strings.TrimSuffix(evs[i].Resource, ".log")
	}
	return evs, ins
}

func TestGzipReadsLikePlain(t *testing.T) {
	src := "../testdata/logs/legacy-1.6.2-race-tm.log"
	gz := filepath.Join(t.TempDir(), "legacy-1.6.2-race-tm.log.gz")
	gzipTo(t, src, gz)
	plain, err := parser.Read([]string{src}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := parser.Read([]string{gz}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !zipped.Inputs[0].Gzip {
		t.Error("gzip input not reported as gzip")
	}
	pe, pi := stripPaths(plain)
	ze, zi := stripPaths(zipped)
	if !reflect.DeepEqual(pe, ze) || !reflect.DeepEqual(pi, zi) {
		t.Errorf("gzip read differs from plain read")
	}
}

func TestTruncatedGzipKeepsWhatItHolds(t *testing.T) {
	dir := t.TempDir()
	gz := filepath.Join(dir, "tm.log.gz")
	gzipTo(t, "../testdata/logs/legacy-1.6.2-race-tm.log", gz)
	data, _ := os.ReadFile(gz)
	cut := filepath.Join(dir, "cut.log.gz")
	if err := os.WriteFile(cut, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := parser.Read([]string{cut}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := res.Inputs[0]
	if in.Err == "" || res.Len() == 0 {
		t.Errorf("truncated gzip: err %q, %d events; want an error noted and the events before the cut", in.Err, res.Len())
	}
}

func TestStdinAndDirectories(t *testing.T) {
	data, err := os.ReadFile("../testdata/logs/fixed-1.10.0-refused-duplicate-tm.log")
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Read([]string{"-"}, parser.Options{Stdin: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inputs[0].Path != "-" || res.Len() == 0 {
		t.Errorf("stdin: %+v", res.Inputs)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a/tm.log", "a/b/jm.log"} {
		if err := os.WriteFile(filepath.Join(dir, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err = parser.Read([]string{dir}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inputs) != 2 || !strings.HasSuffix(res.Inputs[0].Path, "a/b/jm.log") {
		t.Errorf("directory walk: %d inputs, first %q", len(res.Inputs), res.Inputs[0].Path)
	}
	if _, err := parser.Read([]string{filepath.Join(dir, "missing.log")}, parser.Options{}); err == nil {
		t.Error("a missing file is an input error")
	}
}

// TestOrderAndWorkersDoNotMatter: the same inputs in any order and with any
// parallelism give the same result.
func TestOrderAndWorkersDoNotMatter(t *testing.T) {
	files, _ := filepath.Glob("../testdata/logs/*.log")
	reversed := make([]string, len(files))
	for i, f := range files {
		reversed[len(files)-1-i] = f
	}
	a, err := parser.Read(files, parser.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := parser.Read(append(reversed, files[0]), parser.Options{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("results depend on input order, duplicates or worker count")
	}
}

func TestOverlongLineIsCountedNotFatal(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big.log")
	head := "2020-05-03 22:48:49,022 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor            - Receive slot request 8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2f for job 5f0b3c2d1e4a59687766554433221100 from resource manager with leader id 00000000000000000000000000000000.\n"
	long := "2020-05-03 22:48:49,023 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor            - " + strings.Repeat("x", 3<<20) + "\n"
	if err := os.WriteFile(p, []byte(head+long+head), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := parser.Read([]string{p}, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in := res.Inputs[0]; in.Truncated != 1 || in.Lines != 3 || res.Len() != 2 {
		t.Errorf("overlong line: %+v, %d events", in, res.Len())
	}
}

// TestPrettyJSONWithOneLineMember: a nested object on its own line ("{...},")
// balances but is no record; it must not cut the object around it.
func TestPrettyJSONWithOneLineMember(t *testing.T) {
	doc := `{
  "timeMillis" : 1596283203006,
  "level" : "INFO",
  "loggerName" : "org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl",
  "message" : "Activate slot 8c9d5f0e3a1b4c2d9e8f7a6b5c4d3e2f.",
  "frames" : [
    { "class" : "a.B", "method" : "c" },
    { "class" : "d.E", "method" : "f" }
  ]
}
`
	res, err := parser.Read([]string{"-"}, parser.Options{Stdin: strings.NewReader(doc)})
	if err != nil {
		t.Fatal(err)
	}
	in := res.Inputs[0]
	if in.Records != 1 || in.Unparsed != 0 || res.Len() != 1 || res.Event(0).Kind != flinklog.KindTMActivate {
		t.Errorf("pretty object with one-line members: %+v, events %+v", in, res.Expanded())
	}
}
