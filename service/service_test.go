package service

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

// testNow is the clock of every test service.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// testGlobal is the configuration most tests run under: three scopes, a
// project resource with three roles, two tiers.
func testGlobal() config.Global {
	return config.Global{
		TokenPrefix: "qat_",
		Scopes:      []string{"papers:read", "papers:write", "wiki:read"},
		PATMaxDays:  30,
		Tiers:       []config.Tier{{Name: "free", Rate: "60/1m"}, {Name: "pro", Rate: "600/1m"}},
		Resources:   []config.ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	}
}

// newTestService is a Service over a fresh bbolt store in t.TempDir().
func newTestService(t testing.TB, g config.Global) *Service {
	t.Helper()
	policy, err := CompilePolicy(g)
	if err != nil {
		t.Fatal(err)
	}
	store, err := authstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &Service{Store: store, Policy: policy, Now: func() time.Time { return testNow }}
}

// mustUser creates a user holding scopes (nil: every scope) and the
// given memberships.
func mustUser(t testing.TB, s *Service, login string, scopes []string, members map[string]string) *authstore.User {
	t.Helper()
	u, err := s.Store.CreateUser(authstore.NewUser{Login: login, Tier: "free", Scopes: scopes}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	for key, role := range members {
		typ, name, err := authstore.SplitResourceKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if u, _, err = s.Store.SetMembership(login, typ, name, role, authstore.AdminActor); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// wantKind fails unless err is a refusal of kind (0: err is nil).
func wantKind(t testing.TB, err error, kind problem.Kind) {
	t.Helper()
	var e *problem.Error
	switch {
	case kind == 0 && err != nil:
		t.Errorf("unexpected error %v", err)
	case kind == 0:
	case !errors.As(err, &e):
		t.Errorf("error %v (%T) is not a refusal of kind %d", err, err, kind)
	case e.Kind != kind:
		t.Errorf("error %v: kind %d, want %d", err, e.Kind, kind)
	}
}

func TestCompilePolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		g    config.Global
		ok   bool
	}{
		{"test config", testGlobal(), true},
		{"bad rate", config.Global{Tiers: []config.Tier{{Name: "free", Rate: "fast"}}}, false},
		{"bad prefix", config.Global{TokenPrefix: "no spaces "}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := CompilePolicy(tc.g)
			if (err == nil) != tc.ok {
				t.Errorf("CompilePolicy: %v", err)
			}
		})
	}
}

func TestDefaultsOfAZeroService(t *testing.T) {
	t.Parallel()
	var s Service
	if d := time.Since(s.now()); d < 0 || d > time.Minute {
		t.Errorf("now() is %v off the wall clock", d)
	}
	if s.log() == nil {
		t.Error("log() is nil")
	}
}
