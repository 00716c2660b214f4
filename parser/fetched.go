package parser

import "time"

// Fetched says how an input fetched from a log store came to be. The
// parser reads fetched records as any other input, by their content; the
// caller that fetched them (cmd/slotaudit, with package logstore) names
// the input after the store and fills this in.
type Fetched struct {
	Query      string    // the store's query as given (--query), "" for all
	Start, End time.Time // the time range asked for
	// Records: the records the store sent; Matched: its count of the
	// records the query (pushdown included) matches; Selected: its count
	// of the records the selector alone holds in the range (-1: not said).
	Records, Matched, Selected int64
	// Summary says the above in one line, for people.
	Summary string
}
