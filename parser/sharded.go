package parser

import (
	"io"
	"os"
	"sort"
	"sync"
)

// readFileSharded reads one large `kubectl logs --prefix` file, or YARN's
// aggregation of a job's logs, on every core. Its streams (pods, container
// logs) interleave or follow one another, so it cannot be cut into pieces
// at record starts (readFileChunked); but each stream is read on its own
// lines alone. So every worker reads the whole file, cutting lines and
// their prefixes (cheap), and parses only the lines of the streams it owns
// (the costly part): a stream's number in the file is the order its first
// line comes in, and worker w owns the streams whose number is w modulo
// the workers. Each stream sees exactly the lines a sequential read gives
// it, under the same numbers, so the join is exact. ok=false when the file
// is not such a file or is too small to be worth it; the caller then reads
// sequentially (as it does after a read error, which it reports).
func readFileSharded(path string, opts *Options, forced *Layout, forceJSON bool) (fileResult, bool) {
	workers := opts.shardsPerFile()
	if workers < 2 {
		return fileResult{}, false
	}
	f, size, ok := openLarge(path, opts)
	if !ok {
		return fileResult{}, false
	}
	defer f.Close()
	if loneCRHead(f) || exportFile(f) {
		return fileResult{}, false // lone-CR line ends and exports are read sequentially
	}
	fr, lines, ok := readShards(f, path, opts, forced, forceJSON, size, workers)
	if !ok {
		return fileResult{}, false
	}
	fr.finishFile(lines, nil)
	// The content key is left to Read, as for a file read in pieces.
	return fileResult{streams: fr.streams, content: contentKey{size: size, lazy: true}, path: path}, true
}

// readShards reads bytes [0, end) of f, if it is a kubectl --prefix file
// or a YARN aggregated log, on workers shards, and joins them into one
// reader that has not ended the read: each stream is as a sequential read
// of those bytes leaves it, so a follow can read on with it. lines: the
// lines read.
func readShards(f *os.File, path string, opts *Options, forced *Layout, forceJSON bool, end int64, workers int) (_ *fileReader, lines int64, ok bool) {
	// The wrapper is decided on the first 64 lines, as readFile decides it.
	lr := newLineReader(io.NewSectionReader(f, 0, end), opts.MaxLine)
	var look []pline
	for len(look) < 64 {
		line, _, err := lr.next()
		if err != nil {
			break
		}
		look = append(look, pline{no: lr.no, text: append([]byte(nil), line...), phys: 1})
	}
	wrapper, _ := detectWrapper(look)
	if wrapper != wrapKubePrefix && wrapper != wrapYARN || len(look) < 64 {
		return nil, 0, false
	}

	shards := make([]*fileReader, workers)
	shardLines := make([]int64, workers)
	failed := make([]error, workers)
	var wg sync.WaitGroup
	for w := range shards {
		fr := &fileReader{path: path, opts: opts, forced: forced, forceJSON: forceJSON, byName: map[string]*stream{},
			shard: w, shards: workers, order: map[string]int32{}}
		shards[w] = fr
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r io.Reader = io.NewSectionReader(f, 0, end)
			if (opts.ra != nil || opts.Progress != nil) && w == 0 {
				r = countingReader{r, opts.ra, opts.Progress} // the file is read ahead (and counted) once
			}
			lr := newLineReader(r, opts.MaxLine)
			_, failed[w] = fr.readLines(lr)
			shardLines[w] = lr.no
		}()
	}
	wg.Wait()

	// Every shard saw every line, so the state of the wrapper is the same
	// in all but the stream each is in: the one whose it is.
	first := shards[0]
	joined := &fileReader{path: path, opts: opts, forced: forced, forceJSON: forceJSON, byName: map[string]*stream{},
		wrapper: first.wrapper, kubeTS: first.kubeTS,
		yarnContainer: first.yarnContainer, yarnInContents: first.yarnInContents, pendingFraming: first.pendingFraming}
	for w, fr := range shards {
		if failed[w] != nil || fr.wrapper != wrapper || shardLines[w] != shardLines[0] {
			return nil, 0, false // a read error: the sequential read says where
		}
		joined.streams = append(joined.streams, fr.streams...)
		if fr.yarnCur != nil {
			joined.yarnCur = fr.yarnCur
		}
	}
	sort.Slice(joined.streams, func(i, j int) bool { return joined.streams[i].idx < joined.streams[j].idx })
	for i, st := range joined.streams {
		if st.idx != int32(i) {
			return nil, 0, false // cannot happen: every stream has one owner
		}
		joined.byName[st.sum.Stream] = st
	}
	if len(joined.streams) == 0 {
		return nil, 0, false
	}
	joined.main = joined.byName[""]
	return joined, shardLines[0], true
}

// shardsPerFile is how many shards read one file: the workers a file has
// to itself. Every shard cuts every line of the file, so with fewer than
// two workers to a file (as many files as cores) shards would only cut
// lines over and over: the cores are busy with files of their own.
func (o *Options) shardsPerFile() int {
	return o.workers() / max(1, o.files)
}

// owns reports whether the shard reads the lines of the stream called
// name, which it numbers (in the order streams first appear) if it is new.
// A reader that is not a shard owns every stream.
func (fr *fileReader) owns(name []byte) bool {
	if fr.shards == 0 {
		return true
	}
	n, ok := fr.order[string(name)]
	if !ok {
		n = int32(len(fr.order))
		fr.order[string(name)] = n
	}
	return int(n)%fr.shards == fr.shard
}
