package parser

import (
	"fmt"
	"regexp"

	"github.com/slotaudit/slotaudit/flinklog"
)

// flagVersion is what --flink-version accepts: exactly the forms its help
// names (banners are read leniently by ParseVersion; a flag is not).
var flagVersion = regexp.MustCompile(`^[1-9]\.(0|[1-9][0-9]?)(\.(0|[1-9][0-9]{0,2}))?$`)

// settleVersion decides the input's Flink version: --flink-version, else the
// banner, else the range the hints allow.
func (s *stream) settleVersion() {
	if f := s.opts.FlinkVersion; f != "" {
		if v, ok := flinklog.ParseVersion(f); ok {
			s.sum.FlinkVersion, s.sum.VersionSource = f, "flag"
			s.sum.VersionMin, s.sum.VersionMax = v, v
			return
		}
	}
	if s.sum.VersionSource == "banner" {
		if v, ok := flinklog.ParseVersion(s.sum.FlinkVersion); ok {
			s.sum.VersionMin, s.sum.VersionMax = v, v
			return
		}
		// "<unknown>" from an IDE build: fall back to inference.
		s.sum.FlinkVersion, s.sum.VersionSource = "", ""
	}
	if s.sum.Layout == "log4j2" || s.sum.Layout == "log4j2-time" {
		s.hints.Add(flinklog.VersionHint{Min: flinklog.Version{Major: 1, Minor: 11}, Why: "log4j 2 layout ([] NDC)"})
	} else if (s.sum.Layout == "log4j1" || s.sum.Layout == "log4j1-time") && s.ndcNo >= 10 {
		s.hints.Add(flinklog.VersionHint{Max: flinklog.Version{Major: 1, Minor: 10}, Why: "log4j 1 layout (no NDC)"})
	}
	if s.hints.Len() == 0 {
		return
	}
	lo, hi, loWhy, hiWhy := s.hints.Range()
	if !lo.IsZero() && !hi.IsZero() && hi.Less(lo) {
		s.diag(0, "warning", fmt.Sprintf("version hints conflict: %s says >= %s, %s says <= %s; version left unknown", loWhy, lo, hiWhy, hi), nil)
		return
	}
	s.sum.VersionMin, s.sum.VersionMax = lo, hi
	s.sum.VersionSource = "inferred"
	switch {
	case !lo.IsZero() && lo == hi:
		s.sum.FlinkVersion = lo.String()
	case !lo.IsZero() && !hi.IsZero():
		s.sum.FlinkVersion = lo.String() + "-" + hi.String()
	case !lo.IsZero():
		s.sum.FlinkVersion = ">=" + lo.String()
	default:
		s.sum.FlinkVersion = "<=" + hi.String()
	}
}
