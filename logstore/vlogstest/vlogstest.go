// Package vlogstest runs a real VictoriaLogs for tests: it finds the
// victoria-logs binary (or builds it into the cache), starts it on
// 127.0.0.1 with a temporary storage, and loads logs into it through its
// Loki push and Elasticsearch bulk APIs, as shippers do. Only tests
// import it.
package vlogstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Version is the VictoriaLogs release the tests run (.ci/run installs
// the same: VLOGS_VERSION).
const Version = "v1.52.2"

// Module is what go install builds it from.
const Module = "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs"

// RequiredEnv, when set, makes a missing binary an error (it is built)
// instead of a reason to skip: CI sets it.
const RequiredEnv = "SLOTAUDIT_VLOGS_REQUIRED"

// CacheDir is where the binary of Version lives: $SLOTAUDIT_VLOGS_DIR, else
// <user cache dir>/slotaudit/victoria-logs-<Version> (~/.cache/… on
// Linux), the directory .ci/run installs it into.
func CacheDir() (string, error) {
	if d := os.Getenv("SLOTAUDIT_VLOGS_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "slotaudit", "victoria-logs-"+Version), nil
}

// Binary returns the path of the cached binary, or an error saying it is
// not there.
func Binary() (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "victoria-logs")
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("no victoria-logs %s at %s (GOBIN=%s go install %s@%s builds it)", Version, bin, dir, Module, Version)
	}
	return bin, nil
}

// Build builds the binary into CacheDir with go install (minutes: it is
// a large module).
func Build(ctx context.Context) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "install", Module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", Module, Version, err, out)
	}
	return Binary()
}

// Server is a running VictoriaLogs.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan error
}

// Start runs bin on a free loopback port with its storage in dataDir and
// a retention of 100 years (the default, 7 days, would refuse and delete
// the bundled incidents of 2019-2021), and waits until /health says OK.
func Start(bin, dataDir string) (*Server, error) {
	var lastErr error
	for try := 0; try < 3; try++ { // a port taken between the probe and the start
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), log: &bytes.Buffer{}, done: make(chan error, 1)}
		s.cmd = exec.Command(bin,
			"-httpListenAddr=127.0.0.1:"+strconv.Itoa(port),
			"-storageDataPath="+dataDir,
			"-retentionPeriod=100y",
			"-loggerLevel=WARN",
		)
		s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
		if err := s.cmd.Start(); err != nil {
			return nil, err
		}
		go func() { s.done <- s.cmd.Wait() }()
		if lastErr = s.waitHealthy(30 * time.Second); lastErr == nil {
			return s, nil
		}
		_ = s.Stop()
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("victoria-logs exited: %v\n%s", err, s.log)
		default:
		}
		resp, err := http.Get(s.URL + "/health")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.TrimSpace(string(b)) == "OK" {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("victoria-logs at %s not healthy after %s\n%s", s.URL, limit, s.log)
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s).
func (s *Server) Stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// Log is what the server printed.
func (s *Server) Log() string { return s.log.String() }

// Record is one log record as a shipper sends it: its time and its text
// (a header line and its continuation lines).
type Record struct {
	Time time.Time
	Msg  string
}

// Stream is the records of one origin, with its labels (pod, container).
type Stream struct {
	Labels  map[string]string
	Records []Record
}

// PushLoki sends streams to /insert/loki/api/v1/push as Loki's JSON push
// body, the labels as stream fields.
func (s *Server) PushLoki(streams []Stream) error {
	type lstream struct {
		Stream map[string]string `json:"stream"`
		Values [][2]string       `json:"values"`
	}
	var body struct {
		Streams []lstream `json:"streams"`
	}
	for _, st := range streams {
		ls := lstream{Stream: st.Labels}
		for _, r := range st.Records {
			ls.Values = append(ls.Values, [2]string{strconv.FormatInt(r.Time.UnixNano(), 10), r.Msg})
		}
		body.Streams = append(body.Streams, ls)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return s.post("/insert/loki/api/v1/push", "application/json", nil, b)
}

// PushBulk sends streams to /insert/elasticsearch/_bulk as Elasticsearch
// bulk lines: the message in "message", the time in "@timestamp", the
// labels as fields, named as stream fields by the VL-Stream-Fields header
// (VL-Msg-Field and VL-Time-Field name the other two).
func (s *Server) PushBulk(streams []Stream) error {
	var b bytes.Buffer
	fields := map[string]bool{}
	var names []string
	for _, st := range streams {
		for _, r := range st.Records {
			doc := map[string]string{"message": r.Msg, "@timestamp": r.Time.UTC().Format(time.RFC3339Nano)}
			for k, v := range st.Labels {
				doc[k] = v
				if !fields[k] {
					fields[k] = true
					names = append(names, k)
				}
			}
			line, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			b.WriteString(`{"create":{}}` + "\n")
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	h := map[string]string{"VL-Stream-Fields": strings.Join(names, ","), "VL-Msg-Field": "message", "VL-Time-Field": "@timestamp"}
	return s.post("/insert/elasticsearch/_bulk", "application/json", h, b.Bytes())
}

// Flush makes what was pushed searchable (/internal/force_flush).
func (s *Server) Flush() error {
	resp, err := http.Get(s.URL + "/internal/force_flush")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("force_flush: %s: %s", resp.Status, b)
	}
	return nil
}

func (s *Server) post(path, ctype string, headers map[string]string, body []byte) error {
	req, err := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, b)
	}
	if bytes.Contains(b, []byte(`"errors":true`)) {
		return fmt.Errorf("POST %s: %s", path, b)
	}
	return nil
}

// Records cuts a log's text into records, each with its line end: a line
// and the continuation lines below it (indented, "Caused by:", "...",
// closing braces, exception headers: isExceptionHeader), as a shipper
// with a multi-line rule sends them.
func Records(text string, isExceptionHeader func([]byte) bool) []string {
	var out []string
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		body := strings.TrimRight(line, "\r\n")
		cont := len(out) > 0 && (body == "" || body[0] == ' ' || body[0] == '\t' || body[0] == '}' || body[0] == ']' ||
			strings.HasPrefix(body, "Caused by:") || strings.HasPrefix(body, "...") || isExceptionHeader([]byte(body)))
		if cont {
			out[len(out)-1] += line
			continue
		}
		out = append(out, line)
	}
	return out
}

var stampRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})[,.](\d{3})`)

// Timed gives each record a time: its own timestamp (read as UTC), else
// the record before's; records in one millisecond a nanosecond apart, in
// their order, so the store keeps it. The text is kept without its last
// line end (a shipper strips it).
func Timed(records []string) ([]Record, error) {
	var out []Record
	var last time.Time
	for i, r := range records {
		t := last
		if m := stampRE.FindStringSubmatch(r); m != nil {
			p, err := time.Parse("2006-01-02 15:04:05.000", m[1]+" "+m[2]+"."+m[3])
			if err != nil {
				return nil, err
			}
			t = p
		} else if i == 0 {
			return nil, errors.New("the first record has no timestamp")
		}
		if !t.After(last) {
			t = last.Add(time.Nanosecond)
		}
		last = t
		out = append(out, Record{Time: t, Msg: strings.TrimRight(r, "\r\n")})
	}
	return out, nil
}

// AddNoise puts a record that holds no pushdown word after every nth
// record (a Kafka consumer resetting its offset, at the time of the record
// before, in its layout): what a store holds besides slot evidence, and
// the pushdown leaves out.
func AddNoise(records []string, every int) []string {
	var out []string
	for i, r := range records {
		out = append(out, r)
		if (i+1)%every != 0 {
			continue
		}
		m := stampRE.FindString(r)
		if m == "" {
			continue
		}
		sep := " - "
		if strings.Contains(r, " [] - ") {
			sep = " [] - "
		}
		out = append(out, fmt.Sprintf("%s INFO  org.apache.kafka.clients.consumer.internals.Fetcher%s[Consumer clientId=consumer-3, groupId=flink-events] Fetch position FetchPosition{offset=%d} is out of range for partition events-1, resetting offset\n", m, sep, 1000+i))
	}
	return out
}
