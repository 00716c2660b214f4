package parser

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/slotaudit/slotaudit/flinklog"
	"github.com/slotaudit/slotaudit/sim"
)

// TestDeferredIdentitiesAsTheRead: a read that keeps nothing and defers the
// naming of TaskManager logs from the other components' lines
// (DeferIdentities), given the votes a full read counts and a scope that
// noted every event read again in line order (as a fold notes them),
// names the inputs, warns, and reads again every event exactly as the full
// read does (the votes are counted by the read's own join, over the events
// read again before they are named) — on simulated incidents whose TaskManager logs lost their
// banners (named after their files, joined), and on the bundled logs.
func TestDeferredIdentitiesAsTheRead(t *testing.T) {
	var dirs []string
	for _, v := range sim.Versions {
		for seed := uint64(1); seed <= 2; seed++ {
			cfg := sim.Faulty(v, seed)
			cfg.CutBanners = true
			dir := t.TempDir()
			if _, err := sim.RunInto(cfg, dir); err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, dir)
		}
	}
	bundled, _ := filepath.Glob("../testdata/logs/sim-*")
	dirs = append(dirs, bundled...)
	nothing := func(*flinklog.Event) bool { return false }
	deferred, joined := 0, 0
	for _, dir := range dirs {
		full, err := Read([]string{dir}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		first, err := Read([]string{dir}, Options{Keep: nothing, DeferIdentities: true})
		if err != nil {
			t.Fatal(err)
		}
		if !first.IdentitiesPending() {
			continue
		}
		deferred++
		sc := first.IdentityScope()
		var raw []flinklog.Event // every input's events, not named yet
		for k, in := range first.Inputs {
			if in.DuplicateOf != "" || in.EventCount == 0 {
				continue
			}
			ir, err := first.ReadAgain(k, Options{})
			if err != nil {
				t.Fatalf("%s: %v", in.Path, err)
			}
			evs, err := drain(ir)
			if err != nil {
				t.Fatalf("%s: %v", in.Path, err)
			}
			for i := range evs {
				sc.Note(&evs[i])
			}
			raw = append(raw, evs...)
		}
		// the votes as the read counts them, from the events it names
		unnamed := first.WithEvents(raw)
		votes, _ := collectVotes(unnamed, unnamed.identityScope())
		first.ApplyIdentities(sc, votes)
		if !reflect.DeepEqual(first.Inputs, full.Inputs) {
			t.Fatalf("%s: the inputs differ:\n deferred %+v\n read     %+v", dir, first.Inputs, full.Inputs)
		}
		if !reflect.DeepEqual(first.Diagnostics, full.Diagnostics) {
			t.Fatalf("%s: the diagnostics differ:\n deferred %+v\n read     %+v", dir, first.Diagnostics, full.Diagnostics)
		}
		for k, in := range first.Inputs {
			if in.DuplicateOf != "" {
				continue
			}
			ir, err := first.ReadAgain(k, Options{})
			if errors.Is(err, ErrNotRereadable) {
				t.Fatalf("%s: %v", in.Path, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := drain(ir)
			if err != nil {
				t.Fatal(err)
			}
			sameAsRead(t, got, full, in)
			if len(in.ResourceIDSource) > 6 && in.ResourceIDSource[:6] == "joined" {
				joined++
			}
		}
	}
	t.Logf("%d of %d reads deferred the join, %d inputs joined", deferred, len(dirs), joined)
	if deferred < len(sim.Versions) || joined < 8 {
		t.Errorf("only %d reads deferred, %d inputs joined", deferred, joined)
	}
}
