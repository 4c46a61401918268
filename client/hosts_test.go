package client

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestTokenHint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"gth_abcdEFGH1234567890", "gth_abcd****"},
		{"divbase_pat_XyZw0000000", "divbase_pat_XyZw****"},
		{"noprefixtoken", "nopr****"},
		{"gth_abc", "gth_****"},
		{"gth_", "****"},
		{"", "(none)"},
	}
	for _, tt := range tests {
		if got := TokenHint(tt.in); got != tt.want {
			t.Errorf("TokenHint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostNeverPrintsToken(t *testing.T) {
	const secret = "gth_abcdSECRETSECRETSECRETSECRET123456"
	h := Host{Token: secret, User: "alice"}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		if s := fmt.Sprintf(format, h); strings.Contains(s, "SECRET") {
			t.Errorf("Sprintf(%q, host) = %q shows the token", format, s)
		}
		if s := fmt.Sprintf(format, &h); strings.Contains(s, "SECRET") {
			t.Errorf("Sprintf(%q, &host) = %q shows the token", format, s)
		}
		if s := fmt.Sprintf(format, Token{AccessToken: secret}); strings.Contains(s, "SECRET") {
			t.Errorf("Sprintf(%q, token) = %q shows the token", format, s)
		}
	}
}

func TestResolve(t *testing.T) {
	a, b := "https://a.example", "https://b.example"
	one := &HostsFile{Hosts: map[string]*Host{a: {Token: "t1"}}}
	two := &HostsFile{Hosts: map[string]*Host{a: {Token: "t1"}, b: {Token: "t2"}}}
	twoDefault := &HostsFile{DefaultServer: b, Hosts: two.Hosts}
	tests := []struct {
		name    string
		f       *HostsFile
		server  string
		want    string
		wantErr error
	}{
		{"nothing stored", &HostsFile{}, "", "", ErrNotLoggedIn},
		{"nil file", nil, "", "", ErrNotLoggedIn},
		{"one host is the default", one, "", a, nil},
		{"flag wins", twoDefault, "a.example", a, nil},
		{"default server", twoDefault, "", b, nil},
		{"two and no default", two, "", "", ErrAmbiguousHost},
		{"flag names unknown host", one, "c.example", "", ErrNotLoggedIn},
		{"bad flag", one, "a.example/x", "", ErrInvalidHost},
		{"default without token", &HostsFile{DefaultServer: b, Hosts: one.Hosts}, "", "", ErrNotLoggedIn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, h, err := tt.f.Resolve(tt.server, "")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve: error %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr != ErrInvalidHost && !strings.Contains(err.Error(), "gatehouse ") {
					t.Errorf("error %q names no command to run", err)
				}
				return
			}
			if err != nil || key != tt.want || h == nil {
				t.Fatalf("Resolve = %q, %v, %v; want %q", key, h, err, tt.want)
			}
		})
	}
}

func TestRemoveHostClearsDefault(t *testing.T) {
	f := &HostsFile{DefaultServer: "https://a.example", Hosts: map[string]*Host{"https://a.example": {Token: "x"}}}
	if !f.RemoveHost("https://a.example") {
		t.Fatal("RemoveHost reported nothing removed")
	}
	if f.DefaultServer != "" || len(f.Hosts) != 0 {
		t.Fatalf("after RemoveHost: %+v", f)
	}
	if f.RemoveHost("https://a.example") {
		t.Fatal("RemoveHost of a missing host reported a removal")
	}
}
