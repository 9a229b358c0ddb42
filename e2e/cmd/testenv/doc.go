// Command testenv starts and stops the test control plane outside `go test`,
// so one environment serves every package of a test run (and a developer's
// shell):
//
//	testenv up [-dir DIR] [-nodes N] [-build=false]   start in the background
//	eval "$(testenv env [-dir DIR])"                   export NEO4JCTL_TESTENV_KUBECONFIG
//	testenv status [-dir DIR]                          PIDs and memory
//	testenv down [-dir DIR] [-rm]                      stop (and remove DIR)
//
// DIR defaults to $TMPDIR/neo4jctl-testenv. `up` prints the export line on
// stdout and progress on stderr.
package main
