package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// releaseInitPages gives back the pages of the binary's code and read-only
// data that package initialisation touched. The SDKs of the three storage
// providers register hundreds of protobuf descriptors and tables at init:
// with the kernel's fault-around that maps ~31 MiB of this ~55 MB binary,
// most of it never used again, and the upload's ~25 MiB of buffers came on
// top (peak 61-65 MiB measured). The pages are clean and file-backed: they
// stay in the page cache, the next use faults them back in, and the kernel
// would drop them itself under memory pressure — this only does it before
// the upload instead of after. Writable mappings (the data segment) are
// never touched: MADV_DONTNEED would reset them to the file's bytes.
func releaseInitPages() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.ContainsRune(fields[1], 'w') {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// The raw call: the range is not Go memory, so no slice of it.
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}
