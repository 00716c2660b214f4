package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryStaysLean guards what the binary links. Until live sources,
// slotaudit never went on the network and the binary carried no HTTP
// client at all (this test was TestBinaryLinksNoHTTPClient). Package
// logstore now fetches from log stores with net/http and TLS, a client
// only: that took the binary from 12.2 MB to 15.3 MB (go1.26, linux/amd64,
// not stripped). What must still not come in:
//   - text/template's executor: with a text/template reachable (a custom
//     cobra template), reflection could call any exported method, so the
//     linker keeps them all: go-sarif's Validate, gojsonschema's loaders,
//     8 MB more;
//   - an HTTP server: slotaudit serves nothing;
//   - and, as a bound on everything else, more than 20 MB.
func TestBinaryStaysLean(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "slotaudit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	syms := string(out)
	for _, sym := range []string{"text/template.(*Template).execute", "net/http.(*Server).Serve"} {
		if strings.Contains(syms, " T "+sym+"\n") {
			t.Errorf("the binary links %s", sym)
		}
	}
	// the client is there, for live sources: if this fails, the test
	// above no longer looks at the right symbols
	if !strings.Contains(syms, " T net/http.(*Client).do\n") {
		t.Errorf("the binary does not link net/http.(*Client).do: live sources need it, and the symbol names this test looks for may have changed")
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binary: %.1f MB", float64(fi.Size())/1e6)
	if fi.Size() > 20e6 {
		t.Errorf("the binary is %.1f MB, over 20 MB: what came in?", float64(fi.Size())/1e6)
	}
}
