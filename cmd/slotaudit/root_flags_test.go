package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCgroupLimit: the memory limit is found where containers and hosts put
// it, for cgroup v2 and v1, and "no limit" in either spelling is none.
func TestCgroupLimit(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // path under the cgroup root → contents
		self   string            // /proc/self/cgroup
		want   int64
		source string
	}{
		{"v2 mounted as the container's root", map[string]string{"memory.max": "536870912\n"}, "0::/\n", 512 << 20, "cgroup memory.max"},
		{"v2 on a host, the process's own path", map[string]string{"memory.max": "max\n", "system.slice/flink.service/memory.max": "1073741824\n"}, "0::/system.slice/flink.service\n", 1 << 30, "cgroup memory.max"},
		{"v2 without a limit", map[string]string{"memory.max": "max\n"}, "0::/\n", 0, ""},
		{"v1 in a container", map[string]string{"memory/memory.limit_in_bytes": "268435456\n"}, "4:memory:/kubepods/pod1/abc\n0::/\n", 256 << 20, "cgroup memory.limit_in_bytes"},
		{"v1 on a host", map[string]string{"memory/kubepods/pod1/abc/memory.limit_in_bytes": "2147483648\n"}, "4:memory:/kubepods/pod1/abc\n", 2 << 30, "cgroup memory.limit_in_bytes"},
		{"v1 joint controllers", map[string]string{"memory/memory.limit_in_bytes": "268435456\n"}, "5:cpuacct,memory:/x\n", 256 << 20, "cgroup memory.limit_in_bytes"},
		{"v1 without a limit", map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, "4:memory:/\n", 0, ""},
		{"no cgroup at all", nil, "", 0, ""},
		{"garbage", map[string]string{"memory.max": "lots\n"}, "0::/\n", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, body := range tc.files {
				full := filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, src, ok := cgroupLimit(root, []byte(tc.self))
			if got != tc.want || src != tc.source || ok != (tc.want > 0) {
				t.Errorf("cgroupLimit = %d, %q, %v; want %d, %q", got, src, ok, tc.want, tc.source)
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true},
		{"2GiB", 2 << 30, true},
		{"1.5G", 3 << 29, true},
		{"800m", 800 << 20, true},
		{"1073741824", 1 << 30, true},
		{"64 MB", 64 << 20, true},
		{"0", 0, true},
		{"off", 0, true},
		{"1MiB", 0, false},
		{"-1G", 0, false},
		{"lots", 0, false},
		{"", 0, false},
		{"1e30G", 0, false},
		{"NaN", 0, false},
	}
	for _, tc := range tests {
		got, err := parseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestColorWanted: --color auto colours only a terminal, and NO_COLOR (any
// value) or TERM=dumb turns it off; always and never are what they say.
func TestColorWanted(t *testing.T) {
	tests := []struct {
		mode     string
		terminal bool
		env      map[string]string
		want     bool
		bad      bool
	}{
		{"auto", true, nil, true, false},
		{"auto", false, nil, false, false},
		{"auto", true, map[string]string{"NO_COLOR": "1"}, false, false},
		{"auto", true, map[string]string{"NO_COLOR": "0"}, false, false},
		{"auto", true, map[string]string{"TERM": "dumb"}, false, false},
		{"always", false, map[string]string{"NO_COLOR": "1"}, true, false},
		{"never", true, nil, false, false},
		{"sometimes", true, nil, false, true},
	}
	for _, tc := range tests {
		got, err := colorWanted(tc.mode, tc.terminal, func(k string) string { return tc.env[k] })
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("colorWanted(%q, terminal %v, %v) = %v, %v; want %v", tc.mode, tc.terminal, tc.env, got, err, tc.want)
		}
	}
}
