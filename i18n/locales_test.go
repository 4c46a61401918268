package i18n

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
)

// pageDirs are the packages whose templates (templates/*.html) and Go
// code name message ids, relative to this one. Pages that move take
// their entry with them.
var pageDirs = []string{"../endpoints"}

// builtIDs are the ids templates build with print, by prefix, and every
// value the rest can take: pat.html prints "pat.status_" with a token's
// status (authstore.PAT.Status).
var builtIDs = map[string][]string{
	"pat.status_": {"active", "expired", "revoked"},
}

// TestLocaleFiles checks that every locale file belongs to a language
// and that every language has a file with messages.
func TestLocaleFiles(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(localeFS, "locales/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		code := strings.TrimSuffix(strings.TrimPrefix(f, "locales/"), ".json")
		if !known(code) || !strings.HasSuffix(f, ".json") {
			t.Errorf("%s is not the locale file of a language in langs", f)
		}
	}
	for _, l := range langs {
		if len(catalogs[l.Code]) == 0 {
			t.Errorf("%s has no messages", l.Code)
		}
	}
}

// TestLocalesParity checks every language against the fallback: the
// same ids, no empty text, and the same fmt verbs for the same
// arguments, each of which formats without a %! error.
func TestLocalesParity(t *testing.T) {
	t.Parallel()
	base := langs[0].Code
	for _, l := range langs {
		t.Run(l.Code, func(t *testing.T) {
			t.Parallel()
			for id := range catalogs[base] {
				if _, ok := catalogs[l.Code][id]; !ok {
					t.Errorf("%s is in %s.json but not in %s.json", id, base, l.Code)
				}
			}
			for _, id := range slices.Sorted(maps.Keys(catalogs[l.Code])) {
				text := catalogs[l.Code][id]
				baseText, ok := catalogs[base][id]
				if !ok {
					t.Errorf("%s is in %s.json but not in %s.json", id, l.Code, base)
					continue
				}
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s: empty text", id)
					continue
				}
				got, err := verbs(text)
				if err != nil {
					t.Errorf("%s: %v", id, err)
					continue
				}
				want, _ := verbs(baseText)
				if !maps.Equal(got, want) {
					t.Errorf("%s: verbs %v in %s, %v in %s (%q)", id, got, l.Code, want, base, text)
				}
				if out := fmt.Sprintf(text, sampleArgs(got)...); strings.Contains(out, "%!") {
					t.Errorf("%s: %q formats as %q", id, text, out)
				}
			}
		})
	}
}

func TestVerbs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want map[int]string
	}{
		{"plain", map[int]string{}},
		{"100%% sure", map[int]string{}},
		{"in %d seconds", map[int]string{0: "%d"}},
		{"%s has %5d", map[int]string{0: "%s", 1: "%d"}},
		{"%[2]d then %[1]s", map[int]string{0: "%s", 1: "%d"}},
		{"%-8.2f", map[int]string{0: "%f"}},
		{"50% off", map[int]string{0: "%o"}}, // "% o" is a verb to fmt
	}
	for _, tc := range cases {
		got, err := verbs(tc.in)
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("verbs(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"%", "100%", "%*d", "%[x]d", "%[0]d", "%[]d"} {
		if got, err := verbs(bad); err == nil {
			t.Errorf("verbs(%q) = %v, want an error", bad, got)
		}
	}
}

// verb is one fmt verb: an optional [n] argument index, flags, width,
// precision and the verb letter (or %).
var verb = regexp.MustCompile(`%(?:\[([^\]]*)\])?[-+# 0]*[0-9]*(?:\.[0-9]*)?([a-zA-Z%])?`)

// verbs maps the arguments a text formats (0-based, explicit [n] indexes
// resolved as fmt does) to their verbs without flags ("%d"). It refuses
// what a locale file has no need for: * widths and a % that starts no
// verb.
func verbs(text string) (map[int]string, error) {
	out := map[int]string{}
	arg := 0
	for _, m := range verb.FindAllStringSubmatch(text, -1) {
		switch {
		case m[2] == "%" && m[1] == "":
			continue
		case m[2] == "" || m[2] == "%":
			return nil, fmt.Errorf("%q at %q is not a verb", m[0], text)
		case strings.Contains(m[0], "*"):
			return nil, fmt.Errorf("%q: * widths are not supported", m[0])
		}
		if m[1] != "" || strings.Contains(m[0], "[") {
			n, err := strconv.Atoi(m[1])
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q: bad argument index", m[0])
			}
			arg = n - 1
		}
		out[arg] = "%" + m[2]
		arg++
	}
	return out, nil
}

// sampleArgs returns an argument for each verb, in argument order.
func sampleArgs(vs map[int]string) []any {
	n := 0
	for i := range vs {
		n = max(n, i+1)
	}
	args := make([]any, n)
	for i := range args {
		switch vs[i] {
		case "%d", "%x", "%X", "%o", "%b", "%c":
			args[i] = 7
		case "%f", "%g", "%e":
			args[i] = 1.5
		default:
			args[i] = "x"
		}
	}
	return args
}

// TestMessagesUsed checks the ids the pages name against the
// fallback's catalog (the parity test covers the other languages): each
// one exists, and each message is named somewhere, so none is dead.
// Ids come from the templates' T calls with a literal id or a print-built
// one (see builtIDs), and from the string literals of the Go code that
// look like ids ("page.what" with a page prefix of the catalog); other
// T calls (.T .Title) get their id from that Go code.
func TestMessagesUsed(t *testing.T) {
	t.Parallel()
	catalog := catalogs[langs[0].Code]
	prefixes := map[string]bool{}
	for id := range catalog {
		page, _, _ := strings.Cut(id, ".")
		prefixes[page] = true
	}
	used := map[string]bool{}
	use := func(where, id string) {
		used[id] = true
		if _, ok := catalog[id]; !ok {
			t.Errorf("%s names message %s, which %s.json lacks", where, id, langs[0].Code)
		}
	}
	for _, dir := range pageDirs {
		templates, _ := filepath.Glob(filepath.Join(dir, "templates", "*.html"))
		sources, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		if len(templates) == 0 || len(sources) == 0 {
			t.Fatalf("%s: no templates or Go files: update pageDirs", dir)
		}
		for _, f := range templates {
			ids, built, err := templateIDs(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				use(f, id)
			}
			for _, prefix := range built {
				values, ok := builtIDs[prefix]
				if !ok {
					t.Errorf("%s builds message ids from %q: list their values in builtIDs", f, prefix)
				}
				for _, v := range values {
					use(f, prefix+v)
				}
			}
		}
		for _, f := range sources {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			lits, err := stringLiterals(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range lits {
				if page, _, ok := strings.Cut(s, "."); ok && prefixes[page] && messageID.MatchString(s) {
					use(f, s)
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(catalog)) {
		if !used[id] {
			t.Errorf("message %s is used by no page: drop it from every locale file", id)
		}
	}
}

var messageID = regexp.MustCompile(`^[a-z]+\.[a-z_]+$`)

// templateIDs returns the literal ids a template file passes to T
// ({{.T "id"}}, {{$.T "id" args}}) and the prefixes of the ids it builds
// ({{.T (print "prefix" .Field)}}).
func templateIDs(file string) (ids, built []string, err error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	trees := map[string]*parse.Tree{}
	tr := parse.New(file)
	tr.Mode = parse.SkipFuncCheck
	if _, err := tr.Parse(string(src), "", "", trees); err != nil {
		return nil, nil, err
	}
	for _, tree := range trees {
		walkCommands(tree.Root, func(c *parse.CommandNode) {
			if len(c.Args) < 2 || !isT(c.Args[0]) {
				return
			}
			switch a := c.Args[1].(type) {
			case *parse.StringNode:
				ids = append(ids, a.Text)
			case *parse.PipeNode:
				if len(a.Cmds) == 1 && len(a.Cmds[0].Args) >= 2 {
					fn, ok1 := a.Cmds[0].Args[0].(*parse.IdentifierNode)
					prefix, ok2 := a.Cmds[0].Args[1].(*parse.StringNode)
					if ok1 && ok2 && fn.Ident == "print" {
						built = append(built, prefix.Text)
					}
				}
			}
		})
	}
	return ids, built, nil
}

// isT reports whether n is the page's T method: .T or $.T.
func isT(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return slices.Equal(n.Ident, []string{"T"})
	case *parse.VariableNode:
		return slices.Equal(n.Ident, []string{"$", "T"})
	}
	return false
}

// walkCommands calls visit on every command of a template tree.
func walkCommands(n parse.Node, visit func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkCommands(c, visit)
			}
		}
	case *parse.ActionNode:
		walkCommands(n.Pipe, visit)
	case *parse.TemplateNode:
		walkCommands(n.Pipe, visit)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				visit(c)
				for _, a := range c.Args {
					walkCommands(a, visit)
				}
			}
		}
	}
}

func walkBranch(b *parse.BranchNode, visit func(*parse.CommandNode)) {
	walkCommands(b.Pipe, visit)
	walkCommands(b.List, visit)
	walkCommands(b.ElseList, visit)
}

// stringLiterals returns the string literals of a Go file.
func stringLiterals(file string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, s)
			}
		}
		return true
	})
	return out, nil
}
