package clusterfile

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://neo4jctl.io/schemas/" + "v1alpha1" + "/neo4jcluster.json"

// typesSource is types.go itself, so that the schema's descriptions are
// the types' doc comments without a generation step that could go stale.
//
//go:embed types.go
var typesSource string

// probesSource is probes.go, whose types spec.probes uses.
//
//go:embed probes.go
var probesSource string

// Schema returns the JSON Schema (draft 2020-12) of the cluster file, for
// editors: point yaml-language-server at it with a
// "# yaml-language-server: $schema=…" comment. Unknown fields are refused
// and enumerations listed, as Load does; rules that span fields (e.g.
// Community runs one server) are Validate's alone.
func Schema() ([]byte, error) {
	comments, err := typeComments()
	if err != nil {
		return nil, fmt.Errorf("read type comments: %w", err)
	}
	r := &jsonschema.Reflector{
		RequiredFromJSONSchemaTags: true,
		ExpandedStruct:             true,
		LookupComment: func(t reflect.Type, field string) string {
			if t.PkgPath() != reflect.TypeFor[Cluster]().PkgPath() {
				return ""
			}
			return comments[commentKey(t.Name(), field)]
		},
	}
	s := r.Reflect(&Cluster{})
	s.ID = SchemaID
	s.Title = "neo4jctl cluster file (" + APIVersion + ", kind " + Kind + ")"

	// neo4j.conf values are text to Neo4j, and Load takes `true` or `4`
	// as written; the schema must not flag what Load accepts.
	if spec, ok := s.Definitions["Spec"]; ok {
		if config, ok := spec.Properties.Get("config"); ok {
			config.AdditionalProperties = &jsonschema.Schema{Type: "", OneOf: []*jsonschema.Schema{
				{Type: "string"}, {Type: "number"}, {Type: "boolean"},
			}}
		}
	}
	// auth.password exists only to be refused with a helpful message; an
	// editor should flag it as the user types.
	if auth, ok := s.Definitions["Auth"]; ok {
		if pw, ok := auth.Properties.Get("password"); ok {
			pw.Not = jsonschema.TrueSchema
		}
	}
	return json.MarshalIndent(s, "", "  ")
}

func commentKey(typeName, field string) string {
	if field == "" {
		return typeName
	}
	return typeName + "." + field
}

// typeComments maps "Type" and "Type.Field" to their doc comments in
// types.go, the field's trailing comment when it has no doc comment.
func typeComments() (map[string]string, error) {
	fset := token.NewFileSet()
	comments := map[string]string{}
	for name, src := range map[string]string{"types.go": typesSource, "probes.go": probesSource} {
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		fileComments(f, comments)
	}
	return comments, nil
}

// fileComments adds the doc comments of one file's types to comments.
func fileComments(f *ast.File, comments map[string]string) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			if doc != nil {
				comments[ts.Name.Name] = clean(doc.Text())
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, fld := range st.Fields.List {
				text := fld.Doc.Text()
				if text == "" {
					text = fld.Comment.Text()
				}
				if text == "" {
					continue
				}
				for _, name := range fld.Names {
					comments[commentKey(ts.Name.Name, name.Name)] = clean(text)
				}
			}
		}
	}
}

// clean joins a comment's lines into one paragraph, as editors show
// descriptions in a hover.
func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
