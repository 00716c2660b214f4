package logstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Credentials authenticate the requests to one host. The zero value sends
// none.
type Credentials struct {
	Token          string // Authorization: Bearer
	User, Password string // Authorization: Basic
	// From says where they came from, for people ("SLOTAUDIT_TOKEN",
	// "/root/.netrc"); never the secret itself.
	From string
}

// Describe says what a request carries, without the secret.
func (c Credentials) Describe() string {
	switch {
	case c.Token != "":
		return "Authorization: Bearer *** (from " + c.From + ")"
	case c.User != "":
		return "Authorization: Basic " + c.User + ":*** (from " + c.From + ")"
	}
	return "no credentials (set SLOTAUDIT_TOKEN, or SLOTAUDIT_USER and SLOTAUDIT_PASSWORD, or a netrc entry)"
}

// CredentialsFor finds the credentials for host (no port): the
// environment first (SLOTAUDIT_TOKEN for a bearer token, else
// SLOTAUDIT_USER and SLOTAUDIT_PASSWORD for basic auth), else the netrc
// file ($NETRC, else ~/.netrc) entry for the host or its default entry.
// No file and no variable is no credentials, not an error; a netrc file
// that cannot be read or parsed is.
func CredentialsFor(host string, getenv func(string) string) (Credentials, error) {
	if t := getenv("SLOTAUDIT_TOKEN"); t != "" {
		return Credentials{Token: t, From: "SLOTAUDIT_TOKEN"}, nil
	}
	user, pass := getenv("SLOTAUDIT_USER"), getenv("SLOTAUDIT_PASSWORD")
	switch {
	case user != "" && pass != "":
		return Credentials{User: user, Password: pass, From: "SLOTAUDIT_USER and SLOTAUDIT_PASSWORD"}, nil
	case user != "" || pass != "":
		return Credentials{}, fmt.Errorf("SLOTAUDIT_USER and SLOTAUDIT_PASSWORD go together: only one is set")
	}
	path := getenv("NETRC")
	explicit := path != ""
	if !explicit {
		home := getenv("HOME")
		if home == "" {
			return Credentials{}, nil
		}
		path = filepath.Join(home, ".netrc")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) && !explicit {
			return Credentials{}, nil
		}
		return Credentials{}, fmt.Errorf("netrc: %v", err)
	}
	login, password, ok, err := netrcLookup(string(b), host)
	if err != nil {
		return Credentials{}, fmt.Errorf("netrc %s: %v", path, err)
	}
	if !ok {
		return Credentials{}, nil
	}
	return Credentials{User: login, Password: password, From: path}, nil
}

// netrcLookup finds host's login and password in a netrc file's text:
// the first "machine HOST" entry, else the "default" entry. Macro
// definitions (macdef, up to an empty line) are skipped.
func netrcLookup(text, host string) (login, password string, found bool, err error) {
	type entry struct{ login, password string }
	var (
		cur      *entry
		machine  string
		matched  *entry
		fallback *entry
	)
	lines := strings.Split(text, "\n")
	var toks []string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if j := strings.IndexByte(line, '#'); j >= 0 && strings.TrimSpace(line[:j]) == "" {
			continue // a comment line
		}
		f := strings.Fields(line)
		for k := 0; k < len(f); k++ {
			if f[k] == "macdef" {
				// the macro runs to the next empty line
				for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				}
				break
			}
			toks = append(toks, f[k])
		}
	}
	finish := func() {
		if cur == nil {
			return
		}
		if machine == "" && fallback == nil {
			fallback = cur
		} else if machine != "" && strings.EqualFold(machine, host) && matched == nil {
			matched = cur
		}
	}
	for i := 0; i < len(toks); i++ {
		switch toks[i] {
		case "machine":
			finish()
			if i+1 >= len(toks) {
				return "", "", false, fmt.Errorf("machine without a name")
			}
			i++
			machine, cur = toks[i], &entry{}
		case "default":
			finish()
			machine, cur = "", &entry{}
		case "login", "password", "account":
			if i+1 >= len(toks) {
				return "", "", false, fmt.Errorf("%s without a value", toks[i])
			}
			if cur == nil {
				return "", "", false, fmt.Errorf("%s before any machine", toks[i])
			}
			switch toks[i] {
			case "login":
				cur.login = toks[i+1]
			case "password":
				cur.password = toks[i+1]
			}
			i++
		default:
			return "", "", false, fmt.Errorf("unexpected %q", toks[i])
		}
	}
	finish()
	e := matched
	if e == nil {
		e = fallback
	}
	if e == nil {
		return "", "", false, nil
	}
	return e.login, e.password, true, nil
}
