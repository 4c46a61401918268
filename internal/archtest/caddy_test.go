package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	module = "github.com/gatehouse/gatehouse"
	caddy  = "github.com/caddyserver/caddy/v2"
)

// mayUseCaddy reports whether a package of this module is part of the
// Caddy adapter: caddymodule and its subpackages, cmd/caddy, and the root
// package that xcaddy imports. Everything else is plain Go and must build
// without Caddy.
func mayUseCaddy(path string) bool {
	return path == module ||
		path == module+"/cmd/caddy" ||
		path == module+"/caddymodule" || strings.HasPrefix(path, module+"/caddymodule/")
}

func isCaddy(path string) bool {
	return path == caddy || strings.HasPrefix(path, caddy+"/")
}

// listedPackage is the part of `go list -json` this test reads.
type listedPackage struct {
	ImportPath string
	ForTest    string
	Imports    []string
	Deps       []string
	Module     *struct{ Path string }
}

// owner is the package of this module a listed package belongs to: its
// test variants ("p [p.test]") and test binaries ("p.test") count as p.
func (p listedPackage) owner() string {
	if p.ForTest != "" {
		return p.ForTest
	}
	path, _, _ := strings.Cut(p.ImportPath, " ")
	return strings.TrimSuffix(path, ".test")
}

// TestOnlyTheAdapterDependsOnCaddy fails when a package outside the
// adapter, or its tests, depends on Caddy, directly or through another
// package.
func TestOnlyTheAdapterDependsOnCaddy(t *testing.T) {
	pkgs := goList(t)
	byPath := make(map[string]listedPackage, len(pkgs))
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	via := map[string][]string{} // owner -> imports that bring Caddy in
	checked := 0
	for _, p := range pkgs {
		if p.Module == nil || p.Module.Path != module || mayUseCaddy(p.owner()) {
			continue
		}
		checked++
		if !slices.ContainsFunc(p.Deps, isCaddy) {
			continue
		}
		// Name the imports that bring Caddy in, so the failure says
		// where to look. A test binary's main only repeats its package.
		for _, imp := range p.Imports {
			if imp != p.owner() && !strings.HasPrefix(imp, p.owner()+" [") &&
				(isCaddy(imp) || slices.ContainsFunc(byPath[imp].Deps, isCaddy)) {
				path, _, _ := strings.Cut(imp, " ")
				via[p.owner()] = append(via[p.owner()], path)
			}
		}
		if _, ok := via[p.owner()]; !ok {
			via[p.owner()] = nil
		}
	}
	if checked == 0 {
		t.Fatal("go list found no plain packages to check")
	}
	for _, owner := range slices.Sorted(maps.Keys(via)) {
		imps := slices.Compact(slices.Sorted(slices.Values(via[owner])))
		t.Errorf("%s (or its tests) depends on Caddy through %s; only caddymodule/..., cmd/caddy and the root package may",
			owner, strings.Join(imps, ", "))
	}
}

// goList runs `go list -deps -test -json ./...` at the module root.
func goList(t *testing.T) []listedPackage {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs the go command: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gotool, "list", "-deps", "-test", "-json=ImportPath,ForTest,Imports,Deps,Module", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}
