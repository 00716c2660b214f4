package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFollowSignals: the first SIGINT or SIGTERM ends a follow with the
// summary of the last complete audit and exit 130 or 143; one that comes
// before any audit was complete ends it too, without a summary.
func TestFollowSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	logs := []string{filepath.Join("..", "..", "testdata", "logs", "legacy-1.8.2-race-debug-tm.log"), filepath.Join("..", "..", "testdata", "logs", "legacy-1.8.2-race-debug-jm.log")}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			cmd := helperCmd(append([]string{"audit", "--follow", "--poll", "50ms"}, logs...)...)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(stdout)
			var got []map[string]any
			for lines.Scan() {
				var v map[string]any
				if err := json.Unmarshal(lines.Bytes(), &v); err != nil {
					t.Fatalf("not JSON: %q", lines.Text())
				}
				got = append(got, v)
				if len(got) == 6 { // the race's six findings: the audit is complete
					if err := cmd.Process.Signal(tc.sig); err != nil {
						t.Fatal(err)
					}
				}
			}
			code := exitOf(t, cmd.Wait())
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if n := len(got); n != 7 || got[n-1]["type"] != "summary" {
				t.Errorf("%d lines, the last %v; want six findings and the summary", n, got[len(got)-1])
			}
		})
	}
	t.Run("before any audit", func(t *testing.T) {
		cmd := helperCmd("audit", "--follow", "-")
		stdin, err := cmd.StdinPipe() // open, silent: nothing to audit yet
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := exitOf(t, cmd.Wait()); code != 130 {
			t.Errorf("exit %d, want 130; stderr %s", code, errOut.String())
		}
		if out.Len() != 0 || !strings.Contains(errOut.String(), "before its first audit was complete") {
			t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
		}
	})
}

// helperCmd runs this test binary as slotaudit (TestHelperMain).
func helperCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperMain$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "SLOTAUDIT_HELPER_MAIN=1")
	cmd.Stderr = io.Discard
	return cmd
}

func exitOf(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	t.Fatal(err)
	return -1
}
