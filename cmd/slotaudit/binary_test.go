package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryLinksNoHTTPClient: slotaudit reads logs and never goes on the
// network, so the binary must not carry an HTTP client. One comes in when a
// text/template is reachable (a custom cobra template): reflection could
// then call any exported method, so the linker keeps go-sarif's Validate,
// gojsonschema's HTTP loader, net/http and TLS: 8 MB.
func TestBinaryLinksNoHTTPClient(t *testing.T) {
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
	for _, sym := range []string{"net/http.(*Client).do", "text/template.(*Template).execute"} {
		if strings.Contains(string(out), " T "+sym+"\n") {
			t.Errorf("the binary links %s", sym)
		}
	}
}
