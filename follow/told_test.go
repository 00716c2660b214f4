package follow

import (
	"github.com/slotaudit/slotaudit/report"
	"strings"
	"testing"
)

// TestTold: a finding is told once, when first proven; told again
// only after it was retracted and proven anew; a retraction names what was
// told and no longer holds, in the order it was told.
func TestTold(t *testing.T) {
	f := func(fp string) report.FindingJSON {
		return report.FindingJSON{Fingerprint: fp, ID: fp[:2], Rule: "zombie-slot"}
	}
	fps := func(fs []report.FindingJSON) string {
		var out []string
		for _, x := range fs {
			out = append(out, x.Fingerprint)
		}
		return strings.Join(out, ",")
	}
	var s Told
	steps := []struct {
		audit            []report.FindingJSON
		added, retracted string
	}{
		{[]report.FindingJSON{f("aa1"), f("bb1")}, "aa1,bb1", ""},
		{[]report.FindingJSON{f("bb1"), f("aa1")}, "", ""},              // the same, in another order: nothing new
		{[]report.FindingJSON{f("aa1"), f("cc1"), f("bb1")}, "cc1", ""}, // one more
		{[]report.FindingJSON{f("cc1")}, "", "aa1,bb1"},                 // two no longer hold: in the order told
		{[]report.FindingJSON{f("cc1"), f("aa1")}, "aa1", ""},           // proven anew: told again
		{nil, "", "cc1,aa1"}, // nothing holds
		{nil, "", ""},
	}
	for k, st := range steps {
		added, retracted := s.Update(st.audit)
		if fps(added) != st.added || fps(retracted) != st.retracted {
			t.Errorf("step %d: added %q retracted %q; want %q and %q", k, fps(added), fps(retracted), st.added, st.retracted)
		}
	}
}
