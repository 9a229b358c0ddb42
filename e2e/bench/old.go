package main

// The figures of the previous docs/benchmarks.md (2026-11-26), measured on
// a quiet machine against /usr/bin/kubectl, which on these machines is a
// version-dispatching wrapper of kubectl v1.32.4. They stay beside the new
// figures, which are measured against the stock kubectl of the API
// server's version (testenv builds it), so a reader sees what moved with
// the baseline and what with neo4jctl. Keyed by row title.
const oldBaseline = "kubectl v1.32.4 wrapper (/usr/bin/kubectl), 2026-11-26"

type oldFigure struct {
	a, b  string // medians as printed then
	ratio float64
}

var oldRows = map[string]oldFigure{
	"plan: production example, fresh namespace (all creates)":   {"47 ms", "163 ms", 0.29},
	"plan: production example, objects present (--skip-neo4j)":  {"61 ms", "193 ms", 0.32},
	"plan: quickstart, converged, Neo4j plane read (simulator)": {"51 ms", "131 ms", 0.39},
	"no-op apply vs no-op plan: quickstart, converged":          {"65 ms", "61 ms", 1.06},
	"apply: quickstart, empty namespace → converged":            {"1976 ms", "1935 ms", 1.02},
}

// oldGrowth is the fleet plan table then: clusters/state → ratio.
var oldGrowth = map[string]float64{
	"1/fresh": 0.31, "10/fresh": 0.18, "25/fresh": 0.26, "50/fresh": 0.17,
	"1/present": 0.48, "10/present": 0.34, "25/present": 0.35, "50/present": 0.27,
}

// oldFleetApply is the fleet apply of 50 then: kubectl (1.32 wrapper)
// 15843 ms, neo4jctl 2992 ms.
var oldFleetApply = oldFigure{"2992 ms", "15843 ms", 0.19}
