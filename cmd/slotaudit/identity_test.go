package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestIdentityByEvidence: the same incident with TaskManager logs that
// never print their ResourceID (the banner cut away, as a rotated log is),
// once named by ResourceID and once renamed taskmanager-N.log, gives the
// same findings: the renamed logs are joined to their ResourceIDs by the
// AllocationIDs the JobManager's and ResourceManager's lines share with them.
func TestIdentityByEvidence(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "logs", "sim-1.9.3-overwrite-debug")
	ids := map[string]string{"taskmanager-0.log": "0b2388533393d767b52328809d2321ad", "taskmanager-1.log": "1b37ece9ab756a6698d6a242ee921e70"}
	byName, renamed := t.TempDir(), t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if !strings.Contains(l, "Starting TaskManager with ResourceID") {
				kept = append(kept, l)
			}
		}
		cut := []byte(strings.Join(kept, ""))
		if len(cut) == len(b) && e.Name() != "jobmanager.log" {
			t.Fatalf("%s has no banner to cut", e.Name())
		}
		named := e.Name()
		if id, ok := ids[e.Name()]; ok {
			named = id + ".log"
		}
		if err := os.WriteFile(filepath.Join(byName, named), cut, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(renamed, e.Name()), cut, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type finding struct {
		ID, Rule, Severity, ResourceID, AllocationID string
		SlotIndex                                    *int
	}
	type input struct {
		Path, ResourceID, ResourceIDSource string
	}
	audit := func(dir string) ([]finding, []input) {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), []string{"audit", "--format", "json", dir}, nil, &out, &errb); code != exitFindings {
			t.Fatalf("exit %d; %s", code, errb.String())
		}
		var doc struct {
			Findings []struct {
				ID           string `json:"id"`
				Rule         string `json:"rule"`
				Severity     string `json:"severity"`
				ResourceID   string `json:"resource_id"`
				AllocationID string `json:"allocation_id"`
				SlotIndex    *int   `json:"slot_index"`
			} `json:"findings"`
			Inputs []struct {
				Path   string `json:"path"`
				Res    string `json:"resource_id"`
				ResSrc string `json:"resource_id_source"`
			} `json:"inputs"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		var fs []finding
		for _, f := range doc.Findings {
			fs = append(fs, finding{f.ID, f.Rule, f.Severity, f.ResourceID, f.AllocationID, f.SlotIndex})
		}
		var ins []input
		for _, in := range doc.Inputs {
			ins = append(ins, input{filepath.Base(in.Path), in.Res, in.ResSrc})
		}
		return fs, ins
	}
	want, _ := audit(byName)
	got, inputs := audit(renamed)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("renamed logs give\n%+v\nlogs named by ResourceID give\n%+v", got, want)
	}
	zombie := false
	for _, f := range got {
		zombie = zombie || f.Rule == "zombie-slot" && f.SlotIndex != nil && *f.SlotIndex == 2
	}
	if !zombie {
		t.Errorf("no zombie at index 2 in %+v", got)
	}
	for _, in := range inputs {
		if id, ok := ids[in.Path]; ok && (in.ResourceID != id || !strings.HasPrefix(in.ResourceIDSource, "joined by ")) {
			t.Errorf("%s is known as %s (%s), want %s joined by shared AllocationIDs", in.Path, in.ResourceID, in.ResourceIDSource, id)
		}
	}
}
