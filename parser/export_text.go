package parser

// The exports that are not JSON: the CSV reports of Kibana (and
// OpenSearch Dashboards) and Datadog, and CloudWatch Logs' export to S3.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// sniffText tells which text export head begins: a CSV header row of
// field names, or CloudWatch's "<time> <message>" lines.
func sniffText(head []byte) string {
	whole := len(head) < exportHeadSize-len(bom)
	var lines [][]byte
	for rest := head; len(lines) < 64; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if whole && len(rest) > 0 {
				lines = append(lines, rest)
			}
			break
		}
		lines = append(lines, bytes.TrimSuffix(rest[:i], []byte("\r")))
		rest = rest[i+1:]
	}
	if len(lines) == 0 {
		return ""
	}
	if isS3Export(lines) {
		return wrapCWS3
	}
	cols := csvHeaderNames(lines[0])
	switch {
	case slices.Contains(cols, "Date") && (slices.Contains(cols, "Message") || slices.Contains(cols, "Content")):
		// Datadog's Log Explorer export: Date, Host, Service, Message (and
		// the columns shown)
		return wrapDatadogCSV
	case slices.Contains(cols, "@timestamp") && len(cols) >= 2,
		(slices.Contains(cols, "message") || slices.Contains(cols, "log")) && slices.ContainsFunc(cols, isStoreField):
		// Kibana's (and OpenSearch Dashboards') CSV report: the saved
		// search's columns by field name
		// (https://www.elastic.co/guide/en/kibana/current/reporting-getting-started.html)
		return wrapKibanaCSV
	}
	return ""
}

// isStoreField reports a column a store's record has beside its message.
func isStoreField(c string) bool {
	return slices.Contains(exportTimeKeys, c) || slices.Contains(originPodKeys, c) || slices.Contains(originContainerKeys, c) ||
		slices.Contains(originHostKeys, c) || slices.Contains(originFileKeys, c) || c == "_id" || c == "_index" || c == "log.level" || c == "log.logger"
}

// csvHeaderNames reads a CSV header row's names (blanks and a formula
// escape "'" before = + - @ taken off, as Kibana writes them when it
// escapes formulas); nil when line is no CSV row of at least two names.
func csvHeaderNames(line []byte) []string {
	r := csv.NewReader(bytes.NewReader(line))
	r.LazyQuotes = true
	cols, err := r.Read()
	if err != nil || len(cols) < 2 {
		return nil
	}
	for i, c := range cols {
		cols[i] = unescapeFormula(strings.TrimSpace(c))
	}
	return cols
}

func unescapeFormula(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@", rune(s[1])) {
		return s[1:]
	}
	return s
}

// s3Stamp reports whether a line begins with the time a CloudWatch Logs
// export to S3 writes before each message: 2020-03-17T13:59:28.500Z and a
// blank (milliseconds, UTC), and returns the message.
func s3Stamp(b []byte) ([]byte, bool) {
	const n = len("2006-01-02T15:04:05.000Z")
	if len(b) <= n || b[n] != ' ' || b[n-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != '.' {
		return nil, false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22} {
		if b[i] < '0' || b[i] > '9' {
			return nil, false
		}
	}
	return b[n+1:], true
}

// isS3Export: the first line and every dated line carry s3Stamp's time,
// exactly (kubectl logs --timestamps writes nanoseconds, and offsets).
func isS3Export(lines [][]byte) bool {
	first := true
	stamped := 0
	for _, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		_, ok := s3Stamp(l)
		switch {
		case ok:
			stamped++
		case first, len(cutTimestamp(l)) < len(l):
			return false
		}
		first = false
	}
	return stamped > 0
}

// readS3Lines reads an object of a CloudWatch Logs export to S3
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3Export.html):
// "<time> <message>" lines; a message of several lines goes on over the
// lines that follow without a time. Its origin is the log stream, which
// the export names only in the object's key, <prefix>/<task>/<log stream>/000000.gz:
// the directory the file is in.
func (x *exportReader) readS3Lines(br *bufio.Reader) (int64, error) {
	o := exportOrigin{}
	if x.fr.path != "-" {
		if dir := filepath.Base(filepath.Dir(x.fr.path)); dir != "." && dir != string(filepath.Separator) {
			o = originOf(func(k string) string {
				if k == "logStreamName" {
					return dir
				}
				return ""
			})
		}
	}
	x.extract = func(b []byte) exportItem {
		it := s3Item(b)
		it.origin = o
		return it
	}
	l := &rawLines{br: br, off: x.base, max: x.limit}
	var rec []byte
	var first, last, start, end int64
	open, cut := false, false
	flush := func() {
		if !open {
			return
		}
		it := x.extract(rec)
		if cut {
			it = exportItem{origin: o, bad: "a message longer than the record limit", detail: rec}
		}
		x.add(it, first, last, start, end, false)
		open, cut, rec = false, false, rec[:0]
	}
	for {
		line, s, e, lcut, err := l.next()
		if err == io.EOF {
			flush()
			return l.no, nil
		}
		if err != nil {
			flush()
			return l.no, err
		}
		if _, ok := s3Stamp(line); ok || !open {
			flush()
			open, first, start = true, l.no, s
		} else {
			rec = append(rec, '\n')
		}
		last, end = l.no, e
		if len(rec)+len(line) > x.limit || lcut {
			cut = true
		} else {
			rec = append(rec, line...)
		}
	}
}

// s3Item reads one record of an S3 export: its time and message.
func s3Item(b []byte) exportItem {
	b = bytes.TrimSuffix(b, []byte("\n"))
	var it exportItem
	if msg, ok := s3Stamp(b); ok {
		it.time, _ = parseExportTime(string(b[:len(b)-len(msg)-1]))
		b = msg
	}
	it.text = strings.ReplaceAll(string(b), "\r\n", "\n")
	return it
}

// csvColumns finds a CSV row's values by the header's names (exactly,
// else ignoring case: Datadog writes Host, Service).
type csvColumns struct {
	exact, lower map[string]int
}

func newCSVColumns(names []string) *csvColumns {
	c := &csvColumns{exact: map[string]int{}, lower: map[string]int{}}
	for i, n := range names {
		if _, ok := c.exact[n]; !ok {
			c.exact[n] = i
		}
		if _, ok := c.lower[strings.ToLower(n)]; !ok {
			c.lower[strings.ToLower(n)] = i
		}
	}
	return c
}

func (c *csvColumns) getter(row []string) func(string) (any, bool) {
	return func(k string) (any, bool) {
		i, ok := c.exact[k]
		if !ok {
			i, ok = c.lower[strings.ToLower(k)]
		}
		if !ok || i >= len(row) || row[i] == "" {
			return nil, false
		}
		return row[i], true
	}
}

// csvItem reads one row of a CSV report.
func csvItem(cols *csvColumns, row []string) exportItem {
	get := cols.getter(row)
	it, hasMsg, structured := storedRecord(get)
	if structured {
		str := func(keys ...string) string {
			for _, k := range keys {
				if v, ok := get(k); ok {
					return v.(string)
				}
			}
			return ""
		}
		logger := str(jsonLoggerKeys...)
		it.text, it.obj = synthObject(it.time, str(jsonLevelKeys...), logger, str(jsonThreadKeys...), it.text, str(jsonStackKeys...)), true
		return it
	}
	if !hasMsg {
		it.bad = noMessage(it)
		it.detail = []byte(strings.Join(row, ","))
	}
	return it
}

// readCSV reads a CSV report: its header row is framing, every other row
// a record (a quoted value may hold line breaks: a stack trace).
func (x *exportReader) readCSV(br *bufio.Reader) (int64, error) {
	lc := &lineCounter{r: br}
	r := csv.NewReader(lc)
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	header, err := r.Read()
	if err != nil {
		if lc.err != nil {
			return lc.lines(), lc.err
		}
		_, _ = io.Copy(io.Discard, lc)
		return lc.lines(), lc.err
	}
	for i, c := range header {
		header[i] = unescapeFormula(strings.TrimSpace(c))
	}
	cols := newCSVColumns(header)
	x.extract = func(b []byte) exportItem {
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord, r.LazyQuotes = -1, true
		row, err := r.Read()
		if err != nil {
			return exportItem{bad: "not a CSV row"}
		}
		return csvItem(cols, row)
	}
	prev := r.InputOffset()
	for {
		row, err := r.Read()
		if err == io.EOF {
			return lc.lines(), lc.err
		}
		if err != nil {
			if lc.err != nil {
				return lc.lines(), lc.err
			}
			var pe *csv.ParseError
			line := x.claimed + 1
			if errors.As(err, &pe) {
				line = int64(pe.StartLine)
			}
			_, _ = io.Copy(io.Discard, lc)
			x.broken(line, lc.lines(), "invalid CSV: "+err.Error()+"; the rest of the input is not read as records", nil)
			return lc.lines(), lc.err
		}
		end := r.InputOffset()
		first, _ := r.FieldPos(0)
		last := lc.lineAt(max(end-1, 0)) // the line of its last byte
		x.add(csvItem(cols, row), min(int64(first), last), last, x.base+prev, x.base+end, false)
		prev = end
	}
}
