package flinklog

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// noIO are the imports that would let the meaning of log lines reach for
// files, streams, the network or raw memory: reading is package parser's.
var noIO = []string{"os", "io", "bufio", "net", "unsafe", "syscall", "compress", "archive", "embed"}

// TestNoIO keeps the package free of I/O: none of its files (tests aside,
// which read test logs) imports an I/O package, or a package of this
// module, which could bring one in.
func TestNoIO(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range noIO {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %q: flinklog does no I/O", name, path)
				}
			}
			if strings.HasPrefix(path, "github.com/slotaudit/slotaudit/") {
				t.Errorf("%s imports %q: flinklog depends on no other package of the project", name, path)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d files checked", checked)
	}
}
