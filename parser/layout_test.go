package parser

import (
	"strings"
	"testing"
)

func TestLayouts(t *testing.T) {
	tests := []struct {
		name, pattern, line              string
		time, level, logger, thread, msg string
		ndc                              bool
	}{
		{"log4j1", "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
			"2019-06-24 16:14:09,975 INFO  org.apache.flink.runtime.taskexecutor.slot.TaskSlotTable      - Free slot TaskSlot(index:4)",
			"2019-06-24T16:14:09.975", "INFO", "org.apache.flink.runtime.taskexecutor.slot.TaskSlotTable", "", "Free slot TaskSlot(index:4)", false},
		{"log4j1 long logger", "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
			"2019-06-24 16:14:09,977 INFO  org.apache.flink.runtime.leaderretrieval.ZooKeeperLeaderRetrievalService  - Stopping a - b",
			"2019-06-24T16:14:09.977", "INFO", "org.apache.flink.runtime.leaderretrieval.ZooKeeperLeaderRetrievalService", "", "Stopping a - b", false},
		{"log4j2 banner keeps its leading blank", "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
			"2022-05-26 14:14:27,546 INFO  org.apache.flink.runtime.taskexecutor.TaskManagerRunner      [] -  Starting TaskManager (Version: 1.14.4, Scala: 2.11)",
			"2022-05-26T14:14:27.546", "INFO", "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", "", "Starting TaskManager (Version: 1.14.4, Scala: 2.11)", true},
		{"dot millis and T accepted", "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
			"2022-05-26T14:14:27.546 WARN  org.apache.flink.runtime.taskexecutor.TaskExecutor [] - x",
			"2022-05-26T14:14:27.546", "WARN", "org.apache.flink.runtime.taskexecutor.TaskExecutor", "", "x", true},
		{"time only", "%d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
			"15:33:57,565 INFO  org.apache.flink.runtime.taskexecutor.TaskExecutor           [] - Receive",
			"15:33:57.565", "INFO", "org.apache.flink.runtime.taskexecutor.TaskExecutor", "", "Receive", true},
		{"logback thread with blanks and brackets", "%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n",
			"20:12:34.110 [Source: Custom Source (1/4)#0] DEBUG o.a.f.r.j.s.SlotPoolImpl - Fulfilled",
			"20:12:34.110", "DEBUG", "o.a.f.r.j.s.SlotPoolImpl", "Source: Custom Source (1/4)#0", "Fulfilled", false},
		{"relative", "%-4r [%t] %-5p %c %x - %m%n",
			"30404 [flink-pekko.actor.default-dispatcher-14] DEBUG org.apache.flink.runtime.jobmaster.slotpool.DeclarativeSlotPoolBridge [] - m",
			"+30.404s", "DEBUG", "org.apache.flink.runtime.jobmaster.slotpool.DeclarativeSlotPoolBridge", "flink-pekko.actor.default-dispatcher-14", "m", true},
		{"custom trailer after the message", "%d %p %m [%c{1} %t]%n",
			"2021-07-12 03:19:58,603 WARN Could not fulfill [resource] requirements. [DeclarativeSlotManager flink-akka.actor.default-dispatcher-2]",
			"2021-07-12T03:19:58.603", "WARN", "DeclarativeSlotManager", "flink-akka.actor.default-dispatcher-2", "Could not fulfill [resource] requirements.", false},
		{"named ISO8601 and right-padded thread", "%d{ISO8601} [%20t] %-5p %c - %m%n",
			"2023-01-01T10:00:00,001 [                main] INFO  org.X - y",
			"2023-01-01T10:00:00.001", "INFO", "org.X", "main", "y", false},
		{"colour wrappers", "%style{%d}{yellow} %highlight{%-5level} %c - %m%n",
			"2023-01-01 10:00:00,001 ERROR org.X - y",
			"2023-01-01T10:00:00.001", "ERROR", "org.X", "", "y", false},
		{"zone", "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %p %c - %m%n",
			"2023-01-01T10:00:00.001+02:00 INFO org.X - y",
			"2023-01-01T08:00:00.001Z", "INFO", "org.X", "", "y", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := CompileLayout("t", tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			h, ok := l.match([]byte(tt.line))
			if !ok {
				t.Fatalf("%q does not match %q", tt.pattern, tt.line)
			}
			got := [5]string{h.time.String(), string(h.level), string(h.logger), string(h.thread), string(trimLeft(h.msg))}
			want := [5]string{tt.time, tt.level, tt.logger, tt.thread, tt.msg}
			if got != want || h.ndcSeen != tt.ndc {
				t.Errorf("got %q ndc=%v, want %q ndc=%v", got, h.ndcSeen, want, tt.ndc)
			}
		})
	}
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

// TestLayoutRejects: lines that are not records under the default layout.
func TestLayoutRejects(t *testing.T) {
	l := builtinLayout("flink")
	for _, line := range []string{
		"good",
		"\tat org.apache.flink.runtime.taskexecutor.TaskExecutor.submitTask(TaskExecutor.java:453)",
		"2024-01-01 garbage without a level",
		"2019-06-24 16:14:09,975 NOTALEVEL org.X - y",
		"2019-13-24 16:14:09,975 INFO  org.X - month 13",
		"",
	} {
		if h, ok := l.match([]byte(line)); ok {
			t.Errorf("%q taken for a record: %+v", line, h)
		}
	}
}

func TestCompileLayoutErrors(t *testing.T) {
	for _, p := range []string{"%d %p", "%d{yyyy-MM-dd} %m", "%d{HH:mm:ss %m", "%"} {
		if _, err := CompileLayout("bad", p); err == nil {
			t.Errorf("CompileLayout(%q) accepted a pattern it cannot read", p)
		}
	}
	if _, _, err := ResolveLayout("log4j7"); err == nil {
		t.Error("an unknown layout name was accepted")
	}
}

// TestHostileLineIsBounded: a line built to make a layout's free-text
// elements backtrack. The step budget keeps the match cheap.
func TestHostileLineIsBounded(t *testing.T) {
	l := builtinLayout("logback")
	l.match([]byte("2020-01-01 00:00:00.000 [" + strings.Repeat("] INFO x - [", 5000))) // must return
}
