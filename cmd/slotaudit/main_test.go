package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/logstore/vlogstest"
)

var update = flag.Bool("update", false, "rewrite the expected output inside testdata/script/*.txtar, and the README's screenshot testdata/screenshots/*.png (TestHTMLReportInBrowser)")

var manyIDs = flag.Int("ids", 200_000, "distinct AllocationIDs in TestManyDistinctAllocationIDs")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"slotaudit": func() { os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI end to end from testdata/script/*.txtar: the
// command, the log files inline, and the expected output and exit code.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			// $LOGS: the project's test logs, for scripts that need more than
			// a few inline lines.
			logs, err := filepath.Abs(filepath.Join("..", "..", "testdata", "logs"))
			env.Setenv("LOGS", logs)
			return err
		},
		// [vlogs]: a victoria-logs binary is there (or SLOTAUDIT_VLOGS_REQUIRED
		// asks for it to be built), for vlogs-start
		Condition: func(cond string) (bool, error) {
			if cond != "vlogs" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := vlogstest.Binary()
			return err == nil || os.Getenv(vlogstest.RequiredEnv) != "", nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// vlogs-start FILE...: start a VictoriaLogs on a free loopback
			// port ($VLOGS is its URL), stopped when the script ends, and
			// load each file into it through the Loki push API, its records
			// a stream labelled pod=<the file's name without extension>.
			"vlogs-start": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) == 0 {
					ts.Fatalf("usage: vlogs-start FILE...")
				}
				bin, err := vlogstest.Binary()
				if err != nil {
					if bin, err = vlogstest.Build(context.Background()); err != nil {
						ts.Fatalf("%v", err)
					}
				}
				srv, err := vlogstest.Start(bin, ts.MkAbs("vlogs-data"))
				ts.Check(err)
				ts.Defer(func() { _ = srv.Stop() })
				var streams []vlogstest.Stream
				for _, f := range args {
					recs, err := vlogstest.Timed(vlogstest.Records(ts.ReadFile(f), flinklog.LooksLikeExceptionHeader))
					ts.Check(err)
					pod := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
					streams = append(streams, vlogstest.Stream{Labels: map[string]string{"namespace": "flink", "pod": pod}, Records: recs})
				}
				ts.Check(srv.PushLoki(streams))
				ts.Check(srv.Flush())
				ts.Setenv("VLOGS", srv.URL)
			},
			// exitcode N prog args...: run prog and require exit code N, because
			// '! exec' only says "not zero" and slotaudit's codes mean things.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N program [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				switch {
				case errors.As(err, &ee):
					got = ee.ExitCode()
				case err != nil:
					ts.Fatalf("exitcode: %v", err)
				}
				if got != want {
					ts.Fatalf("exit code %d, want %d", got, want)
				}
			},
		},
	})
}
