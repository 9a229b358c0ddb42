package cmd

import (
	"sort"

	"github.com/neo4jctl/neo4jctl/backup/catalog"
	"github.com/neo4jctl/neo4jctl/backup/inspect"
)

// supersededChainFiles returns the artifacts of the chain directory
// (file names) that may be deleted: per database, those older than the
// newest full that is both in the directory and catalogued restorable —
// a DIFF extends that chain, never an older one — provided every one of
// them is catalogued (uploaded). One older artifact not in the catalogue
// (its upload failed) keeps them all: the agent will upload it on the
// next run, and a chain is never left half on the claim. Dumps and files
// that are not neo4j-admin artifacts are never returned.
func supersededChainFiles(entries []catalog.Entry, files []string) []string {
	g := catalog.Assemble(entries)
	catalogued := map[string]map[string]catalog.Entry{} // database → file → entry
	for _, e := range entries {
		if catalogued[e.Database] == nil {
			catalogued[e.Database] = map[string]catalog.Entry{}
		}
		catalogued[e.Database][e.File] = e
	}
	byDB := map[string][]inspect.Name{}
	names := map[inspect.Name]string{}
	for _, f := range files {
		n, err := inspect.ParseName(f)
		if err != nil || n.Format != inspect.FormatBackup {
			continue
		}
		byDB[n.Database] = append(byDB[n.Database], n)
		names[n] = f
	}
	var out []string
	for db, ns := range byDB {
		sort.Slice(ns, func(i, j int) bool { return ns[i].Time.Before(ns[j].Time) })
		// The newest full on the claim that the catalogue can restore.
		cut := -1
		for i := len(ns) - 1; i >= 0; i-- {
			e, ok := catalogued[db][names[ns[i]]]
			if ok && e.Type == catalog.Full && g.Restorable(e.ID) {
				cut = i
				break
			}
		}
		if cut <= 0 {
			continue
		}
		old := ns[:cut]
		all := true
		for _, n := range old {
			if _, ok := catalogued[db][names[n]]; !ok {
				all = false
			}
		}
		if !all {
			continue
		}
		for _, n := range old {
			out = append(out, names[n])
		}
	}
	sort.Strings(out)
	return out
}
