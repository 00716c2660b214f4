package logstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client fetches from stores. The zero value is not ready: use NewClient.
type Client struct {
	HTTP *http.Client
	// Credentials for a host (no port); nil sends none.
	Credentials func(host string) (Credentials, error)
	// Attempts bounds the tries of one request: a throttled (429), failing
	// (500, 502, 503, 504) or unreachable store is tried again after an
	// exponential backoff with jitter, starting at Backoff and at most
	// MaxBackoff, or after the store's Retry-After when it says one (up to
	// MaxRetryAfter: a longer wait is an error, not a hang).
	Attempts                           int
	Backoff, MaxBackoff, MaxRetryAfter time.Duration
	// Idle ends a response whose body sends nothing for this long (a store
	// that stalls mid-stream); the wait for the headers is the Transport's.
	Idle time.Duration
	// Sleep waits d or until ctx ends (tests make it instant).
	Sleep func(ctx context.Context, d time.Duration) error
	// Notef says what the fetch is doing (retries, pages), for stderr; nil
	// says nothing.
	Notef func(format string, args ...any)
	// UserAgent is sent with every request.
	UserAgent string
}

// NewClient returns a client with verified TLS (the system's roots, or
// SSL_CERT_FILE / SSL_CERT_DIR), five tries per request, a minute to wait
// for a response's headers and two for a stalled body.
func NewClient() *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 5 * time.Minute // a sorted VictoriaLogs query answers when sorted
	return &Client{
		HTTP:          &http.Client{Transport: tr},
		Attempts:      5,
		Backoff:       500 * time.Millisecond,
		MaxBackoff:    30 * time.Second,
		MaxRetryAfter: 5 * time.Minute,
		Idle:          2 * time.Minute,
		Sleep:         sleepCtx,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) notef(format string, args ...any) {
	if c.Notef != nil {
		c.Notef(format, args...)
	}
}

// Request is one HTTP request to a store, as --dry-run prints it.
type Request struct {
	Method string
	URL    string
	Body   string // "" for none
	// ContentType of Body
	ContentType string
	// Note says what the request is for.
	Note string
}

// String prints the request: method and URL, then the body indented.
func (r Request) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	if form, err := url.ParseQuery(r.Body); r.ContentType == "application/x-www-form-urlencoded" && err == nil {
		// the form's fields decoded, one a line, in the order sent
		fmt.Fprintf(&b, "    (%s)\n", r.ContentType)
		for _, kv := range strings.Split(r.Body, "&") {
			k, _, _ := strings.Cut(kv, "=")
			k, _ = url.QueryUnescape(k)
			fmt.Fprintf(&b, "    %s=%s\n", k, form.Get(k))
		}
		return b.String()
	}
	if r.Body != "" {
		for _, l := range strings.Split(r.Body, "\n") {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	return b.String()
}

// FetchError is a fetch that failed: which source, what went wrong, and
// how far it got. Nothing of a failed fetch is audited.
type FetchError struct {
	Source string
	// Range is the time range fetched before the failure ("" when nothing
	// was), in the store's own terms.
	Range string
	// Status is the HTTP status that ended it (0 for none).
	Status int
	Err    error
}

func (e *FetchError) Error() string {
	msg := e.Source + ": " + e.Err.Error()
	if e.Range != "" {
		msg += "; fetched so far: " + e.Range + ", none of it audited"
	} else {
		msg += "; nothing was fetched"
	}
	return msg
}

func (e *FetchError) Unwrap() error { return e.Err }

// statusError is a response the fetch cannot use.
type statusError struct {
	status int
	text   string // what the store said, cut short
	hint   string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.status, http.StatusText(e.status))
	if e.text != "" {
		msg += ": " + e.text
	}
	if e.hint != "" {
		msg += " (" + e.hint + ")"
	}
	return msg
}

// retryable reports whether a status is worth another try.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// response is a successful response whose body is being read; Close it.
type response struct {
	*http.Response
	body   io.Reader // Response.Body, ended by the idle timer
	cancel context.CancelCauseFunc
	timer  *time.Timer
	once   sync.Once
}

// errStalled ends a body that sent nothing for Client.Idle.
var errStalled = errors.New("the store sent nothing")

type idleBody struct {
	r    *response
	idle time.Duration
}

func (b idleBody) Read(p []byte) (int, error) {
	b.r.timer.Reset(b.idle)
	n, err := b.r.Response.Body.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if cause := context.Cause(b.r.Request.Context()); errors.Is(cause, errStalled) {
			err = fmt.Errorf("%w for %s: the response stopped mid-way", errStalled, b.idle)
		}
	}
	return n, err
}

func (r *response) Close() {
	r.once.Do(func() {
		r.timer.Stop()
		_ = r.Response.Body.Close()
		r.cancel(nil)
	})
}

// do sends a request, trying again as Attempts allow, and returns the
// successful (2xx) response. Its body ends with an error when the store
// stalls for Idle.
func (c *Client) do(ctx context.Context, src *Source, req Request) (*response, error) {
	host := src.Base.Hostname()
	var creds Credentials
	if c.Credentials != nil {
		var err error
		if creds, err = c.Credentials(host); err != nil {
			return nil, err
		}
	}
	attempts := max(c.Attempts, 1)
	for try := 1; ; try++ {
		rctx, cancel := context.WithCancelCause(ctx)
		hreq, err := http.NewRequestWithContext(rctx, req.Method, req.URL, nil)
		if err != nil {
			cancel(nil)
			return nil, err
		}
		if req.Body != "" {
			hreq.Body = io.NopCloser(strings.NewReader(req.Body))
			hreq.ContentLength = int64(len(req.Body))
			body := req.Body
			hreq.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
			hreq.Header.Set("Content-Type", req.ContentType)
		}
		hreq.Header.Set("Accept", "application/json")
		if c.UserAgent != "" {
			hreq.Header.Set("User-Agent", c.UserAgent)
		}
		switch {
		case creds.Token != "":
			hreq.Header.Set("Authorization", "Bearer "+creds.Token)
		case creds.User != "":
			hreq.SetBasicAuth(creds.User, creds.Password)
		}
		resp, err := c.HTTP.Do(hreq)
		var wait time.Duration
		var failure error
		switch {
		case err != nil:
			cancel(nil)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !transient(err) {
				return nil, err
			}
			failure = err
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			idle := c.Idle
			if idle <= 0 {
				idle = 1 << 62 // never
			}
			r := &response{Response: resp, cancel: cancel}
			r.timer = time.AfterFunc(idle, func() { cancel(errStalled) })
			r.body = idleBody{r, idle}
			return r, nil
		default:
			text, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			cancel(nil)
			se := &statusError{status: resp.StatusCode, text: oneLine(text, 300), hint: statusHint(resp.StatusCode, creds)}
			if !retryable(resp.StatusCode) {
				return nil, se
			}
			failure = se
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				if ra > c.MaxRetryAfter {
					return nil, fmt.Errorf("%w; the store asks to wait %s (Retry-After), longer than %s: try again later", se, ra.Round(time.Second), c.MaxRetryAfter)
				}
				wait = ra
			}
		}
		if try >= attempts {
			return nil, fmt.Errorf("%w (after %d tries)", failure, try)
		}
		if wait == 0 {
			wait = c.backoff(try)
		}
		c.notef("%s: %v; trying again in %s (%d of %d)", src.Name, failure, wait.Round(time.Millisecond), try+1, attempts)
		if err := c.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// backoff is the wait before try+1: Backoff doubled per try, at most
// MaxBackoff, the upper half of it at random (jitter: many clients
// throttled at once do not come back at once).
func (c *Client) backoff(try int) time.Duration {
	d := c.Backoff << (try - 1)
	if d <= 0 || d > c.MaxBackoff {
		d = c.MaxBackoff
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// transient reports whether a transport error may go away: a timeout, a
// refused or reset connection. A bad URL or a certificate the system does
// not trust does not.
func transient(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// statusHint says what to do about a refusal.
func statusHint(status int, creds Credentials) string {
	switch status {
	case http.StatusUnauthorized:
		if creds.From == "" {
			return "the store wants credentials: set SLOTAUDIT_TOKEN, or SLOTAUDIT_USER and SLOTAUDIT_PASSWORD, or a netrc entry"
		}
		return "the store refused the credentials from " + creds.From
	case http.StatusForbidden:
		return "the credentials" + fromWords(creds) + " may not read this"
	case http.StatusTooManyRequests:
		return "the store is throttling"
	case http.StatusBadRequest:
		return "the store could not run the query: check --query"
	case http.StatusNotFound:
		return "no such endpoint or index: check the source's address"
	}
	if status >= 500 {
		return "the store failed"
	}
	return ""
}

func fromWords(c Credentials) string {
	if c.From == "" {
		return " (none were sent)"
	}
	return " from " + c.From
}

// oneLine is b as one line of at most n bytes, for an error message.
func oneLine(b []byte, n int) string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, []byte("?")))), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
