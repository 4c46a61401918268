package caddymodule

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestCaddyfileStoreEtcd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		err      string // substring; "" parses
	}{
		{"full", `gatehouse {
			store etcd {
				endpoints http://10.0.0.1:2379 http://10.0.0.2:2379
				endpoints https://10.0.0.3:2379
				prefix /gh/
				mirror /var/lib/gatehouse/mirror.db
				max_staleness 30s
				on_stale serve
				edge_id edge-a
				username gatehouse
				password {env.ETCD_PASSWORD}
				tls {
					ca /etc/gatehouse/ca.pem
					cert /etc/gatehouse/edge.pem
					key /etc/gatehouse/edge-key.pem
				}
			}
		}`, ""},
		{"path store stays bbolt", `gatehouse {
			store /tmp/gh.db
		}`, ""},
		{"no endpoints", `gatehouse {
			store etcd {
				prefix /gh/
			}
		}`, "at least one endpoint"},
		{"bad endpoint", `gatehouse {
			store etcd {
				endpoints 10.0.0.1:2379
			}
		}`, "want http://host:port"},
		{"bad prefix", `gatehouse {
			store etcd {
				endpoints http://a:2379
				prefix gh
			}
		}`, "must start and end with /"},
		{"bad policy", `gatehouse {
			store etcd {
				endpoints http://a:2379
				on_stale maybe
			}
		}`, "want refuse or serve"},
		{"unknown option", `gatehouse {
			store etcd {
				endpoints http://a:2379
				mirrors /x
			}
		}`, `unknown option "mirrors"`},
		{"cert without key", `gatehouse {
			store etcd {
				endpoints https://a:2379
				tls {
					cert /x.pem
				}
			}
		}`, "cert and key go together"},
		{"extra argument", `gatehouse {
			store /a.db /b.db
		}`, "wrong argument count"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := unmarshalGlobal(caddyfile.NewTestDispenser(c.in))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.name != "full" {
				if g.Etcd != nil || g.Store != "/tmp/gh.db" {
					t.Fatalf("bbolt store: %+v", g)
				}
				return
			}
			e := g.Etcd
			if e == nil || len(e.Endpoints) != 3 || e.Prefix != "/gh/" || e.Mirror != "/var/lib/gatehouse/mirror.db" ||
				time.Duration(e.MaxStaleness) != 30*time.Second || e.OnStale != "serve" || e.EdgeID != "edge-a" ||
				e.Password != "{env.ETCD_PASSWORD}" || e.TLS == nil || e.TLS.Key != "/etc/gatehouse/edge-key.pem" {
				t.Fatalf("parsed %+v", e)
			}
		})
	}
}
