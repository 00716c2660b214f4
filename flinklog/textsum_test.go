package flinklog

import (
	"strings"
	"testing"
)

// TestSumTextKeepsTheSumOfTheText: a Classifier that sums texts gives
// every event but a slot report the sum of the text the same record
// gives without it, at every length around the cap.
func TestSumTextKeepsTheSumOfTheText(t *testing.T) {
	msg := "Activate slot 0123456789abcdef0123456789abcdef."
	// the thread names of the header make the line long
	header := func(thread string) string {
		return "2021-03-14 09:00:00,000 INFO  [" + thread + "] org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl - "
	}
	short := header("main")
	for _, c := range []struct {
		name string
		head string
	}{
		{"short", short},
		{"at the cap", header(strings.Repeat("t", MaxTextLen-len(short)-len(msg)+4))},
		{"past the cap", header(strings.Repeat("t", 3*MaxTextLen))},
		{"multi-byte at the cut", header(strings.Repeat("é", MaxTextLen))},
	} {
		t.Run(c.name, func(t *testing.T) {
			head := c.head
			line := head + msg
			rec := Record{Start: 1, End: 1, Level: "INFO", Logger: []byte("org.apache.flink.runtime.taskexecutor.slot.TaskSlotTableImpl"),
				Msg: []byte(msg), First: []byte(line[:min(len(line), MaxTextLen+1)]), MsgAt: len(head)}
			info := NewLoggerInfo(rec.Logger)
			var kept, summed []Event
			(&Classifier{}).Classify(&rec, &info, func(e Event) { kept = append(kept, e) })
			(&Classifier{SumText: true}).Classify(&rec, &info, func(e Event) { summed = append(summed, e) })
			if len(kept) == 0 || len(kept) != len(summed) {
				t.Fatalf("%d events kept, %d summed", len(kept), len(summed))
			}
			for i := range kept {
				sum, away := summed[i].TextAway()
				if !away || summed[i].Text() != "" || sum != TextSum(kept[i].Text()) {
					t.Fatalf("event %d: away %v, text %q, sum %d; want the sum %d of %.80q", i, away, summed[i].Text(), sum, TextSum(kept[i].Text()), kept[i].Text())
				}
			}
		})
	}
}
