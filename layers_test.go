package authx

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fileLayers is the structure of the root package, bottom up: each file
// may use what files of its own or lower layers declare, never what a
// higher layer declares. TestFileLayers holds the code to it.
var fileLayers = [][]string{
	// Values and interfaces: what every other file speaks in.
	{"doc.go", "errors.go", "claims.go", "claims_decode.go", "policy.go", "keys.go", "signature.go", "jws.go", "store.go", "keyset.go", "keybinding.go", "config.go", "events.go"},
	// The in-process stores.
	{"memory.go", "memory_blocklist.go", "memory_refresh.go", "memory_sessions.go", "memory_ratelimit.go", "vcache.go"},
	// Options, and the engine they configure.
	{"options.go", "options_keys.go", "options_verify.go"},
	{"engine.go"},
	// Verification: locating a token, CSRF, sessions, the pipeline.
	{"locate.go", "csrf.go", "setcookie.go", "revoke.go", "sessioncheck.go", "keysets.go", "bindcheck.go"},
	{"verify.go", "context.go"},
	// The Auth and its guards.
	{"auth.go", "guard.go", "wswatch.go", "subject.go"},
	// Issuing and the handlers built on the above.
	{"token.go", "attach.go", "cookies.go", "sessions.go", "ratelimit.go", "refresh.go", "implicit.go", "logout.go",
		"ws.go", "wsreauth.go", "wsticket.go", "publish.go",
		"openapi.go"},
}

// TestFileLayers type-checks the package and finds, for every use of a
// package-level name, method or field, the file declaring it; a use that
// reaches up a layer fails the test. Run it to see the file graph:
//
//	go test -run TestFileLayers -v .
func TestFileLayers(t *testing.T) {
	layer := map[string]int{}
	for i, files := range fileLayers {
		for _, f := range files {
			layer[f] = i
		}
	}
	fset := token.NewFileSet()
	matches, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, m := range matches {
		if strings.HasSuffix(m, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, m, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := layer[m]; !ok {
			t.Errorf("%s has no layer in fileLayers", m)
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	// Dependencies are read from their export data, which go list finds
	// (and builds) in the module's build cache.
	out, err := exec.Command("go", "list", "-deps", "-export", "-f", "{{.ImportPath}} {{.Export}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	exports := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if path, file, ok := strings.Cut(line, " "); ok && file != "" {
			exports[path] = file
		}
	}
	lookup := func(path string) (io.ReadCloser, error) { return os.Open(exports[path]) }
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup)}
	pkg, err := conf.Check("github.com/authx-go/authx", fset, files, info)
	if err != nil {
		t.Fatal(err)
	}
	fileOf := func(p token.Pos) string { return filepath.Base(fset.Position(p).Filename) }
	type edge struct{ from, to string }
	uses := map[edge][]string{}
	note := func(at token.Pos, obj types.Object) {
		if obj == nil || obj.Pkg() != pkg || !obj.Pos().IsValid() {
			return
		}
		if v, ok := obj.(*types.Var); ok && !v.IsField() && obj.Parent() != pkg.Scope() {
			return // a local variable or parameter
		}
		if _, ok := obj.(*types.Func); !ok && obj.Parent() != pkg.Scope() {
			if v, ok := obj.(*types.Var); !ok || !v.IsField() {
				return // locals, labels, type parameters
			}
		}
		from, to := fileOf(at), fileOf(obj.Pos())
		if from == to {
			return
		}
		e := edge{from, to}
		if !slices.Contains(uses[e], obj.Name()) {
			uses[e] = append(uses[e], obj.Name())
		}
	}
	for id, obj := range info.Uses {
		note(id.Pos(), obj)
	}
	for sel, s := range info.Selections {
		note(sel.Sel.Pos(), s.Obj())
	}
	for e, names := range uses {
		if layer[e.from] < layer[e.to] {
			slices.Sort(names)
			t.Errorf("%s (layer %d) uses %s of %s (layer %d): a use up the layers", e.from, layer[e.from], strings.Join(names, ", "), e.to, layer[e.to])
		}
		if testing.Verbose() {
			t.Logf("%s -> %s: %s", e.from, e.to, strings.Join(names, ", "))
		}
	}
	// Within a layer, files must not use each other in a circle.
	var visit func(f string, path []string)
	done := map[string]bool{}
	visit = func(f string, path []string) {
		if i := slices.Index(path, f); i >= 0 {
			t.Errorf("files use each other in a circle: %s", strings.Join(append(path[i:], f), " -> "))
			return
		}
		if done[f] {
			return
		}
		for e := range uses {
			if e.from == f {
				visit(e.to, append(path, f))
			}
		}
		done[f] = true
	}
	for _, m := range matches {
		if !strings.HasSuffix(m, "_test.go") {
			visit(m, nil)
		}
	}
}
