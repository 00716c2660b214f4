package sim

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
)

// TestVersionInferredWithoutBanner: a log whose banner was cut off (rotated
// away, pasted in part) is labelled with a range that holds the version
// that wrote it, never with an upper bound below it (a logger or wording
// that lives on across releases is no upper bound).
func TestVersionInferredWithoutBanner(t *testing.T) {
	banner := regexp.MustCompile(`(?m)^.*Starting [A-Za-z]+ \(Version: .*\n`)
	for _, v := range Versions {
		for _, format := range []string{"text", "json"} {
			cfg := Config{Flink: v, TaskManagers: 2, Slots: 3, Jobs: 2, Failovers: 1, Seed: 2, Debug: true, Format: format, Minutes: 8}
			if contains(ModernVersions, v) {
				cfg.Inject = []string{FaultTMLost, FaultSlotTimeout, FaultNotEnoughResources}
			}
			r, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for name, content := range r.Files {
				os.WriteFile(filepath.Join(dir, name), []byte(banner.ReplaceAllString(content, "")), 0o644)
			}
			res, err := parser.Read([]string{dir}, parser.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := flinklog.ParseVersion(v)
			for _, in := range res.Inputs {
				if in.VersionSource == "banner" {
					t.Errorf("%s %s %s: the banner was cut, yet the source is banner", v, format, filepath.Base(in.Path))
				}
				if in.VersionMin.IsZero() && in.VersionMax.IsZero() {
					if !contains(ModernVersions, v) {
						continue // a 1.6/1.7 JobManager log prints nothing that dates it: "?" is honest
					}
					t.Errorf("%s %s %s: no version inferred (%q)", v, format, filepath.Base(in.Path), in.FlinkVersion)
					continue
				}
				if want.Less(in.VersionMin) || !in.VersionMax.IsZero() && in.VersionMax.Less(want) {
					t.Errorf("%s %s %s: inferred %q, which excludes %s", v, format, filepath.Base(in.Path), in.FlinkVersion, v)
				}
			}
		}
	}
}
