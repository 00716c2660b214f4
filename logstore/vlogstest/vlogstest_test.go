package vlogstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCIInstallsThisVersion: .ci/run builds the binary the tests look for.
func TestCIInstallsThisVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "VLOGS_VERSION="+Version+"\n") || !strings.Contains(string(b), Module+"@$VLOGS_VERSION") {
		t.Errorf(".ci/run does not install %s@%s", Module, Version)
	}
}

func TestTimed(t *testing.T) {
	recs := Records("2020-03-17 13:59:28,500 INFO a - one\n2020-03-17 13:59:28,500 INFO a - two\njava.lang.IllegalStateException: x\n\tat y\n2020-03-17 13:59:29,000 INFO a - three\n",
		func(b []byte) bool { return strings.HasPrefix(string(b), "java.") })
	timed, err := Timed(recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(timed) != 3 || timed[1].Msg != "2020-03-17 13:59:28,500 INFO a - two\njava.lang.IllegalStateException: x\n\tat y" {
		t.Fatalf("%q", timed)
	}
	at := time.Date(2020, 3, 17, 13, 59, 28, 500e6, time.UTC)
	if !timed[0].Time.Equal(at) || !timed[1].Time.Equal(at.Add(time.Nanosecond)) || !timed[2].Time.Equal(at.Add(500*time.Millisecond)) {
		t.Errorf("times %v %v %v", timed[0].Time, timed[1].Time, timed[2].Time)
	}
}
