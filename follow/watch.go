package follow

import (
	"errors"
	"hash/fnv"
	"os"

	"github.com/slotaudit/slotaudit/parser"
)

// input is what a follow watches of one input file.
type input struct {
	path  string
	size  int64
	mtime int64     // modification time, Unix nanoseconds
	ends  [2]uint64 // fingerprints of its first and last 4 KiB
	ended bool      // standard input: it has ended
	gone  bool      // a named path that does not exist (now)
}

// snapshot is the state of every input at one poll; two equal snapshots
// mean that nothing changed that a new audit could see.
type snapshot []input

func (a snapshot) equal(b snapshot) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// watch returns the state of every file the paths name, directories
// expanded again so that files which appear are picked up, and the named
// paths that do not exist now. Standard input ("-") is not a file: the
// session asks its [Stdin] instead.
func watch(paths []string) (snapshot, []string, error) {
	var files, missing []string
	for _, p := range paths {
		if p == "-" {
			continue
		}
		fs, err := parser.ExpandPaths([]string{p})
		if err != nil {
			if _, serr := os.Lstat(p); errors.Is(serr, os.ErrNotExist) {
				missing = append(missing, p)
				continue
			}
			return nil, nil, err
		}
		files = append(files, fs...)
	}
	out := make(snapshot, 0, len(files)+len(missing))
	for _, m := range missing {
		out = append(out, input{path: m, gone: true})
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			// gone between listing and stat (rotation): seen next time
			continue
		}
		out = append(out, input{path: f, size: st.Size(), mtime: st.ModTime().UnixNano(), ends: ends(f, st.Size())})
	}
	return out, missing, nil
}

// ends fingerprints a file's first and last 4 KiB: a file rewritten with
// the same size and modification time is noticed by its content.
func ends(path string, size int64) [2]uint64 {
	f, err := os.Open(path)
	if err != nil {
		return [2]uint64{}
	}
	defer f.Close()
	var out [2]uint64
	for k, off := range []int64{0, max(0, size-4096)} {
		buf := make([]byte, min(4096, size))
		n, _ := f.ReadAt(buf, off)
		h := fnv.New64a()
		h.Write(buf[:n])
		out[k] = h.Sum64()
	}
	return out
}
