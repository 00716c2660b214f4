package parser

// EventsAndRepeats tells external tests how a read folded its slot
// reports: the events as read and the repeats kept of them.
func EventsAndRepeats(r *Result) (events, repeats int) { return r.events.len(), len(r.repeats) }

// IsContinuation tells external tests which lines the reader takes for
// continuation lines of the record above (the export generator splits
// logs into records as the reader does).
func IsContinuation(b []byte) bool { return isContinuation(b) }
