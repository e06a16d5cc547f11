package authx_test

import (
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The packages of this module users import (internal ones aside).
var publicPackages = []string{".", "authtest", "storetest", "rules"}

// Every exported name and every exported struct field has a doc comment.
func TestEveryExportedNameIsDocumented(t *testing.T) {
	t.Parallel()
	for _, dir := range publicPackages {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if d.Name.IsExported() && d.Doc == nil && exportedReceiver(d) {
						t.Errorf("%s: func %s has no doc comment", fset.Position(d.Pos()), d.Name)
					}
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch s := spec.(type) {
						case *ast.TypeSpec:
							if !s.Name.IsExported() {
								continue
							}
							if s.Doc == nil && d.Doc == nil {
								t.Errorf("%s: type %s has no doc comment", fset.Position(s.Pos()), s.Name)
							}
							if st, ok := s.Type.(*ast.StructType); ok {
								for _, field := range st.Fields.List {
									for _, n := range field.Names {
										if n.IsExported() && field.Doc == nil && field.Comment == nil {
											t.Errorf("%s: field %s.%s has no doc comment", fset.Position(n.Pos()), s.Name, n)
										}
									}
								}
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() && s.Doc == nil && d.Doc == nil && s.Comment == nil {
									t.Errorf("%s: %s has no doc comment", fset.Position(n.Pos()), n)
								}
							}
						}
					}
				}
			}
		}
	}
}

// exportedReceiver reports whether a method's receiver type is exported (a
// function has none).
func exportedReceiver(d *ast.FuncDecl) bool {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return true
	}
	typ := d.Recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
		case *ast.IndexExpr:
			typ = x.X
		case *ast.IndexListExpr:
			typ = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return true
		}
	}
}

// The package documentation's flow renders as a list with working links,
// not as a code block showing "[WithTokenLocations]" literally.
func TestPackageDocFlowIsAList(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", src, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var p comment.Parser
	p.LookupSym = func(recv, name string) bool { return true }
	doc := p.Parse(f.Doc.Text())
	inFlow, lists, links := false, 0, 0
	for _, b := range doc.Content {
		switch b := b.(type) {
		case *comment.Heading:
			inFlow = len(b.Text) == 1 && b.Text[0] == comment.Plain("Flow")
		case *comment.Code:
			if inFlow && strings.Contains(b.Text, "[") {
				t.Errorf("the Flow section has a code block with doc links in it:\n%s", b.Text)
			}
		case *comment.List:
			if inFlow {
				lists++
				for _, item := range b.Items {
					for _, c := range item.Content {
						if para, ok := c.(*comment.Paragraph); ok {
							for _, x := range para.Text {
								if _, ok := x.(*comment.DocLink); ok {
									links++
								}
							}
						}
					}
				}
			}
		}
	}
	if lists != 1 || links < 5 {
		t.Errorf("the Flow section has %d lists with %d doc links; want one list of the steps, with links", lists, links)
	}
}

// The README's quickstart is the program CI runs: examples/quickstart/main.go,
// whole.
func TestReadmeQuickstartIsTheProgram(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := os.ReadFile("examples/quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(prog)+"```\n") {
		t.Error("README.md does not show examples/quickstart/main.go whole in a go block: copy it there")
	}
	if strings.Count(string(readme), "u, _ := authx.SubjectFrom") != strings.Count(string(readme), "u, _ := authx.SubjectFrom[User](r.Context()) // always there: KnownSubject resolved it") {
		t.Error("README shows u, _ := authx.SubjectFrom where the user can be missing")
	}
}
