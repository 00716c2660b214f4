package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// exitOutOfMemory: the run was stopped because it was about to exceed the
// memory it may use (--memory-limit, the cgroup's limit, or ulimit -v).
const exitOutOfMemory = 4

// Out of memory, Go's runtime aborts with exit 2 and a stack dump, and a
// cgroup's OOM killer ends the process with SIGKILL and no word at all. The
// memory guard watches the process's own use against the limits it can know
// and ends the run first, with one line and exitOutOfMemory. It also tells
// the garbage collector about the limit, so that a run that fits when the
// collector works harder does fit.

// tripShare is the share of a limit at which the guard ends the run: the
// sampling interval must leave room for what is allocated in between.
const tripShare = 0.9

// gcShare is the share of a limit the garbage collector is asked to keep
// under (debug.SetMemoryLimit).
const gcShare = 0.75

// guardEvery is how often the guard samples.
const guardEvery = 25 * time.Millisecond

// memoryLimit is one limit the guard knows: how many bytes, what it bounds,
// and where it comes from (for the message).
type memoryLimit struct {
	bytes   int64
	virtual bool // bounds the address space (VmSize), not the memory in use
	source  string
}

// memoryGuard samples the process's memory until stopped.
type memoryGuard struct {
	limits   []memoryLimit
	exit     func(code int)
	stderr   io.Writer
	stopOnce sync.Once
	done     chan struct{}
	finished chan struct{}
	gcBefore int64
}

// discoverLimits returns the limits of the environment: the cgroup's memory
// limit (v2, else v1) and RLIMIT_AS. root is the cgroup file system's mount
// point and selfCgroup the contents of /proc/self/cgroup (parameters, so a
// test can give its own).
func discoverLimits(root string, selfCgroup []byte) []memoryLimit {
	var out []memoryLimit
	if lim, src, ok := cgroupLimit(root, selfCgroup); ok {
		out = append(out, memoryLimit{bytes: lim, source: src})
	}
	if n, ok := addressSpaceLimit(); ok {
		out = append(out, memoryLimit{bytes: n, virtual: true, source: "ulimit -v"})
	}
	return out
}

// cgroupLimit reads the memory limit of the process's cgroup. Inside a
// container the cgroup is usually mounted as root; on a host it is the path
// /proc/self/cgroup names. "max" and v1's huge "no limit" values are no limit.
func cgroupLimit(root string, selfCgroup []byte) (int64, string, bool) {
	var v2, v1 string
	sc := bufio.NewScanner(bytes.NewReader(selfCgroup))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case strings.Contains(","+parts[1]+",", ",memory,"):
			v1 = parts[2]
		}
	}
	var candidates []string
	if v2 != "" {
		candidates = append(candidates, filepath.Join(root, v2, "memory.max"))
	}
	candidates = append(candidates, filepath.Join(root, "memory.max"))
	if v1 != "" {
		candidates = append(candidates, filepath.Join(root, "memory", v1, "memory.limit_in_bytes"))
	}
	candidates = append(candidates, filepath.Join(root, "memory", "memory.limit_in_bytes"))
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, "", false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0, "", false
		}
		name := "cgroup memory.max"
		if strings.HasSuffix(p, "limit_in_bytes") {
			name = "cgroup memory.limit_in_bytes"
		}
		return n, name, true
	}
	return 0, "", false
}

// readSelfCgroup is /proc/self/cgroup, or nothing where there is none.
func readSelfCgroup() []byte {
	b, _ := os.ReadFile("/proc/self/cgroup")
	return b
}

// parseByteSize reads sizes such as 512MiB, 2GiB, 1.5G, 800M or 1073741824.
// K, M, G, T are taken as binary units too: memory limits are.
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "0" || strings.EqualFold(t, "off") {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"tib", 1 << 40}, {"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10},
		{"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10},
		{"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}}
	lower := strings.ToLower(t)
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			mult, lower = u.mult, strings.TrimSpace(strings.TrimSuffix(lower, u.suffix))
			break
		}
	}
	f, err := strconv.ParseFloat(lower, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q: want a size such as 512MiB, 2GiB or 0 (off)", s)
	}
	n := int64(f * mult)
	if n > 0 && n < 16<<20 {
		return 0, fmt.Errorf("%q: a limit under 16MiB leaves the Go runtime no room", s)
	}
	return n, nil
}

// startMemoryGuard starts sampling against limits; with none it does
// nothing. exit ends the process.
func startMemoryGuard(limits []memoryLimit, stderr io.Writer, exit func(int)) *memoryGuard {
	g := &memoryGuard{limits: limits, exit: exit, stderr: stderr, done: make(chan struct{}), finished: make(chan struct{})}
	if len(limits) == 0 {
		close(g.finished)
		return g
	}
	g.gcBefore = debug.SetMemoryLimit(-1)
	soft := g.gcBefore
	for _, l := range limits {
		if !l.virtual {
			soft = min(soft, int64(float64(l.bytes)*gcShare))
		}
	}
	debug.SetMemoryLimit(soft)
	go g.run()
	return g
}

// stop ends the sampling and gives the garbage collector its limit back.
func (g *memoryGuard) stop() {
	g.stopOnce.Do(func() {
		close(g.done)
		<-g.finished
		if len(g.limits) > 0 {
			debug.SetMemoryLimit(g.gcBefore)
		}
	})
}

func (g *memoryGuard) run() {
	defer close(g.finished)
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	t := time.NewTicker(guardEvery)
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-t.C:
		}
		metrics.Read(samples)
		inUse := int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
		// What the runtime has mapped and not returned counts memory it
		// never touched: an audit of a million allocations showed 17 GiB
		// in use against 10.7 GB resident (issue 26). A cgroup counts what
		// is resident; where the system says, that is what is in use.
		if rss := statm(1); rss > 0 && rss < inUse {
			inUse = rss
		}
		virtual := int64(-1)
		for _, l := range g.limits {
			used := inUse
			if l.virtual {
				if virtual < 0 {
					virtual = vmSize()
				}
				used = virtual
			}
			if used > 0 && float64(used) > float64(l.bytes)*tripShare {
				what := "in use"
				if l.virtual {
					what = "of address space"
				}
				fmt.Fprintf(g.stderr, "slotaudit: out of memory: %s %s, over %d%% of the %s limit (%s); stopped before the system would. Narrow the input (fewer files, --since/--until) or raise the limit\n",
					humanBytes(used), what, int(tripShare*100), humanBytes(l.bytes), l.source)
				g.exit(exitOutOfMemory)
				return
			}
		}
	}
}

// vmSize is the process's address space in bytes (/proc/self/statm), or 0
// where it cannot be read.
func vmSize() int64 { return statm(0) }

// statm returns field k of /proc/self/statm in bytes (0: the address
// space, 1: what is resident), or 0 where it cannot be read.
func statm(k int) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) <= k {
		return 0
	}
	pages, err := strconv.ParseInt(f[k], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// humanBytes prints n in binary units with one decimal.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d KiB", n>>10)
	}
}
