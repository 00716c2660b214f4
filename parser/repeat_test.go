package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
)

// TestSameButWhenSeesEveryField: a report folded into an earlier one
// comes back as that one with its own line, last line, time and
// timestamp text; every other field must be compared before folding, so
// changing any one of them must make two reports differ. A field added to
// Event and forgotten in sameButWhen fails here.
func TestSameButWhenSeesEveryField(t *testing.T) {
	base := flinklog.NewEvent(flinklog.KindRMSlotReport)
	base.Slots = []flinklog.SlotStatus{{SlotID: "tm_0", Resource: "tm", Index: 0}}
	base.SetText("2024-01-01 00:00:00,000 ", "DEBUG x - Received slot report")
	whenOnly := map[string]bool{"Pos.Line": true, "EndLine": true, "Time.N": true, "textHead": true}
	n := 0
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), v.Type().Field(i).Name
			p := name
			if path != "" {
				p = path + "." + name
			}
			if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(flinklog.ID{}) {
				walk(p, f)
				continue
			}
			n++
			b := base
			b.Slots = append([]flinklog.SlotStatus(nil), base.Slots...)
			changeField(t, p, fieldByPath(reflect.ValueOf(&b).Elem(), p))
			if got := sameButWhen(&base, &b); got != whenOnly[p] {
				t.Errorf("changing %s: sameButWhen = %v, want %v", p, got, whenOnly[p])
			}
		}
	}
	walk("", reflect.ValueOf(base))
	if n < 30 {
		t.Fatalf("only %d fields visited", n)
	}
}

func fieldByPath(v reflect.Value, path string) reflect.Value {
	for _, name := range splitDots(path) {
		v = v.FieldByName(name)
	}
	return v
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// changeField gives f a different value, unexported fields included.
func changeField(t *testing.T, name string, f reflect.Value) {
	f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem()
	switch f.Kind() {
	case reflect.String:
		f.SetString(f.String() + "x")
	case reflect.Int, reflect.Int32, reflect.Int64:
		f.SetInt(f.Int() + 1)
	case reflect.Uint8, reflect.Uint32:
		f.SetUint(f.Uint() + 1)
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.Slice: // Slots
		s := f.Interface().([]flinklog.SlotStatus)
		s[0].Index++
	case reflect.Struct: // ID
		id, _ := flinklog.ParseID("01000000000000000000000000000000")
		f.Set(reflect.ValueOf(id))
	default:
		t.Fatalf("%s: cannot change a %s", name, f.Kind())
	}
}

// TestRepeatsAcrossInterleavedStreams: two JobManagers' logs interleaved
// in one kubectl --prefix file (two streams whose events are sorted
// together at the end), each repeating reports of two TaskManagers, one
// of which changes and changes back: the fast read folds them and gives
// back, written out, exactly the reference read's events in its order.
func TestRepeatsAcrossInterleavedStreams(t *testing.T) {
	report := func(ts, inst, alloc string) string {
		a := "null"
		if alloc != "" {
			a = alloc
		}
		return ts + " DEBUG org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerImpl [] - Received slot report from instance " + inst +
			": SlotReport{slotsStatus=[SlotStatus{slotID=tm" + inst[:1] + "_0, resourceProfile=ResourceProfile{cpuCores=1.0}, allocationID=" + a + ", jobID=null}]}."
	}
	free := func(ts string) string {
		return ts + " INFO  org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerImpl [] - Cancel slot request 0123456789abcdef0123456789abcdef."
	}
	instA, instB := "a0000000000000000000000000000001", "b0000000000000000000000000000002"
	alloc := "c0000000000000000000000000000003"
	var b []byte
	for i := 0; i < 300; i++ {
		ts := fmt.Sprintf("2024-01-01 10:%02d:%02d,%03d", i/60, i%60, i)
		pod := []string{"[pod/jm-1/flink-main-container] ", "[pod/jm-2/flink-main-container] "}[i%2]
		held := ""
		if i%50 > 20 && i%50 < 30 {
			held = alloc
		}
		b = fmt.Appendf(b, "%s%s\n", pod, report(ts, instA, held))
		b = fmt.Appendf(b, "%s%s\n", pod, report(ts, instB, ""))
		if i%37 == 0 {
			b = fmt.Appendf(b, "%s%s\n", pod, free(ts))
		}
	}
	p := filepath.Join(t.TempDir(), "jobmanagers.log")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read([]string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Read([]string{p}, Options{Reference: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Inputs) != 2 {
		t.Fatalf("%d inputs, want the two pods", len(got.Inputs))
	}
	if len(got.repeats) < 500 || len(want.repeats) != 0 {
		t.Fatalf("%d repeats (reference %d): want most reports folded, none in the reference", len(got.repeats), len(want.repeats))
	}
	requireSameResult(t, got, want)
	for v := range EventRef(got.Len()) {
		if ev := got.Event(v); got.Pos(v) != ev.Pos || got.Time(v) != ev.Time || got.Base(v).Kind != ev.Kind {
			t.Fatalf("%d: Pos/Time/Base disagree with Event", v)
		}
	}
}

// TestRepeatHeads: a repeat's timestamp text comes back exactly, whether
// its time gives it back (Flink's default layout: nothing is stored) or
// it is stored (any other text before the level: here a logback thread).
func TestRepeatHeads(t *testing.T) {
	line := func(head string) string {
		return head + "DEBUG org.apache.flink.runtime.resourcemanager.slotmanager.SlotManagerImpl - Received slot report from instance a0000000000000000000000000000001: SlotReport{slotsStatus=[SlotStatus{slotID=tm_0, resourceProfile=ResourceProfile{cpuCores=1.0}, allocationID=null, jobID=null}]}.\n"
	}
	thread := func(i int) string {
		return fmt.Sprintf("2024-01-01 10:00:%02d.%03d [flink-akka.actor.default-dispatcher-%d] ", i%60, i, 1+i%12)
	}
	cases := []struct {
		name     string
		head     func(i int) string
		stamped  bool
		maxHeads int // bytes of stored texts past which folding stops (0: as built)
	}{
		{"default", func(i int) string { return fmt.Sprintf("2024-01-01 10:00:%02d,%03d ", i%60, i) }, true, 0},
		{"thread", thread, false, 0},
		{"thread-texts-full", thread, false, 3000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.maxHeads > 0 {
				defer func(n int) { maxHeadBytes = n }(maxHeadBytes)
				maxHeadBytes = c.maxHeads
			}
			var b []byte
			var want []string
			for i := 0; i < 200; i++ {
				b = append(b, line(c.head(i))...)
				want = append(want, line(c.head(i))[:len(line(c.head(i)))-1])
			}
			p := filepath.Join(t.TempDir(), "jobmanager.log")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Read([]string{p}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.maxHeads == 0 && len(res.repeats) < 150:
				t.Fatalf("%d repeats of 200 reports", len(res.repeats))
			case c.maxHeads > 0 && (len(res.repeats) < 20 || len(res.repeats) > 100):
				t.Fatalf("%d repeats of 200 reports: folding should stop at %d bytes of texts", len(res.repeats), c.maxHeads)
			}
			stamped := 0
			for _, rp := range res.repeats {
				if rp.head == stampHead {
					stamped++
				}
			}
			if (stamped == len(res.repeats)) != c.stamped || c.stamped != (len(res.heads) == 0) {
				t.Errorf("%d of %d repeats stamped, %d bytes of heads stored", stamped, len(res.repeats), len(res.heads))
			}
			i := 0
			for v := range res.All() {
				if got := res.Event(v).Text(); got != want[i] {
					t.Fatalf("report %d: text\n got  %q\n want %q", i, got, want[i])
				}
				i++
			}
			if i != len(want) {
				t.Fatalf("%d reports, want %d", i, len(want))
			}
		})
	}
}

// reportEvent is a slot report of four slots, two allocated, as a
// JobManager at DEBUG logs one every ten seconds for each TaskManager.
func reportEvent() *flinklog.Event {
	ev := flinklog.NewEvent(flinklog.KindRMSlotReport)
	ev.Instance, _ = flinklog.ParseID("e77ab46a04e0fe8c8b2ea833c183b3d1")
	alloc, _ := flinklog.ParseID("5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d")
	job, _ := flinklog.ParseID("3e5f7a9b1c2d4e6f8a0b2c4d6e8f0a1b")
	for i := range 4 {
		st := flinklog.SlotStatus{SlotID: fmt.Sprintf("a277b3f5c5091eaa3126657c8592c657_%d", i), Index: i}
		if i < 2 {
			st.Alloc, st.Job = alloc, job
		}
		ev.Slots = append(ev.Slots, st)
	}
	return &ev
}

// TestFoldKeySeesTheSlots: reports that differ in any slot's ID, index,
// allocation or job have different fold keys (a key two reports share
// only costs a fold, sameButWhen deciding; but the key is what keeps the
// reports of a busy cluster apart).
func TestFoldKeySeesTheSlots(t *testing.T) {
	base := keyOf(reportEvent())
	other, _ := flinklog.ParseID("00000000000000000000000000000001")
	for name, change := range map[string]func(*flinklog.SlotStatus){
		"slot ID":        func(st *flinklog.SlotStatus) { st.SlotID += "x" },
		"slot ID's byte": func(st *flinklog.SlotStatus) { st.SlotID = "b" + st.SlotID[1:] },
		"index":          func(st *flinklog.SlotStatus) { st.Index++ },
		"allocation":     func(st *flinklog.SlotStatus) { st.Alloc = other },
		"job":            func(st *flinklog.SlotStatus) { st.Job = other },
	} {
		for i := range 4 {
			ev := reportEvent()
			change(&ev.Slots[i])
			if keyOf(ev) == base {
				t.Errorf("slot %d's %s changed: the same key", i, name)
			}
		}
	}
	if keyOf(reportEvent()) != base {
		t.Error("the same report, another key")
	}
}

func BenchmarkFoldKey(b *testing.B) {
	ev := reportEvent()
	for b.Loop() {
		keyOf(ev)
	}
}
