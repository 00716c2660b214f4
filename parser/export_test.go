package parser

// EventsAndRepeats tells external tests how a read folded its slot
// reports: the events as read and the repeats kept of them.
func EventsAndRepeats(r *Result) (events, repeats int) { return len(r.events), len(r.repeats) }
