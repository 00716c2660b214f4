package logstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// VictoriaLogs: one POST to /select/logsql/query streams every record as
// a JSON line ({"_msg":…,"_time":…,"_stream":…, other fields}). The
// query is the selector, the pushdown as a regexp filter on _msg, and
// "| sort by (_time)" so that each stream's records come in order. Two
// "| stats count()" queries count what the query and the selector alone
// match. The time range is the start and end arguments.

func victoriaSelector(q *Query) string {
	sel := strings.TrimSpace(q.Selector)
	if sel == "" {
		sel = "*"
	}
	return "(" + sel + ")"
}

func victoriaFilter(q *Query) string {
	f := victoriaSelector(q)
	if len(q.Words) > 0 {
		f += " ~" + strconv.Quote(wordsRegexp(q.Words))
	}
	return f
}

func victoriaRequest(src *Source, q *Query, logsql, note string) Request {
	form := url.Values{"query": {logsql}, "start": {stamp(q.Start)}, "end": {stamp(q.End)}}
	return Request{Method: "POST", URL: src.endpoint("/select/logsql/query", nil), Body: form.Encode(),
		ContentType: "application/x-www-form-urlencoded", Note: note}
}

func victoriaPlan(src *Source, q *Query) []Request {
	return []Request{
		victoriaRequest(src, q, victoriaSelector(q)+" | stats count() as n", "count the records the selector holds in the time range"),
		victoriaRequest(src, q, victoriaFilter(q)+" | stats count() as n", "count the records the query matches"),
		victoriaRequest(src, q, victoriaFilter(q)+" | sort by (_time)", "stream the records as JSON lines"),
	}
}

func (f *fetch) victoriaLogs(ctx context.Context) error {
	plan := victoriaPlan(f.src, &f.q)
	var err error
	if f.stats.Selected, err = f.victoriaCount(ctx, plan[0]); err != nil {
		return err
	}
	if f.stats.Matched, err = f.victoriaCount(ctx, plan[1]); err != nil {
		return err
	}
	resp, err := f.send(ctx, plan[2])
	if err != nil {
		return err
	}
	defer resp.Close()
	f.stats.Pages = 1
	br := bufio.NewReaderSize(resp.body, 64<<10)
	var last time.Time
	for n := int64(1); ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// a long record: read it whole
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(bytes.TrimSpace(line)) == 0 && err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(line)) == 0 {
				break
			}
			return fmt.Errorf("record %d is cut short (no end of line before the stream ended): the response was truncated", n)
		}
		if err != nil {
			return fmt.Errorf("reading record %d: %w", n, err)
		}
		var rec struct {
			Time *string `json:"_time"`
		}
		if trimmed := bytes.TrimSpace(line); trimmed[0] != '{' || json.Unmarshal(trimmed, &rec) != nil {
			return fmt.Errorf("record %d is not a JSON object: %s", n, oneLine(line, 200))
		}
		if rec.Time != nil {
			if t, err := time.Parse(time.RFC3339Nano, *rec.Time); err == nil && t.After(last) {
				last = t
			}
		}
		if _, err := f.w.Write(line); err != nil {
			return err
		}
		f.stats.Fetched++
		f.done = last
	}
	f.done = f.q.End
	return nil
}

// victoriaCount runs a "| stats count() as n" query.
func (f *fetch) victoriaCount(ctx context.Context, req Request) (int64, error) {
	resp, err := f.send(ctx, req)
	if err != nil {
		return -1, err
	}
	defer resp.Close()
	b, err := io.ReadAll(io.LimitReader(resp.body, 1<<20))
	if err != nil {
		return -1, fmt.Errorf("counting: %w", err)
	}
	var row struct {
		N string `json:"n"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(b), &row); err != nil {
		return -1, fmt.Errorf("counting: the store answered %s", oneLine(b, 200))
	}
	n, err := strconv.ParseInt(row.N, 10, 64)
	if err != nil {
		return -1, fmt.Errorf("counting: the store answered %s", oneLine(b, 200))
	}
	return n, nil
}
