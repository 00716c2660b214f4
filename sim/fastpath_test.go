package sim

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/rules"
)

// TestFastPathEqualsReference: on noisy simulated corpora of every version
// and layout, the parser's shortcuts change nothing: the same events,
// summaries and diagnostics, and byte-identical audit JSON, as the
// reference path (parser.Options.Reference), which decodes every header
// with the general layout matcher and classifies every record.
func TestFastPathEqualsReference(t *testing.T) {
	for i, v := range Versions {
		for _, variant := range []struct{ format, layout string }{{"text", "default"}, {"text", "logback"}, {"json", "default"}} {
			seed := uint64(100 + i)
			name := fmt.Sprintf("%s-%s-%s", v, variant.format, variant.layout)
			t.Run(name, func(t *testing.T) {
				r, err := Run(Config{Flink: v, TaskManagers: 3, Slots: 4, Jobs: 3, Failovers: 2, Seed: seed, Debug: true,
					Noise: 10, Minutes: 8, Format: variant.format, Layout: variant.layout,
					Inject: []string{FaultOverwrite, FaultDelayedRequest, FaultHeartbeatTimeout}})
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				for name, content := range r.Files {
					must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
				}
				// small pieces, so every large file is read in parallel
				fast, fastJSON := readAndAudit(t, dir, parser.Options{ChunkSize: 64 << 10})
				ref, refJSON := readAndAudit(t, dir, parser.Options{Reference: true, Workers: 1})
				if !reflect.DeepEqual(fast.Inputs, ref.Inputs) {
					t.Errorf("input summaries differ:\nfast %+v\nref  %+v", fast.Inputs, ref.Inputs)
				}
				if !reflect.DeepEqual(fast.Diagnostics, ref.Diagnostics) {
					t.Errorf("diagnostics differ:\nfast %+v\nref  %+v", fast.Diagnostics, ref.Diagnostics)
				}
				// the fast read keeps repeated slot reports as repeats
				fastEvs, refEvs := fast.Expanded(), ref.Expanded()
				if len(fastEvs) != len(refEvs) {
					t.Fatalf("%d events, reference %d", len(fastEvs), len(refEvs))
				}
				for i := range fastEvs {
					if !reflect.DeepEqual(fastEvs[i], refEvs[i]) {
						t.Fatalf("event %d differs:\nfast %+v\nref  %+v", i, fastEvs[i], refEvs[i])
					}
				}
				if !bytes.Equal(fastJSON, refJSON) {
					t.Errorf("audit JSON differs")
				}
			})
		}
	}
}

func readAndAudit(t *testing.T, dir string, opts parser.Options) (*parser.Result, []byte) {
	t.Helper()
	res, err := parser.Read([]string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := reconstruct.Build(res)
	a := &report.Audit{Model: m, Findings: rules.Run(m, rules.All), FailOn: rules.Error, Rules: rules.All}
	var out bytes.Buffer
	must(t, a.WriteJSON(&out))
	return res, out.Bytes()
}
