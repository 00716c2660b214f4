package parser

import (
	"fmt"

	"github.com/slotaudit/slotaudit/flinklog"
)

// FileInfo describes one logical input: a file, or one stream inside a file
// (a YARN container's log, one pod in kubectl --prefix output).
type FileInfo struct {
	Path   string // path as given (or "-" for stdin)
	Stream string // stream name inside the file, "" for the whole file
}

// Name returns "path" or "path#stream".
func (f FileInfo) Name() string {
	if f.Stream == "" {
		return f.Path
	}
	return f.Path + "#" + f.Stream
}

// Files resolves [Pos] values to names. Index 0 is the first input.
type Files []FileInfo

// Position returns "name:line" for p, the form editors and CI annotations use.
func (fs Files) Position(p flinklog.Pos) string {
	if int(p.File) < 0 || int(p.File) >= len(fs) {
		return fmt.Sprintf("?:%d", p.Line)
	}
	return fmt.Sprintf("%s:%d", fs[p.File].Name(), p.Line)
}
