package parser

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exportSamples are the shapes as their documentation shows them, small.
var exportSamples = []struct {
	name, want, text string
}{
	{"es search", wrapESSearch, `{"took":5,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":1,"relation":"eq"},"max_score":1.0,"hits":[{"_index":"logs","_id":"1","_score":1.0,"_source":{"@timestamp":"2020-03-17T13:59:28.500Z","message":"2020-03-17 13:59:28,500 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Allocated slot for e6a0c2b4d8f1379520c4e6a8b1d3f5a7.","kubernetes":{"pod":{"name":"tm-1"}}}}]}}`},
	{"es search pretty", wrapESSearch, "{\n  \"took\" : 5,\n  \"timed_out\" : false,\n  \"hits\" : {\n    \"hits\" : [ ]\n  }\n}\n"},
	{"es scroll", wrapESSearch, `{"_scroll_id":"FGluY2x1ZGVfY29udGV4dF91dWlk","took":1,"timed_out":false,"hits":{"hits":[]}}`},
	{"es pit", wrapESSearch, `{"pit_id":"46ToAwMDaWR5BXV1aWQy","took":1,"timed_out":false,"_shards":{"total":1},"hits":{"hits":[]}}`},
	{"elasticdump", wrapESNDJSON, `{"_index":"filebeat","_id":"x1","_score":1,"_source":{"@timestamp":"2020-03-17T13:59:28.500Z","message":"a line"}}` + "\n"},
	{"fluent bit source", wrapESNDJSON, `{"log":"a line\n","stream":"stdout","time":"2020-03-17T13:59:28.500Z","kubernetes":{"pod_name":"tm-1","container_name":"flink"}}` + "\n"},
	{"filebeat source", wrapESNDJSON, `{"@timestamp":"2020-03-17T13:59:28.500Z","message":"a line","log":{"offset":12,"file":{"path":"/var/log/flink/tm.log"}},"host":{"name":"node-1"}}` + "\n"},
	{"kibana csv", wrapKibanaCSV, "\"@timestamp\",\"kubernetes.pod.name\",message\n\"Mar 17, 2020 @ 13:59:28.500\",tm-1,\"a line\"\n"},
	{"kibana csv escaped", wrapKibanaCSV, "'@timestamp,message\n\"Mar 17, 2020 @ 13:59:28.500\",\"a line\"\n"},
	{"kibana csv no time", wrapKibanaCSV, "message,host.name\n\"a line\",node-1\n"},
	{"loki", wrapLokiRange, `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"pod":"tm-1"},"values":[["1584453568500000000","a line"]]}],"stats":{}}}`},
	{"loki keys sorted", wrapLokiRange, `{"data":{"result":[{"stream":{"pod":"tm-1"},"values":[["1584453568500000000","a line"]]}],"resultType":"streams"},"status":"success"}`},
	{"logcli jsonl", wrapLogcliJSONL, `{"labels":{"pod":"tm-1"},"line":"a line","timestamp":"2020-03-17T14:59:28.5+01:00"}` + "\n"},
	{"logcli jsonl no labels", wrapLogcliJSONL, `{"line":"a line","timestamp":"2020-03-17T14:59:28.5+01:00"}` + "\n"},
	{"victorialogs", wrapVictoria, `{"_msg":"a line","_stream":"{pod=\"tm-1\"}","_time":"2020-03-17T13:59:28.5Z","pod":"tm-1"}` + "\n"},
	{"cloudwatch filter", wrapCWEvents, "{\n    \"events\": [\n        {\n            \"logStreamName\": \"tm-1\",\n            \"timestamp\": 1584453568500,\n            \"message\": \"a line\",\n            \"ingestionTime\": 1584453569000,\n            \"eventId\": \"3591\"\n        }\n    ],\n    \"searchedLogStreams\": []\n}\n"},
	{"cloudwatch get", wrapCWEvents, `{"events":[{"timestamp":1584453568500,"message":"a line","ingestionTime":1584453569000}],"nextForwardToken":"f/1","nextBackwardToken":"b/1"}`},
	{"cloudwatch empty", wrapCWEvents, `{"events":[],"nextForwardToken":"f/1"}`},
	{"cloudwatch s3", wrapCWS3, "2020-03-17T13:59:28.500Z a line\n2020-03-17T13:59:28.600Z another\n\tat x.y(Z.java:1)\n"},
	{"gcloud", wrapGcloudJSON, "[\n  {\n    \"insertId\": \"1\",\n    \"logName\": \"projects/p/logs/stdout\",\n    \"resource\": {\"labels\": {\"pod_name\": \"tm-1\"}, \"type\": \"k8s_container\"},\n    \"textPayload\": \"a line\",\n    \"timestamp\": \"2020-03-17T13:59:28.5Z\"\n  }\n]\n"},
	{"datadog json", wrapDatadogJSON, `{"data":[{"attributes":{"timestamp":"2020-03-17T13:59:28.500Z","message":"a line","host":"node-1","service":"flink","status":"info","tags":["pod_name:tm-1"],"attributes":{}},"id":"AQAAAX","type":"log"}],"links":{},"meta":{"page":{}}}`},
	{"datadog csv", wrapDatadogCSV, "Date,Host,Service,Message\n2020-03-17T13:59:28.500Z,node-1,flink,a line\n"},

	// not exports
	{"log4j line", "", "2020-03-17 13:59:28,500 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Allocated slot for e6a0c2b4d8f1379520c4e6a8b1d3f5a7.\n"},
	{"docker json-file", "", `{"log":"2020-03-17 13:59:28,500 INFO  x - y\n","stream":"stdout","time":"2020-03-17T13:59:28.5Z"}` + "\n"},
	{"ecs layout", "", `{"@timestamp":"2024-09-10T04:00:00.001Z","ecs.version":"1.2.0","log.level":"INFO","message":"m","log.logger":"org.X"}` + "\n"},
	{"gelf layout", "", `{"version":"1.1","host":"node-1","short_message":"m","timestamp":1584453568.5,"level":6,"_logger":"org.X"}` + "\n"},
	{"kubectl timestamps", "", "2020-03-17T13:59:28.500000000Z 2020-03-17 13:59:28,500 INFO  x - y\n2020-03-17T13:59:28.6Z 2020-03-17 13:59:28,600 INFO  x - z\n"},
	{"loki matrix", "", `{"status":"success","data":{"resultType":"matrix","result":[]}}`},
	{"json array of numbers", "", `[1,2,3]`},
	{"csv of something else", "", "a,b,c\n1,2,3\n"},
	{"empty", "", ""},
}

func TestDetectExport(t *testing.T) {
	for _, s := range exportSamples {
		if got := detectExport([]byte(s.text)); got != s.want {
			t.Errorf("%s: detected %q, want %q", s.name, got, s.want)
		}
		// a byte-order mark and blank lines before change nothing
		if got := detectExport([]byte("\xef\xbb\xbf\n  \n" + s.text)); got != s.want && s.name != "cloudwatch s3" {
			t.Errorf("%s after a BOM and blank lines: detected %q, want %q", s.name, got, s.want)
		}
	}
}

// TestNoLogIsAnExport: none of the project's own logs, nor the hostile
// inputs, is taken for an export (their wrappers and layouts stay what
// their golden files say).
func TestNoLogIsAnExport(t *testing.T) {
	var paths []string
	for _, glob := range []string{"../testdata/logs/*", "../testdata/logs/*/*", "../testdata/hostile/*"} {
		m, _ := filepath.Glob(glob)
		paths = append(paths, m...)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && exportFile(f) {
			t.Errorf("%s is taken for a log-store export", p)
		}
		f.Close()
	}
}

// TestExportRecordWithoutMessage: a record with neither a time nor a
// message (and one with a time but no message) is counted as unparsed,
// with the reason, in every shape; the other records are read.
func TestExportRecordWithoutMessage(t *testing.T) {
	const line = "2020-03-17 13:59:28,500 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Allocated slot for e6a0c2b4d8f1379520c4e6a8b1d3f5a7."
	cases := []struct{ name, text string }{
		{"es search", `{"took":1,"timed_out":false,"hits":{"hits":[{"_index":"i","_id":"1","_source":{"kubernetes":{"pod":{"name":"tm-1"}}}},{"_index":"i","_id":"2","_source":{"@timestamp":"2020-03-17T13:59:28.500Z","kubernetes":{"pod":{"name":"tm-1"}}}},{"_index":"i","_id":"3","_source":{"@timestamp":"2020-03-17T13:59:28.500Z","message":"` + line + `","kubernetes":{"pod":{"name":"tm-1"}}}}]}}`},
		{"elasticdump", `{"_index":"i","_id":"1","_source":{"kubernetes":{"pod_name":"tm-1"}}}` + "\n" + `{"_index":"i","_id":"2","_source":{"time":"2020-03-17T13:59:28.500Z","kubernetes":{"pod_name":"tm-1"}}}` + "\n" + `{"_index":"i","_id":"3","_source":{"log":"` + line + `\n","kubernetes":{"pod_name":"tm-1"}}}` + "\n"},
		{"kibana csv", "@timestamp,kubernetes.pod.name,message\n,tm-1,\n\"Mar 17, 2020 @ 13:59:28.500\",tm-1,\n\"Mar 17, 2020 @ 13:59:28.500\",tm-1,\"" + line + "\"\n"},
		{"logcli", `{"labels":{"pod":"tm-1"},"timestamp":""}` + "\n" + `{"labels":{"pod":"tm-1"},"timestamp":"2020-03-17T13:59:28.5Z"}` + "\n" + `{"labels":{"pod":"tm-1"},"line":"` + line + `","timestamp":"2020-03-17T13:59:28.5Z"}` + "\n"},
		{"victorialogs", `{"_stream":"{pod=\"tm-1\"}","pod":"tm-1","_time":""}` + "\n" + `{"_time":"2020-03-17T13:59:28.5Z","pod":"tm-1"}` + "\n" + `{"_msg":"` + line + `","_time":"2020-03-17T13:59:28.5Z","pod":"tm-1"}` + "\n"},
		{"cloudwatch", `{"events":[{"logStreamName":"tm-1","ingestionTime":1,"eventId":"1"},{"logStreamName":"tm-1","timestamp":1584453568500,"ingestionTime":1,"eventId":"2"},{"logStreamName":"tm-1","timestamp":1584453568500,"message":"` + line + `","ingestionTime":1,"eventId":"3"}]}`},
		{"gcloud", `[{"insertId":"1","logName":"projects/p/logs/stdout","resource":{"labels":{"pod_name":"tm-1"}}},{"insertId":"2","logName":"projects/p/logs/stdout","timestamp":"2020-03-17T13:59:28.5Z","resource":{"labels":{"pod_name":"tm-1"}}},{"insertId":"3","logName":"projects/p/logs/stdout","timestamp":"2020-03-17T13:59:28.5Z","textPayload":"` + line + `","resource":{"labels":{"pod_name":"tm-1"}}}]`},
		{"datadog", `{"data":[{"id":"1","type":"log","attributes":{"tags":["pod_name:tm-1"]}},{"id":"2","type":"log","attributes":{"timestamp":"2020-03-17T13:59:28.500Z","tags":["pod_name:tm-1"]}},{"id":"3","type":"log","attributes":{"timestamp":"2020-03-17T13:59:28.500Z","message":"` + line + `","tags":["pod_name:tm-1"]}}]}`},
		{"loki", `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"pod":"tm-1"},"values":[[],["1584453568500000000"],["1584453568500000000","` + line + `"]]}]}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(c.text)})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Inputs) != 1 {
				t.Fatalf("%d inputs, want the one of pod tm-1: %+v", len(res.Inputs), res.Inputs)
			}
			in := res.Inputs[0]
			if !isExport(in.Wrapper) || !strings.Contains(in.Stream, "tm-1") {
				t.Errorf("read as %q, stream %q", in.Wrapper, in.Stream)
			}
			if in.Records != 3 || in.Unparsed != 2 || in.EventRecs != 1 {
				t.Errorf("%d records, %d unparsed, %d with events; want 3, 2, 1", in.Records, in.Unparsed, in.EventRecs)
			}
			if got := in.RecordLines + in.Stray + in.Framing; got != in.Lines {
				t.Errorf("%d lines but %d in records + %d stray + %d framing", in.Lines, in.RecordLines, in.Stray, in.Framing)
			}
			var whys []string
			for _, d := range res.Diagnostics {
				if strings.HasPrefix(d.Summary, "export record: ") {
					whys = append(whys, d.Summary)
				}
			}
			if len(whys) != 2 || !strings.Contains(whys[0]+whys[1], "neither a timestamp nor a message") {
				t.Errorf("diagnostics %q, want the two records' reasons, one with neither a timestamp nor a message", whys)
			}
		})
	}
}

// TestExportBrokenJSON: a JSON export cut off, or with garbage after its
// pages, keeps what it read; the rest is one unparsed record with why.
func TestExportBrokenJSON(t *testing.T) {
	const hit = `{"_index":"i","_id":"1","_source":{"@timestamp":"2020-03-17T13:59:28.500Z","message":"2020-03-17 13:59:28,500 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Allocated slot for e6a0c2b4d8f1379520c4e6a8b1d3f5a7.","kubernetes":{"pod":{"name":"tm-1"}}}}`
	for name, text := range map[string]string{
		"cut":     "{\"took\":1,\n\"timed_out\":false,\n\"hits\":{\"hits\":[\n" + hit + ",\n" + strings.Replace(hit, `"1"`, `"2"`, 1)[:90],
		"garbage": "{\"took\":1,\"timed_out\":false,\"hits\":{\"hits\":[\n" + hit + "\n]}}\n<html>502 Bad Gateway</html>\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(text)})
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Count([]byte(text), []byte("\n"))
			if !strings.HasSuffix(text, "\n") {
				lines++
			}
			total, events, unparsed := 0, 0, 0
			for _, in := range res.Inputs {
				total += in.Lines
				events += in.EventCount
				unparsed += in.Unparsed
				if got := in.RecordLines + in.Stray + in.Framing; got != in.Lines {
					t.Errorf("%s: %d lines but %d in records + %d stray + %d framing", in.Stream, in.Lines, in.RecordLines, in.Stray, in.Framing)
				}
			}
			if total != lines || events != 1 || unparsed != 1 {
				t.Errorf("%d lines accounted (want %d), %d events (want 1), %d unparsed (want 1)", total, lines, events, unparsed)
			}
			found := false
			for _, d := range res.Diagnostics {
				found = found || strings.Contains(d.Summary, "the rest of the input is not read as records")
			}
			if !found {
				t.Errorf("no diagnostic says where the JSON broke: %+v", res.Diagnostics)
			}
		})
	}
}

// TestExportOddDocuments: a page whose members are not what the shape
// has (hits a number, an error response) is read past, said in an info
// diagnostic, and the pages after it are read.
func TestExportOddDocuments(t *testing.T) {
	const hit = `{"_index":"i","_id":"1","_source":{"@timestamp":"2020-03-17T13:59:28.500Z","message":"2020-03-17 13:59:28,500 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           - Allocated slot for e6a0c2b4d8f1379520c4e6a8b1d3f5a7.","kubernetes":{"pod":{"name":"tm-1"}}}}`
	text := `{"took":1,"timed_out":false,"hits":5,"x":{"hits":[1]}}` + "\n" +
		`{"error":{"type":"search_phase_execution_exception"},"status":400}` + "\n" +
		`{"took":1,"timed_out":false,"hits":{"hits":"none"}}` + "\n" +
		`{"took":1,"timed_out":false,"hits":{"hits":[` + hit + `]}}` + "\n"
	res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(text)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Inputs) != 1 || res.Inputs[0].EventCount != 1 || res.Inputs[0].Lines != 4 || res.Inputs[0].Framing != 3 {
		t.Fatalf("inputs %+v, want one with 1 event, 4 lines of which 3 framing", res.Inputs)
	}
	notes := 0
	for _, d := range res.Diagnostics {
		if strings.Contains(d.Summary, "holds no log records") {
			notes++
		}
	}
	if notes != 3 {
		t.Errorf("%d notes of documents without records, want 3: %+v", notes, res.Diagnostics)
	}
}

// TestExportTimeForMessagesWithoutOne: a message without a timestamp of
// its own takes its record's: a line in a layout without a date (given
// with --layout), a JSON object without a time member, a line of no
// layout at all. The records come out in the order of those times.
func TestExportTimeForMessagesWithoutOne(t *testing.T) {
	const a1, a2 = "e6a0c2b4d8f1379520c4e6a8b1d3f5a7", "3b9d7f1e5c2a4086d9e1f3a5c7b90e24"
	want := []string{"2020-03-17T13:59:28.500Z", "2020-03-17T13:59:29.250Z"}
	cases := []struct {
		name, layout, text string
	}{
		{"layout without a date", "%-5p %c - %m%n",
			`{"events":[{"logStreamName":"tm-1","timestamp":1584453569250,"message":"INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor - Allocated slot for ` + a2 + `.","ingestionTime":1,"eventId":"2"},` +
				`{"logStreamName":"tm-1","timestamp":1584453568500,"message":"INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor - Allocated slot for ` + a1 + `.","ingestionTime":1,"eventId":"1"}]}`},
		{"JSON object without a time", "",
			`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"pod":"tm-1"},"values":[` +
				`["1584453569250000000","{\"log.level\":\"INFO\",\"log.logger\":\"org.apache.flink.runtime.taskexecutor.TaskExecutor\",\"message\":\"Allocated slot for ` + a2 + `.\"}"],` +
				`["1584453568500000000","{\"log.level\":\"INFO\",\"log.logger\":\"org.apache.flink.runtime.taskexecutor.TaskExecutor\",\"message\":\"Allocated slot for ` + a1 + `.\"}"]]}]}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(c.text), Layout: c.layout})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := range res.All() {
				ev := res.Event(i)
				got = append(got, ev.Time.String())
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("event times %v, want %v (the records' own, in order)", got, want)
			}
		})
	}
	t.Run("no layout", func(t *testing.T) {
		text := "2020-03-17T13:59:29.250Z a line without a header\n2020-03-17T13:59:28.500Z another\n"
		res, err := Read([]string{"-"}, Options{Stdin: strings.NewReader(text)})
		if err != nil {
			t.Fatal(err)
		}
		in := res.Inputs[0]
		if in.Wrapper != wrapCWS3 || in.Layout != "headerless" || in.First.String() != want[0] || in.Last.String() != want[1] {
			t.Errorf("read as %s/%s from %s to %s, want cloudwatch-s3/headerless from %s to %s", in.Wrapper, in.Layout, in.First, in.Last, want[0], want[1])
		}
	})
}
