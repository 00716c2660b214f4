package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// newReportCmd is `slotaudit report --html FILE PATH...`: the audit as one
// self-contained HTML page (the same page as audit --format html).
func newReportCmd(e *env) *cobra.Command {
	var rf readFlags
	var nf narrowFlags
	var htmlOut, failOn string
	cmd := &cobra.Command{
		Use:   "report --html FILE [flags] PATH...",
		Short: "The audit as one self-contained HTML page with each TaskManager's slot occupancy drawn",
		Long: `report writes the audit as one HTML file that needs nothing else: no network, no fonts,
nothing fetched when it is opened, so it can be attached to a ticket or kept as a CI artifact.

It draws each TaskManager's slot table over time: a row per slot index (and one for slots whose
index no line printed), a bar per allocation period coloured by job, pale while ALLOCATED and
solid while ACTIVE, zombies hatched to the end of the evidence, and markers for overwrites,
refusals, timeouts, lost TaskManagers and failed deployments. A TaskManager that ran the legacy
table (Flink <= 1.9) is drawn twice, side by side: what its table did, and what the fixed table
would have done with the same lines. Restarts and rotated logs are breaks; times are on the
clock-skew-aligned clock. Hovering or focusing a bar shows its AllocationID, job, how its index
is known and its log lines. Below come the findings with their stories and the inputs summary.
A crowded chart draws the allocations that are in no finding in aggregate, and says so.

The exit code is audit's (0, 1 for findings at or above --fail-on, 3, 5); the page is written
in every case but nothing to judge. --html - writes it to standard output.`,
		Args: needPaths("report"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if htmlOut == "" {
				return &usageError{fmt.Errorf("report needs --html FILE (the page to write; - for standard output)")}
			}
			if err := e.checkFoldMode(); err != nil {
				return err
			}
			if err := e.narrowWith(&nf); err != nil {
				return err
			}
			// (its charts a fold walks as it replays)
			e.foldFormat, e.drawsCharts = true, true
			a, err := e.audit(cmd, args, &rf, failOn)
			if a == nil || a.NothingToJudge {
				return err
			}
			verdict := err
			var page bytes.Buffer
			if err := a.WriteHTML(&page); err != nil {
				return err
			}
			if htmlOut == "-" {
				if _, err := e.stdout.Write(page.Bytes()); err != nil {
					return err
				}
			} else {
				if err := writeFileAtomic(htmlOut, page.Bytes()); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "slotaudit: wrote %s (%d KB): open it in a browser\n", htmlOut, (page.Len()+1023)/1024)
			}
			return auditExit(a, verdict)
		},
	}
	rf.register(cmd)
	nf.register(cmd, true, true)
	cmd.Flags().StringVar(&htmlOut, "html", "", "write the HTML page to this file (- for standard output)")
	cmd.Flags().StringVar(&failOn, "fail-on", "error", "exit 1 when a finding is at least this severe: info, warning or error")
	registerFold(cmd, e, "")
	return cmd
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader never sees half a page and a failed write
// leaves the old file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
