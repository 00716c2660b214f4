package parser

import "testing"

// TestEventBlocks: events come back in order from at, clone and drain,
// across the first block's growth and full blocks; a clone is
// independent and drain leaves nothing behind.
func TestEventBlocks(t *testing.T) {
	for _, n := range []int{0, 1, 16, 17, eventBlockLen - 1, eventBlockLen, eventBlockLen + 1, 3*eventBlockLen + 5} {
		var b eventBlocks
		for i := range n {
			ev := NewEvent(KindTMFree)
			ev.Pos.Line = int32(i + 1)
			b.add(ev)
		}
		if b.len() != n {
			t.Fatalf("n=%d: len %d", n, b.len())
		}
		for i := range n {
			if got := b.at(i).Pos.Line; got != int32(i+1) {
				t.Fatalf("n=%d: at(%d) is line %d", n, i, got)
			}
		}
		c := b.clone()
		for i := range n {
			b.at(i).Resource = "changed"
		}
		var got []int32
		c.drain(func(evs []Event) {
			for _, ev := range evs {
				if ev.Resource != "" {
					t.Fatalf("n=%d: a change to the original reached its clone", n)
				}
				got = append(got, ev.Pos.Line)
			}
		})
		if len(got) != n {
			t.Fatalf("n=%d: drain gave %d events", n, len(got))
		}
		for i, line := range got {
			if line != int32(i+1) {
				t.Fatalf("n=%d: drain gave line %d at %d", n, line, i)
			}
		}
		if c.len() != 0 || len(c.blocks) != 0 {
			t.Fatalf("n=%d: drained blocks hold %d events in %d blocks", n, c.len(), len(c.blocks))
		}
	}
}
