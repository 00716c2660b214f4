// Package reconstruct rebuilds what happened to slot allocations from parser
// events: each TaskManager's slot table replayed under the legacy (Flink ≤ 1.9,
// TaskSlotTable) and the fixed (Flink ≥ 1.10, TaskSlotTableImpl) semantics,
// and the divergences between the two.
//
// It does not judge what it rebuilds; that is package rules.
//
// # Glossary
//
// One word, one meaning, in every package of slotaudit. Where the
// command-line contract uses a word otherwise, that is said here.
//
//   - Input: a file, or standard input, as given on the command line.
//     Stream: one log inside an input (a YARN container's log, one pod of
//     kubectl --prefix output); parser.FileInfo names it, and a Pos's File
//     indexes it.
//   - Line: a physical line of a stream. Record: one log record, a header
//     line and its continuation lines (a stack trace). A stray line is a
//     line outside any record; an unparsed record is a record of a slot
//     class that matches no known message. Both are counted, never dropped.
//   - Event: one slot-lifecycle fact read from one record (flinklog.Event).
//     Its Kind says what it means. An event is named by a parser.EventRef
//     and given by parser.Result.Event. Repeat: a slot report that says,
//     word for word, what an earlier one of the same stream said, kept as
//     a repeat of that event; it has a ref like any event.
//   - Read result: parser.Result, all that one read gave. (Result means
//     nothing else: what one table operation did is an [Outcome].)
//   - Process: one run of a TaskManager (or JobManager) process, from its
//     start banner to its end or the next start; a restarted TaskManager
//     has several ([Process]). TaskManager: one ResourceID over all its
//     processes ([TaskManager]).
//   - Allocation: one AllocationID's story across the ResourceManager, the
//     TaskManagers and the JobManager ([Allocation]). Slot: one place in a
//     TaskManager's slot table, known by its index (or dynamic, 1.14+).
//   - Slot table: a TaskManager's slots and the map from AllocationID to
//     slot ([Table]). Semantics: how a table behaves on the same
//     operations, [Legacy] (the map can be overwritten, FLINK-14589) or
//     [Fixed] (a second allocation of a taken slot is refused). The JSON
//     contract and the tables call it the table's "model" ("model":
//     "legacy"); in code "model" is only [Model].
//   - Replay: one process's events applied, in order, to one table of each
//     semantics ([Replay]); a [Step] per event, with its [Op] and the
//     [Outcome] under each semantics. Divergence: a step whose outcomes
//     differ between the semantics.
//   - Slot report: what a TaskManager tells the ResourceManager (or the
//     JobManager, at DEBUG) it holds, every heartbeat. A slot report check
//     ([SlotReportCheck]) sets one beside the replayed table. "Report"
//     alone means package report: slotaudit's output.
//   - Model: [Model], everything rebuilt from one read result: processes,
//     allocations, causal order (Rank), clock skew.
//   - Skew: how far a TaskManager's clock is ahead of or behind the
//     ResourceManager's, estimated from messages that must be causally
//     ordered ([Skew]). Rank: an event's place in the causal order.
//   - Rule: an analyzer over a Model (rules.Rule); running the rules is the
//     only "run" (rules.Run, Rule.Run). Finding: what a rule reports, with
//     its evidence: the lines that prove it, each with its sentence. Cause:
//     a finding a later finding is explained by (Rule.Requires).
//   - Zombie: a slot whose AllocationID no longer leads to it in the
//     table's map, so that nothing can free it.
//   - Audit: the findings over a Model, judged against --fail-on
//     (report.Audit). Follow: audits made again as the inputs grow
//     (package follow).
package reconstruct
