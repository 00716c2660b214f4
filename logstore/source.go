package logstore

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Kind is the kind of store a source names.
type Kind string

// The stores slotaudit fetches from.
const (
	VictoriaLogs  Kind = "victorialogs"
	Loki          Kind = "loki"
	OpenSearch    Kind = "opensearch"
	Elasticsearch Kind = "elasticsearch"
)

// Kinds are the source kinds, in the order help texts name them.
var Kinds = []Kind{VictoriaLogs, Loki, OpenSearch, Elasticsearch}

// Source is one store to fetch from, as a PATH argument names it.
type Source struct {
	Kind Kind
	// Base is the store's HTTP address: scheme, host and any path prefix
	// (a reverse proxy's), without the index.
	Base *url.URL
	// Index is the OpenSearch/Elasticsearch index, alias or pattern
	// (logs-*, a,b).
	Index string
	// TimeField and MessageField: OpenSearch/Elasticsearch fields that
	// hold a record's time and its text (?time_field=, ?message_field=;
	// @timestamp and message by default).
	TimeField, MessageField string
	// Name is the source as given, for people and reports: it names the
	// input the fetched records are read as.
	Name string
}

// IsSource reports whether arg names a live source (KIND+http:// or
// KIND+https://) rather than a file.
func IsSource(arg string) bool {
	for _, k := range Kinds {
		for _, s := range []string{"+http://", "+https://"} {
			if len(arg) > len(k)+len(s) && strings.EqualFold(arg[:len(k)+len(s)], string(k)+s) {
				return true
			}
		}
	}
	return false
}

// ParseSource reads a live source argument. It refuses credentials in
// the URL: the name of a source is printed in every report.
func ParseSource(arg string) (*Source, error) {
	kind, rest, ok := strings.Cut(arg, "+")
	if !ok || !IsSource(arg) {
		return nil, fmt.Errorf("%q: want %s", arg, sourceForms())
	}
	u, err := url.Parse(rest)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", redact(arg), err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: credentials do not go in the PATH (it is printed in every report): set SLOTAUDIT_TOKEN, or SLOTAUDIT_USER and SLOTAUDIT_PASSWORD, or a netrc entry for %s", redact(arg), u.Hostname())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s: no host; want %s", arg, sourceForms())
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("%s: a source has no #fragment", arg)
	}
	s := &Source{Kind: Kind(strings.ToLower(kind)), Name: arg}
	u.Scheme = strings.ToLower(u.Scheme)
	params := u.Query()
	u.RawQuery = ""
	path := strings.TrimRight(u.Path, "/")
	switch s.Kind {
	case OpenSearch, Elasticsearch:
		i := strings.LastIndexByte(path, '/')
		s.Index = path[i+1:]
		path = path[:max(i, 0)]
		if s.Index == "" {
			return nil, fmt.Errorf("%s: no index; want %s+%s://HOST/INDEX (an index, alias or pattern such as logs-*)", arg, s.Kind, u.Scheme)
		}
		s.TimeField, s.MessageField = "@timestamp", "message"
		for k, v := range params {
			switch k {
			case "time_field":
				s.TimeField = v[0]
			case "message_field":
				s.MessageField = v[0]
			default:
				return nil, fmt.Errorf("%s: unknown parameter %q; an %s source takes time_field and message_field", arg, k, s.Kind)
			}
		}
		if s.TimeField == "" || s.MessageField == "" {
			return nil, fmt.Errorf("%s: time_field and message_field cannot be empty", arg)
		}
	default:
		if len(params) > 0 {
			keys := make([]string, 0, len(params))
			for k := range params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return nil, fmt.Errorf("%s: unknown parameter %q; a %s source takes none", arg, keys[0], s.Kind)
		}
	}
	u.Path = path
	u.RawPath = ""
	s.Base = u
	return s, nil
}

// sourceForms names the source forms, for errors.
func sourceForms() string {
	return "victorialogs+http://HOST:9428, loki+https://HOST, opensearch+https://HOST/INDEX or elasticsearch+https://HOST/INDEX (http or https)"
}

// redact removes any user:password@ from a URL-ish argument for an
// error message.
func redact(arg string) string {
	scheme, rest, ok := strings.Cut(arg, "://")
	if !ok {
		return arg
	}
	host, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = "***@" + host[i+1:]
	}
	if path != "" || strings.Contains(rest, "/") {
		return scheme + "://" + host + "/" + path
	}
	return scheme + "://" + host
}

// endpoint is the store's URL for path (which starts with /).
func (s *Source) endpoint(path string, q url.Values) string {
	u := *s.Base
	u.Path = s.Base.Path + path
	u.RawQuery = q.Encode()
	return u.String()
}
