package sim

import (
	"os"
	"path/filepath"
	"slices"
)

// Faulty is a small cluster's incident on Flink version (3 TaskManagers of
// 4 slots, 4 jobs, a few task failovers) with about a third of the
// version's faults injected, drawn from seed: what the tests of other
// packages replay their streaming pieces over (TaskManager clocks are
// skewed by up to 1.5 s, as always).
func Faulty(version string, seed uint64) Config {
	faults := Faults
	if !slices.Contains(ModernVersions, version) {
		faults = LegacyFaults
	}
	var inject []string
	for k, f := range faults {
		if (seed+uint64(k))%3 == 0 {
			inject = append(inject, f)
		}
	}
	return Config{Flink: version, Seed: seed, Inject: inject, TaskManagers: 3, Slots: 4, Jobs: 4, Failovers: int(seed % 3)}
}

// RunInto runs cfg and writes its log files into dir (a directory that
// exists): what the tests of other packages audit.
func RunInto(cfg Config, dir string) (*Result, error) {
	r, err := Run(cfg)
	if err != nil {
		return nil, err
	}
	return r, r.WriteLogs(dir)
}

// WriteLogs writes the run's log files into dir.
func (r *Result) WriteLogs(dir string) error {
	for name, text := range r.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
