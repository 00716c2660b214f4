// Package parser turns Flink log files into a stream of typed slot-lifecycle
// events.
//
// It owns everything between bytes on disk and records: opening paths
// (files, directories, stdin, gzip), splitting multiplexed inputs (YARN
// aggregated logs, kubectl --prefix output, Docker json-file and CRI
// wrappers, log-store exports: see export.go) into streams, detecting each
// stream's layout (Flink's log4j 1 and
// log4j 2 patterns, logback, relative-millisecond test layouts, any log4j
// conversion pattern, and JSON layouts), assembling multi-line records, and
// reading large files in pieces, shards, ahead or as they grow (follow).
// What a record means is package flinklog's: each record is handed to a
// [flinklog.Classifier], which turns it into [flinklog.Event] values by its
// logger and message template; the parser places them (file, order), folds
// repeated slot reports and settles per-input facts (identity, version).
//
// Every physical line is accounted for: it is part of a record that became an
// event, part of a record known to be irrelevant, part of a record counted as
// unparsed (with a [Diagnostic]), part of an export's record that repeats
// another (a duplicate), a wrapper's or an export's own framing, or a stray
// non-record line (also counted). Nothing is dropped silently.
//
// A slot report that repeats an earlier one of the same input word for word
// (a DEBUG ResourceManager logs one per TaskManager and heartbeat) is kept
// as a [Repeat] of that event rather than as an event, so memory follows
// what changed, not how long the log ran. Readers never see the folding:
// every event, a repeat or not, is named by an [EventRef], [Result.Event]
// gives it (a repeat written out), and [Result.All] walks them all in
// position order.
//
// Events are kept packed, 32 bytes without pointers (packed.go), and
// written out into a copy when asked for: [Result.Kind], [Result.Head],
// [Result.Pos] and [Result.Time] read what a walk of every event needs
// without one, and [Result.AllOf] walks the events of a few kinds only. An
// event of a regular file read as it is keeps a sum of its text, not the
// text, and [Result.Text] reads its line again from the file (retext.go):
// memory follows the events, not the bytes of their lines. A [Follower]'s
// Results share its streams' blocks of events, and keep what the handover
// sets (the input's number, ResourceIDs, repeat spans) beside them
// (eventblocks.go), so a follow holds its events once.
//
// The parser does not order events across files, join them by AllocationID or
// replay slot tables; that is package reconstruct.
package parser
