package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/fold"
	"github.com/slotaudit/slotaudit/follow"
	"github.com/slotaudit/slotaudit/logstore"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
	"github.com/slotaudit/slotaudit/report"
)

// foldFormats are the audit formats that read only the findings, the
// summaries and the stories the findings are about (markdown, and github's
// step summary, draw each one's sequence): what the model of a fold gives
// as the batch model does, since a story a finding names is never dropped;
// timesketch, which lists every event besides, read again after the fold
// (parser.Result.AllAgain); and html, whose charts of every TaskManager's
// table the fold walks as it replays (Model.Charts).
var foldFormats = map[string]bool{"text": true, "table": true, "json": true, "ndjson": true, "sarif": true, "junit": true,
	"markdown": true, "github": true, "timesketch": true, "html": true}

// --fold auto considers a fold for inputs of at least foldAbove bytes
// (below, the batch model fits in little memory, and a read is quick),
// and folds those whose read gives more than foldEvents events: the
// first read keeps every event up to that many, so that a large log of
// few events (a chatty DEBUG log) is read once and modelled the batch way,
// and one dense with allocations is folded with no read lost. (Events
// are ~60-110 bytes each held, and the batch model ~1.9 KB an allocation
// of ~15 events on top: 250k events are ~50 MB.)
const (
	foldAboveText = "64 MiB"
	foldEvents    = 250_000
)

// foldAbove is foldAboveText in bytes (a variable for the test that folds
// small inputs).
var foldAbove int64 = 64 << 20

// folds reports whether a command builds its model as a fold: asked for
// (or, by default, for large inputs), for an output that reads only what a
// fold keeps (foldFormat: findings and summaries, explanations, the slot
// tables at the end of the logs, a timeline narrowed by foldNarrow), from
// files (a fold reads its inputs two or three times).
func (e *env) folds(paths []string, rf *readFlags) bool {
	if e.foldMode == "never" || !e.foldFormat || e.following || rf.keep != nil ||
		slices.Contains(paths, "-") || slices.ContainsFunc(paths, logstore.IsSource) {
		return false
	}
	return e.foldMode == "always" || inputBytes(paths) >= foldAbove
}

// foldGCPercent is the collector's growth target while a fold reads the
// inputs again.
const foldGCPercent = 100

// foldMemoryLimit is the soft limit of the heap while a fold reads the
// inputs again (runtime/debug.SetMemoryLimit; GOMEMLIMIT overrides it):
// issue 26's bound is 512 MB of resident memory at five million
// allocations, of which the runtime and the read buffers take some. (A
// variable for the test that holds a fold of much to its lifting.)
var foldMemoryLimit int64 = 400 << 20

// liveHeap is the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// foldBudget is the Keep of a first read under --fold auto: every event
// while the read has kept fewer than foldEvents, then only what a fold's
// first read keeps; full says whether it kept them all.
func foldBudget() (keep func(*flinklog.Event) bool, full func() bool) {
	var n atomic.Int64
	firstKeep := fold.NewFirstKeep()
	keep = func(ev *flinklog.Event) bool {
		// (looked at before it is counted: once past the budget the count
		// is only read — an add for every event of the read, from every
		// core, was 4 % of an allocation-dense first read, the cores
		// taking the counter's cache line from each other)
		return n.Load() <= foldEvents && n.Add(1) <= foldEvents || firstKeep(ev)
	}
	full = func() bool { return n.Load() <= foldEvents }
	return keep, full
}

// inputBytes is the size of the files paths name (directories walked; a
// symbolic link to a file counts as the file, as the read follows it — a
// Kubernetes node's /var/log/containers is all links; what cannot be
// looked at counts nothing).
func inputBytes(paths []string) int64 {
	var n int64
	for _, p := range paths {
		_ = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			switch {
			case err != nil:
			case d.Type().IsRegular():
				if info, err := d.Info(); err == nil {
					n += info.Size()
				}
			case d.Type()&os.ModeSymlink != 0:
				if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
					n += info.Size()
				}
			}
			return nil
		})
	}
	return n
}

// buildFolded is build made as a fold (fold.FromFirst): the first read is
// the one whose diagnostics are logged. Where the logs hold what the fold
// does not take yet, the batch model is built instead (a second read, its
// diagnostics not logged again), and --log-level debug says why.
func (e *env) buildFolded(cmd *cobra.Command, paths []string, rf *readFlags) (*reconstruct.Model, error) {
	if e.reported == nil {
		e.reported = map[string]bool{} // the batch read after a refusal logs nothing twice
	}
	first := *rf
	first.deferIdentities = true
	full := func() bool { return false }
	if e.foldMode == "always" {
		first.keep = fold.NewFirstKeep()
	} else {
		first.keep, full = foldBudget()
	}
	first.spill = e.newSpill()
	res, err := e.read(cmd.Context(), paths, &first)
	if err != nil {
		return nil, err
	}
	if full() {
		// few events: the read kept them all, and is the batch read (the
		// TaskManagers it deferred naming are named from them)
		e.dropSpill()
		res.JoinIdentities()
		return e.buildFrom(res)
	}
	if first.spill != nil {
		if err := first.spill.Err(); err != nil {
			e.log.Warn().Err(err).Msg("the fold's first read could not keep what it read: the inputs are read again from their files")
		}
		e.log.Debug().Int64("bytes", first.spill.Bytes()).Msg("the first read's events spilled")
	}
	if !hasEvidence(res) {
		// (a follow's audit of its copies says it at the end, if ever)
		if err := e.writeInputTable(res.Inputs); err != nil {
			return nil, err
		}
		return nil, &nothingToJudgeError{inputs: len(res.Inputs), res: res}
	}
	began := time.Now()
	if os.Getenv("GOGC") == "" {
		// The fold holds little (what is open), and makes much that goes
		// at once (each event read again): the low growth target of a
		// big read (settleGC) made it collect its small heap over and
		// over, two fifths of its time.
		defer debug.SetGCPercent(debug.SetGCPercent(foldGCPercent))
	}
	restoreLimit := func() {}
	if os.Getenv("GOMEMLIMIT") == "" {
		// What a fold holds is small (25 MB at a million allocations),
		// what it makes and lets go is not: the collector's headroom,
		// not the live heap, is most of its peak. Past foldMemoryLimit
		// the collector runs sooner rather than let the heap grow — for
		// the rest of the command (the output is written from the
		// fold's model), unless the batch model is built instead.
		was := debug.SetMemoryLimit(foldMemoryLimit)
		restoreLimit = func() { debug.SetMemoryLimit(was) }
	}
	opts := parser.Options{Layout: rf.layout, FlinkVersion: rf.flinkVersion, SortAs: e.renames}
	m, err := fold.FromFirstNarrowed(res, opts, e.foldNarrow())
	if err != nil {
		restoreLimit()
	} else if live := liveHeap(); live <= uint64(foldMemoryLimit)/4*3 {
		e.log.Debug().Int64("limit_bytes", foldMemoryLimit).Uint64("live_bytes", live).Msg("the heap is held to a soft limit")
	} else {
		// a fold that kept much (a cluster where most stories went
		// wrong): near the limit the collector would run over and over
		// while the rules and the output work on it (the charts of five
		// million allocations are ~250 MB live, well below)
		restoreLimit()
		e.log.Debug().Uint64("live_bytes", live).Msg("the fold's model is large: the heap limit is lifted")
	}
	if err == nil {
		e.foldFirst, e.foldOpts = res, opts
	}
	if errors.Is(err, fold.ErrNotFoldable) {
		e.log.Debug().Str("why", err.Error()).Msg("fold refused: the batch model is built")
		e.dropSpill()
		return e.build(cmd, paths, rf)
	}
	if err != nil {
		return nil, err
	}
	for _, st := range m.Stages {
		e.log.Debug().Str("began", st.Began.Round(time.Millisecond).String()).Str("took", st.Took.Round(time.Millisecond).String()).Msg("model: " + st.Name)
	}
	e.log.Debug().Str("took", time.Since(began).Round(time.Millisecond).String()).Int("allocations", m.AllocationCount()).
		Int("kept", len(m.Allocations)).Int("events_kept", m.Result.Len()).Msg("model folded")
	if sized, ok := m.Compared.(interface{ Bytes() int64 }); ok {
		e.log.Debug().Int64("bytes", sized.Bytes()).Msg("the slot reports compared written out")
	}
	return m, nil
}

// newSpill makes the spill of a fold's first read (the previous fold's,
// in a follow, is let go first), in --spool-dir or where a follow's copy
// would go; nil when none can be made, or when it would be held in memory
// (a tmpfs, unless --spool-dir names it: ~80 bytes an event, a bound
// the fold keeps memory under would not hold) — the fold then reads its
// inputs again from their files, as it did before there was a spill.
func (e *env) newSpill() *parser.Spill {
	e.dropSpill()
	dir := e.spoolDir
	if dir == "" {
		var inMem bool
		if dir, inMem = follow.SpoolDir(); inMem {
			e.log.Debug().Str("dir", dir).Msg("no spill (the directory is held in memory): the fold reads its inputs again from their files")
			return nil
		}
	}
	sp, err := parser.NewSpill(dir)
	if err != nil {
		e.log.Debug().Err(err).Msg("no spill: the fold reads its inputs again from their files")
		return nil
	}
	e.spill = sp
	return sp
}

// dropSpill lets the spill go: nothing reads it again.
func (e *env) dropSpill() {
	_ = e.spill.Close()
	e.spill = nil
}

// foldNarrow is what a fold keeps for the output's filter besides what
// the rules need.
func (e *env) foldNarrow() fold.Narrow {
	var n fold.Narrow
	f := e.filter
	switch {
	case f.NarrowsAllocations() && (e.listsAllocations || f.Alloc.IsSet() || f.Job.IsSet()):
		// the stories the output is narrowed to, kept as the batch has
		// them: for a timeline; for findings, those checkNarrowed looks
		// for (a TaskManager's log is in the model whatever is kept, and
		// all of a TaskManager's stories would be many)
		n.Pin = f.Pins
	case e.listsAllocations && f.Windowed():
		// a timeline of the last two hours: each story kept until it
		// cannot be in them
		n.Outside = f.Outside
	case e.listsAllocations && !f.Active():
		// a timeline of every allocation: each story let go is written
		// out as it goes (Model.FoldedTimelines)
		n.Timelines = true
	}
	// a table at a time: the stories open then are kept, and each
	// process replayed up to then as its lines come
	n.At = e.tableAt
	// the HTML page: each TaskManager's chart walked as it replays
	n.Charts = e.drawsCharts
	// slots: every report compared
	n.Reports = e.listsReports
	// (what those write out: a spool's place, not $TMPDIR where that is
	// held in memory)
	if n.Timelines || n.Reports {
		if n.SpillDir = e.spoolDir; n.SpillDir == "" {
			n.SpillDir, _ = follow.SpoolDir()
		}
	}
	return n
}

// checkNarrowed is narrowFlags.check on the model built. A fold's model
// holds every allocation the filter names (Filter.Pins), so an allocation
// or TaskManager it lacks the input lacks too; but not every line: a job
// named only by lines of no kept story, and the names an error offers
// instead, are looked for in a read that keeps no event (readNames).
func (e *env) checkNarrowed(ctx context.Context, paths []string, rf *readFlags, m *reconstruct.Model, folded bool) error {
	err := e.narrow.check(m, e.filter)
	if err == nil || !folded || m.Folded == 0 {
		return err
	}
	names, rerr := e.readNames(ctx, paths, rf, m)
	if rerr != nil {
		return rerr
	}
	return e.narrow.checkNames(e.filter, names)
}

// readNames reads the inputs again keeping no event, for the names their
// lines give: every allocation and job, and the TaskManagers the
// allocations learn (Allocation.Learn) besides the model's.
func (e *env) readNames(ctx context.Context, paths []string, rf *readFlags, m *reconstruct.Model) (inputNames, error) {
	n := &readNamesSet{allocSet: map[flinklog.ID]bool{}, jobSet: map[string]bool{}, tmSet: map[string]bool{}}
	for _, r := range report.TaskManagers(m) {
		n.tmSet[r] = true
	}
	var mu sync.Mutex
	note := func(ev *flinklog.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Job.IsSet() {
			n.jobSet[ev.Job.String()] = true
		}
		switch {
		case ev.Alloc.IsSet():
			n.allocSet[ev.Alloc] = true
			if ev.Resource != "" && (ev.Component == flinklog.ComponentTM || ev.Kind == flinklog.KindJMDeploy || ev.Kind == flinklog.KindRMAllocStart) {
				n.tmSet[ev.Resource] = true
			}
		case ev.Other.IsSet() && ev.Component == flinklog.ComponentTM && (ev.Kind == flinklog.KindTMAllocRefused || ev.Kind == flinklog.KindTMSlotOccupied):
			n.allocSet[ev.Other] = true
		}
	}
	names := *rf
	names.keep = func(ev *flinklog.Event) bool { note(ev); return false }
	names.deferIdentities = true
	res, err := e.read(ctx, paths, &names)
	if err != nil {
		return nil, err
	}
	// (a read keeps each input's first lines whatever Keep says)
	for i := range res.All() {
		note(res.Event(i))
	}
	return n, nil
}

// readNamesSet is inputNames as readNames gathers them.
type readNamesSet struct {
	allocSet map[flinklog.ID]bool
	jobSet   map[string]bool
	tmSet    map[string]bool
}

func (n *readNamesSet) taskManagers() []string       { return slices.Sorted(maps.Keys(n.tmSet)) }
func (n *readNamesSet) jobs() []string               { return slices.Sorted(maps.Keys(n.jobSet)) }
func (n *readNamesSet) hasAlloc(id flinklog.ID) bool { return n.allocSet[id] }
func (n *readNamesSet) allocs() []string {
	out := make([]string, 0, len(n.allocSet))
	for id := range n.allocSet {
		out = append(out, id.String())
	}
	slices.Sort(out)
	return out
}

// buildModel builds the model as a fold where folds says so (the
// command's output reads only what a fold keeps: foldFormat; a filter's
// stories pinned as buildFolded pins them), else the batch way. folded
// says which was tried.
func (e *env) buildModel(cmd *cobra.Command, paths []string, rf *readFlags) (*reconstruct.Model, bool, error) {
	paths = e.stdinAsFile(paths)
	paths, err := e.fetchFirst(cmd, paths, rf)
	if err != nil {
		return nil, false, err
	}
	if e.folds(paths, rf) {
		m, err := e.buildFolded(cmd, paths, rf)
		return m, true, err
	}
	m, err := e.build(cmd, paths, rf)
	return m, false, err
}

// stdinAsFile copies standard input, when paths name it and the command
// may fold, into a file that the read reads in its place (renamed "-"):
// standard input is read once, a fold reads its inputs two or three times
// (zcat month.log.gz | slotaudit audit - held every event). The copy is
// removed when the command ends (Main); what cannot be copied is read
// from standard input as before.
func (e *env) stdinAsFile(paths []string) []string {
	if e.foldMode == "never" || !e.foldFormat || e.following || e.stdinCopy != nil || !slices.Contains(paths, "-") {
		return paths
	}
	dir := e.spoolDir
	if dir == "" {
		dir, _ = follow.SpoolDir()
	}
	spool, err := follow.NewSpool(dir)
	if err != nil {
		e.log.Warn().Err(err).Msg("standard input is read as it comes, every event held: no copy of it can be made")
		return paths
	}
	c, err := spool.CopyStdin(e.stdin, true)
	if err != nil {
		spool.Close()
		e.log.Warn().Err(err).Msg("standard input is read as it comes, every event held: no copy of it can be made")
		return paths
	}
	c.Wait()
	e.stdinSpool, e.stdinCopy = spool, c
	if e.renames == nil {
		e.renames = map[string]string{}
	}
	e.renames[c.Path()] = "-"
	out := slices.Clone(paths)
	out[slices.Index(out, "-")] = c.Path()
	return out
}

// fetchFirst fetches the log stores among paths before a command that may
// fold decides whether it folds (a fold reads its inputs again, so the
// fetched files must outlive the first read: Main removes them), and
// returns the paths to read in their place, renamed after the sources.
// Other commands fetch as they read (env.read).
func (e *env) fetchFirst(cmd *cobra.Command, paths []string, rf *readFlags) ([]string, error) {
	if e.foldMode == "never" || !e.foldFormat || e.following || e.live != nil || !slices.ContainsFunc(paths, logstore.IsSource) {
		return paths, nil
	}
	if _, _, err := parser.ResolveLayout(rf.layout); err != nil {
		return nil, &usageError{err}
	}
	out, live, err := e.fetchLive(cmd.Context(), paths, rf)
	if err != nil || live == nil {
		return out, err
	}
	e.live = live
	if e.renames == nil {
		e.renames = map[string]string{}
	}
	maps.Copy(e.renames, live.names)
	return out, nil
}

// checkFoldMode is a usage error for a --fold that is not one of its
// choices.
func (e *env) checkFoldMode() error {
	if e.foldMode != "auto" && e.foldMode != "always" && e.foldMode != "never" {
		return &usageError{fmt.Errorf("--fold %q: want auto, always or never", e.foldMode)}
	}
	return nil
}

// registerFold adds --fold to a command that folds when what: the same
// choice as audit's.
func registerFold(cmd *cobra.Command, e *env, what string) {
	cmd.Flags().StringVar(&e.foldMode, "fold", "auto", "build the model as a fold (read twice, holding only the allocations still open and those the output needs)"+what+": auto (for inputs of "+foldAboveText+" and more), always (wherever it can), never; output is the same either way")
	if cmd.Flags().Lookup("spool-dir") == nil {
		cmd.Flags().StringVar(&e.spoolDir, "spool-dir", "", "the directory a fold writes to: the copy of standard input, the events it read first (about 80 bytes an event; none by default where $TMPDIR is held in memory), the timelines and slot reports the output lists (default: $TMPDIR, or /var/tmp when that is held in memory)")
	}
}
