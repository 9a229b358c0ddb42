package cmd

import (
	"errors"
	"fmt"
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
	for _, a := range args {
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

// loadTargets loads every cluster file before anything is contacted, and
// reports every problem of every file at once.
func loadTargets(files []string, flagNS string) ([]*pipeline.Target, error) {
	// Loading and rendering is CPU work, a millisecond or so per file: a
	// fleet's files load on every core, and are then checked in file order.
	loaded := make([]*pipeline.Target, len(files))
	loadErrs := make([]error, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				loaded[i], loadErrs[i] = pipeline.Load(files[i], flagNS)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

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
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i, t)
		}()
	}
	wg.Wait()
}
