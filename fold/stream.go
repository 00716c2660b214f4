package fold

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/parser"
	"github.com/slotaudit/slotaudit/reconstruct"
)

// The fold itself (docs/folding-plan.md, step 6): the audit's model made
// while the logs are read, holding what is open, not what happened.
//
// A first read keeps only what must be known before the events it governs
// come by: the refusal lines that say which table a process ran, each
// input's meta lines (banners, ResourceIDs, slot counts), and a sample of
// the lines the skew is estimated from. Its model (the skeleton) gives
// the TaskManagers, their processes and how each is configured. The skew
// is estimated from the inputs read again (reconstruct.SkewStream), or,
// where the sample shows none, assumed none and checked as the fold goes.
// Then every input is read again and merged in the model's order
// (reconstruct.Merge); each TaskManager process is replayed as its events
// come (reconstruct.ReplayStream); each allocation's story is followed to
// its close, decided there as Plan decides it, and dropped when healthy:
// its events, its replay steps and the lines of no allocation that only
// its window held go. What is left — the stories kept or still open, the
// lines inside their windows, the kinds the rules read whole — is handed
// to reconstruct.Assemble: the model Model.Reduced gives of the batch
// model, on which the rules find what they find on the whole (the tests
// in this package and in sim hold Build's models to the batch's, and the
// audits made of them to the byte).

// maxInputs is the most inputs a fold reads again at once: each holds a
// read buffer, the block of events being packed and the batches handed
// over while it is read — about 1.9 MB of resident memory an input with
// the collector's headroom (500 TaskManager logs: 977 MB), or 0.55 MB read
// lean (parser.Options.LeanReadAgain: 334 MB), as they are when more than
// leanAbove are open at once. A merge reads an input from an hour before
// its first line to its end (reconstruct.MostOpen): a directory of
// rotated logs is read a few files a TaskManager at a time.
const (
	maxInputs = 2048
	leanAbove = 64
)

// ErrNotFoldable says that the logs hold what the fold does not take yet:
// the caller builds the batch model instead.
var ErrNotFoldable = errors.New("the logs cannot be folded as they are read")

// notFoldable is ErrNotFoldable, saying why.
func notFoldable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotFoldable, fmt.Sprintf(format, args...))
}

// firstKinds are the kinds the first read keeps besides its meta lines:
// the refusal lines that decide which table a process ran. (And one slot
// report, if there are any: NewFirstKeep.)
var firstKinds = map[flinklog.Kind]bool{
	flinklog.KindTMAllocExists: true, flinklog.KindTMAllocRefused: true,
}

// keptEvent is an event the fold holds: its ref and rank in the read that
// keeps every event, and the event, where the read again handed it over
// (Merged's batches are not reused: a batch stays while the fold holds
// one of its events, and copying each event a story held was a third of
// the fold's time).
type keptEvent struct {
	ref  parser.EventRef
	rank int32
	ev   *flinklog.Event // nil: the event is in folder.pack, at pack
	seq  int64           // when the fold took it (folder.seq)
	pack int32
}

// owned is k with a copy of its event: held for long, an event handed
// over would hold its whole batch.
func (k keptEvent) owned() keptEvent {
	ev := *k.ev
	k.ev = &ev
	return k
}

// ownEvery and ownAfter: every ownEvery events the fold copies the events
// it has held for more than ownAfter events (the stories and windows that
// stay open long: a streaming job's slot beside short jobs, a story kept),
// so that the batches the read again handed over are held for as long as
// ownAfter events at most, not to the end.
var (
	ownEvery int64 = 4096
	ownAfter int64 = 1 << 16
)

// own copies the events held for more than ownAfter events.
func (f *folder) own() {
	old := f.seq - ownAfter
	for _, s := range f.stories {
		if s.owned || len(s.evs) == 0 || s.evs[0].seq > old {
			continue
		}
		for i := range s.evs {
			s.evs[i] = s.evs[i].owned()
		}
		s.owned = true
	}
	for _, ps := range f.procs {
		for ; ps.ownedTo < len(ps.window) && ps.window[ps.ownedTo].seq <= old; ps.ownedTo++ {
			ps.window[ps.ownedTo] = ps.window[ps.ownedTo].owned()
		}
		if ps.hasLast && ps.last.seq <= old {
			ps.last = ps.last.owned()
		}
		if ps.first != nil && ps.first.seq <= old && !ps.firstOwned {
			k := ps.first.owned()
			ps.first, ps.firstOwned = &k, true
		}
	}
}

// procState is one TaskManager process as the fold replays it.
type procState struct {
	p *reconstruct.Process // the skeleton's: its input, config and table
	// inputs are the inputs it logged in, in its order (a rotated log's
	// files), and at the one its events come from now; held are the lines
	// of a later one merged before an earlier one ended (folder.waits)
	inputs []int32
	at     int
	held   []heldEvent
	stream *reconstruct.ReplayStream
	// window holds its events of no allocation not decided yet: kept if
	// inside a kept story's window, dropped once no story held or kept
	// began before them
	window []keptEvent
	// active are the stories with an event in it that were not dropped,
	// and the first and last of their events in it
	active map[*story]*[2]int64 // (by when the fold took them: keptEvent.seq)
	// needs are what of its lines of no allocation the stories' slots
	// may still be asked for (slotNeed), by story
	needs map[*story]*slotNeed
	// spans are the lives of slots freed without being activated, whose
	// lines of no allocation the rules read (slotNeed); spanned holds
	// those of them release let go of the window
	spans     [][2]int64
	spanned   []keptEvent
	first     *keptEvent
	last      keptEvent
	hasLast   bool
	conflicts int // the replay's conflicts looked at
	retained  []keptEvent
	// ownedTo: the window's events before it are copies (folder.own)
	ownedTo    int
	firstOwned bool
	// atStream: the replay of its events up to the first one later than
	// Narrow.At, while they come (nil after); atReplay, once it has
	// ended; atComparable: an event's time was of At's kind
	atStream     *reconstruct.ReplayStream
	atReplay     *reconstruct.Replay
	atComparable bool
	// no is its place in folder.procs; resource, its TaskManager's; open,
	// the slots its table holds by key, while a spill keeps timelines
	// (noteHeld)
	no       int
	resource string
	open     map[int]*heldRec
	// tmc: its TaskManager's charts, pi its place among the
	// TaskManager's processes, barsOf the bars of the stories not let go
	// yet, chartFile the input of its last line (Narrow.Charts)
	tmc       *tmCharts
	pi        int
	barsOf    map[flinklog.ID][]barAt
	chartFile int32
	// restsOn: the lines of stories let go that some slot's index rests
	// on (its bar shows the line), pruned now and then (restsOnPruned)
	restsOn       map[flinklog.Pos]reconstruct.FoldedEvent
	restsOnPruned bool
	// recent: its lines of the last recentFor, for a slot report's check
	// to name (reports.go)
	recent []keptEvent
	// compared: every slot report its replay compared (Narrow.Reports)
	compared *comparedLog
}

// story is one allocation's story as the fold follows it.
type story struct {
	id      flinklog.ID
	evs     []keptEvent
	closing // Plan's facts up to the close (planOne)
	closed  bool
	// its slots in the tables its processes ran: created (false while
	// held), a slot held before the log, a step that left the tables
	// disagreeing or unsatisfied
	slots   map[slotOf]bool
	prior   bool
	unclean bool
	procs   []*procState
	owned   bool // its events are copies (folder.own)
	pinned  bool // the caller asked for it (Pin)
	// deferred: closed healthy, dropped for the rules and kept for the
	// output for now (Narrow.Outside); times: its lines' times
	deferred bool
	times    []flinklog.Time
	// held: the slots it held, while a spill keeps timelines (noteHeld)
	held []*heldRec
	// job: the job the first of its lines that names one names, in the
	// read's order (Allocation.Learn's), as far as they have come
	job    flinklog.ID
	jobRef parser.EventRef
	// closeRank: the rank of the line it closed at
	closeRank int32
	// graceUntil: closed healthy in logs with slot reports, it is not let
	// go before the merged stream is past this aligned time (of kind
	// graceKind): a report may still list it (waitToDrop)
	graceUntil int64
	graceKind  flinklog.TimeKind
	// began: the aligned time of its first line that has one (Kind
	// none: none yet)
	began flinklog.Time
}

type slotOf struct {
	ps  *procState
	key int
}

// slotNeed is what a story's slots in one process may still ask of the
// process's lines of no allocation. The rules read those lines only
// between two lines of a slot's life (rules' between): all of them from a
// slot's allocation to its free when the slot was never activated (a slot
// timeout and what explains it), and the first offer after an allocation
// (the legacy race). So a line is needed while some slot of a story is
// allocated and neither activated nor freed in both tables (pending, by
// when its allocation came), and an offer line while some allocation
// has seen none after it (offerAfter, -1: none waits). A story whose slots
// are all active — a streaming job's, open for weeks beside a session
// cluster's short jobs — needs none of the lines that come by, which a
// window from its first line on held to the end.
type slotNeed struct {
	pending    map[int32]*pendingSlot
	offerAfter int64
}

// (the lines are compared by when the fold took them, keptEvent.seq: a
// process's order, which its refs are not when a rotated log's newer file
// is read before the older one)
type pendingSlot struct {
	allocated int64
	done      [2]bool // activated or freed, in each table
	activated [2]bool
}

// from is when the first line the story may still need came, -1 for
// none.
func (n *slotNeed) from() int64 {
	from := n.offerAfter
	for _, p := range n.pending {
		if from < 0 || p.allocated < from {
			from = p.allocated
		}
	}
	return from
}

// note takes a replay step of the story's in ps, made by the event the
// fold took as seq, into what it needs.
func (ps *procState) note(s *story, st reconstruct.Step, seq int64) {
	n := ps.needs[s]
	switch st.Op {
	case reconstruct.OpAllocate:
		if n == nil {
			n = &slotNeed{pending: map[int32]*pendingSlot{}}
			ps.needs[s] = n
		}
		for m := range st.Slot {
			if n.pending[st.Slot[m]] == nil {
				n.pending[st.Slot[m]] = &pendingSlot{allocated: seq}
			}
		}
		n.offerAfter = seq
	case reconstruct.OpActivate, reconstruct.OpSubmit, reconstruct.OpFree:
		if n == nil {
			return
		}
		for m := range st.Slot {
			ok := st.Outcomes[m] == reconstruct.Accepted || st.Op != reconstruct.OpFree && st.Outcomes[m] == reconstruct.Idempotent
			if p := n.pending[st.Slot[m]]; p != nil && ok && !st.Skipped[m] {
				p.done[m] = true
				p.activated[m] = p.activated[m] || st.Op != reconstruct.OpFree
				if p.done[0] && p.done[1] {
					delete(n.pending, st.Slot[m])
					if !p.activated[0] || !p.activated[1] {
						// freed, never activated: the rules read every
						// line of its life (a slot timeout, and what
						// explains it)
						ps.spans = append(ps.spans, [2]int64{p.allocated, seq})
					}
				}
			}
		}
	}
}

// wants reports whether some story in ps may still ask for a line of
// kind k that comes now, and takes an offer line as the one the waiting
// allocations asked for.
func (ps *procState) wants(k flinklog.Kind) bool {
	want := false
	for _, n := range ps.needs {
		if len(n.pending) > 0 {
			want = true
		}
		if k == flinklog.KindTMOffer && n.offerAfter >= 0 {
			n.offerAfter, want = -1, true
		}
	}
	return want
}

// Build reads paths as a fold and returns the model of what it kept, with
// the number of allocations it dropped as Model.Folded: the model the
// rules and the summary formats read as they read the batch model.
// ErrNotFoldable says that the logs hold what the fold does not take yet.
func Build(paths []string, opts parser.Options) (*reconstruct.Model, error) {
	return BuildNarrowed(paths, opts, Narrow{})
}

// BuildNarrowed is Build keeping what n asks for (FromFirstNarrowed).
func BuildNarrowed(paths []string, opts parser.Options, n Narrow) (*reconstruct.Model, error) {
	if slices.Contains(paths, "-") {
		return nil, notFoldable("standard input is read once")
	}
	fo := opts
	fo.Keep, fo.DeferIdentities = NewFirstKeep(), true
	first, err := parser.Read(paths, fo)
	if err != nil {
		return nil, err
	}
	return FromFirstNarrowed(first, opts, n)
}

// NewFirstKeep returns what the fold's first read keeps
// (parser.Options.Keep): the lines of firstKinds, and a sample of the
// lines the skew is estimated from (the first skewSample of them). A
// caller that reads the inputs itself (for its own account of the read)
// reads them with it, and hands the read to FromFirst.
func NewFirstKeep() func(*flinklog.Event) bool {
	var sampled atomic.Int64
	var reported, matched atomic.Bool
	return func(ev *flinklog.Event) bool {
		switch ev.Kind {
		case flinklog.KindRMSlotReport:
			// one: the fold's replays take the reports as they come, if
			// there are any (reports.go)
			return !reported.Load() && reported.CompareAndSwap(false, true)
		case flinklog.KindJMOfferMatched:
			// one, and the sample's: where the logs hold none, the skew's
			// estimate reads no activation (SkewStream.NoMatchedOffers)
			if !matched.Load() && matched.CompareAndSwap(false, true) {
				return true
			}
		}
		// (the count is only read once the sample is full: see foldBudget)
		return firstKinds[ev.Kind] || skewKind[ev.Kind] && sampled.Load() < skewSample && sampled.Add(1) <= skewSample
	}
}

// skewSample: the first read keeps this many of the lines the skew is
// estimated from. When they show no skew, the fold assumes none and
// checks it as it goes (a read saved where the clocks agree); when they
// do, the skew is estimated first.
var skewSample int64 = 50_000

var skewKind = func() map[flinklog.Kind]bool {
	m := map[flinklog.Kind]bool{}
	for _, k := range reconstruct.SkewKinds {
		m[k] = true
	}
	return m
}()

// FromFirst is Build after its first read: first is a read of the inputs
// with Keep set to a NewFirstKeep (and DeferIdentities), opts the options
// it was read with (bar those). It lets first's events go
// (parser.Result.LetEventsGo).
func FromFirst(first *parser.Result, opts parser.Options) (*reconstruct.Model, error) {
	return FromFirstNarrowed(first, opts, Narrow{})
}

// Narrow is what an output narrowed by a filter asks a fold to keep
// besides what the rules need, so that it finds the allocations it shows
// in the fold's model as in the batch's (a timeline of one job's, or of
// the last two hours).
type Narrow struct {
	// Pin keeps the stories it asks for whatever they close as.
	Pin Pin
	// Outside lets a story closed healthy be dropped only once it says
	// so; until then the story is kept, and asked again as the stream
	// goes on.
	Outside Outside
	// At, when set, places the time each TaskManager's table is shown at
	// (slots --at, on the TaskManager's own clock) in logs whose times
	// span bounds (a time of day falls on their first day).
	At func(bounds *parser.TimeBounds) flinklog.Time
	// Reports: the output lists every slot report compared with a table
	// (slots --reports differing|all): each is written out as it is
	// compared (compared.go), and the model's processes read them back
	// (Process.SetCompared; Model.Compared holds them, the caller closes
	// it).
	Reports bool
	// Timelines keeps the timeline of every story let go, for an output
	// that lists every allocation (Model.FoldedTimelines; the caller
	// closes it).
	Timelines bool
	// Charts walks each TaskManager's periods of occupancy as the fold
	// replays, for the HTML report (Model.Charts).
	Charts bool
	// SpillDir is where what Timelines and Reports write out goes once
	// it is more than a few megabytes ("": os.TempDir).
	SpillDir string
}

// Pin is told each line of a story as the fold takes it (the story's
// AllocationID, and the line, which may name it as another's occupant);
// true keeps the story.
type Pin func(id flinklog.ID, ev *flinklog.Event) bool

// Outside is told the bounds of every line's time taken so far (final: of
// every line) and returns a test of a story's lines' times: true says that
// the output cannot show the story, whatever lines come after (a window
// counted back from the logs' end only moves later).
type Outside func(sofar *parser.TimeBounds, final bool) func(times []flinklog.Time) bool

// FromFirstNarrowed is FromFirst keeping what n asks for besides what the
// rules need.
func FromFirstNarrowed(first *parser.Result, opts parser.Options, n Narrow) (*reconstruct.Model, error) {
	opts.Keep, opts.DeferIdentities = nil, false
	// (whether the logs hold slot reports, before the first read is
	// thinned: it kept one if they do)
	reported := first.CountOf(flinklog.KindRMSlotReport) > 0
	// (and whether they hold a matched offer: it kept one if they do)
	matched := first.CountOf(flinklog.KindJMOfferMatched) > 0
	if n := reconstruct.MostOpen(first); n > maxInputs {
		return nil, notFoldable("%d inputs overlap in time, more than the %d a fold reads again at once", n, maxInputs)
	} else if n > leanAbove {
		// a cluster of hundreds of TaskManagers: each of its logs read
		// again holding less at once
		opts.LeanReadAgain = true
	}
	var stages []reconstruct.Stage
	began := time.Now()
	stage := func(name string, t time.Time) {
		stages = append(stages, reconstruct.Stage{Name: name, Began: t.Sub(began), Took: time.Since(t)})
	}
	// TaskManager logs that name no ResourceID (a rotated log's current
	// file, a cut one) are named first, from the inputs read again: the
	// skeleton's TaskManagers are by name, and the skew is estimated in
	// the same read.
	var named *namedSkew
	if first.IdentitiesPending() {
		// the first read's events are held through the read that names
		// the TaskManagers (the skeleton is made after it): only what a
		// first read keeps (under --fold auto it kept every event up to a
		// count; the skew's sample is not needed, the stream gives it)
		first.Thin(func(ev *flinklog.Event) bool { return firstKinds[ev.Kind] })
		t := time.Now()
		var err error
		if named, err = skewAndIdentities(first, opts, matched); err != nil {
			return nil, err
		}
		stage("names and skew", t)
	}
	var skeleton *reconstruct.Model
	if named != nil {
		// (whether a rotated log's newer file continues the older one's
		// process is decided by when the older one's last line is, which
		// the first read did not keep: the second read saw it)
		skeleton = reconstruct.SkeletonWith(first, named.lastTM)
	} else {
		skeleton = reconstruct.Skeleton(first)
	}
	starts := map[*reconstruct.Process][]inputLine{}
	// each process's first line's time, for the slot reports (reports.go;
	// nil: the logs hold none)
	var firstAt map[*reconstruct.Process]flinklog.Time
	if reported {
		firstAt = map[*reconstruct.Process]flinklog.Time{}
	}
	for _, tm := range skeleton.TaskManagers {
		for _, p := range tm.Processes {
			if firstAt != nil && len(p.Events) > 0 {
				firstAt[p] = first.Time(p.Events[0])
			}
			// where it begins in each input it logged in (the first read
			// keeps each input's first TaskManager line)
			for _, i := range p.Events {
				if pos := first.Pos(i); len(starts[p]) == 0 || starts[p][len(starts[p])-1].file != pos.File {
					starts[p] = append(starts[p], inputLine{pos.File, pos.Line})
				}
			}
			if len(starts[p]) > 1 && named == nil {
				return nil, notFoldable("TaskManager %s's log is in more than one file (rotated)", tm.Resource)
			}
		}
	}
	// the sample of the lines the skew is estimated from: none skewed,
	// the fold assumes no skew and checks
	assumeNone := len(reconstruct.EstimateSkew(first)) == 0 && speculate && named == nil
	// What the fold reads of the first read is read: its events, and the
	// skeleton's replays of them, go before the inputs are read again.
	first.LetEventsGo()
	skeleton.Strip(first)
	runtime.GC()
	if assumeNone {
		t := time.Now()
		f, err := fold(first, skeleton, starts, opts, nil, true, matched, firstAt, n)
		if err != nil {
			return nil, err
		}
		skew, err := f.skew.Skew()
		if err == nil && len(skew) == 0 {
			stage("fold, no skew assumed and none found", t)
			return f.finish(stages)
		}
		f.closeSpills()
		// the clocks disagree after all (or the window cannot tell): the
		// fold again, with the skew
		stage("fold, no skew assumed: the clocks disagree", t)
	}
	// The skew, from the inputs read again in the order of their clocks
	// (reconstruct.SkewStream); where a window of that stream cannot tell
	// it, from a read that keeps every line it is estimated from.
	t := time.Now()
	var skew map[int32]reconstruct.Skew
	var lines map[int32][2]flinklog.Pos
	var err error
	if named != nil {
		skew, lines, err = named.skew, named.lines, named.err
	} else {
		skew, lines, err = skewStream(first, opts, matched)
	}
	if errors.Is(err, reconstruct.ErrSkewWindow) {
		stage("skew: "+err.Error(), t)
		t = time.Now()
		skew, lines, err = skewOfRead(first, opts)
	}
	if err != nil {
		if errors.Is(err, reconstruct.ErrNotMergeable) {
			return nil, fmt.Errorf("%w: %w", ErrNotFoldable, err)
		}
		return nil, err
	}
	if err == nil && named == nil {
		stage("skew", t)
	}
	skeleton.Skew = skew
	t = time.Now()
	f, err := fold(first, skeleton, starts, opts, lines, false, matched, firstAt, n)
	if err != nil {
		return nil, err
	}
	stage("fold", t)
	return f.finish(stages)
}

// speculate: FromFirst assumes no skew where its sample shows none (a
// test turns it off, to hold the other way to the same answers).
var speculate = true

// fold reads the inputs again merged with the skeleton's skew (lines: the
// lines each input's skew rests on), replays and folds them; along, it
// estimates the skew from the same stream (a SkewStream; matched: the
// logs hold a matched offer), when it assumed none.
func fold(first *parser.Result, skeleton *reconstruct.Model, starts map[*reconstruct.Process][]inputLine, opts parser.Options, lines map[int32][2]flinklog.Pos, along, matched bool, firstAt map[*reconstruct.Process]flinklog.Time, n Narrow) (_ *folder, err error) {
	f := &folder{first: first, skeleton: skeleton, stories: map[flinklog.ID]*story{},
		procsOf: map[int32][]procStart{}, handling: map[int32]flinklog.ID{}, version: map[int32]flinklog.Version{},
		named: map[fileResource]bool{}, skewAt: map[flinklog.Pos]bool{}, skewPos: map[int32][2]flinklog.Pos{}, skewRef: map[flinklog.Pos]parser.EventRef{},
		jobStateAt: map[int32]flinklog.Pos{}, noSlotShown: map[fileAlloc]bool{}, pin: n.Pin, outside: n.Outside, dropDays: map[int64]bool{}}
	if n.At != nil {
		// the span of the first read's inputs, for now: the lines' own
		// may place a time of day on another day (assemble checks)
		var guess parser.TimeBounds
		for _, in := range first.Inputs {
			if in.DuplicateOf == "" {
				guess.Note(in.First)
			}
		}
		f.at, f.atIn, f.atGuess = n.At, true, n.At(&guess)
	}
	if n.Timelines {
		f.spill = &spill{spillFile: spillFile{dir: n.SpillDir}}
	}
	defer func() {
		if err != nil {
			f.closeSpills()
		}
	}()
	f.prepare(starts)
	if firstAt != nil {
		// (the logs hold slot reports: FromFirstNarrowed)
		if n.Reports {
			f.compared = &spillFile{dir: n.SpillDir}
			for _, ps := range f.procs {
				ps.compared = &comparedLog{out: f.compared}
			}
		}
		f.takeReports(firstAt)
	}
	if n.Charts {
		f.alignedEnd = map[flinklog.TimeKind]int64{}
		f.prepareCharts()
	}
	f.rotated = maps.Clone(skeleton.RotatedNames())
	f.left = map[int32]int{}
	for _, in := range first.Inputs {
		if in.DuplicateOf == "" {
			f.left[in.File] = in.EventCount
		}
	}
	offsets := map[int32]int64{}
	f.offsets = offsets
	for file, sk := range skeleton.Skew {
		offsets[file] = sk.Offset
		at := lines[file]
		f.skewPos[file] = at
		f.skewAt[at[0]], f.skewAt[at[1]] = true, true
	}
	f.noteMidStory()
	if along {
		keys := 0
		for _, in := range first.Inputs {
			keys += in.EventCount / 4
		}
		f.skew = reconstruct.NewSkewStream(keys)
		if !matched {
			f.skew.NoMatchedOffers()
		}
	}
	err = eachMerged(first, opts, offsets, func(ev *flinklog.Event, ref parser.EventRef, rank int32) error {
		if f.skew != nil {
			f.skew.Add(ev, ref)
		}
		return f.take(ev, ref, rank)
	})
	if err != nil {
		return nil, err
	}
	if deferredHeld != nil {
		deferredHeld(f.mostDeferred)
	}
	if len(f.deferred) > 0 {
		f.recheck(true)
	}
	for _, ps := range f.procs {
		if len(ps.held) > 0 {
			return nil, notFoldable("a rotated TaskManager log's lines were held to the end (%s)", f.first.Files.Position(ps.held[0].ev.Pos))
		}
	}
	return f, nil
}

// eachMerged reads first's inputs again, merged with the skew offsets
// (reconstruct.Merge), and hands fn every event in that order; logs that
// cannot be merged so are ErrNotFoldable.
func eachMerged(first *parser.Result, opts parser.Options, offsets map[int32]int64, fn func(*flinklog.Event, parser.EventRef, int32) error) error {
	merged, err := reconstruct.Merge(first, opts, offsets)
	if err != nil {
		if errors.Is(err, reconstruct.ErrNotMergeable) {
			return fmt.Errorf("%w: %w", ErrNotFoldable, err)
		}
		return err
	}
	defer merged.Close()
	for {
		ev, ref, rank, ok, err := merged.Next()
		if err != nil {
			if errors.Is(err, reconstruct.ErrNotMergeable) {
				return fmt.Errorf("%w: %w", ErrNotFoldable, err)
			}
			return err
		}
		if !ok {
			return nil
		}
		if err := fn(ev, ref, rank); err != nil {
			return err
		}
	}
}

// namedSkew is what the read that names the TaskManagers gives: the skew
// estimated in the same read, or why it could not be (err).
type namedSkew struct {
	skew  map[int32]reconstruct.Skew
	lines map[int32][2]flinklog.Pos
	err   error
	// lastTM: each input's last TaskManager line's time
	// (reconstruct.SkeletonWith)
	lastTM map[int32]flinklog.Time
}

// skewAndIdentities reads the inputs again, merged with no skew, and makes
// from them the join of identities first deferred (parser's
// ApplyIdentities: first's inputs and kept events are named as a full
// read names them) and, as skewStream does, the skew (matched: the logs
// hold a matched offer).
func skewAndIdentities(first *parser.Result, opts parser.Options, matched bool) (*namedSkew, error) {
	keys := 0
	for _, in := range first.Inputs {
		keys += in.EventCount / 4
	}
	sk := reconstruct.NewSkewStream(keys)
	if !matched {
		sk.NoMatchedOffers()
	}
	id := newIdentities(first)
	lastTM := map[int32]flinklog.Time{}
	err := eachMerged(first, opts, nil, func(ev *flinklog.Event, ref parser.EventRef, _ int32) error {
		sk.Add(ev, ref)
		id.add(ev)
		if ev.Component == flinklog.ComponentTM {
			lastTM[ev.Pos.File] = ev.Time
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sc, votes, err := id.finish()
	if err != nil {
		return nil, err
	}
	first.ApplyIdentities(sc, votes)
	out := &namedSkew{lastTM: lastTM}
	if out.skew, out.err = sk.Skew(); out.err == nil {
		out.lines = map[int32][2]flinklog.Pos{}
		for file := range out.skew {
			out.lines[file] = sk.Lines(file)
		}
	}
	return out, nil
}

// skewStream estimates the skew from a window of the inputs read again
// (a test makes it refuse, to hold skewOfRead to the same answers).
var skewStream = reconstruct.SkewLinesOfStream

// skewOfRead is the skew estimated as Build estimates it, from a read of
// first's inputs that keeps the lines it is estimated from (every request
// of the read: what SkewStream does not hold).
func skewOfRead(first *parser.Result, opts parser.Options) (map[int32]reconstruct.Skew, map[int32][2]flinklog.Pos, error) {
	kinds := map[flinklog.Kind]bool{}
	for _, k := range reconstruct.SkewKinds {
		kinds[k] = true
	}
	// (the skew does not depend on the TaskManagers' names: a read that
	// must join them does not read everything again for them)
	opts.Keep, opts.DeferIdentities = func(ev *flinklog.Event) bool { return kinds[ev.Kind] }, true
	// every input again, duplicates too, so that each keeps its number
	var paths []string
	for k := range first.Inputs {
		if from := first.ReadFrom(k); !slices.Contains(paths, from) {
			paths = append(paths, from)
		}
	}
	res, err := parser.Read(paths, opts)
	if err != nil {
		return nil, nil, err
	}
	if len(res.Inputs) != len(first.Inputs) {
		return nil, nil, notFoldable("the inputs changed while they were read")
	}
	skew := reconstruct.EstimateSkew(res)
	lines := map[int32][2]flinklog.Pos{}
	for file, sk := range skew {
		lines[file] = [2]flinklog.Pos{res.Pos(sk.Because), res.Pos(sk.Relative)}
	}
	return skew, lines, nil
}

// folder is Build's state.
type folder struct {
	first    *parser.Result
	skeleton *reconstruct.Model
	procs    []*procState
	procsOf  map[int32][]procStart  // by input, in line order
	stories  map[flinklog.ID]*story // open and kept
	dropped  idSet
	seq      int64 // the events taken
	folded   int
	handling map[int32]flinklog.ID // the slot request each TaskManager input is handling
	version  map[int32]flinklog.Version
	jmGiven  bool
	// midStory: the aligned times, by kind and in order, at which the
	// TaskManager logs that begin mid-story (a rotated log's newer file)
	// begin: a slot held before one may be freed there with no line
	// before
	midStory map[flinklog.TimeKind][]int64
	named    map[fileResource]bool     // the TaskManagers each input's RM/JM lines named, by a line kept
	skewAt   map[flinklog.Pos]bool     // the lines the skew's estimate rests on
	rotated  map[int32]string          // reconstruct's RotatedNames, until each input's first banner
	left     map[int32]int             // each input's events not folded yet
	holding  int                       // the events held (procState.held)
	skewPos  map[int32][2]flinklog.Pos // each input's (Skew.Because, Skew.Relative)
	// the events of no story kept to the end, packed (a session cluster
	// on 1.13+ logs a requirements line a job, which the rules walk
	// whole: held as events, they were most of what a fold held), and
	// where each one is; skewRef: the refs of the lines the skew rests on
	pack     parser.EventPack
	packed   []keptEvent
	skewRef  map[flinklog.Pos]parser.EventRef
	unlogged *reconstruct.UnloggedCounter
	skew     *reconstruct.SkewStream // the skew estimated along, when none was assumed
	// each input's last job-state line, and the allocations each input's
	// lines showed a task find no slot in (repeatsNoSlot)
	jobStateAt  map[int32]flinklog.Pos
	noSlotShown map[fileAlloc]bool
	// pin: the stories kept whatever they close as (FromFirstPinned);
	// times: the bounds of every event's time, which the lean read
	// carries (parser.Result.SetTimeBounds)
	pin   Pin
	times parser.TimeBounds
	// outside, deferred, dropDays: Narrow.Outside, the stories kept for
	// now, and the first days a drop of one rested on (recheck)
	outside      Outside
	deferred     []*story
	dropDays     map[int64]bool
	mostDeferred int
	// at, atIn, atGuess: Narrow.At, and the time it placed in the first
	// read's span (checked against every line's at the end)
	at      func(bounds *parser.TimeBounds) flinklog.Time
	atIn    bool
	atGuess flinklog.Time
	// spill: the timelines of the stories let go (Narrow.Timelines)
	spill *spill
	// compared: every slot report compared (Narrow.Reports; compared.go)
	compared *spillFile
	// the charts (Narrow.Charts): each TaskManager's, what settling a
	// period found it cannot take, the periods whose index the dynamic
	// counter may give at the end, the latest aligned time of every
	// line by clock, and each input's skew
	tmCharts    []*tmCharts
	chartsLost  string
	pendingBars []pendingBar
	alignedEnd  map[flinklog.TimeKind]int64
	offsets     map[int32]int64
	// reports: the slot reports, where the logs hold some (reports.go)
	reports *reportState
}

type fileAlloc struct {
	file  int32
	alloc flinklog.ID
}

type fileResource struct {
	file     int32
	resource string
}

// prepare sets up a replay of each of the skeleton's processes, which
// start at the lines starts says (in each input it logged in).
func (f *folder) prepare(starts map[*reconstruct.Process][]inputLine) {
	f.unlogged = reconstruct.NewUnloggedCounter(f.skeleton)
	for _, in := range f.first.Inputs {
		f.version[in.File] = in.VersionMin
		f.jmGiven = f.jmGiven || in.DuplicateOf == "" && slices.Contains(in.Components, flinklog.ComponentJM)
	}
	for _, tm := range f.skeleton.TaskManagers {
		for _, p := range tm.Processes {
			ps := &procState{p: p, stream: reconstruct.NewReplayStream(p.Config), at: -1,
				active: map[*story]*[2]int64{}, needs: map[*story]*slotNeed{}, no: len(f.procs), resource: tm.Resource}
			if f.spill != nil {
				ps.open = map[int]*heldRec{}
			}
			if f.atIn {
				ps.atStream = reconstruct.NewReplayStream(p.Config)
			}
			f.procs = append(f.procs, ps)
			for _, st := range starts[p] {
				ps.inputs = append(ps.inputs, st.file)
				f.procsOf[st.file] = append(f.procsOf[st.file], procStart{st.line, ps})
			}
		}
	}
	for _, list := range f.procsOf {
		slices.SortFunc(list, func(a, b procStart) int { return int(a.line - b.line) })
	}
}

// heldEvent is an event of the merged stream that waits to be folded.
type heldEvent struct {
	ev   *flinklog.Event
	ref  parser.EventRef
	rank int32
}

// inputLine is where a process's lines begin in one input.
type inputLine struct {
	file int32
	line int64
}

// procStart is a process's first line in an input.
type procStart struct {
	line int64
	ps   *procState
}

// procAt is the process a TaskManager line of input file at line belongs to.
func (f *folder) procAt(file int32, line int64) *procState {
	list := f.procsOf[file]
	k, _ := slices.BinarySearchFunc(list, line, func(st procStart, l int64) int {
		if st.line <= l {
			return -1
		}
		return 1
	})
	if k == 0 {
		return nil
	}
	return list[k-1].ps
}

// take is one event of the merged stream.
func (f *folder) take(ev *flinklog.Event, ref parser.EventRef, rank int32) error {
	held, err := f.takeNow(ev, ref, rank)
	if err != nil || held {
		return err
	}
	return f.taken(ev.Pos.File)
}

// taken counts an event of input file as folded; after its last, the
// processes whose lines were held for it go on.
func (f *folder) taken(file int32) error {
	if f.left[file]--; f.left[file] > 0 {
		return nil
	}
	for _, ps := range f.procs {
		// each held line again, in order: those that must wait still (a
		// file of a third piece) are held again
		if len(ps.held) == 0 {
			continue
		}
		held := ps.held
		ps.held = nil
		f.holding -= len(held)
		for _, h := range held {
			if err := f.take(h.ev, h.ref, h.rank); err != nil {
				return err
			}
		}
	}
	return nil
}

// waits reports whether ps's lines from input file must wait: an input it
// logged in before that one has events still to come.
func (f *folder) waits(ps *procState, file int32) bool {
	for _, in := range ps.inputs {
		if in == file {
			return false
		}
		if f.left[in] > 0 {
			return true
		}
	}
	return false
}

// takeNow folds the event, or holds it (held) for its process's earlier
// input to end.
func (f *folder) takeNow(ev *flinklog.Event, ref parser.EventRef, rank int32) (held bool, err error) {
	file := ev.Pos.File
	if name, ok := f.rotated[file]; ok {
		// a rotated log's newer file, up to its first banner: the older
		// file's process (reconstruct's RotatedNames)
		if ev.Kind == flinklog.KindMetaVersion || ev.Kind == flinklog.KindMetaTMID {
			delete(f.rotated, file)
		} else if ev.Component == flinklog.ComponentTM {
			ev.Resource = name
		}
	}
	var ps *procState
	if ev.Component == flinklog.ComponentTM {
		if ps = f.procAt(file, ev.Pos.Line); ps == nil {
			return false, notFoldable("a TaskManager line outside every process (%s)", f.first.Files.Position(ev.Pos))
		}
		if f.waits(ps, file) {
			// a rotated log's newer file, merged before the older one has
			// ended (their skews differ): held until it has, for the
			// process's lines to come input after input
			ps.held = append(ps.held, heldEvent{ev, ref, rank})
			f.holding++
			return true, nil
		}
	}
	f.seq++
	seq := f.seq
	f.times.Note(ev.Time)
	if f.reports != nil && ev.Time.Kind != flinklog.TimeNone {
		f.reports.noteTime(ev.Time.Kind, ev.Time.N+f.offsets[file])
	}
	if f.alignedEnd != nil && ev.Time.Kind != flinklog.TimeNone {
		if t, seen := f.alignedEnd[ev.Time.Kind]; !seen || ev.Time.N+f.offsets[file] > t {
			f.alignedEnd[ev.Time.Kind] = ev.Time.N + f.offsets[file]
		}
	}
	if ps != nil {
		if ps.at < 0 || ps.inputs[ps.at] != file {
			// a process's lines come input after input (a rotated log's
			// files), as the batch replays them
			k := slices.Index(ps.inputs, file)
			if k < ps.at {
				return false, notFoldable("a rotated TaskManager log's files overlap in time (%s)", f.first.Files.Position(ev.Pos))
			}
			ps.at = k
		}
		if f.atIn {
			f.replayUpTo(ps, ref, ev)
		}
		ps.stream.Add(ref, ev)
		if f.reports != nil {
			if err := f.reportsFailed(ps); err != nil {
				return false, err
			}
		}
		var line reconstruct.PeriodLine
		if ps.tmc != nil {
			line = f.chartLine(ps, ev)
		}
		if err := f.replayed(ps, seq, ref, ev.Pos, rank, line); err != nil {
			return false, err
		}
	}
	f.unlogged.Note(ev)
	if seq%ownEvery == 0 {
		f.own()
		if len(f.deferred) > 0 {
			f.recheck(false)
		}
		if f.reports != nil && len(f.reports.waitDrop) > 0 {
			f.retryDrops()
		}
	}
	k := keptEvent{ref: ref, rank: rank, ev: ev, seq: seq}
	if f.reports != nil {
		if ps != nil {
			ps.noteRecent(k)
		} else if ev.Kind == flinklog.KindRMSlotReport {
			if err := f.report(ev, k); err != nil {
				return false, err
			}
		}
	}
	var named [2]flinklog.ID
	ids := f.names(ev, &named)
	if f.repeatsNoSlot(ev) {
		ids = nil
	}
	for _, id := range ids {
		if f.outside != nil {
			if s := f.stories[id]; s != nil && s.deferred {
				// (as of a story dropped: the rules had its windows let go)
				return false, notFoldable("%s is named again after its story closed healthy (%s)", id, f.first.Files.Position(ev.Pos))
			}
		}
		if f.dropped.has(id) {
			return false, notFoldable("%s is named again after its story closed healthy (%s)", id, f.first.Files.Position(ev.Pos))
		}
	}
	for _, id := range ids {
		s := f.story(id)
		if s.began.Kind == flinklog.TimeNone && ev.Time.Kind != flinklog.TimeNone {
			s.began = flinklog.Time{Kind: ev.Time.Kind, N: ev.Time.N + f.offsets[file]}
		}
		if f.pin != nil && !s.pinned && f.pin(id, ev) {
			s.pinned = true
		}
		if s.owned {
			s.evs = append(s.evs, k.owned())
		} else {
			s.evs = append(s.evs, k)
		}
		if ev.Alloc == id && ev.Job.IsSet() && (!s.job.IsSet() || ref < s.jobRef) {
			s.job, s.jobRef = ev.Job, ref
		}
		// a story's window in a process runs from its first line there to
		// its last (those that name it as the allocation, as
		// Model.Reduced reads them)
		if ps != nil && id == ev.Alloc {
			if w := ps.active[s]; w != nil {
				w[1] = seq
			} else {
				ps.active[s] = &[2]int64{seq, seq}
				s.touch(ps)
			}
		}
		if !s.closed {
			f.observe(s, ev)
			if s.closed {
				s.closeRank = rank
			}
		} else if id == ev.Alloc {
			// (one waiting to be let go: its steps after the close are
			// not looked at)
			s.why = first(s.why, "named again after its close")
		}
	}
	if ps != nil {
		if ps.first == nil {
			first := k // (not &k: every event's k would be made on the heap)
			ps.first = &first
		}
		ps.last, ps.hasLast = k, true
	}
	if f.skewAt[ev.Pos] {
		// a line the skew rests on (Skew.Because, Skew.Relative), whatever
		// becomes of its story
		f.retain(k)
		f.skewRef[ev.Pos] = ref
	}
	if len(ids) > 0 {
		return false, nil
	}
	// an event of no allocation
	switch {
	case ps != nil && ev.Kind == flinklog.KindTMStopping:
		ps.retained = append(ps.retained, k.owned())
	case ps != nil:
		if len(ps.active) == 0 || !reconstruct.WindowKinds[ev.Kind] || !ps.wants(ev.Kind) {
			// no story can hold it in its window, or the rules look for
			// none of its kind there, or no slot's life may ask for it
			ps.dropEvent(ref)
		} else {
			ps.window = append(ps.window, k)
		}
		if isGlobal[ev.Kind] {
			f.retain(k)
		}
	case isGlobal[ev.Kind] && !f.skewAt[ev.Pos]:
		f.retain(k)
	case (ev.Component == flinklog.ComponentRM || ev.Component == flinklog.ComponentJM) && ev.Resource != "":
		// the first line of an input that names a TaskManager: the rules
		// tell which cluster an input is of by the TaskManagers it names
		key := fileResource{file, strings.ToLower(ev.Resource)}
		if !f.named[key] {
			f.named[key] = true
			f.retain(k)
		}
	}
	return false, nil
}

// repeatsNoSlot: ev is a job-state line's "No task slot allocated …"
// cause, and a line of its input showed that failure before: Build lists
// a failure once per input and allocation unless only the job's line
// shows it (its jobState), and so does the fold. The job's event comes
// first of its record's (flinklog.Classify emits a record's own message
// before what its exception text holds), so one position an input is
// enough to tell.
func (f *folder) repeatsNoSlot(ev *flinklog.Event) bool {
	switch {
	case ev.Kind == flinklog.KindJMJobState:
		f.jobStateAt[ev.Pos.File] = ev.Pos
	case ev.Kind == flinklog.KindTaskNoSlot && ev.Alloc.IsSet():
		key := fileAlloc{ev.Pos.File, ev.Alloc}
		if at, ok := f.jobStateAt[ev.Pos.File]; ok && at == ev.Pos && f.noSlotShown[key] {
			return true
		}
		f.noSlotShown[key] = true
	}
	return false
}

// retain keeps k's event to the end, packed.
func (f *folder) retain(k keptEvent) {
	f.pack.Add(k.ev)
	k.ev, k.pack = nil, int32(len(f.packed))
	f.packed = append(f.packed, k)
}

// isGlobal: globalKinds as a set.
var isGlobal = func() map[flinklog.Kind]bool {
	m := map[flinklog.Kind]bool{}
	for _, k := range globalKinds {
		m[k] = true
	}
	return m
}()

// names returns the allocations whose stories ev belongs to, as the batch
// model gathers them (reconstruct's collectAllocations), in buf (the
// caller's: no slice made an event).
func (f *folder) names(ev *flinklog.Event, buf *[2]flinklog.ID) []flinklog.ID {
	if !ev.Alloc.IsSet() && !ev.Other.IsSet() {
		return nil
	}
	file := ev.Pos.File
	if ev.Kind == flinklog.KindTMSlotRequest {
		f.handling[file] = ev.Alloc
	}
	if !ev.Alloc.IsSet() {
		if ev.Component == flinklog.ComponentTM && (ev.Kind == flinklog.KindTMAllocRefused || ev.Kind == flinklog.KindTMSlotOccupied) {
			if req := f.handling[file]; req.IsSet() {
				buf[0], buf[1] = req, ev.Other
				return buf[:2]
			}
			buf[0] = ev.Other
			return buf[:1]
		}
		return nil
	}
	buf[0] = ev.Alloc
	return buf[:1]
}

// touch notes that the story has steps or lines in ps.
func (s *story) touch(ps *procState) {
	if !slices.Contains(s.procs, ps) {
		s.procs = append(s.procs, ps)
	}
}

// story returns id's story, begun if it was not.
func (f *folder) story(id flinklog.ID) *story {
	s := f.stories[id]
	if s == nil {
		s = &story{id: id}
		f.stories[id] = s
	}
	return s
}

// replayed reads the steps the last event made in ps's replay into the
// stories they are about.
func (f *folder) replayed(ps *procState, seq int64, ref parser.EventRef, pos flinklog.Pos, rank int32, line reconstruct.PeriodLine) error {
	if c := ps.stream.Conflicts(); len(c) > ps.conflicts {
		for _, cf := range c[ps.conflicts:] {
			if !ps.stream.Live(cf.Key) {
				return notFoldable("an index conflict on a slot whose story closed healthy (%s)", f.first.Files.Position(cf.Pos))
			}
		}
		ps.conflicts = len(c)
	}
	steps, allocOf := ps.stream.Added()
	sem := ps.p.Runs
	for _, st := range steps {
		id := allocOf(st)
		if f.spill != nil && st.Event != ref {
			return notFoldable("a replay step of another line than the one replayed (%s)", f.first.Files.Position(pos))
		}
		if !id.IsSet() {
			if f.spill != nil {
				f.noteHeld(ps, st, nil, pos, rank)
			}
			if ps.tmc != nil {
				f.chartStep(ps, st, id, nil, line)
			}
			continue
		}
		if f.dropped.has(id) {
			return notFoldable("a replay step of %s after its story closed healthy", id)
		}
		s := f.story(id)
		if f.spill != nil {
			f.noteHeld(ps, st, s, pos, rank)
		}
		if ps.tmc != nil {
			f.chartStep(ps, st, id, s, line)
		}
		s.touch(ps)
		ps.note(s, st, seq)
		if s.closed {
			continue
		}
		if !st.Skipped[0] && !st.Skipped[1] && st.Outcomes[0] == st.Outcomes[1] &&
			(st.Outcomes[0] == reconstruct.Accepted || st.Outcomes[0] == reconstruct.Idempotent) {
		} else {
			s.unclean = true
		}
		switch {
		case st.Op == reconstruct.OpPrior || st.Op == reconstruct.OpAllocate && !st.Skipped[sem] &&
			(st.Outcomes[sem] == reconstruct.Accepted || st.Outcomes[sem] == reconstruct.Overwritten):
			if s.slots == nil {
				s.slots = map[slotOf]bool{}
			}
			s.slots[slotOf{ps, int(st.Slot[sem])}] = false
			s.prior = s.prior || st.Op == reconstruct.OpPrior
		case st.Op == reconstruct.OpFree && !st.Skipped[sem] && st.Outcomes[sem] == reconstruct.Accepted:
			if freed, ok := s.slots[slotOf{ps, int(st.Slot[sem])}]; ok && !freed {
				s.slots[slotOf{ps, int(st.Slot[sem])}] = true
			}
		}
	}
	return nil
}

// observe is planOne's walk over a story's events, one event at a time,
// up to its close; at the close the story is decided, and dropped when
// healthy.
func (f *folder) observe(s *story, ev *flinklog.Event) {
	closeAt := ev.Time.N + f.offsets[ev.Pos.File]
	s.note(ev.Kind, ev.Component, f.version[ev.Pos.File])
	if !s.closes(f.jmGiven) {
		return
	}
	s.closed = true
	if !s.sawTM && f.spansMidStory(s, ev.Time.Kind, closeAt) {
		// a TaskManager log that begins mid-story began while it was open
		// and has not named it: its lines may come after the close in the
		// merged order (a slot held before a rotated log's newer file,
		// its free after the JobManager's release on a clock behind). (A
		// log there all along would have named it long before its close:
		// a story it never names is another TaskManager's.)
		s.why = first(s.why, "its TaskManager's log had not named it by the close")
		return
	}
	if f.holding > 0 {
		// a rotated log's lines are held (folder.waits): the replay steps
		// its story may still have there come after its close
		s.why = first(s.why, "it closed while a rotated log's lines were held")
		return
	}
	held := 0
	for _, freed := range s.slots {
		held++
		if !freed {
			s.why = first(s.why, "its slot was not freed by the close")
		}
	}
	if s.prior {
		s.why = first(s.why, "held before the log began")
	}
	switch {
	case s.sawTM && held != 1:
		s.why = first(s.why, "it held other than one slot")
	case s.sawTM && !s.activated:
		s.why = first(s.why, "its slot was never activated")
	}
	if s.unclean {
		s.why = first(s.why, "a replay step left the tables disagreeing or unsatisfied")
	}
	if s.pinned {
		s.why = first(s.why, "asked for")
	}
	if s.why != "" {
		return // kept
	}
	if f.reports != nil {
		f.waitToDrop(s)
		return
	}
	if f.canDrop(s) {
		f.dropOrDefer(s)
	} // (else its replay keeps it)
}

// noteMidStory notes when each TaskManager log that begins mid-story
// begins, on the aligned clock (folder.midStory): the first process of an
// input that does not begin with its start begins with the input.
func (f *folder) noteMidStory() {
	f.midStory = map[flinklog.TimeKind][]int64{}
	first := map[int32]flinklog.Time{}
	for _, in := range f.first.Inputs {
		first[in.File] = in.First
	}
	for _, ps := range f.procs {
		if ps.p.Config.FromStart || len(ps.inputs) == 0 {
			continue
		}
		t := first[ps.inputs[0]]
		if t.Kind == flinklog.TimeNone {
			continue
		}
		f.midStory[t.Kind] = append(f.midStory[t.Kind], t.N+f.offsets[ps.inputs[0]])
	}
	for _, starts := range f.midStory {
		slices.Sort(starts)
	}
}

// spansMidStory reports whether story s, closing at aligned time closeAt
// (of kind), was open when a TaskManager log that begins mid-story began,
// or closes up to closeLead before one begins.
func (f *folder) spansMidStory(s *story, kind flinklog.TimeKind, closeAt int64) bool {
	starts := f.midStory[s.began.Kind]
	if len(starts) == 0 || kind != s.began.Kind {
		return false
	}
	i, _ := slices.BinarySearch(starts, s.began.N+1)
	return i < len(starts) && starts[i] <= closeAt+closeLead
}

// closeLead is how far after a story's close, on the aligned clock, a
// TaskManager log that begins mid-story may begin and still hold its free
// (the merged order puts a line of a clock behind after the JobManager's
// release).
const closeLead = int64(10 * time.Second)

// dropOrDefer lets go of a story closed healthy that its replays let go:
// for now only for the rules, where the output may still show it
// (Narrow.Outside).
func (f *folder) dropOrDefer(s *story) {
	if f.outside != nil && !f.outside(&f.times, false)(storyTimes(s)) {
		// its lines may fall in the window the output shows: dropped for
		// the rules (its windows), kept for the output (its events and
		// replay steps) for now, and asked again as the stream goes on
		// (recheck)
		for _, ps := range s.procs {
			delete(ps.active, s)
			delete(ps.needs, s)
			f.release(ps)
		}
		s.deferred, s.times = true, storyTimes(s)
		f.deferred = append(f.deferred, s)
		f.mostDeferred = max(f.mostDeferred, len(f.deferred))
		return
	}
	f.drop(s)
}

// canDrop reports whether the replays of s's processes let it go.
func (f *folder) canDrop(s *story) bool {
	for _, ps := range s.procs {
		if !ps.stream.CanDrop(s.id) || ps.atStream != nil && !ps.atStream.CanDrop(s.id) {
			return false
		}
	}
	return true
}

// drop lets go of a story closed healthy: its replay steps, its windows,
// its events; its AllocationID is remembered by a fingerprint.
func (f *folder) drop(s *story) {
	if f.spill != nil {
		f.spillStory(s)
	}
	if f.alignedEnd != nil {
		f.settleBars(s)
	}
	for _, ps := range s.procs {
		ps.stream.Drop(s.id)
		if ps.atStream != nil {
			ps.atStream.Drop(s.id)
		}
		if !s.deferred {
			delete(ps.active, s)
			delete(ps.needs, s)
			f.release(ps)
		}
	}
	delete(f.stories, s.id)
	f.dropped.add(s.id)
	f.folded++
}

// recheck asks again of the stories kept for now (Narrow.Outside), in the
// order they closed, whether they may fall in the window; one that cannot
// any more is dropped. It stops at the first that may (those after it
// closed later: their lines are later, mostly; one that is not waits for
// the next time). A drop rests on the logs' first day so far (a time of
// day is placed on it): it is noted, for the end to check.
func (f *folder) recheck(final bool) {
	outside := f.outside(&f.times, final)
	n, i := 0, 0
	for ; i < len(f.deferred); i++ {
		s := f.deferred[i]
		if !outside(s.times) {
			if !final {
				break
			}
		} else if f.canDrop(s) {
			f.drop(s)
			if first, ok := f.times.FirstDated(); ok {
				f.dropDays[first.N-first.N%int64(24*time.Hour)] = true
			}
			continue
		}
		f.deferred[n] = s
		n++
	}
	n += copy(f.deferred[n:], f.deferred[i:])
	clear(f.deferred[n:])
	f.deferred = f.deferred[:n]
}

// storyTimes are the times of a story's lines.
func storyTimes(s *story) []flinklog.Time {
	out := make([]flinklog.Time, len(s.evs))
	for i, k := range s.evs {
		out[i] = k.ev.Time
	}
	return out
}

// release drops the window's events that came before every line a story
// may still need (slotNeed): no rule asks a kept story for them.
func (f *folder) release(ps *procState) {
	if len(ps.window) == 0 {
		return
	}
	from := int64(-1)
	for _, n := range ps.needs {
		if at := n.from(); at >= 0 && (from < 0 || at < from) {
			from = at
		}
	}
	n := 0
	for n < len(ps.window) && (from < 0 || ps.window[n].seq < from) {
		if k := ps.window[n]; ps.inSpan(k.seq) {
			ps.spanned = append(ps.spanned, k.owned())
		} else {
			ps.dropEvent(k.ref)
		}
		n++
	}
	if n > 0 {
		ps.window = slices.Delete(ps.window, 0, n)
		ps.ownedTo = max(0, ps.ownedTo-n)
	}
}

// deferredHeld, when set (a test), is told the most stories a fold kept
// for now (Narrow.Outside) at once.
var deferredHeld func(n int)

// windowsHeld, when set (a test), is told how many lines of no allocation
// the processes' windows held when the fold ended.
var windowsHeld func(n int)

// inSpan reports whether ref lies in the life of a slot freed without
// being activated.
func (ps *procState) inSpan(seq int64) bool {
	for _, sp := range ps.spans {
		if sp[0] <= seq && seq <= sp[1] {
			return true
		}
	}
	return false
}

// finish is assemble, letting go of the spills when it fails.
func (f *folder) finish(stages []reconstruct.Stage) (*reconstruct.Model, error) {
	m, err := f.assemble(stages)
	if err != nil {
		f.closeSpills()
	}
	return m, err
}

// closeSpills lets go of what the fold wrote out for the output.
func (f *folder) closeSpills() {
	if f.spill != nil {
		f.spill.Close()
	}
	if f.compared != nil {
		f.compared.Close()
	}
}

// assemble ends the fold: the events kept, numbered as a read of them
// numbers them, and the model of them.
func (f *folder) assemble(stages []reconstruct.Stage) (*reconstruct.Model, error) {
	if first, ok := f.times.FirstDated(); ok && len(f.dropDays) > 0 {
		if day := first.N - first.N%int64(24*time.Hour); len(f.dropDays) > 1 || !f.dropDays[day] {
			return nil, notFoldable("a story was let go while the logs' first day was another")
		}
	}
	if f.atIn && f.at(&f.times) != f.atGuess {
		return nil, notFoldable("the time of the table fell on another day than the first read placed it on")
	}
	if windowsHeld != nil {
		n := 0
		for _, ps := range f.procs {
			n += len(ps.window) + len(ps.spanned)
		}
		windowsHeld(n)
	}
	f.pack.Seal()
	var scratch flinklog.Event
	// eventOf is k's event (a packed one written out into scratch, until
	// the next call)
	eventOf := func(k keptEvent) *flinklog.Event {
		if k.ev != nil {
			return k.ev
		}
		return f.pack.Read(int(k.pack), &scratch)
	}
	all := f.packed
	f.packed = nil
	for _, s := range f.stories {
		all = append(all, s.evs...)
	}
	// (a process's first and last lines are kept, whatever story holds
	// them, as Model.Reduced keeps them: the rules read where a
	// TaskManager's log begins and ends — the first line of a log cut or
	// rotated is often a story's)
	for _, ps := range f.procs {
		if ps.first != nil {
			all = append(all, *ps.first)
		}
		if ps.hasLast {
			all = append(all, ps.last)
		}
		all = append(all, ps.retained...)
		for _, k := range slices.Concat(ps.spanned, ps.window) {
			inside := false
			for _, w := range ps.active {
				if w[0] <= k.seq && k.seq <= w[1] {
					inside = true
					break
				}
			}
			if inside {
				all = append(all, k)
			} else {
				ps.dropEvent(k.ref)
			}
		}
	}
	// each process's replay ends (the slot reports still waiting are
	// compared: the lines their checks name are held)
	replays := make([]*reconstruct.Replay, len(f.procs))
	for i, ps := range f.procs {
		replays[i] = ps.stream.Finish()
		if f.reports != nil {
			if err := f.reportsFailed(ps); err != nil {
				return nil, err
			}
		}
	}
	all = append(all, f.heldReportLines()...)
	slices.SortFunc(all, func(a, b keptEvent) int { return int(a.ref - b.ref) })
	all = slices.CompactFunc(all, func(a, b keptEvent) bool { return a.ref == b.ref })
	refs := make([]parser.EventRef, len(all))
	rank := make([]int32, len(all))
	var kept parser.EventPack
	var keptAt map[flinklog.Pos]bool // (for the charts)
	if f.alignedEnd != nil {
		keptAt = make(map[flinklog.Pos]bool, len(all))
	}
	for i, k := range all {
		refs[i], rank[i] = k.ref, k.rank
		ev := eventOf(k)
		kept.Add(ev)
		if keptAt != nil {
			keptAt[ev.Pos] = true
		}
	}
	lean := f.first.WithPack(&kept)
	lean.SetTimeBounds(f.times)
	missing := parser.EventRef(-1)
	to := func(old parser.EventRef) parser.EventRef {
		i, ok := slices.BinarySearch(refs, old)
		if !ok {
			missing = old
			return -1
		}
		return parser.EventRef(i)
	}
	// each process: its events kept, and its replay
	inProc := map[parser.EventRef]*procState{}
	for i, ps := range f.procs {
		ps.p.Replay = replays[i]
		ps.p.Replay.Renumber(to)
		if missing >= 0 {
			return nil, notFoldable("a replay step's line was not kept (internal: %d)", missing)
		}
		if refs, probes := ps.stream.KeptReports(); refs != nil {
			kept := make(map[int]parser.EventRef, len(refs))
			for k, ref := range refs {
				kept[k] = to(ref)
			}
			if missing >= 0 {
				return nil, notFoldable("a slot report a check names was not kept (internal: %d)", missing)
			}
			ps.p.SetReports(ps.stream.ReportCount(), kept, probes)
		}
		if f.atIn {
			if ps.atStream != nil {
				// no line later than At: the prefix is the whole process
				ps.atReplay, ps.atStream = ps.atStream.Finish(), nil
			}
			ps.atReplay.Renumber(to)
			if missing >= 0 {
				return nil, notFoldable("a line of the table at %s was not kept (%d)", f.atGuess, missing)
			}
			ps.p.SetPrefix(f.atGuess, ps.atReplay, ps.atComparable)
		}
		ps.p.Events = ps.p.Events[:0:0]
		if ps.first != nil {
			inProc[ps.first.ref] = ps
		}
		if ps.hasLast {
			inProc[ps.last.ref] = ps
		}
		for _, k := range ps.retained {
			inProc[k.ref] = ps
		}
	}
	for i, k := range all {
		ev := eventOf(k)
		if ev.Component != flinklog.ComponentTM {
			continue
		}
		ps := f.procAt(ev.Pos.File, ev.Pos.Line)
		if ps == nil {
			continue
		}
		// its own events of the stories kept, those inside their windows,
		// its first, last and stopping lines; not the lines of another
		// kind the rules read whole
		if inProc[k.ref] == ps || ev.Alloc.IsSet() && f.stories[ev.Alloc] != nil || inWindow(ps, k.seq) {
			ps.p.Events = append(ps.p.Events, parser.EventRef(i))
		}
	}
	for _, ps := range f.procs {
		if len(ps.inputs) > 1 {
			// in the process's order, input after input (Build's), not
			// the read's
			slices.SortStableFunc(ps.p.Events, func(a, b parser.EventRef) int { return cmp.Compare(all[a].seq, all[b].seq) })
		}
	}
	allocs := make([]*reconstruct.Allocation, 0, len(f.stories))
	for _, s := range f.stories {
		a := &reconstruct.Allocation{ID: s.id, Events: make([]parser.EventRef, len(s.evs))}
		for i, k := range s.evs {
			a.Events[i] = to(k.ref)
		}
		// in the merged order (a rotated log's lines held for their
		// process came later)
		slices.SortStableFunc(a.Events, func(x, y parser.EventRef) int { return cmp.Compare(rank[x], rank[y]) })
		// Job and Resource as the batch model reads them: in line order
		byRef := slices.Clone(s.evs)
		slices.SortFunc(byRef, func(x, y keptEvent) int { return int(x.ref - y.ref) })
		for _, k := range byRef {
			if ev := k.ev; ev.Alloc == s.id {
				a.Learn(ev.Kind, ev.Component, ev.Job, ev.Resource)
			}
		}
		allocs = append(allocs, a)
	}
	slices.SortFunc(allocs, func(x, y *reconstruct.Allocation) int { return int(rank[x.Events[0]] - rank[y.Events[0]]) })
	skew := map[int32]reconstruct.Skew{}
	for file, sk := range f.skeleton.Skew {
		// (the lines it rests on are kept: skewAt)
		for _, at := range []struct {
			ref *parser.EventRef
			pos flinklog.Pos
		}{{&sk.Because, f.skewPos[file][0]}, {&sk.Relative, f.skewPos[file][1]}} {
			old, ok := f.skewRef[at.pos]
			if !ok {
				return nil, notFoldable("a line the skew rests on was not kept (internal: %s)", f.first.Files.Position(at.pos))
			}
			*at.ref = to(old)
		}
		skew[file] = sk
	}
	if missing >= 0 {
		return nil, notFoldable("a line the model names was not kept (internal: %d)", missing)
	}
	m := reconstruct.Assemble(lean, rank, skew, f.skeleton.TaskManagers, allocs, f.folded, f.unlogged.List())
	if f.spill != nil {
		fates := make([]counterFate, len(f.procs))
		for i, ps := range f.procs {
			witness, applied := ps.p.Replay.DynamicCounter()
			fates[i] = counterFate{applied: applied, witness: witness, slots: ps.stream.Slots()}
		}
		if err := f.spill.seal(fates); err != nil {
			return nil, err
		}
		m.FoldedTimelines = f.spill
	}
	if f.compared != nil {
		for _, ps := range f.procs {
			ps.compared.flush()
			ps.p.SetCompared(ps.compared)
		}
		if err := f.compared.finish(); err != nil {
			return nil, notFoldable("the slot reports compared could not be kept: %v", err)
		}
		m.Compared = f.compared
	}
	if f.alignedEnd != nil {
		charts, err := f.endCharts(to, keptAt)
		if err != nil {
			return nil, err
		}
		m.Charts, m.AlignedEnd = charts, f.alignedEnd
	}
	m.SetRotatedNames(f.skeleton.RotatedNames())
	m.Stages = stages
	return m, nil
}

// replayUpTo hands ev to ps's replay up to Narrow.At (ReplayAt's prefix:
// every event before the first one later than At, in log order). At that
// one the replay ends, and the stories it holds open are kept whatever
// they close as: their slots are in the table at At, which names their
// lines.
func (f *folder) replayUpTo(ps *procState, ref parser.EventRef, ev *flinklog.Event) {
	at := f.atGuess
	if ev.Time.Kind == at.Kind {
		ps.atComparable = true
	}
	if ps.atStream == nil {
		return
	}
	if ev.Time.Kind != at.Kind || ev.Time.N <= at.N {
		ps.atStream.Add(ref, ev)
		return
	}
	ps.atReplay, ps.atStream = ps.atStream.Finish(), nil
	for _, s := range f.stories {
		if !s.closed && slices.Contains(s.procs, ps) {
			s.pinned = true
		}
	}
}

// dropEvent lets go of an event of no allocation in ps's replays.
func (ps *procState) dropEvent(ref parser.EventRef) {
	ps.stream.DropEvent(ref)
	if ps.atStream != nil {
		ps.atStream.DropEvent(ref)
	}
}

// inWindow reports whether ref lies inside the window of a story ps keeps.
func inWindow(ps *procState, seq int64) bool {
	for _, w := range ps.active {
		if w[0] <= seq && seq <= w[1] {
			return true
		}
	}
	return false
}

// AllEvents yields every event of the inputs a fold's model m was folded
// from (first, read with opts), as the batch model's read holds them, in
// its order, with their texts: each input read again (parser's AllAgain),
// its events named as the model named the read's (Model.NameRotated). For
// an output that lists every event (the Timesketch export), which the
// model, holding what the fold kept, does not.
func AllEvents(m *reconstruct.Model, first *parser.Result, opts parser.Options) func(yield func(*flinklog.Event) error) error {
	return func(yield func(*flinklog.Event) error) error {
		name := m.NameRotated()
		return first.AllAgain(opts, func(ev *flinklog.Event) error {
			name(ev)
			return yield(ev)
		})
	}
}
