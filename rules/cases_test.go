package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// TestRuleCases runs the data tests of rules/testdata/cases: one txtar
// archive per case, in a directory per rule. The archive's files are the
// logs; a file named "@PATH" stands for the project's log at PATH (from the
// repository's root), so an incident already under testdata/logs is not
// copied. The comment holds the expectations, one per line:
//
//	want FILE:LINE RULE /regexp of the message/
//	none RULE
//
// Every finding of a rule the case names must be wanted ("none" wants
// nothing of that rule), so a case proves both what must be found and what
// must not be: the healthy look-alikes a rule must leave alone.
func TestRuleCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no rule cases under testdata/cases")
	}
	covered := map[string]bool{}
	for _, dir := range dirs {
		rule := filepath.Base(dir)
		if ByID(rule) == nil {
			t.Errorf("%s: no rule %q", dir, rule)
			continue
		}
		cases, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
		for _, c := range cases {
			t.Run(rule+"/"+strings.TrimSuffix(filepath.Base(c), ".txtar"), func(t *testing.T) {
				for r := range runCase(t, c) {
					covered[r] = true
				}
			})
		}
	}
	for _, r := range All {
		if !covered[r.ID] {
			t.Logf("rule %s has no data cases yet", r.ID)
		}
	}
}

var wantLine = regexp.MustCompile(`^want (\S+):(\d+) (\S+) /(.*)/$`)

// runCase runs one case and returns the rules it judged.
func runCase(t *testing.T, path string) map[string]bool {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, f := range ar.Files {
		data := f.Data
		name := f.Name
		if rel, ok := strings.CutPrefix(f.Name, "@"); ok {
			b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			data, name = b, filepath.Base(rel)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	type want struct {
		place string
		rule  string
		msg   *regexp.Regexp
		met   bool
	}
	var wants []*want
	judged := map[string]bool{}
	for _, l := range strings.Split(string(ar.Comment), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "none "):
			judged[strings.TrimSpace(l[5:])] = true
		default:
			m := wantLine.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("%s: cannot read %q (want FILE:LINE RULE /regexp/, or none RULE)", path, l)
			}
			wants = append(wants, &want{place: m[1] + ":" + m[2], rule: m[3], msg: regexp.MustCompile(m[4])})
			judged[m[3]] = true
		}
	}
	if len(judged) == 0 {
		t.Fatalf("%s: no expectations", path)
	}
	sort.Strings(paths)
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	for _, f := range Run(m, All) {
		if !judged[f.Rule] {
			continue
		}
		place := fmt.Sprintf("%s:%d", filepath.Base(res.Files[f.Pos.File].Path), f.Pos.Line)
		found := false
		for _, w := range wants {
			if !w.met && w.rule == f.Rule && w.place == place && w.msg.MatchString(f.Message) {
				w.met, found = true, true
				break
			}
		}
		if !found {
			t.Errorf("unwanted %s at %s: %s", f.Rule, place, f.Message)
		}
	}
	for _, w := range wants {
		if !w.met {
			t.Errorf("no %s at %s matching /%s/", w.rule, w.place, w.msg)
		}
	}
	return judged
}
