package flinklog

import (
	"strings"
	"testing"
)

// TestEveryTemplateHasAPushdownWord: a store asked for the records that
// hold a pushdown word returns every record a template matches. A new
// template whose words are all new brings its own (see pushdownWords);
// this keeps it so, whatever the derivation becomes.
func TestEveryTemplateHasAPushdownWord(t *testing.T) {
	for _, tpl := range catalogue {
		if !MatchesPushdown(tpl.text) {
			t.Errorf("template %q holds no pushdown word: a store would filter its records out", tpl.text)
		}
		// the word must be in the literal text, not in a placeholder's name
		if !MatchesPushdown(templateLiterals(tpl)) {
			t.Errorf("template %q holds a pushdown word only inside a placeholder", tpl.text)
		}
	}
}

// TestPushdownKeepsWhatClassifyReadsOutsideTemplates: the exception texts
// Classify scans, the version banner, the version hints and the identity
// lines hold a pushdown word too.
func TestPushdownKeepsWhatClassifyReadsOutsideTemplates(t *testing.T) {
	texts := []string{
		string(noSlotAnchor), string(noResourceClass),
		"org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.",
		"Starting TaskManager (Version: 1.8.2, Rev:4caec0d, Date:03.09.2019 @ 16:03:06 CST)",
		"Starting StandaloneSessionClusterEntrypoint (Version: 1.14.4, Scala: 2.12, Rev:895c609, Date:2022-02-25T11:57:14+01:00)",
		"Starting TaskManager with ResourceID: 9a3c5e7f1b2d4c6e8f0a1b2c3d4e5f60",
		"Connecting to ResourceManager akka.tcp://flink@jobmanager:6123/user/rpc/resourcemanager_0(00000000000000000000000000000000).",
		"Connecting to ResourceManager pekko.tcp://flink@jobmanager:6123/user/rpc/resourcemanager_0.",
		"Received slot report from instance 5e0f6a1b2c3d4e5f6a7b8c9d0e1f2a3b.",
		"AllocationID{e6a0c2b4d8f1379520c4e6a8b1d3f5a7}",
	}
	for _, ct := range causeTemplates {
		texts = append(texts, string(ct.anchor), ct.t.text)
	}
	for _, s := range texts {
		if !MatchesPushdown(s) {
			t.Errorf("%q holds no pushdown word", s)
		}
	}
}

// TestPushdownWordsAreLetters: stores tokenise text (OpenSearch's
// analysers split at punctuation and blanks, keep letters together), so a
// word of lower-case letters is found inside a token as inside a line, and
// needs no escaping in a regexp.
func TestPushdownWordsAreLetters(t *testing.T) {
	words := PushdownWords()
	if len(words) < 5 || len(words) > 60 {
		t.Fatalf("%d pushdown words: %v", len(words), words)
	}
	for _, w := range words {
		if w == "" || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			t.Errorf("pushdown word %q is not lower-case letters", w)
		}
	}
	if MatchesPushdown("Completed checkpoint 17 (12345 bytes, checkpointDuration=12 ms, finalizationTime=0 ms).") {
		t.Errorf("a checkpoint line passes the pushdown: it filters nothing")
	}
}

// TestHasAnchorFindsEveryOccurrence: every anchor is found wherever it
// sits (every alignment to the sampling), among text or alone, and text
// without one holds none.
func TestHasAnchorFindsEveryOccurrence(t *testing.T) {
	fillers := []string{"", "x", "Received heartbeat request from ", "0123456789abcdef ", "slo", "ot ak://"}
	for _, w := range append(Anchors(), "akka://", "akka.tcp://", "pekko://", "pekko.tcp://") {
		for pad := 0; pad < 2*anchorStride; pad++ {
			for _, fill := range fillers {
				text := strings.Repeat("-", pad) + fill + w + fill
				if !HasAnchor([]byte(text)) {
					t.Errorf("%q: no anchor found in %q", w, text)
				}
			}
		}
	}
	for _, text := range []string{"", "Completed checkpoint 17 (12345 bytes, checkpointDuration=12 ms, finalizationTime=0 ms).",
		"Received heartbeat request from 861ef3e8f7038a6775e842a376565d67.", "see http://example.com/x", "://", "akka:/", "/"} {
		if HasAnchor([]byte(text)) {
			t.Errorf("%q: an anchor found", text)
		}
	}
}

// TestAnchorsCoverWhatClassifyReads: each event template's anchor, the
// exception texts and the version-hint shapes hold an anchor.
func TestAnchorsCoverWhatClassifyReads(t *testing.T) {
	texts := []string{string(noSlotAnchor), string(noResourceClass)}
	for _, tpl := range catalogue {
		if tpl.kind != "" {
			texts = append(texts, string(tpl.anchor))
		}
	}
	for _, ct := range causeTemplates {
		texts = append(texts, string(ct.t.anchor), ct.t.text)
		if strings.HasPrefix(ct.t.text, "Heartbeat") {
			texts = append(texts, "h"+ct.t.text[1:]) // scanCauses reads it as "Heartbeat"
		}
	}
	texts = append(texts, hintAnchors...)
	for _, s := range texts {
		if !HasAnchor([]byte(s)) {
			t.Errorf("%q holds no anchor", s)
		}
	}
}
