package flinklog

import (
	"sort"
	"strings"
)

// PushdownWords are the words a record must contain, one of them at least
// (as a substring, without case), for Classify or the version and identity
// readers to make anything of it. A log store asked only for the records
// that hold one of them returns everything that can change a verdict and
// leaves out the noise (checkpoints, network, user code): it is what
// slotaudit pushes down to a store it fetches from.
//
// They are derived from the catalogue when the package starts, so a new
// template brings its own word: the literal text of every template holds
// one (a test checks it). The seeds come first:
//   - "slot" and "allocation": most templates, and the exception texts
//     Classify reads ("No task slot allocated…", "Could not fulfill slot
//     request…", "The slot … has timed out", "A slot with allocationId…");
//   - "version", "akka", "pekko": the version banner and the RPC addresses
//     that bound the version (VersionHints);
//   - "resourceid", "taskmanager": identity ("Starting TaskManager with
//     ResourceID") and the heartbeat timeouts of TaskManagers found in
//     exception texts;
//   - "noresourceavailable": NoResourceAvailableException, in a failed
//     job's exception text.
//
// Each template that holds none of the words so far adds its longest
// word. Every word is ASCII letters only and lower case: a store that
// splits text into tokens (OpenSearch's analysers) keeps runs of letters
// together, so a word of letters is found inside a token as inside a line.
func PushdownWords() []string { return append([]string(nil), pushdownWords...) }

// MatchesPushdown reports whether text holds one of PushdownWords, as a
// store given them would decide: what a fetch may return.
func MatchesPushdown(text string) bool {
	low := strings.ToLower(text)
	for _, w := range pushdownWords {
		if strings.Contains(low, w) {
			return true
		}
	}
	return false
}

var pushdownSeeds = []string{
	"slot", "allocation", "version", "akka", "pekko", "resourceid", "taskmanager", "noresourceavailable",
}

var pushdownWords = func() []string {
	words := append([]string(nil), pushdownSeeds...)
	has := func(text string) bool {
		low := strings.ToLower(text)
		for _, w := range words {
			if strings.Contains(low, w) {
				return true
			}
		}
		return false
	}
	for _, t := range catalogue {
		lits := templateLiterals(t)
		if has(lits) {
			continue
		}
		best := ""
		for _, w := range letterWords(lits) {
			if len(w) > len(best) {
				best = w
			}
		}
		if best != "" {
			words = append(words, strings.ToLower(best))
		}
	}
	// a word inside another word makes it redundant
	sort.Slice(words, func(i, j int) bool {
		return len(words[i]) < len(words[j]) || len(words[i]) == len(words[j]) && words[i] < words[j]
	})
	var out []string
	for _, w := range words {
		dup := false
		for _, o := range out {
			if strings.Contains(w, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}()

// templateLiterals is a template's literal text, placeholders as blanks.
func templateLiterals(t *template) string {
	var b strings.Builder
	for _, sg := range t.segs {
		if sg.ph == phLiteral {
			b.Write(sg.lit)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// letterWords splits s into its runs of ASCII letters.
func letterWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
}
