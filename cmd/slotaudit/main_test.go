package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
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
