package parser

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedExports adds the shapes' samples and the heads of the generated
// exports to a corpus, each with the number of its kind.
func seedExports(f *testing.F) {
	kindOf := func(name string) byte {
		for i, k := range exportKinds {
			if k == name {
				return byte(i)
			}
		}
		return 0
	}
	for _, s := range exportSamples {
		f.Add(kindOf(s.want), []byte(s.text))
	}
	files, _ := filepath.Glob("../testdata/exports/*/*")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil || strings.HasSuffix(p, ".gz") {
			continue
		}
		f.Add(kindOf(strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))), data[:min(len(data), 6000)])
	}
}

// FuzzDetectExport: detection never panics, decides on the head alone,
// and what it detects is read with every line accounted for.
func FuzzDetectExport(f *testing.F) {
	seedExports(f)
	f.Fuzz(func(t *testing.T, _ byte, data []byte) {
		kind := detectExport(data)
		if kind != "" && !isExport(kind) {
			t.Fatalf("detected %q, which is no export", kind)
		}
		if len(data) > exportHeadSize {
			if detectExport(data[:exportHeadSize]) != kind {
				t.Fatalf("decided beyond the head")
			}
		}
		checkExportRead(t, kind, data)
	})
}

// FuzzExportDecoders reads arbitrary bytes with each export's decoder
// (whatever detection would say): no panic, every line accounted for,
// every record an event, irrelevant, unparsed or a duplicate; and each
// record decoder on the bytes as one record.
func FuzzExportDecoders(f *testing.F) {
	seedExports(f)
	f.Fuzz(func(t *testing.T, k byte, data []byte) {
		kind := exportKinds[int(k)%len(exportKinds)]
		checkExportRead(t, kind, data)
		for _, extract := range []func([]byte) exportItem{esDocItem, lokiValueItem, logcliItem, victoriaItem, cloudWatchItem, gcloudItem, datadogItem, s3Item} {
			it := extract(data)
			if it.bad == "" && it.obj && !strings.HasPrefix(it.text, "{") {
				t.Fatalf("a structured record that is no object: %q", it.text)
			}
		}
		if names := csvHeaderNames(data); names != nil {
			csvItem(newCSVColumns(names), names)
		}
	})
}

// checkExportRead reads data as an export of kind ("" reads it as Read
// would) and checks the accounts.
func checkExportRead(t *testing.T, kind string, data []byte) {
	t.Helper()
	opts := &Options{MaxLine: 4096, MaxRecord: 8192}
	fr := &fileReader{path: "-", opts: opts, byName: map[string]*stream{}}
	var lines int64
	var err error
	if kind == "" {
		lr := newLineReader(bytes.NewReader(data), opts.MaxLine)
		_, err = fr.readLines(lr)
		lines = lr.no
	} else {
		fr.wrapper = kind
		lines, err = fr.readExport(bufio.NewReader(bytes.NewReader(data)), kind, false)
	}
	fr.finishFile(lines, err)
	physical := int64(bytes.Count(data, []byte{'\n'}))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		physical++
	}
	total := int64(0)
	for _, st := range fr.streams {
		in := st.sum
		total += int64(in.Lines)
		if in.RecordLines+in.Stray+in.Framing != in.Lines {
			t.Fatalf("%s: lines not accounted: %+v", kind, in)
		}
		if in.EventRecs+in.Irrelevant+in.Unparsed+in.Duplicates != in.Records {
			t.Fatalf("%s: records not accounted: %+v", kind, in)
		}
	}
	if kind != "" && total != physical {
		t.Fatalf("%s: %d lines read, %d accounted", kind, physical, total)
	}
}
