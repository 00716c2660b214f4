package sim

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/rules"
)

var soak = flag.Int("soak", 0, "run the property test over this many seeds per version (e.g. 10000) and report precision and recall")

var chunk = flag.Int("chunk", 0, "read every large-enough log in pieces of this many bytes (parser.Options.ChunkSize), to soak the parallel reader")

// auditRun writes a run's files, audits them, and returns the findings as
// "rule severity alloc tm" keys, with the truth's.
func auditRun(t testing.TB, r *Result) (got, want []string) {
	t.Helper()
	res, err := parser.Read(writeRun(t, r), parser.Options{ChunkSize: *chunk})
	if err != nil {
		t.Fatal(err)
	}
	stray := 0
	for _, in := range res.Inputs {
		stray += in.Stray
		if in.Unparsed > 0 {
			t.Errorf("%s: %d unparsed records in simulated output", in.Path, in.Unparsed)
		}
	}
	written := 0
	for _, n := range r.Truth.StdoutLines {
		written += n
	}
	if stray != written {
		t.Errorf("seed %d: %d stray lines read, %d stdout lines written", r.Truth.Seed, stray, written)
	}
	m := reconstruct.Build(res)
	checkTables(t, m, r.Truth)
	for _, f := range rules.Run(m, rules.All) {
		got = append(got, key(f.Rule, f.Severity.String(), f.Alloc.String(), f.Resource))
	}
	for _, f := range r.Truth.Findings {
		want = append(want, key(f.Rule, f.Severity, f.AllocationID, f.TaskManager))
	}
	sort.Strings(got)
	sort.Strings(want)
	return got, want
}

// writeRun writes a run's files as collected logs arrive: some
// TaskManager logs rotated (seed % 4 == 1: the older half in name.1),
// some inputs gzipped, given in an order of the seed's. It returns their
// paths.
func writeRun(t testing.TB, r *Result) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	files := map[string]string{}
	for name, content := range r.Files {
		if r.Truth.Seed%4 == 1 && strings.HasPrefix(name, "taskmanager-") {
			// the TaskManager's log was rotated: its older half is name.1
			older, newer := splitRecords(content)
			files[name+".1"], files[name] = older, newer
			continue
		}
		files[name] = content
	}
	for k, name := range sortedKeys(files) {
		p := filepath.Join(dir, name)
		data := []byte(files[name])
		if (r.Truth.Seed+uint64(k))%3 == 0 {
			// some inputs arrive gzipped, as collected logs often do
			p += ".gz"
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data = b.Bytes()
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// the order the files are given in must not matter
	rand.New(rand.NewPCG(r.Truth.Seed, 7)).Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	return paths
}

func key(rule, sev, alloc, tm string) string {
	if rule == "no-resource-available" {
		tm = "" // not about one TaskManager
	}
	return strings.Join([]string{rule, sev, alloc, tm}, " ")
}

// diff counts matches between two sorted multisets.
func diff(got, want []string) (tp, fp, fn int, extra, missing []string) {
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j >= len(want) || i < len(got) && got[i] < want[j]:
			fp++
			extra = append(extra, got[i])
			i++
		case i >= len(got) || want[j] < got[i]:
			fn++
			missing = append(missing, want[j])
			j++
		default:
			tp++
			i++
			j++
		}
	}
	return
}

func scenarioFor(version string, seed uint64) Config {
	faults := []string{}
	modern := contains(ModernVersions, version)
	if !modern {
		for k, f := range LegacyFaults {
			if seed>>uint(k)&1 == 1 {
				faults = append(faults, f)
			}
		}
	} else {
		// every fault in about a third of the runs, drawn from the seed
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		for _, f := range Faults {
			if rng.IntN(3) == 0 {
				faults = append(faults, f)
			}
		}
	}
	format := "text"
	if seed%5 == 0 {
		format = "json"
	}
	// A few runs carry the unrelated DEBUG chatter of real logs: it must
	// change nothing.
	noise := 0
	if seed%20 == 4 {
		noise = 2
	}
	layout := "default"
	if seed%7 == 3 && format == "text" {
		layout = "logback"
	}
	deployment, tmFlink := "standalone", ""
	if modern && seed%3 == 2 {
		deployment = "kubernetes"
	}
	if modern && seed%7 == 5 {
		// a rolling upgrade: the TaskManagers still run the release before
		for k, v := range ModernVersions {
			if v == version {
				tmFlink = ModernVersions[(k+len(ModernVersions)-1)%len(ModernVersions)]
			}
		}
	}
	return Config{Flink: version, TaskManagers: 2 + int(seed%3), Slots: 3 + int(seed%2), Jobs: 1 + int(seed%4), Failovers: int(seed % 3),
		Inject: faults, Seed: seed, Debug: seed%2 == 0, Format: format, Layout: layout, Noise: noise, Deployment: deployment, TMFlink: tmFlink,
		CutBanners: seed%4 == 1}
}

// TestAuditFindsWhatWasInjected: for many seeds of every version family,
// audit reports exactly the findings the simulator's truth holds.
func TestAuditFindsWhatWasInjected(t *testing.T) {
	// 17 versions: 120 seeds each keeps the default run under a minute on
	// two cores; -soak N runs N seeds per version.
	seeds := 120
	if testing.Short() {
		seeds = 20
	}
	if *soak > 0 {
		seeds = *soak
	}
	for _, v := range Versions {
		t.Run(v, func(t *testing.T) {
			tp, fp, fn := 0, 0, 0
			byRule := map[string]int{}
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				cfg := scenarioFor(v, seed)
				r, err := Run(cfg)
				if err != nil {
					t.Fatal(err)
				}
				got, want := auditRun(t, r)
				for _, w := range want {
					byRule[strings.Fields(w)[0]]++
				}
				a, b, c, extra, missing := diff(got, want)
				tp, fp, fn = tp+a, fp+b, fn+c
				if b+c > 0 && fp+fn <= 3*(b+c) {
					t.Errorf("seed %d %+v:\n extra   %v\n missing %v", seed, cfg, extra, missing)
				}
				if seed <= 25 {
					// The same incident with the other log level: what the
					// truth holds must still be proven from INFO lines alone.
					cfg.Debug = !cfg.Debug
					r2, err := Run(cfg)
					if err != nil {
						t.Fatal(err)
					}
					got, want := auditRun(t, r2)
					a, b, c, extra, missing := diff(got, want)
					tp, fp, fn = tp+a, fp+b, fn+c
					if b+c > 0 {
						t.Errorf("seed %d %+v:\n extra   %v\n missing %v", seed, cfg, extra, missing)
					}
				}
			}
			precision, recall := ratio(tp, tp+fp), ratio(tp, tp+fn)
			var tally []string
			for _, rule := range sortedKeys(byRule) {
				tally = append(tally, fmt.Sprintf("%s %d", rule, byRule[rule]))
			}
			t.Logf("%s: %d seeds, %d findings expected (%s), precision %.4f recall %.4f", v, seeds, tp+fn, strings.Join(tally, ", "), precision, recall)
			if fp+fn > 0 {
				t.Errorf("precision %.4f recall %.4f, want 1.0 and 1.0", precision, recall)
			}
		})
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// checkTables compares every TaskManager process's replayed final table (the
// table it ran) with the truth: the same allocations held, every index the
// replay claims to know right, the same zombies.
func checkTables(t testing.TB, m *reconstruct.Model, truth Truth) {
	t.Helper()
	seen := map[string]int{}
	named := map[string]bool{}
	for _, tp := range truth.Processes {
		named[tp.ResourceID] = true
	}
	// A process of a log cut before its ResourceID, that no other line
	// joins to one, keeps the file's name (identity is never guessed): it
	// is found by its file, and its table must still be right.
	unnamedOf := func(file string, n int) *reconstruct.Process {
		k := 0
		for _, x := range m.TaskManagers {
			if named[x.Resource] {
				continue
			}
			for _, p := range x.Processes {
				if stem(filepath.Base(m.Result.Files[p.Input].Path)) == stem(file) {
					if k == n {
						return p
					}
					k++
				}
			}
		}
		return nil
	}
	unnamedSeen := map[string]int{}
	for _, tp := range truth.Processes {
		var tm *reconstruct.TaskManager
		for _, x := range m.TaskManagers {
			if x.Resource == tp.ResourceID {
				tm = x
			}
		}
		n := seen[tp.ResourceID]
		seen[tp.ResourceID]++
		var p *reconstruct.Process
		if tm != nil && n < len(tm.Processes) {
			p = tm.Processes[n]
		} else if p = unnamedOf(tp.File, unnamedSeen[tp.File]); p != nil {
			unnamedSeen[tp.File]++
		}
		if p == nil {
			t.Errorf("seed %d: no replayed process %d of TaskManager %s", truth.Seed, n, tp.ResourceID)
			continue
		}
		tab := p.Replay.Tables[p.Runs]
		got := map[string]reconstruct.Slot{}
		zombie := map[string]bool{}
		for _, z := range tab.Zombies() {
			zombie[z.Alloc.String()+fmt.Sprint(z.Index)] = true
		}
		for _, sl := range tab.Slots() {
			got[sl.Alloc.String()+"@"+fmt.Sprint(len(got))] = sl
		}
		if len(got) != len(tp.Slots) {
			t.Errorf("seed %d: TaskManager %s process %d holds %d slots, truth %d", truth.Seed, tp.ResourceID, n, len(got), len(tp.Slots))
			continue
		}
		for _, want := range tp.Slots {
			found := false
			for _, sl := range tab.Slots() {
				if sl.Alloc.String() != want.AllocationID {
					continue
				}
				idx := p.Replay.IndexOf(sl.Index)
				if idx >= 0 && idx != want.Index {
					continue
				}
				if zombie[sl.Alloc.String()+fmt.Sprint(sl.Index)] != want.Zombie {
					continue
				}
				found = true
			}
			if !found {
				t.Errorf("seed %d: TaskManager %s process %d: truth slot %+v not in the replayed table %s", truth.Seed, tp.ResourceID, n, want, tab)
			}
		}
	}
}

// stem is a log's name without what rotation, compression and the format
// add (taskmanager-1.json.1.gz → taskmanager-1).
func stem(name string) string {
	for _, suffix := range []string{".gz", ".1", ".log", ".json"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return name
}

// splitRecords cuts a log in two at a record boundary near its middle (a
// line that starts a record: a timestamp or a JSON object).
func splitRecords(content string) (string, string) {
	lines := strings.SplitAfter(content, "\n")
	for k := len(lines) / 2; k < len(lines); k++ {
		if l := lines[k]; l != "" && (l[0] == '{' || l[0] >= '0' && l[0] <= '9') {
			return strings.Join(lines[:k], ""), strings.Join(lines[k:], "")
		}
	}
	return content, ""
}
