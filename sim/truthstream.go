package sim

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The truth lists every allocation, sorted by AllocationID. A month of a
// session cluster makes millions: held as TruthAllocations they would be
// most of the run's memory. So the truth keeps them as small records in
// batches; with Config.CreateTruth a full batch is sorted and spilled to a
// scratch file, and at the end the batches are merged into truth.json as
// it is written. The file is the same bytes json.MarshalIndent gives the
// whole Truth, spilled or not.

// allocRec is one allocation of an AllocationID on an index.
type allocRec struct {
	alloc, job string
	res        uint32 // index into allocStore.resources
	index      int32
	seq        uint64 // the order the allocations happened in
}

func (a allocRec) less(b allocRec) bool { return a.compare(b) < 0 }

// compare orders records by AllocationID, then as they happened: seq is
// unique, so the order is total and an unstable sort gives it.
func (a allocRec) compare(b allocRec) int {
	if c := strings.Compare(a.alloc, b.alloc); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// spillEvery is how many records a batch holds before it is spilled (about
// 64 bytes each in memory, 48 in a scratch file).
var spillEvery = 1 << 17

// allocStore is the truth's allocations.
type allocStore struct {
	batch     []allocRec
	seq       uint64
	resources []string // ResourceIDs, interned: records hold an index
	resIndex  map[string]uint32
	spill     bool // batches may be spilled (Config.CreateTruth is set)
	temp      func() (*os.File, error)
	runs      []*os.File // spilled batches, each sorted
	err       error      // the first error spilling; nothing is spilled after it
}

func newAllocStore(spill bool, temp func() (*os.File, error)) *allocStore {
	if temp == nil {
		temp = func() (*os.File, error) { return os.CreateTemp("", "slotaudit-truth-*") }
	}
	return &allocStore{spill: spill, temp: temp, resIndex: map[string]uint32{}}
}

func (st *allocStore) add(alloc, job, res string, index int) {
	r, ok := st.resIndex[res]
	if !ok {
		r = uint32(len(st.resources))
		st.resources = append(st.resources, res)
		st.resIndex[res] = r
	}
	st.seq++
	st.batch = append(st.batch, allocRec{alloc: alloc, job: job, res: r, index: int32(index), seq: st.seq})
	if st.spill && len(st.batch) >= spillEvery && st.err == nil {
		st.err = st.spillBatch()
	}
}

// recSize is a spilled record: AllocationID and JobID as 16 bytes each,
// the ResourceID's number, the index and the sequence number.
const recSize = 16 + 16 + 4 + 4 + 8

func (st *allocStore) spillBatch() error {
	slices.SortFunc(st.batch, allocRec.compare)
	f, err := st.temp()
	if err != nil {
		return err
	}
	st.runs = append(st.runs, f)
	w := bufio.NewWriterSize(f, 64<<10)
	var b [recSize]byte
	for _, r := range st.batch {
		if err := encodeID(b[0:16], r.alloc); err != nil {
			return err
		}
		if err := encodeID(b[16:32], r.job); err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b[32:], r.res)
		binary.LittleEndian.PutUint32(b[36:], uint32(r.index))
		binary.LittleEndian.PutUint64(b[40:], r.seq)
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	st.batch = st.batch[:0]
	return nil
}

// encodeID packs a 32-hex-digit ID (every ID the simulator makes is one)
// into 16 bytes; hex order is byte order, so the sort holds.
func encodeID(dst []byte, id string) error {
	if len(id) != 32 {
		return fmt.Errorf("sim: spilling the truth: ID %q is not 32 hex digits", id)
	}
	if _, err := hex.Decode(dst, []byte(id)); err != nil {
		return fmt.Errorf("sim: spilling the truth: ID %q: %w", id, err)
	}
	return nil
}

// close removes the scratch files.
func (st *allocStore) close() {
	for _, f := range st.runs {
		f.Close()
		os.Remove(f.Name())
	}
	st.runs = nil
}

// source is one sorted stream of records: a spilled run or the last batch.
type source struct {
	r    *bufio.Reader // a run; nil for the batch
	recs []allocRec    // the batch
	cur  allocRec
}

func (src *source) next() (bool, error) {
	if src.r == nil {
		if len(src.recs) == 0 {
			return false, nil
		}
		src.cur, src.recs = src.recs[0], src.recs[1:]
		return true, nil
	}
	var b [recSize]byte
	if _, err := io.ReadFull(src.r, b[:]); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, err
	}
	src.cur = allocRec{alloc: hex.EncodeToString(b[0:16]), job: hex.EncodeToString(b[16:32]),
		res: binary.LittleEndian.Uint32(b[32:]), index: int32(binary.LittleEndian.Uint32(b[36:])), seq: binary.LittleEndian.Uint64(b[40:])}
	return true, nil
}

type sources []*source

func (h sources) Len() int           { return len(h) }
func (h sources) Less(i, j int) bool { return h[i].cur.less(h[j].cur) }
func (h sources) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sources) Push(x any)        { *h = append(*h, x.(*source)) }
func (h *sources) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// each calls fn with every AllocationID's allocations in order of the
// ID, merged from the spilled runs and the batch: the job and TaskManager
// of its first allocation, the indexes of all in the order they happened.
func (st *allocStore) each(fn func(TruthAllocation) error) error {
	if st.err != nil {
		return st.err
	}
	slices.SortFunc(st.batch, allocRec.compare)
	h := sources{}
	all := []*source{{recs: st.batch}}
	for _, f := range st.runs {
		all = append(all, &source{r: bufio.NewReaderSize(f, 64<<10)})
	}
	for _, src := range all {
		ok, err := src.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, src)
		}
	}
	heap.Init(&h)
	var open *TruthAllocation
	for h.Len() > 0 {
		src := h[0]
		r := src.cur
		if open != nil && open.AllocationID != r.alloc {
			if err := fn(*open); err != nil {
				return err
			}
			open = nil
		}
		if open == nil {
			open = &TruthAllocation{AllocationID: r.alloc, JobID: r.job, ResourceID: st.resources[r.res]}
		}
		open.Indexes = append(open.Indexes, int(r.index))
		ok, err := src.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	if open != nil {
		return fn(*open)
	}
	return nil
}

// writeTruth writes tr as json.MarshalIndent(tr, "", "  ") and a newline
// would, with the allocations of st in place of tr.Allocations.
func writeTruth(w io.Writer, tr Truth, st *allocStore) error {
	tr.Allocations = []TruthAllocation{}
	doc, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return err
	}
	const empty = "\n  \"allocations\": []"
	at := bytes.Index(doc, []byte(empty))
	if at < 0 {
		return fmt.Errorf("sim: no allocations member in the truth")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(doc[:at+len(empty)-1]) // up to the '['
	first := true
	var num []byte
	err = st.each(func(a TruthAllocation) error {
		if !first {
			bw.WriteByte(',')
		}
		first = false
		// json.MarshalIndent(a, "    ", "  ") by hand: millions of them
		bw.WriteString("\n    {\n      \"allocation_id\": ")
		jsonString(bw, a.AllocationID)
		bw.WriteString(",\n      \"job_id\": ")
		jsonString(bw, a.JobID)
		bw.WriteString(",\n      \"resource_id\": ")
		jsonString(bw, a.ResourceID)
		bw.WriteString(",\n      \"indexes\": [")
		if len(a.Indexes) == 0 {
			bw.WriteString("]")
		} else {
			for k, i := range a.Indexes {
				if k > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString("\n        ")
				num = strconv.AppendInt(num[:0], int64(i), 10)
				bw.Write(num)
			}
			bw.WriteString("\n      ]")
		}
		_, err := bw.WriteString("\n    }")
		return err
	})
	if err != nil {
		return err
	}
	if !first {
		bw.WriteString("\n  ")
	}
	bw.Write(doc[at+len(empty)-1:]) // the ']' and what follows
	bw.WriteByte('\n')
	return bw.Flush()
}

// jsonString writes s as encoding/json does: as it is between quotes when
// nothing in it needs escaping (every ID the simulator makes), else as
// json.Marshal writes it.
func jsonString(w *bufio.Writer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			w.Write(b)
			return
		}
	}
	w.WriteByte('"')
	w.WriteString(s)
	w.WriteByte('"')
}
