package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestCaddyfileAdapt pins the JSON the Caddyfile adapter produces for the
// documented syntax, including the handler's place before reverse_proxy
// without a route block or an order option.
func TestCaddyfileAdapt(t *testing.T) {
	entries, err := filepath.Glob("testdata/*.caddyfiletest")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, name := range entries {
		t.Run(filepath.Base(name), func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(raw), "\n----------\n")
			if !ok {
				t.Fatalf("%s: missing ---------- separator", name)
			}
			caddytest.AssertAdapt(t, input+"\n", "caddyfile", strings.TrimRight(want, "\n"))
		})
	}
}

// TestCaddyfileErrors checks that bad configuration fails at load with the
// file and line of the offending token, as `caddy run` reports it.
func TestCaddyfileErrors(t *testing.T) {
	cases := []struct {
		name, body, want string
		line             int
	}{
		{"unknown scope in a rule", `{
	gatehouse {
		scopes wiki:read
	}
}
:8080 {
	gatehouse {
		rule GET /x scope papers:write
	}
}`, "unknown scope papers:write", 8},
		{"unknown global option", `{
	gatehouse {
		scopes wiki:read
		colour blue
	}
}`, "unrecognized gatehouse option 'colour'", 4},
		{"console off and moved", `:8080 {
	gatehouse {
		endpoints {
			consol off
		}
	}
}`, "unknown endpoint 'consol'", 4},
		{"unknown subdirective", `:8080 {
	gatehouse {
		rulez GET /x anonymous
	}
}`, "unrecognized gatehouse subdirective 'rulez'", 3},
		{"bad scope syntax", `{
	gatehouse {
		scopes wiki café
	}
}`, "must be printable ASCII", 3},
		{"unknown default tier", `{
	gatehouse {
		tier free 10/1m
		default_tier gold
	}
}`, `tier "gold"`, 4},
		{"bad rate", `{
	gatehouse {
		tier free lots
	}
}`, "rate", 3},
		{"bad prefix", `{
	gatehouse {
		token_prefix Q
	}
}`, "token prefix", 3},
		{"pat_max_days zero", `{
	gatehouse {
		pat_max_days 0
	}
}`, "whole number from 1", 3},
		{"unknown requirement", `:8080 {
	gatehouse {
		rule GET /x sometimes
	}
}`, "unknown requirement 'sometimes'", 3},
		{"unknown budget", `:8080 {
	gatehouse {
		rule GET /x anonymous limit search
	}
}`, `unknown budget "search"`, 3},
		{"unknown endpoint", `:8080 {
	gatehouse {
		endpoints {
			logon /signin
		}
	}
}`, "unknown endpoint 'logon'", 4},
		{"identity provider type", `{
	gatehouse {
		identity_provider corp saml {
			client_id x
		}
	}
}`, `type "saml": oidc or github`, 3},
		{"identity provider option", `{
	gatehouse {
		identity_provider corp oidc {
			issuer https://id.example.com
			client_id x
			client_secret {env.X}
			allow_domain example.com
		}
	}
}`, "unrecognized option 'allow_domain'", 7},
		{"identity provider scope", `{
	gatehouse {
		scopes wiki:read
		identity_provider corp oidc {
			issuer https://id.example.com
			client_id x
			client_secret {env.X}
			scopes papers:read
		}
	}
}`, "unknown scope papers:read", 8},
		{"local_login", `{
	gatehouse {
		local_login maybe
	}
}`, `local_login "maybe": on or off`, 3},
		{"unknown role", `{
	gatehouse {
		resource project read edit
	}
}
:8080 {
	gatehouse {
		rule * /p/{project}/* role project owner
	}
}`, `unknown role "owner"`, 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "Caddyfile")
			os.WriteFile(file, []byte(tc.body), 0o600)
			_, stderr, err := runCaddy(t, "adapt", "--config", file)
			stderr = strings.ReplaceAll(stderr, `\"`, `"`) // the error is a JSON log line
			if err == nil {
				t.Fatalf("adapted without error")
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("error does not mention %q:\n%s", tc.want, stderr)
			}
			if at := file + ":" + strconv.Itoa(tc.line); !strings.Contains(stderr, at) {
				t.Errorf("error does not point at %s:\n%s", at, stderr)
			}
		})
	}
}
