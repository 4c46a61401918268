package idp

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

func TestResolveSecret(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, nil, 0o600)
	env := map[string]string{"{env.SET}": "from-env", "{env.UNSET}": ""}
	resolve := func(s string) (string, error) {
		if v, ok := env[s]; ok {
			return v, nil
		}
		if strings.HasPrefix(s, "{") {
			return "", errors.New("unknown placeholder " + s)
		}
		return s, nil
	}
	for _, tc := range []struct {
		cfg  config.IdentityProvider
		want string
		err  string
	}{
		{config.IdentityProvider{ClientSecret: "{env.SET}"}, "from-env", ""},
		{config.IdentityProvider{ClientSecret: "literal"}, "literal", ""},
		{config.IdentityProvider{ClientSecretFile: file}, "from-file", ""},
		{config.IdentityProvider{ClientSecret: "{env.UNSET}"}, "", "{env.UNSET} is empty"},
		{config.IdentityProvider{ClientSecret: "{env.NOPE}"}, "", "unknown placeholder"},
		{config.IdentityProvider{ClientSecretFile: empty}, "", "is empty"},
		{config.IdentityProvider{ClientSecretFile: file + ".missing"}, "", "no such file"},
	} {
		got, err := resolveSecret(tc.cfg, resolve)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%+v: %q, %v; want %q", tc.cfg, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.err)
		}
	}
	p, err := New(config.IdentityProvider{Name: "corp", Type: config.ProviderOIDC, ClientSecret: "{env.SET}"}, Options{ResolveSecret: resolve})
	if err != nil {
		t.Fatal(err)
	}
	if p.Config().ClientSecret != "" || strings.Contains(p.String(), "from-env") {
		t.Error("the built provider shows its secret")
	}
}

func TestFlowSealing(t *testing.T) {
	t.Parallel()
	fs := NewFlows()
	now := time.Unix(1_000_000, 0)
	f := &flow{Provider: "corp", State: "s1", Nonce: "n", Verifier: "v", Next: "/pat", Expires: now.Add(FlowTTL).Unix()}
	sealed, err := fs.seal(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fs.open(sealed, "corp", now); err != nil || *got != *f {
		t.Fatalf("open = %+v, %v", got, err)
	}
	if _, err := fs.open(sealed, "github", now); !errors.Is(err, errFlowTampered) {
		t.Errorf("another provider's callback accepted the flow: %v", err)
	}
	if _, err := NewFlows().open(sealed, "corp", now); !errors.Is(err, errFlowTampered) {
		t.Errorf("another key accepted the flow: %v", err)
	}
	if _, err := fs.open(sealed, "corp", now.Add(FlowTTL)); !errors.Is(err, errFlowExpired) {
		t.Errorf("expired flow: %v", err)
	}
	for _, bad := range []string{"", "!!!", sealed[:10], sealed + "A"} {
		if _, err := fs.open(bad, "corp", now); !errors.Is(err, errFlowTampered) {
			t.Errorf("open(%q) = %v", bad, err)
		}
	}
	if !fs.consume(f, now) || fs.consume(f, now) {
		t.Error("a flow must be consumable exactly once")
	}
	// Used flows that expired are forgotten when the set is full.
	fs.consumed = map[string]int64{}
	for i := range maxConsumed {
		fs.consumed[strconv.Itoa(i)] = now.Unix() - 1
	}
	if !fs.consume(&flow{State: "fresh", Expires: now.Add(FlowTTL).Unix()}, now) || len(fs.consumed) != 1 {
		t.Errorf("prune left %d used flows", len(fs.consumed))
	}
}

// FuzzOpenFlow: whatever a browser sends as the flow cookie, open
// returns a sealed flow or an error, never panics, and only what this
// Flows sealed for this provider opens.
func FuzzOpenFlow(f *testing.F) {
	fs := NewFlows()
	now := time.Unix(1_000_000, 0)
	sealed, _ := fs.seal(&flow{Provider: "corp", State: "s", Verifier: "v", Next: "/pat", Expires: now.Add(FlowTTL).Unix()})
	f.Add(sealed)
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, value string) {
		got, err := fs.open(value, "corp", now)
		if err == nil && (value != sealed || got.State != "s") {
			t.Fatalf("opened a cookie this Flows did not seal: %q", value)
		}
	})
}
