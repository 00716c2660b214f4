package report

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"slices"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden/reconstruct")

// TestGoldenReconstruction renders the timelines and slot tables of the
// project's multi-component test logs, as `slotaudit timeline` and
// `slotaudit slots` print them (table and JSON).
func TestGoldenReconstruction(t *testing.T) {
	sets := map[string][]string{
		"race-1.6.2":           {"legacy-1.6.2-race-tm.log", "legacy-1.6.2-race-jm.log"},
		"minicluster-1.12":     {"fixed-1.12-minicluster-time-only.log"},
		"yarn-1.12":            {"1.12.1-yarn-aggregated.log"},
		"refused-dup-1.10":     {"fixed-1.10.0-refused-duplicate-tm.log"},
		"debug-1.9":            {"legacy-1.9.1-debug-tm.log"},
		"declarative-jm-1.13":  {"1.13.2-declarative-jm.log"},
		"race-debug-1.8.2":     {"legacy-1.8.2-race-debug-tm.log", "legacy-1.8.2-race-debug-jm.log"},
		"k8s-restart-1.11.3":   {"fixed-1.11.3-k8s-restart-tm.log", "fixed-1.11.3-k8s-restart-jm.log"},
		"midstory-1.14":        {"midstory-1.14-rotated-tm.log"},
		"dynamic-1.18.1":       {"fixed-1.18.1-dynamic-slots-tm.log"},
		"race-on-fixed-1.10.3": {"fixed-1.10.3-race-refused-tm.log", "fixed-1.10.3-race-refused-jm.log"},
	}
	for name, files := range sets {
		t.Run(name, func(t *testing.T) {
			b := renderModel(t, files)
			if len(files) > 1 {
				// Output must not depend on the order the files are given in.
				rev := append([]string(nil), files...)
				slices.Reverse(rev)
				if r := renderModel(t, rev); !bytes.Equal(b.Bytes(), r.Bytes()) {
					t.Errorf("output differs when the files are given in reverse order")
				}
			}
			checkGolden(t, filepath.Join("..", "testdata", "golden", "reconstruct", name+".golden"), b.Bytes())
		})
	}
}

// renderModel reads the test logs and renders what `slotaudit timeline` and
// `slotaudit slots` print for them, as tables and as JSON.
func renderModel(t *testing.T, files []string) *bytes.Buffer {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, "../testdata/logs/"+f)
	}
	res, err := parser.Read(paths, parser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Files {
		res.Files[i].Path = filepath.Base(res.Files[i].Path)
	}
	m := reconstruct.Build(res)
	var b bytes.Buffer
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(WriteTimelineTable(&b, m, m.Allocations, 0))
	b.WriteString("\n")
	var tms []TaskManagerJSON
	for _, tm := range m.TaskManagers {
		for _, s := range []reconstruct.Semantics{reconstruct.Legacy, reconstruct.Fixed} {
			j, err := NewTaskManagerJSON(m, tm, s)
			must(err)
			tms = append(tms, j...)
		}
	}
	must(WriteSlotsTable(&b, m.Result.Files, tms, ReportsAll, 0))
	b.WriteString("\n")
	must(WriteTimelineJSON(&b, m, m.Allocations))
	must(WriteSlotsJSON(&b, tms))
	return &b
}

// TestTimelineJSONStreamedAsWhole: the timelines written an allocation at
// a time are the bytes of the whole document encoded at once, with every
// allocation, one, and none; with a clock skew (the 1.6.2 race's
// TaskManager runs 40 s behind) and without.
func TestTimelineJSONStreamedAsWhole(t *testing.T) {
	for _, files := range [][]string{
		{"legacy-1.6.2-race-jm.log", "legacy-1.6.2-race-tm.log"},
		{"legacy-1.8.2-race-debug-jm.log", "legacy-1.8.2-race-debug-tm.log"},
	} {
		var paths []string
		for _, f := range files {
			paths = append(paths, filepath.Join("..", "testdata", "logs", f))
		}
		res, err := parser.Read(paths, parser.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := reconstruct.Build(res)
		for _, only := range [][]*reconstruct.Allocation{m.Allocations, m.Allocations[:1], nil} {
			doc := struct {
				Allocations []AllocationJSON `json:"allocations"`
				Skew        []SkewJSON       `json:"clock_skew,omitempty"`
			}{Allocations: []AllocationJSON{}, Skew: skews(m)}
			for _, a := range only {
				doc.Allocations = append(doc.Allocations, NewAllocationJSON(m, a))
			}
			var whole, streamed bytes.Buffer
			if err := writeJSON(&whole, doc); err != nil {
				t.Fatal(err)
			}
			if err := WriteTimelineJSON(&streamed, m, only); err != nil {
				t.Fatal(err)
			}
			if whole.String() != streamed.String() {
				t.Errorf("%v, %d allocations:\n streamed %s\n whole    %s", files, len(only), streamed.String(), whole.String())
			}
		}
	}
}

// failAfter is a writer that fails once it has taken n bytes.
type failAfter struct{ n int }

var errDiskFull = errors.New("no space left on device")

func (w *failAfter) Write(b []byte) (int, error) {
	if len(b) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(b)
	return len(b), nil
}

// TestTimelineJSONWriteFails: a write that fails in the middle of the
// timelines (the disk full) ends WriteTimelineJSON with that error — the
// timelines made beside the writing stop — and one at the end (the last
// flush) too.
func TestTimelineJSONWriteFails(t *testing.T) {
	m := reconstruct.Build(readTestLogs(t))
	var whole bytes.Buffer
	if err := WriteTimelineJSON(&whole, m, m.Allocations); err != nil {
		t.Fatal(err)
	}
	if whole.Len() < 2<<16 {
		t.Fatalf("the test logs' timelines are %d bytes: too few to fail in the middle", whole.Len())
	}
	for _, n := range []int{0, 1 << 16, whole.Len() / 2, whole.Len() - 1} {
		if err := WriteTimelineJSON(&failAfter{n: n}, m, m.Allocations); !errors.Is(err, errDiskFull) {
			t.Errorf("failing after %d of %d bytes: %v", n, whole.Len(), err)
		}
	}
}
