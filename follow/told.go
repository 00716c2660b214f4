package follow

import "github.com/slotaudit/slotaudit/report"

// Told is what a follow has told its reader: each finding once, as
// soon as an audit proves it, and its retraction if a later audit no longer
// does (a slot freed after all). Findings are known by fingerprint, which
// stays the same from audit to audit.
type Told struct {
	told  map[string]report.FindingJSON // by fingerprint
	order []string                      // fingerprints in the order told
}

// Update takes the findings of the latest complete audit and returns what
// to write: the findings not told yet (in the audit's order), then the ones
// told before that the audit no longer holds (in the order they were told).
func (s *Told) Update(findings []report.FindingJSON) (added, retracted []report.FindingJSON) {
	if s.told == nil {
		s.told = map[string]report.FindingJSON{}
	}
	now := make(map[string]bool, len(findings))
	for _, f := range findings {
		now[f.Fingerprint] = true
		if _, done := s.told[f.Fingerprint]; done {
			continue
		}
		s.told[f.Fingerprint] = f
		s.order = append(s.order, f.Fingerprint)
		added = append(added, f)
	}
	kept := s.order[:0]
	for _, fp := range s.order {
		if now[fp] {
			kept = append(kept, fp)
			continue
		}
		retracted = append(retracted, s.told[fp])
		delete(s.told, fp)
	}
	s.order = kept
	return added, retracted
}
