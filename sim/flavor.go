package sim

import (
	"fmt"
	"strings"
)

// flavor is what differs between Flink versions in the lines the simulator
// writes: loggers, message shapes, id and profile formats, and which slot
// table the TaskManager runs. Every template is one of the catalogue's
// (../shared/flink-log-catalogue.md §4-§6) for that version.
type flavor struct {
	Version    string
	Rev, Date  string
	Legacy     bool // the TaskManager runs the legacy slot table (<= 1.9)
	Log4j2     bool // layout with the "[]" MDC field (>= 1.11)
	BracketIDs bool // AllocationIDs print as AllocationID{hex} (1.6, 1.7)
	// Shapes that changed with versions.
	RequestWithAlloc  bool // JM "Requesting new slot [Q] … with allocation id A" (1.12)
	DeployWithAlloc   bool // JM "Deploying … with attempt id X to R @ host … with allocation id A" (1.12)
	ReceivedWithAlloc bool // TM "Received task T (X), deploy into slot with allocation id A." (1.12)
	ActivatePerTask   bool // TM "Activate slot A." again on every task submission (1.11.1+)
	ReportContent     bool // RM DEBUG slot reports print the SlotReport (1.8+)
	ReportMultiline   bool // SlotReport entries joined by newline+TAB for 2-10 slots (1.12)
	ScalaInBanner     bool // " Starting X (Version: v, Scala: 2.12, Rev:…)" (1.11+)
	// The declarative protocol (>= 1.13): the JobMaster declares how many
	// slots a job needs, the ResourceManager mints an AllocationID for
	// each slot it assigns, the slot pool matches offers to requirements.
	Declarative bool
	// Dynamic slots (>= 1.18, FineGrainedSlotManager by default): every
	// request carries index -1 and the TaskManager numbers its slots from
	// numberOfTaskSlots on, never reusing an index.
	Dynamic           bool
	Pekko             bool // RPC addresses and threads say pekko, not akka (>= 1.18)
	DeployVertexID    bool // "Deploying … with attempt id X and vertex id V to …" (>= 1.15)
	CompoundAttempt   bool // ExecutionAttemptID prints as graph_vertex_subtask_attempt (>= 1.16)
	JMHeartbeatLine   bool // the JobMaster logs "Heartbeat of TaskManager with id R timed out." (>= 1.14)
	DisconnectInfo    bool // the JobMaster's "Disconnect TaskExecutor R because: …" is INFO (>= 1.16)
	DSMInfo           bool // DeclarativeSlotManager logs requirements at INFO and "Free slots: n" (>= 1.14)
	SlotTableLogger   string
	JobLeaderLogger   string
	SlotManagerLogger string
	EGLogger          string // the execution graph's logger
	PoolLogger        string // the slot pool's logger
	TMProfile         string // a TaskManager slot's ResourceProfile
	JMProfile         string // the profile the JobMaster asks for
}

const (
	pkgTE = "org.apache.flink.runtime.taskexecutor."
	pkgRM = "org.apache.flink.runtime.resourcemanager."
)

var anyProfile18 = "ResourceProfile{cpuCores=1.7976931348623157E308, heapMemoryInMB=2147483647, directMemoryInMB=2147483647, nativeMemoryInMB=2147483647, networkMemoryInMB=2147483647}"

// Versions are the Flink versions the simulator writes, oldest first.
var Versions = []string{"1.6.2", "1.7.2", "1.8.2", "1.9.3", "1.10.3", "1.11.6", "1.12.7",
	"1.13.6", "1.14.6", "1.15.4", "1.16.3", "1.17.2", "1.18.1", "1.19.1", "1.20.0", "2.0.0", "2.1.0"}

// ModernVersions are the versions that run the declarative protocol.
var ModernVersions = Versions[7:]

// flavorOf returns the flavor of a version, or an error naming the ones
// the simulator knows.
func flavorOf(version string) (*flavor, error) {
	f := &flavor{Version: version, SlotTableLogger: pkgTE + "slot.TaskSlotTable", JobLeaderLogger: pkgTE + "JobLeaderService",
		SlotManagerLogger: pkgRM + "slotmanager.SlotManager", Legacy: true, ReportContent: true, EGLogger: egLogger, PoolLogger: spLogger,
		TMProfile: anyProfile18, JMProfile: "ResourceProfile{cpuCores=-1.0, heapMemoryInMB=-1, directMemoryInMB=0, nativeMemoryInMB=0, networkMemoryInMB=0}"}
	switch version {
	case "1.6.2":
		f.Rev, f.Date, f.BracketIDs, f.ReportContent = "3456ad0", "17.10.2018 @ 18:46:46 UTC", true, false
		f.TMProfile = "ResourceProfile{cpuCores=1.0, heapMemoryInMB=42, directMemoryInMB=0, nativeMemoryInMB=0, networkMemoryInMB=0}"
	case "1.7.2":
		f.Rev, f.Date, f.BracketIDs, f.ReportContent = "ceba8af", "11.02.2019 @ 14:17:09 UTC", true, false
	case "1.8.2":
		f.Rev, f.Date = "4caec0d", "03.09.2019 @ 16:03:06 CST"
	case "1.9.3":
		f.Rev, f.Date = "6d23b2c", "18.04.2020 @ 00:16:19 CEST"
		f.TMProfile = strings.TrimSuffix(anyProfile18, "}") + ", managedMemoryInMB=2147483647}"
		f.JMProfile = strings.TrimSuffix(f.JMProfile, "}") + ", managedMemoryInMB=0}"
	case "1.10.3", "1.11.6", "1.12.7":
		f.Legacy = false
		f.SlotTableLogger = pkgTE + "slot.TaskSlotTableImpl"
		f.SlotManagerLogger = pkgRM + "slotmanager.SlotManagerImpl"
		f.TMProfile = "ResourceProfile{cpuCores=1.0000000000000000, taskHeapMemory=96.000mb (100663293 bytes), taskOffHeapMemory=0 bytes, managedMemory=128.000mb (134217730 bytes), networkMemory=32.000mb (33554432 bytes)}"
		f.JMProfile = "ResourceProfile{UNKNOWN}"
		switch version {
		case "1.10.3":
			f.Rev, f.Date = "ef4c4a4", "10.01.2021 @ 21:37:38 CET"
		case "1.11.6":
			f.Rev, f.Date = "826ed4f", "2021-12-15T08:45:41+01:00"
			f.Log4j2, f.ScalaInBanner, f.ActivatePerTask = true, true, true
			f.JobLeaderLogger = pkgTE + "DefaultJobLeaderService"
		case "1.12.7":
			f.Rev, f.Date = "88d9950", "2021-12-14T23:39:33+01:00"
			f.Log4j2, f.ScalaInBanner, f.ActivatePerTask = true, true, true
			f.JobLeaderLogger = pkgTE + "DefaultJobLeaderService"
			f.RequestWithAlloc, f.DeployWithAlloc, f.ReceivedWithAlloc, f.ReportMultiline = true, true, true, true
		}
	case "1.13.6", "1.14.6", "1.15.4", "1.16.3", "1.17.2", "1.18.1", "1.19.1", "1.20.0", "2.0.0", "2.1.0":
		modern(f)
	default:
		return nil, fmt.Errorf("flink version %q: the simulator writes %s", version, strings.Join(Versions, ", "))
	}
	return f, nil
}

// alloc prints an AllocationID as the version does.
func (f *flavor) alloc(id string) string {
	if f.BracketIDs {
		return "AllocationID{" + id + "}"
	}
	return id
}

// banner is the first line of a process's log.
func (f *flavor) banner(what string) string {
	if f.ScalaInBanner {
		return fmt.Sprintf(" Starting %s (Version: %s, Scala: 2.12, Rev:%s, Date:%s)", what, f.Version, f.Rev, f.Date)
	}
	return fmt.Sprintf(" Starting %s (Version: %s, Rev:%s, Date:%s)", what, f.Version, f.Rev, f.Date)
}

// taskSlot renders a TaskSlot as "Free slot {}" prints it.
func (f *flavor) taskSlot(index int, state, alloc, job string) string {
	return fmt.Sprintf("TaskSlot(index:%d, state:%s, resource profile: %s, allocationId: %s, jobId: %s)", index, state, f.TMProfile, f.alloc(alloc), job)
}

// slotReport renders a TaskManager's slot report as the RM logs it.
func (f *flavor) slotReport(resource string, slots []reportSlot) string {
	var entries []string
	for _, s := range slots {
		i := s.index
		a, j := "null", "null"
		if s.alloc != "" {
			a, j = f.alloc(s.alloc), s.job
		}
		if f.ReportMultiline {
			entries = append(entries, fmt.Sprintf("SlotStatus{slotID=%s_%d, allocationID=%s, jobID=%s, resourceProfile=%s}", resource, i, a, j, f.TMProfile))
		} else {
			entries = append(entries, fmt.Sprintf("SlotStatus{slotID=%s_%d, resourceProfile=%s, allocationID=%s, jobID=%s}", resource, i, f.TMProfile, a, j))
		}
	}
	if f.ReportMultiline && len(entries) >= 2 && len(entries) <= 10 {
		return "SlotReport{\n\t" + strings.Join(entries, "\n\t") + "}"
	}
	if f.ReportMultiline {
		// one entry, or more than ten: SlotReport.toString joins them with
		// no separator at all
		return "SlotReport{" + strings.Join(entries, "") + "}"
	}
	return "SlotReport{slotsStatus=[" + strings.Join(entries, ", ") + "]}"
}

type reportSlot struct {
	index      int
	alloc, job string
}

// modern fills in a declarative-era flavor (1.13-2.x) from its version;
// each switch follows ../shared/flink-log-catalogue.md §1, §4-§6.
func modern(f *flavor) {
	revs := map[string][2]string{
		"1.13.6": {"b2ca390", "2022-02-03T14:54:22+01:00"}, "1.14.6": {"c62bdea", "2022-09-19T15:11:39+02:00"},
		"1.15.4": {"3ff5c51", "2023-03-08T20:47:56+01:00"}, "1.16.3": {"a76e5c9", "2023-11-17T10:24:37+01:00"},
		"1.17.2": {"c0027e5", "2023-11-09T13:24:38+01:00"}, "1.18.1": {"a8c8b1c", "2024-01-11T14:23:45+01:00"},
		"1.19.1": {"fd0d6a3", "2024-06-07T16:04:37+02:00"}, "1.20.0": {"b1fe7b4", "2024-07-25T13:57:15+02:00"},
		"2.0.0": {"26efdf8", "2025-03-14T11:08:54+01:00"}, "2.1.0": {"4cb6bd3", "2025-07-24T16:16:24+02:00"},
	}
	v := f.Version
	minor := versionMinor(v)
	f.Rev, f.Date = revs[v][0], revs[v][1]
	f.Legacy, f.Declarative, f.Log4j2, f.ScalaInBanner, f.ActivatePerTask = false, true, true, true, true
	f.DeployWithAlloc, f.ReceivedWithAlloc, f.ReportMultiline = true, true, true
	f.SlotTableLogger = pkgTE + "slot.TaskSlotTableImpl"
	f.JobLeaderLogger = pkgTE + "DefaultJobLeaderService"
	f.SlotManagerLogger = pkgRM + "slotmanager.DeclarativeSlotManager"
	f.EGLogger = "org.apache.flink.runtime.executiongraph.DefaultExecutionGraph"
	f.PoolLogger = "org.apache.flink.runtime.jobmaster.slotpool.DefaultDeclarativeSlotPool"
	f.TMProfile = "ResourceProfile{cpuCores=1, taskHeapMemory=96.000mb (100663293 bytes), taskOffHeapMemory=0 bytes, managedMemory=128.000mb (134217730 bytes), networkMemory=32.000mb (33554432 bytes)}"
	f.JMProfile = "ResourceProfile{UNKNOWN}"
	f.DSMInfo = minor >= 114
	f.JMHeartbeatLine = minor >= 114
	f.DeployVertexID = minor >= 115
	f.CompoundAttempt = minor >= 116
	f.DisconnectInfo = minor >= 116
	if minor >= 118 {
		f.Dynamic, f.Pekko = true, true
		f.SlotManagerLogger = pkgRM + "slotmanager.FineGrainedSlotManager"
	}
}

// versionMinor turns "1.18.1" into 118 and "2.1.0" into 201.
func versionMinor(v string) int {
	var major, minor int
	fmt.Sscanf(v, "%d.%d", &major, &minor)
	return major*100 + minor
}

// rpcScheme is the RPC system's URL scheme in addresses.
func (f *flavor) rpcScheme() string {
	if f.Pekko {
		return "pekko.tcp"
	}
	return "akka.tcp"
}

// thread is a dispatcher thread's name. Every record names one, so the
// names of the first threads are made once.
func (f *flavor) thread(n int) string {
	if n < len(threadNames[0]) {
		if f.Pekko {
			return threadNames[1][n]
		}
		return threadNames[0][n]
	}
	if f.Pekko {
		return fmt.Sprintf("flink-pekko.actor.default-dispatcher-%d", n)
	}
	return fmt.Sprintf("flink-akka.actor.default-dispatcher-%d", n)
}

// threadNames are the akka and the pekko dispatcher threads 0 to 31.
var threadNames = func() (names [2][32]string) {
	for n := range names[0] {
		names[0][n] = fmt.Sprintf("flink-akka.actor.default-dispatcher-%d", n)
		names[1][n] = fmt.Sprintf("flink-pekko.actor.default-dispatcher-%d", n)
	}
	return names
}()
