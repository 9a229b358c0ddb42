package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"
)

// TestMain lets the test binary play a child that holds a given amount of
// memory (BENCH_TEST_ALLOC_MIB) and exits.
func TestMain(m *testing.M) {
	if s := os.Getenv("BENCH_TEST_ALLOC_MIB"); s != "" {
		n, _ := strconv.Atoi(s)
		b := make([]byte, n<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		runtime.KeepAlive(b)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPeakRSSIsTheChilds: the peak RSS of a tiny child (/bin/true) is
// small even while the benchmark holds a large heap — Go's vfork would
// otherwise hand the benchmark's own peak to the child at exec — and the
// peak of a child that holds 200 MiB is at least that: the figure is the
// child's, not the wrapper's.
func TestPeakRSSIsTheChilds(t *testing.T) {
	wrap, err := buildRSSWrap(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The benchmark's heap: 300 MiB, touched so it is resident.
	ballast := make([]byte, 300<<20)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	defer runtime.KeepAlive(ballast)

	m, err := runMeasured(wrap, "/bin/true", nil, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	// How the column was measured before: ru_maxrss of a direct child.
	direct := exec.Command("/bin/true")
	if err := direct.Run(); err != nil {
		t.Fatal(err)
	}
	old := direct.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	t.Logf("/bin/true: %d KiB through rsswrap; %d KiB as a direct child of a process holding 300 MiB", m.rss, old)
	if m.code != 0 || m.wall <= 0 {
		t.Errorf("/bin/true: exit %d, wall %v", m.code, m.wall)
	}
	if m.rss <= 0 || m.rss > 16<<10 {
		t.Errorf("/bin/true's peak RSS is %d KiB, want a few MiB at most (the benchmark holds 300 MiB)", m.rss)
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	m, err = runMeasured(wrap, self, []string{"-test.run=^$"}, append(os.Environ(), "BENCH_TEST_ALLOC_MIB=200"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a child holding 200 MiB: %d KiB", m.rss)
	if m.code != 0 || m.rss < 200<<10 {
		t.Errorf("a child holding 200 MiB: exit %d, peak RSS %d KiB, want ≥ %d", m.code, m.rss, 200<<10)
	}
}
