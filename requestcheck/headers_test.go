package requestcheck

import (
	"bufio"
	"fmt"
	"github.com/gatehouse/gatehouse/problem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestStripNamespace(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"Gatehouse-User", "gatehouse-tier", "X-Gatehouse-Scopes", "Gatehouse_User", "gatehouse.user", "X-Gatehouse_Id", "X-Other", "Gatehousex", "Gatehouse"} {
		h[k] = []string{"v"}
	}
	StripNamespace(h)
	if len(h) != 3 || h["X-Other"] == nil || h["Gatehousex"] == nil || h["Gatehouse"] == nil {
		t.Errorf("left %v", h)
	}
}

// TestConnectionTokens: Gatehouse's names are removed from Connection in
// any case and spelling, so a proxy cannot be told to drop the identity
// (class 3); other tokens survive.
func TestConnectionTokens(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string // nil: header deleted
	}{
		{[]string{"close, Gatehouse-User, Gatehouse-Scopes"}, []string{"close"}},
		{[]string{"gatehouse-user"}, nil},
		{[]string{"keep-alive", "X-GATEHOUSE-TIER,Upgrade"}, []string{"keep-alive, Upgrade"}},
		{[]string{"Gatehouse_User , gatehouse.scopes,,close"}, []string{"close"}},
		{[]string{"close"}, []string{"close"}},
		{[]string{"Upgrade, X-Gatehousefoo"}, []string{"Upgrade, X-Gatehousefoo"}},
		{[]string{"close, X-HTTP-Method-Override, x_http_method"}, []string{"close"}},
	} {
		h := http.Header{"Connection": tc.in}
		dropConnectionTokens(h)
		got, ok := h["Connection"]
		if tc.want == nil {
			if ok {
				t.Errorf("%q: left %q", tc.in, got)
			}
			continue
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTrailers sends chunked requests with trailers to a real net/http
// server (class 4): one that announces a namespace trailer is refused;
// namespace trailers it did not announce are gone by the time the body
// has been read, while other trailers stay.
func TestTrailers(t *testing.T) {
	type seen struct {
		problem *problem.Problem
		trailer http.Header
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := Request(r)
		if p == nil {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		got <- seen{p, r.Trailer.Clone()}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name     string
		announce string
		trailers string
		refused  bool
		want     string // the trailers left, sorted "K=V;"
	}{
		{"announced", "Gatehouse-User", "Gatehouse-User: admin\r\n", true, ""},
		{"announced lower case", "x-gatehouse-scopes, X-Checksum", "x-gatehouse-scopes: all\r\n", true, ""},
		{"announced underscore", "Gatehouse_User", "Gatehouse_User: admin\r\n", true, ""},
		{"unannounced", "X-Checksum", "X-Checksum: 1\r\nGatehouse-User: admin\r\ngatehouse-tier: pro\r\n", false, "X-Checksum=1;"},
		{"none announced", "", "Gatehouse-User: admin\r\nX-Gatehouse-Id: 1\r\n", false, ""},
		{"ordinary", "X-Checksum", "X-Checksum: 1\r\n", false, "X-Checksum=1;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			announce := ""
			if tc.announce != "" {
				announce = "Trailer: " + tc.announce + "\r\n"
			}
			fmt.Fprintf(conn, "POST /api/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n%s\r\n5\r\nhello\r\n0\r\n%s\r\n", announce, tc.trailers)
			var s seen
			select {
			case s = <-got:
			case <-time.After(10 * time.Second): // the handler failed (a panic net/http swallowed)
				t.Fatal("the server never ran the check")
			}
			if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
				resp.Body.Close()
			}
			if (s.problem != nil) != tc.refused {
				t.Fatalf("problem %v, want refused=%v", s.problem, tc.refused)
			}
			if tc.refused {
				return
			}
			left := ""
			for _, k := range []string{"Gatehouse-User", "Gatehouse-Tier", "X-Gatehouse-Id", "X-Checksum"} {
				if v := s.trailer.Get(k); v != "" {
					left += k + "=" + v + ";"
				}
			}
			if left != tc.want {
				t.Errorf("trailers left %q, want %q (all: %v)", left, tc.want, s.trailer)
			}
		})
	}
}

// FuzzRequestHeaders runs the header and method checks over arbitrary
// methods and header values: whatever passes has a known upper-case
// method, no namespace header, no namespace token in Connection, and (by
// default) no method-override header.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("GET", "Gatehouse-User", "close, Gatehouse-User", "X-HTTP-Method-Override", "DELETE")
	f.Add("delete", "x-gatehouse-tier", "gatehouse_user", "x_http_method", "put")
	f.Fuzz(func(t *testing.T, method, name, connection, override, value string) {
		r := httptest.NewRequest("GET", "/api/x", nil)
		r.Method = method
		r.Header[name] = []string{value}
		r.Header["Connection"] = []string{connection}
		r.Header[override] = []string{value}
		if p := Request(r); p != nil {
			if p.Status != 400 {
				t.Fatalf("status %d", p.Status)
			}
			return
		}
		m, p := SiteMethod(r, false)
		if p != nil {
			return
		}
		if m != method || strings.ToUpper(m) != m || !knownMethod(m) {
			t.Fatalf("judged %q for %q", m, method)
		}
		for k := range r.Header {
			if InNamespace(k) || isOverrideHeader(k) {
				t.Fatalf("header %q left", k)
			}
		}
		for _, v := range r.Header["Connection"] {
			for tok := range strings.SplitSeq(v, ",") {
				if InNamespace(strings.TrimSpace(tok)) {
					t.Fatalf("Connection %q left", v)
				}
			}
		}
	})
}

func knownMethod(m string) bool { return Method(m) == nil }
