// Package flinklog knows what Flink's log lines mean for the slot
// lifecycle: the vocabulary ([Event], [Kind], [Component], [ID],
// [Version], [Time], [Pos], [SlotStatus]) and the knowledge that turns one
// log record into events.
//
// It owns:
//   - the catalogue (catalogue.go): every Flink message that matters, 1.5
//     to 2.x, as a template with typed placeholders, the [Kind] it gives
//     and the reason it fixes (the Reason* constants);
//   - the template language and its matcher (template.go);
//   - what a logger name says ([NewLoggerInfo]: the component, slot
//     classes) and what loggers and messages say about the Flink version
//     ([VersionHints]);
//   - classification ([Classifier.Classify]): a [Record] in, events out,
//     with the evidence that exception texts carry (a failed task's
//     cause, a pasted stack trace).
//
// A new Flink message is one line in catalogue.go (and, when it needs a
// new Kind, a constant in event.go); nothing else in the project needs to
// be opened for it.
//
// It does no I/O and knows nothing of how records are read: not files,
// wrappers (Docker, CRI, kubectl, YARN), layouts, line buffers, or the
// assembly of multi-line records. Package parser does all that and hands
// each record to a Classifier. A test keeps the package's imports free of
// I/O packages.
package flinklog
