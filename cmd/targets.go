package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/neo4jctl/neo4jctl/internal/pipeline"
)

// expandFiles turns -f values (files or directories) into cluster files. A
// directory contributes its *.yaml, *.yml and *.json files, sorted, not
// recursing, so a fleet is one folder of cluster files.
func expandFiles(args []string) ([]string, error) {
	var out []string
	stdin := false
	for _, a := range args {
		if a == stdinFile {
			if stdin {
				return nil, errors.New("-f - reads the cluster file from stdin, which can be read once")
			}
			stdin = true
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
				found = append(found, filepath.Join(a, e.Name()))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no cluster files (*.yaml, *.yml, *.json) in the directory", a)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// stdinFile is the -f value that reads the cluster file from stdin
// (kubectl's convention); stdinName names it in messages.
const (
	stdinFile = "-"
	stdinName = "stdin"
)

// loadTarget loads one cluster file, or stdin's for "-" (stdin nil: a
// command that cannot read it).
func loadTarget(path, flagNS string, stdin io.Reader) (*pipeline.Target, error) {
	if path != stdinFile {
		return pipeline.Load(path, flagNS)
	}
	name, data, err := readClusterFile(path, stdin)
	if err != nil {
		return nil, err
	}
	return pipeline.LoadData(name, data, flagNS)
}

// readClusterFile returns a cluster file's name for messages and its
// bytes: stdin's for "-" (stdin nil: a command that cannot read it).
func readClusterFile(path string, stdin io.Reader) (string, []byte, error) {
	if path != stdinFile {
		data, err := os.ReadFile(path)
		return path, data, err
	}
	if stdin == nil {
		return "", nil, errors.New("-f -: this command cannot read the cluster file from stdin; name the file")
	}
	data, err := io.ReadAll(stdin)
	if err != nil {
		return "", nil, fmt.Errorf("-f -: read stdin: %w", err)
	}
	return stdinName, data, nil
}

// loadTargets loads every cluster file before anything is planned, and
// reports every problem of every file at once. "-" is not read: a
// command that reads stdin calls loadTargetsFrom.
func loadTargets(files []string, flagNS string) ([]*pipeline.Target, error) {
	return loadTargetsFrom(nil, files, flagNS)
}

// loadTargetsFrom is loadTargets that reads "-" from stdin.
func loadTargetsFrom(stdin io.Reader, files []string, flagNS string) ([]*pipeline.Target, error) {
	// Loading and rendering is CPU work, a millisecond or so per file: a
	// fleet's files load on every core, and are then checked in file order.
	loaded := make([]*pipeline.Target, len(files))
	loadErrs := make([]error, len(files))
	eachIndex(len(files), runtime.GOMAXPROCS(0), func(i int) {
		loaded[i], loadErrs[i] = loadTarget(files[i], flagNS, stdin)
	})

	var (
		targets []*pipeline.Target
		errs    []error
		seen    = map[string]string{}
	)
	for i, f := range files {
		t, err := loaded[i], loadErrs[i]
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[t.Name()]; dup {
			errs = append(errs, fmt.Errorf("%s: cluster %s is also declared in %s (one file per cluster)", f, t.Name(), prev))
			continue
		}
		seen[t.Name()] = f
		targets = append(targets, t)
	}
	return targets, errors.Join(errs...)
}

// eachTarget runs fn for every target, at most parallel at once (at least
// one), and returns when all are done. fn writes its result by index, so
// results stay in file order whatever order the clusters finish in.
func eachTarget(targets []*pipeline.Target, parallel int, fn func(i int, t *pipeline.Target)) {
	eachIndex(len(targets), parallel, func(i int) { fn(i, targets[i]) })
}

// eachIndex calls fn for 0 … n-1, at most parallel at once, and returns
// when all have returned.
func eachIndex(n, parallel int, fn func(i int)) {
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}
