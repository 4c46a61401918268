package client

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNetworkErrorsNameTheHost(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()

	tests := []struct {
		name    string
		host    string
		client  *http.Client
		want    string
		tls     bool
		timeout bool
	}{
		{"refused", closedURL, nil, "cannot reach 127.0.0.1:", false, false},
		{"untrusted certificate", tlsSrv.URL, nil, "TLS connection to https://127.0.0.1:", true, false},
		{"https to a plain server", strings.Replace(plain.URL, "http://", "https://", 1), nil, "does not speak TLS there; if it serves plain http, use -s http://127.0.0.1:", true, false},
		{"timeout", hang.URL, &http.Client{Timeout: 50 * time.Millisecond}, "request to 127.0.0.1:", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, err := NormalizeHost(tt.host)
			if err != nil {
				t.Fatal(err)
			}
			c := &Client{Host: host, Token: "gth_x", HTTPClient: tt.client}
			_, err = c.Whoami(t.Context())
			var ne *NetworkError
			if !errors.As(err, &ne) {
				t.Fatalf("Whoami error %v (%T) is not a NetworkError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q lacks %q", err, tt.want)
			}
			if ne.TLS() != tt.tls || ne.Timeout() != tt.timeout {
				t.Errorf("TLS() = %v, Timeout() = %v; want %v, %v", ne.TLS(), ne.Timeout(), tt.tls, tt.timeout)
			}
		})
	}
}
