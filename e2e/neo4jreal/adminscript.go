package neo4jreal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// InstallAdminScript writes dir/bin/neo4j-admin, an executable shell script
// that runs this Admin's real neo4j-admin (the same JDK, JVM flags,
// classpath and main class as Run), and returns dir: a stand-in for a
// Neo4j installation, for commands that look for bin/neo4j-admin under
// --neo4j-home or on PATH (neo4jctl backup verify --local).
//
// Like a distribution's bin/neo4j-admin, the script sets NEO4J_HOME to its
// installation (dir) unless the caller set it, and honours NEO4J_CONF
// (Operations Manual 5.26, tools/neo4j-admin/index.adoc "Environment
// variables"); it does not touch a.Home.
func (a *Admin) InstallAdminScript(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(abs, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	args := []string{shellQuote(a.Java.Path)}
	for _, f := range adminJVMFlags {
		args = append(args, shellQuote(f))
	}
	args = append(args, "-cp", shellQuote(a.Launcher.Classpath), adminMainClass, `"$@"`)
	script := fmt.Sprintf(`#!/bin/sh
# Written by neo4jreal.InstallAdminScript: the real neo4j-admin of Neo4j
# Community 5.26 from the Maven classpath, as a distribution's bin/neo4j-admin.
if [ -z "$NEO4J_HOME" ]; then NEO4J_HOME=%s; fi
JAVA_HOME=%s
export NEO4J_HOME JAVA_HOME
unset HEAP_SIZE
exec %s
`, shellQuote(abs), shellQuote(a.Java.Home), strings.Join(args, " "))
	if err := os.WriteFile(filepath.Join(bin, "neo4j-admin"), []byte(script), 0o755); err != nil {
		return "", err
	}
	return abs, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
