package release

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// pinned is the goreleaser release the Makefile builds (GORELEASER).
const pinned = "v2.15.1"

var schemaFile = filepath.Join("testdata", "goreleaser-"+pinned+".schema.json")

const configFile = "../../.goreleaser.yaml"

// compile loads the kept schema.
func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("goreleaser.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("goreleaser.schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return s
}

// validate checks YAML config data against s; goreleaser v2 also needs
// `version: 2` at the top, which the schema leaves optional.
func validate(s *jsonschema.Schema, data []byte) error {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	if err := s.Validate(v); err != nil {
		return err
	}
	var top struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(j, &top); err != nil {
		return err
	}
	if top.Version == nil || *top.Version != 2 {
		return errString("version: goreleaser v2 needs `version: 2` at the top")
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

func TestConfigMatchesGoreleaserSchema(t *testing.T) {
	data, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(compile(t), data); err != nil {
		t.Fatalf("%s does not validate against goreleaser %s's schema: %v", configFile, pinned, err)
	}
}

// TestSchemaRefusesBrokenConfigs: the schema check can fail — the errors
// goreleaser check reports for a config that loads.
func TestSchemaRefusesBrokenConfigs(t *testing.T) {
	good, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	s := compile(t)
	for name, edit := range map[string]func(string) string{
		"unknown top-level key": func(c string) string { return c + "\nreleases:\n  draft: true\n" },
		"misspelt build key":    func(c string) string { return strings.Replace(c, "binary: neo4jctl\n", "binray: neo4jctl\n", 1) },
		"wrong type":            func(c string) string { return strings.Replace(c, "algorithm: sha256", "algorithm: [sha256]", 1) },
		"no version 2":          func(c string) string { return strings.Replace(c, "version: 2\n", "", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			bad := edit(string(good))
			if bad == string(good) {
				t.Fatalf("the edit changed nothing: the config no longer has what the case edits")
			}
			if err := validate(s, []byte(bad)); err == nil {
				t.Errorf("validated, want refused")
			}
		})
	}
}

// ldflagX matches `-X import/path.name=value` in a build's ldflags.
var ldflagX = regexp.MustCompile(`-X ([^ =]+)\.([A-Za-z_][A-Za-z0-9_]*)=`)

// TestLinkFlagsNameVariables: every -X in the builds' ldflags names a
// package-level string variable that exists; the linker ignores a -X
// whose target is missing, so a renamed variable would ship a binary
// that prints no version.
func TestLinkFlagsNameVariables(t *testing.T) {
	data, err := os.ReadFile(configFile)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Builds []struct {
			ID      string   `json:"id"`
			Main    string   `json:"main"`
			Ldflags []string `json:"ldflags"`
		} `json:"builds"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	const module = "github.com/neo4jctl/neo4jctl"
	n := 0
	for _, b := range cfg.Builds {
		for _, f := range b.Ldflags {
			for _, m := range ldflagX.FindAllStringSubmatch(f, -1) {
				n++
				pkg, name := m[1], m[2]
				dir := "../.."
				switch {
				case pkg == "main":
					dir = filepath.Join(dir, b.Main)
				case pkg == module:
				case strings.HasPrefix(pkg, module+"/"):
					dir = filepath.Join(dir, strings.TrimPrefix(pkg, module+"/"))
				default:
					t.Errorf("build %s: -X %s.%s: not a package of %s", b.ID, pkg, name, module)
					continue
				}
				if !hasStringVar(t, dir, name) {
					t.Errorf("build %s: -X %s.%s: no package-level string variable %s in %s", b.ID, pkg, name, name, dir)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no -X link flags found: the test reads the builds wrongly")
	}
}

// hasStringVar reports whether the package in dir declares a package-level
// variable name of type string (explicit, or an untyped string literal).
func hasStringVar(t *testing.T, dir, name string) bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.VAR {
					continue
				}
				for _, sp := range g.Specs {
					vs := sp.(*ast.ValueSpec)
					for i, id := range vs.Names {
						if id.Name != name {
							continue
						}
						if typ, ok := vs.Type.(*ast.Ident); ok {
							return typ.Name == "string"
						}
						if vs.Type == nil && i < len(vs.Values) {
							lit, ok := vs.Values[i].(*ast.BasicLit)
							return ok && lit.Kind == token.STRING
						}
					}
				}
			}
		}
	}
	return false
}

// goreleaserBin is the pinned goreleaser in the Makefile's tool cache, or
// "" when it was never built there.
func goreleaserBin() string {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "neo4jctl", "tools", "goreleaser-"+pinned)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// TestGoreleaserCheckWhereBuilt runs the real `goreleaser check` and
// compares the kept schema with the binary's, where the pinned goreleaser
// is built (`make release-check` builds it); a fresh machine skips it.
func TestGoreleaserCheckWhereBuilt(t *testing.T) {
	bin := goreleaserBin()
	if bin == "" {
		t.Skipf("goreleaser %s is not built in the tool cache (make release-check builds it); the schema tests stand in for it", pinned)
	}
	out, err := exec.Command(bin, "jsonschema").Output()
	if err != nil {
		t.Fatalf("goreleaser jsonschema: %v", err)
	}
	kept, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(out), bytes.TrimSpace(kept)) {
		t.Errorf("%s differs from `goreleaser jsonschema` of %s: regenerate it with `%s jsonschema -o %s`", schemaFile, bin, bin, schemaFile)
	}
	cmd := exec.Command(bin, "check", "-f", ".goreleaser.yaml")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("goreleaser check: %v\n%s", err, out)
	}
}
