package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/report"
	"github.com/slotaudit/slotaudit/sim"
)

// versionString is the build's version and the Go that built it.
func versionString() string {
	v, goV := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		goV = " " + bi.GoVersion
	}
	return v + goV
}

// The bundled incident every example runs on, from a clone's root.
const (
	exTM = "testdata/logs/legacy-1.8.2-race-debug-tm.log"
	exJM = "testdata/logs/legacy-1.8.2-race-debug-jm.log"
)

// examples are each command's "Examples:" section, kept in one place so
// that they read as one manual.
var examples = map[string]string{
	"audit": `  # the verdict on the bundled FLINK-14589 race (exit 1: errors found)
  slotaudit audit ` + exTM + ` ` + exJM + `

  # a whole directory of logs; only the last two hours of the incident, only errors
  slotaudit audit --since 2h --only zombie-slot,slot-map-overwrite logs/

  # in CI: SARIF for code scanning, or annotations on GitHub Actions
  slotaudit audit --format sarif logs/ > slotaudit.sarif
  slotaudit audit --format github logs/

  # straight from Kubernetes, and kept watching
  kubectl logs deploy/flink-taskmanager | slotaudit audit -
  kubectl logs -f flink-taskmanager-1-1 | slotaudit audit --follow -`,
	"explain": `  # the story of one finding (its ID from 'slotaudit audit'), causes first
  slotaudit explain --finding c4b0db28 ` + exTM + ` ` + exJM + `

  # every finding about one AllocationID
  slotaudit explain --alloc c81f4e2a9b3d5f7061e2d4c6b8a09f13 ` + exTM + ` ` + exJM,
	"report": `  # the audit as one HTML page: each TaskManager's slots drawn over time, the stories
  slotaudit report --html race.html ` + exTM + ` ` + exJM + `

  # a CI artifact from a directory of logs, failing the step on errors
  slotaudit report --html slotaudit.html logs/`,
	"timeline": `  # every allocation across TaskManager, ResourceManager and JobManager
  slotaudit timeline ` + exTM + ` ` + exJM + `

  # one AllocationID; or one job's allocations in the last ten minutes, as JSON
  slotaudit timeline --alloc c81f4e2a9b3d5f7061e2d4c6b8a09f13 ` + exTM + ` ` + exJM + `
  slotaudit timeline --job 7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a --since 10m --format json logs/`,
	"slots": `  # each TaskManager's slot table at the end of its log, under both models
  slotaudit slots ` + exTM + ` ` + exJM + `

  # one TaskManager's table just before a free, under the fixed model only
  slotaudit slots --taskmanager 9a3c5e7f1b2d4c6e8f0a1b2c3d4e5f60 --at 14:00:11.520 --model fixed ` + exTM,
	"events": `  # the normalized events, one JSON object a line
  slotaudit events ` + exTM + `

  # one AllocationID's events with jq
  slotaudit events --alloc c81f4e2a9b3d5f7061e2d4c6b8a09f13 --no-summary ` + exTM + ` | jq -c '[.time, .kind]'`,
	"simulate": `  # a Flink 1.9.3 cluster that hits FLINK-14589, and its audit
  slotaudit simulate --flink 1.9.3 --inject overwrite --debug --seed 11 --out /tmp/incident
  slotaudit audit /tmp/incident/logs

  # Flink 1.18 on Kubernetes: a TaskManager lost, a slot that times out
  slotaudit simulate --flink 1.18.1 --deployment kubernetes --inject tm-lost,slot-timeout --out /tmp/modern

  # a week of a session cluster's 10-second jobs (about 1.6 million allocations)
  slotaudit simulate --flink 1.12.7 --taskmanagers 20 --slots 8 --jobs 20 --job-seconds 10 --minutes 10080 --out /tmp/session`,
	"version": `  slotaudit version`,
	"man":     `  slotaudit man --out /tmp/man && man /tmp/man/man1/slotaudit-audit.1`,
}

// flagValues are the values each flag takes, for shell completion.
var flagValues = map[string][]string{
	"color":         {"auto", "always", "never"},
	"model":         {"both", "legacy", "fixed"},
	"reports":       {"differing", "all", "none"},
	"fail-on":       {"error", "warning", "info"},
	"log-level":     {"debug", "info", "warn", "error", "disabled"},
	"deployment":    {"standalone", "kubernetes"},
	"layout":        parser.LayoutNames(),
	"flink":         sim.Versions,
	"tm-flink":      sim.Versions,
	"flink-version": sim.Versions,
	"inject":        sim.Faults,
	"memory-limit":  {"auto", "0", "1GiB", "4GiB"},
}

// formatValues are each command's --format values.
var formatValues = map[string][]string{
	"audit":    report.AuditFormatNames(),
	"timeline": {"table", "json"},
	"slots":    {"table", "json"},
	"simulate": {"text", "json"},
}

// helpWidth is the width help text is wrapped at: the terminal's (or
// $COLUMNS), at most 100, else 80.
func helpWidth(e *env) int {
	w := e.width()
	if w <= 0 {
		return 80
	}
	return min(w, 100)
}

// writeUsage is cobra's usage text (its defaultUsageFunc, for what these
// commands use: no aliases, groups or help topics) with flag descriptions
// wrapped at width.
func writeUsage(c *cobra.Command, width int) error {
	w := c.OutOrStderr()
	var b strings.Builder
	b.WriteString("Usage:")
	if c.Runnable() {
		fmt.Fprintf(&b, "\n  %s", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\n  %s [command]", c.CommandPath())
	}
	if c.HasExample() {
		fmt.Fprintf(&b, "\n\nExamples:\n%s", c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\n\nAvailable Commands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "\n  %-*s %s", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(&b, "\n\nFlags:\n%s", strings.TrimRight(c.LocalFlags().FlagUsagesWrapped(width), " \n"))
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(&b, "\n\nGlobal Flags:\n%s", strings.TrimRight(c.InheritedFlags().FlagUsagesWrapped(width), " \n"))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\n\nUse \"%s [command] --help\" for more information about a command.", c.CommandPath())
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// reflow wraps the prose paragraphs of a help text at width; paragraphs
// with an indented line (examples, lists) keep their lines.
func reflow(text string, width int) string {
	paras := strings.Split(text, "\n\n")
	for i, p := range paras {
		indented := false
		for _, l := range strings.Split(p, "\n") {
			indented = indented || strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")
		}
		if !indented {
			paras[i] = report.Wrap(strings.Join(strings.Fields(p), " "), width)
		}
	}
	return strings.Join(paras, "\n\n")
}

// finishCommands gives every command its examples and completion of flag
// values: the conventions a newcomer expects of a command-line tool. Help
// text and flag descriptions are wrapped at the terminal's width.
func finishCommands(root *cobra.Command, e *env) {
	// Go functions, not templates: a text/template in the binary makes the
	// linker keep every exported method of every type put in an interface
	// (reflection might call it), which linked an HTTP client and TLS
	// (gojsonschema's loader, through go-sarif) into a log reader: +8 MB.
	root.SetUsageFunc(func(c *cobra.Command) error { return writeUsage(c, helpWidth(e)) })
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		c.Long = reflow(c.Long, helpWidth(e))
		defaultHelp(c, args)
	})
	root.Version = versionString()
	register := func(c *cobra.Command, name string, values []string) {
		if c.Flags().Lookup(name) == nil && c.PersistentFlags().Lookup(name) == nil {
			return
		}
		vals := append([]string(nil), values...)
		_ = c.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		})
	}
	for name, vals := range flagValues {
		if root.PersistentFlags().Lookup(name) != nil {
			register(root, name, vals)
		}
	}
	for _, c := range root.Commands() {
		if ex, ok := examples[c.Name()]; ok {
			c.Example = ex
		}
		for name, vals := range flagValues {
			if c.Flags().Lookup(name) != nil {
				register(c, name, vals)
			}
		}
		if vals, ok := formatValues[c.Name()]; ok {
			register(c, "format", vals)
		}
	}
}

func newManCmd(e *env) *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:    "man --out DIR",
		Short:  "Write the manual pages (section 1) into DIR/man1",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &usageError{fmt.Errorf("man needs --out DIR")}
			}
			pages, err := manPages(cmd.Root())
			if err != nil {
				return err
			}
			dir, err := openOutDir(out, force, "man1/")
			if err != nil {
				return &usageError{err}
			}
			if err := dir.mkdir("man1"); err != nil {
				dir.abort()
				return err
			}
			for _, name := range sortedNames(pages) {
				if err := dir.write(filepath.Join("man1", name), pages[name]); err != nil {
					dir.abort()
					return err
				}
			}
			if err := dir.commit(); err != nil {
				dir.abort()
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "wrote %d manual pages to %s\n", len(pages), filepath.Join(out, "man1"))
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write to: absent or empty (a symlink is refused)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the man1/ an earlier run wrote into --out")
	return cmd
}

// manPages renders a page per visible command (slotaudit.1,
// slotaudit-audit.1, …). The date is the commit's when the build records
// it, else a fixed one: the same source gives the same pages.
func manPages(root *cobra.Command) (map[string][]byte, error) {
	root.DisableAutoGenTag = true
	root.InitDefaultCompletionCmd() // as when it runs: the completion pages too
	date := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, st.Value); err == nil {
					date = t
				}
			}
		}
	}
	header := &doc.GenManHeader{Title: "SLOTAUDIT", Section: "1", Source: "slotaudit " + versionString(), Manual: "slotaudit manual", Date: &date}
	pages := map[string][]byte{}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if !c.IsAvailableCommand() && c != root {
			return nil
		}
		var b bytes.Buffer
		h := *header
		h.Title = strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-"))
		if err := doc.GenMan(c, &h, &b); err != nil {
			return err
		}
		pages[strings.ReplaceAll(c.CommandPath(), " ", "-")+".1"] = b.Bytes()
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return pages, walk(root)
}

func sortedNames(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
