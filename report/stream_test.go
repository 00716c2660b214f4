package report

import (
	"strings"
	"testing"
)

// TestFindingStream: a finding is told once, when first proven; told again
// only after it was retracted and proven anew; a retraction names what was
// told and no longer holds, in the order it was told.
func TestFindingStream(t *testing.T) {
	f := func(fp string) FindingJSON { return FindingJSON{Fingerprint: fp, ID: fp[:2], Rule: "zombie-slot"} }
	fps := func(fs []FindingJSON) string {
		var out []string
		for _, x := range fs {
			out = append(out, x.Fingerprint)
		}
		return strings.Join(out, ",")
	}
	var s FindingStream
	steps := []struct {
		audit            []FindingJSON
		added, retracted string
	}{
		{[]FindingJSON{f("aa1"), f("bb1")}, "aa1,bb1", ""},
		{[]FindingJSON{f("bb1"), f("aa1")}, "", ""},              // the same, in another order: nothing new
		{[]FindingJSON{f("aa1"), f("cc1"), f("bb1")}, "cc1", ""}, // one more
		{[]FindingJSON{f("cc1")}, "", "aa1,bb1"},                 // two no longer hold: in the order told
		{[]FindingJSON{f("cc1"), f("aa1")}, "aa1", ""},           // proven anew: told again
		{nil, "", "cc1,aa1"},                                     // nothing holds
		{nil, "", ""},
	}
	for k, st := range steps {
		added, retracted := s.Update(st.audit)
		if fps(added) != st.added || fps(retracted) != st.retracted {
			t.Errorf("step %d: added %q retracted %q; want %q and %q", k, fps(added), fps(retracted), st.added, st.retracted)
		}
	}
}
