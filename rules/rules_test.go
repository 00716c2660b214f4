package rules

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

func audit(t *testing.T, paths ...string) (*reconstruct.Model, []Finding) {
	t.Helper()
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	return m, Run(m, All)
}

func logs(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join("..", "testdata", "logs", n))
	}
	return out
}

// count renders findings as "rule:severity" counts, sorted, for comparison.
func count(fs []Finding) string {
	n := map[string]int{}
	for _, f := range fs {
		n[f.Rule+":"+f.Severity.String()]++
	}
	var out []string
	for k, v := range n {
		out = append(out, k+"="+strings.Repeat("I", v))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestVerdicts: what audit finds on each of the project's test logs. The
// race, in every variant (INFO text, DEBUG text, INFO JSON), gives the
// overwrite, the silent rejection of the duplicate offer, the zombie, the
// failed deployment(s) into it and the job that could not get its slots;
// the same situation on a fixed table is information only; healthy logs of
// every version family give nothing.
func TestVerdicts(t *testing.T) {
	race := "duplicate-offer:warning=I no-resource-available:error=I slot-map-overwrite:error=I task-without-slot:error=I zombie-slot:error=I"
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"legacy 1.6.2 race, INFO text", logs("legacy-1.6.2-race-tm.log", "legacy-1.6.2-race-jm.log"), race},
		{"legacy 1.8.2 race, DEBUG text", logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"),
			"allocation-timeout:warning=I " + race},
		{"legacy 1.8.2 race, INFO JSON", logs("legacy-1.8.2-race-json-tm.json", "legacy-1.8.2-race-json-jm.json"),
			"allocation-timeout:info=I " + race},
		{"fixed 1.10 refuses the duplicate", logs("fixed-1.10.0-refused-duplicate-tm.log"), "slot-map-overwrite:info=I"},
		{"the 1.8.2 race on fixed 1.10.3: refused, nothing leaks", logs("fixed-1.10.3-race-refused-tm.log", "fixed-1.10.3-race-refused-jm.log"),
			"allocation-timeout:warning=I slot-map-overwrite:info=I"},
		{"legacy 1.9.1: a task into a slot freed before it arrived", logs("legacy-1.9.1-debug-tm.log"), "task-without-slot:error=I"},
		{"healthy 1.11 restart", logs("fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log"), ""},
		{"healthy 1.12 minicluster", logs("fixed-1.12-minicluster-time-only.log"), ""},
		{"healthy 1.12 yarn", logs("1.12.1-yarn-aggregated.log"), ""},
		{"healthy 1.13 declarative", logs("1.13.2-declarative-jm.log"), ""},
		{"healthy 1.14 logback", logs("1.14.3-logback-tm.log"), ""},
		{"healthy 1.14 mid-story", logs("midstory-1.14-rotated-tm.log"), ""},
		{"healthy 1.15 logstash", logs("1.15.1-logstash-logback-tm.json"), ""},
		{"fixed 1.17 refuses a duplicate on another index", logs("1.17-relative-tm.log"), "slot-map-overwrite:info=I"},
		{"healthy 1.18 dynamic", logs("fixed-1.18.1-dynamic-slots-tm.log"), ""},
		{"healthy 1.19 json", logs("1.19.1-jsonlayout-tm.json"), ""},
		{"healthy 2.0 docker", logs("2.0.0-logstash-docker-tm.log"), ""},
		{"healthy 2.1 cri", logs("2.1.0-cri-tm.log"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs := audit(t, tt.files...)
			if got := count(fs); got != tt.want {
				t.Errorf("findings\n got  %s\n want %s", got, tt.want)
				for _, f := range fs {
					t.Logf("%s %s %s", f.Rule, f.Severity, f.Message)
				}
			}
		})
	}
}

// TestRaceLinks: the failed deployment and the job's lack of slots are
// linked to the zombie, the zombie to the overwrite and the rejected
// offer; every finding carries evidence lines and says what the fixed
// table would have done.
func TestRaceLinks(t *testing.T) {
	for _, files := range [][]string{
		logs("legacy-1.6.2-race-tm.log", "legacy-1.6.2-race-jm.log"),
		logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"),
		logs("legacy-1.8.2-race-json-tm.json", "legacy-1.8.2-race-json-jm.json"),
	} {
		_, fs := audit(t, files...)
		by := map[string]Finding{}
		for _, f := range fs {
			if f.Evidence == nil || f.FixedModel == "" || f.Message == "" || len(f.Fingerprint) != 32 {
				t.Errorf("%s: finding %s lacks evidence, message, fingerprint or fixed model: %+v", files[0], f.Rule, f)
			}
			lines := 0
			for _, e := range f.Evidence {
				if e.Pos.Line > 0 {
					lines++
				}
			}
			if lines == 0 {
				t.Errorf("%s: %s has no evidence line", files[0], f.Rule)
			}
			by[f.Rule] = f
		}
		z := by["zombie-slot"]
		if !hasAll(z.Causes, by["slot-map-overwrite"].ID, by["duplicate-offer"].ID) {
			t.Errorf("%s: zombie caused by %v, want the overwrite and the rejected offer", files[0], z.Causes)
		}
		for _, rule := range []string{"task-without-slot", "no-resource-available"} {
			if !hasAll(by[rule].Causes, z.ID) {
				t.Errorf("%s: %s caused by %v, want the zombie %s", files[0], rule, by[rule].Causes, z.ID)
			}
		}
		if z.ZombieSeconds <= 0 || z.Since.IsZero() {
			t.Errorf("%s: zombie since %v, %.1f slot-seconds", files[0], z.Since, z.ZombieSeconds)
		}
	}
}

// TestIndexUnknownAtInfo: on the 1.6.2 race at INFO nothing names the
// zombie's index; the finding says so and why instead of guessing.
func TestIndexUnknownAtInfo(t *testing.T) {
	_, fs := audit(t, logs("legacy-1.6.2-race-tm.log", "legacy-1.6.2-race-jm.log")...)
	for _, f := range fs {
		if f.Rule != "zombie-slot" && f.Rule != "slot-map-overwrite" {
			continue
		}
		if f.SlotIndex != -1 || !strings.Contains(f.IndexNote, "prints no index when it allocates") {
			t.Errorf("%s: index %d (%s), want unknown with the reason", f.Rule, f.SlotIndex, f.IndexNote)
		}
	}
}

// TestRealShapesNoUndeservedErrors: the project's logs in the shapes of real
// public excerpts (testdata/README.md) describe healthy clusters; none
// deserves an error. Each is read on its own, as a person would audit it.
func TestRealShapesNoUndeservedErrors(t *testing.T) {
	for _, n := range logs(
		"real-1.14-standalone-lifecycle-tm.log",
		"real-1.10-standalone-slotpool-jm.log",
		"real-1.8-zk-ha-job-switch-tm.log",
		"real-1.12-minicluster-interleaved.log",
		"real-1.11-k8s-jsonlayout-task-failed-jm.json",
	) {
		if _, err := os.Stat(n); err != nil {
			t.Fatal(err)
		}
		_, fs := audit(t, n)
		for _, f := range fs {
			if f.Severity == Error {
				t.Errorf("%s: undeserved %s: %s", filepath.Base(n), f.Rule, f.Message)
			}
		}
	}
}

// TestFingerprintsStable: the same finding keeps its fingerprint whatever
// else the input holds, and every finding of a run has its own.
func TestFingerprintsStable(t *testing.T) {
	_, a := audit(t, logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")...)
	_, b := audit(t, logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log", "fixed-1.10.0-refused-duplicate-tm.log")...)
	fp := map[string]bool{}
	for _, f := range b {
		if fp[f.Fingerprint] {
			t.Errorf("fingerprint %s twice", f.Fingerprint)
		}
		fp[f.Fingerprint] = true
	}
	for _, f := range a {
		if !fp[f.Fingerprint] {
			t.Errorf("%s %s changed fingerprint when another input was added", f.Rule, f.ID)
		}
	}
}

func hasAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range list {
			found = found || x == w
		}
		if !found || w == "" {
			return false
		}
	}
	return true
}

// TestSlotReportMismatchOnLostLine: the 1.8.2 DEBUG race with the
// TaskManager's free of A2 (index 1) lost, as a rotation would lose it. The
// next slot reports show index 1 free while the replay still holds A2: the
// rule reports each such report, with the line and both holders.
func TestSlotReportMismatchOnLostLine(t *testing.T) {
	a2, _ := flinklog.ParseID("3b9d7f1e5c2a4086d9e1f3a5c7b90e24")
	paths := logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")
	tm, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(tm), "\n") {
		if !strings.Contains(line, "Free slot TaskSlot(") || !strings.Contains(line, a2.String()) {
			kept = append(kept, line)
		}
	}
	if len(kept) != strings.Count(string(tm), "\n") {
		t.Fatalf("%d lines kept; want all but the free of A2", len(kept))
	}
	paths[0] = filepath.Join(t.TempDir(), "taskmanager.log")
	if err := os.WriteFile(paths[0], []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	fs := Run(m, All)
	var mism []Finding
	for _, f := range fs {
		if f.Rule == "slot-report-mismatch" {
			mism = append(mism, f)
		}
	}
	if len(mism) == 0 {
		t.Fatalf("no slot-report-mismatch; findings: %s", count(fs))
	}
	f := mism[0]
	if f.Severity != Warning || f.SlotIndex != 1 || f.Alloc != a2 || !strings.Contains(f.Message, "index 1: reported free, replayed "+a2.String()) {
		t.Errorf("first mismatch %+v", f)
	}
	if len(f.Evidence) == 0 || f.Evidence[0].Pos.Line == 0 {
		t.Errorf("the report line is not the evidence: %+v", f.Evidence)
	}
}

// TestOverwriteOnFixedIsNewBug: the legacy race's lines on a TaskManager
// taken to run the fixed table (here forced with --flink-version 1.10.3):
// the overwrite cannot happen there, so it is reported as a new bug.
func TestOverwriteOnFixedIsNewBug(t *testing.T) {
	res, err := parser.Read(logs("legacy-1.6.2-race-tm.log"), parser.Options{FlinkVersion: "1.10.3"})
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	if p := m.TaskManagers[0].Processes[0]; p.Runs != reconstruct.Fixed {
		t.Fatalf("runs %s (%s), want fixed", p.Runs, p.RunsWhy)
	}
	found := false
	for _, f := range Run(m, All) {
		if f.Rule == "slot-map-overwrite" {
			found = true
			if f.Severity != Error || !strings.Contains(f.Message, "runs the fixed table") || !strings.Contains(f.Message, "new bug") {
				t.Errorf("overwrite on a fixed table: %s %s", f.Severity, f.Message)
			}
		}
	}
	if !found {
		t.Error("no slot-map-overwrite")
	}
}

// TestRotatedLogJoined: the 1.8.2 race with the TaskManager's log rotated
// in the middle of the story (taskmanager.log.1 holds the start and the
// ResourceID, taskmanager.log the rest) gives the same findings as the
// whole file.
func TestRotatedLogJoined(t *testing.T) {
	_, whole := audit(t, logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")...)
	data, err := os.ReadFile(logs("legacy-1.8.2-race-debug-tm.log")[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	cut := 27 // after the second allocation of A1, before the rejected offer's free
	dir := t.TempDir()
	older, newer := filepath.Join(dir, "taskmanager.log.1"), filepath.Join(dir, "taskmanager.log")
	if err := os.WriteFile(older, []byte(strings.Join(lines[:cut], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newer, []byte(strings.Join(lines[cut:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	m, split := audit(t, newer, older, logs("legacy-1.8.2-race-debug-jm.log")[0])
	if got, want := count(split), count(whole); got != want {
		t.Errorf("rotated: %s\n whole:   %s", got, want)
	}
	if len(m.TaskManagers) != 1 || len(m.TaskManagers[0].Processes) != 1 {
		t.Errorf("want one TaskManager process across both files, got %d TaskManagers", len(m.TaskManagers))
	}
}

// TestZombieSecondsRunToTheEndOfTheEvidence: a zombie is held until the
// evidence ends, not until the TaskManager's last slot line: the last line
// of its log, or of the inputs when the TaskManager was not seen to stop;
// the message says which.
func TestZombieSecondsRunToTheEndOfTheEvidence(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		seconds float64
		until   string
	}{
		// since 14:00:11.501 (TaskManager clock); the JobManager's log ends at
		// 14:07:02.600, 1.496 s ahead of the TaskManager's clock
		{"the JobManager's log goes on", logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"), 409.603, "until the last line of the inputs ("},
		// alone: its log ends at its last line, 14:06:59.013
		{"the TaskManager's log alone", logs("legacy-1.8.2-race-debug-tm.log"), 407.512, "until the last line of its log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, fs := audit(t, tc.files...)
			for _, f := range fs {
				if f.Rule != "zombie-slot" {
					continue
				}
				if tc.seconds > 0 && math.Abs(f.ZombieSeconds-tc.seconds) > 0.001 {
					t.Errorf("%.3f slot-seconds, want %.3f", f.ZombieSeconds, tc.seconds)
				}
				if !strings.Contains(f.Message, tc.until) {
					t.Errorf("message %q does not say %q", f.Message, tc.until)
				}
				return
			}
			t.Fatal("no zombie-slot finding")
		})
	}
}

// TestRulesValidate: All passes Validate, and Validate refuses what would
// make a verdict depend on a list's order or a typo.
func TestRulesValidate(t *testing.T) {
	if err := Validate(All); err != nil {
		t.Fatalf("All: %v", err)
	}
	run := func(*Pass) {}
	doc := "Finds something that matters here. More words."
	a := &Rule{ID: "a-rule", Doc: doc, Run: run}
	b := &Rule{ID: "b-rule", Doc: doc, Run: run, Requires: []*Rule{a}}
	c1 := &Rule{ID: "c-one", Doc: doc, Run: run}
	c2 := &Rule{ID: "c-two", Doc: doc, Run: run, Requires: []*Rule{c1}}
	c1.Requires = []*Rule{c2}
	tests := []struct {
		name  string
		rules []*Rule
		bad   string
	}{
		{"fine", []*Rule{a, b}, ""},
		{"duplicate ID", []*Rule{a, {ID: "a-rule", Doc: doc, Run: run}}, "two rules have this ID"},
		{"not kebab-case", []*Rule{{ID: "Zombie_Slot", Doc: doc, Run: run}}, "not kebab-case"},
		{"no run", []*Rule{{ID: "no-run", Doc: doc}}, "no Run"},
		{"no doc", []*Rule{{ID: "no-doc", Doc: "todo", Run: run}}, "the doc does not begin"},
		{"requirement outside the set", []*Rule{b}, "requires \"a-rule\", which is not in the set"},
		{"cycle", []*Rule{c1, c2}, "cycle"},
	}
	for _, tc := range tests {
		err := Validate(tc.rules)
		if tc.bad == "" && err != nil || tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)) {
			t.Errorf("%s: Validate = %v, want %q", tc.name, err, tc.bad)
		}
	}
}

// TestRunPullsInRequirements: asking for one rule runs the rules it
// requires first, so its findings keep their causes.
func TestRunPullsInRequirements(t *testing.T) {
	m, all := audit(t, logs("legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log")...)
	alone := Run(m, []*Rule{TaskWithoutSlot})
	find := func(fs []Finding, rule string) *Finding {
		for i := range fs {
			if fs[i].Rule == rule {
				return &fs[i]
			}
		}
		return nil
	}
	want, got := find(all, TaskWithoutSlot.ID), find(alone, TaskWithoutSlot.ID)
	if want == nil || got == nil || len(got.Causes) == 0 || strings.Join(got.Causes, ",") != strings.Join(want.Causes, ",") {
		t.Fatalf("task-without-slot alone: %+v; in the full run: %+v", got, want)
	}
	if find(alone, ZombieSlot.ID) == nil {
		t.Errorf("the zombie it follows from was not run")
	}
}

// TestNameSome: a list past the limit names the first and counts the rest.
func TestNameSome(t *testing.T) {
	for _, c := range []struct {
		names []string
		max   int
		want  string
	}{
		{nil, 2, ""},
		{[]string{"a"}, 2, "a"},
		{[]string{"a", "b"}, 2, "a; b"},
		{[]string{"a", "b", "c", "d"}, 2, "a; b; and 2 more (the finding's causes name them all)"},
	} {
		if got := nameSome(c.names, c.max); got != c.want {
			t.Errorf("nameSome(%q, %d) = %q, want %q", c.names, c.max, got, c.want)
		}
	}
}

// TestShortageBlamesItsOwnCluster: two copies of the 1.8.2 race, each a
// cluster of its own (its IDs given their own first digits), have the same
// incident at the same times. Each cluster's shortage names the zombie of
// its own TaskManager and only that: a leak in one cluster cannot starve
// another's jobs. Both shortages named both zombies before.
func TestShortageBlamesItsOwnCluster(t *testing.T) {
	dir := t.TempDir()
	hex := regexp.MustCompile(`\b[0-9a-f]{4}([0-9a-f]{28})\b`)
	var paths []string
	for c, prefix := range []string{"0001", "0002"} {
		for _, part := range []string{"jm", "tm"} {
			b, err := os.ReadFile(logs("legacy-1.8.2-race-debug-" + part + ".log")[0])
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, fmt.Sprintf("c%d-%s.log", c+1, part))
			if err := os.WriteFile(p, hex.ReplaceAll(b, []byte(prefix+"$1")), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	m, fs := audit(t, paths...)
	zombieOf := map[string]string{} // finding ID → its TaskManager
	for _, f := range fs {
		if f.Rule == ZombieSlot.ID {
			zombieOf[f.ID] = f.Resource
		}
	}
	if len(zombieOf) != 2 {
		t.Fatalf("%d zombies, want one a cluster: %s", len(zombieOf), count(fs))
	}
	shortages := 0
	for _, f := range fs {
		if f.Rule != NoResourceAvailable.ID {
			continue
		}
		shortages++
		prefix := filepath.Base(m.Result.Files[f.Pos.File].Path)[:2] // c1, c2
		want := map[string]string{"c1": "0001", "c2": "0002"}[prefix]
		if len(f.Causes) != 1 {
			t.Errorf("the shortage of %s is caused by %v, want its own cluster's zombie alone", prefix, f.Causes)
		}
		for _, c := range f.Causes {
			if r := zombieOf[c]; !strings.HasPrefix(r, want) {
				t.Errorf("the shortage of %s blames zombie %s on TaskManager %s, of the other cluster", prefix, c, r)
			}
		}
		if f.Severity != Error {
			t.Errorf("the shortage of %s is a %s, want an error (a leak of its own cluster)", prefix, f.Severity)
		}
	}
	if shortages != 2 {
		t.Errorf("%d shortages, want one a cluster", shortages)
	}
}

// TestByRankIsTheCausalOrder: the refs byRank gives are in rank order,
// and for every event they are the inverse of the ranks (a permutation in
// a built model).
func TestByRankIsTheCausalOrder(t *testing.T) {
	m, _ := audit(t, logs("legacy-1.8.2-race-debug-jm.log", "legacy-1.8.2-race-debug-tm.log")...)
	got := byRank(m, m.Result.All())
	if len(got) != m.Result.Len() || len(got) < 50 {
		t.Fatalf("%d events in rank order, want %d", len(got), m.Result.Len())
	}
	for k, i := range got {
		if int(m.Rank[i]) != k {
			t.Fatalf("event %d has rank %d, is %d-th in rank order", i, m.Rank[i], k)
		}
	}
	kinds := byRank(m, m.Result.AllOf(flinklog.KindTMFree, flinklog.KindJMRelease))
	for k := 1; k < len(kinds); k++ {
		if m.Rank[kinds[k]] < m.Rank[kinds[k-1]] {
			t.Fatalf("not in rank order at %d", k)
		}
	}
	if len(kinds) < 3 {
		t.Fatalf("only %d frees and releases", len(kinds))
	}
}

// TestProcessIndexSearchesAsItMaps: where a process's events and steps are
// in ref order they are found by binary search; the maps built when they
// are not give the same answers.
func TestProcessIndexSearchesAsItMaps(t *testing.T) {
	m, _ := audit(t, logs("legacy-1.8.2-race-debug-jm.log", "legacy-1.8.2-race-debug-tm.log")...)
	st := newRunState(m)
	checked := 0
	for _, pr := range st.order {
		if pr.ix.pos != nil || pr.ix.stepOf != nil {
			t.Fatalf("a read's process is not in ref order")
		}
		mapped := &proc{p: pr.p, r: pr.r, ix: &procIndex{pos: map[parser.EventRef]int{}, stepOf: map[parser.EventRef]int{}}}
		for k, i := range pr.p.Events {
			mapped.ix.pos[i] = k
		}
		for si, s := range pr.r.Steps {
			if _, ok := mapped.ix.stepOf[s.Event]; !ok {
				mapped.ix.stepOf[s.Event] = si
			}
		}
		for i := range parser.EventRef(m.Result.Len()) {
			a, okA := pr.posOf(i)
			b, okB := mapped.posOf(i)
			c, okC := pr.stepOf(i)
			d, okD := mapped.stepOf(i)
			if okA != okB || okA && a != b || okC != okD || okC && c != d {
				t.Fatalf("event %d: place %d,%v / %d,%v; step %d,%v / %d,%v", i, a, okA, b, okB, c, okC, d, okD)
			}
			if okC {
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d events were replayed as steps", checked)
	}
}
