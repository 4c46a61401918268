// Command benchserver is the other half of bench/proxy.sh: a tiny upstream
// that answers every request, and a tiny auth service for Caddy's
// forward_auth, the usual alternative to an in-process gateway.
package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"flag"
	"log"
	"net/http"
	"strings"
)

func main() {
	upstream := flag.String("upstream", "127.0.0.1:18081", "address of the upstream")
	auth := flag.String("auth", "127.0.0.1:18082", "address of the forward_auth service")
	token := flag.String("token", "", "the one Bearer token the auth service accepts")
	flag.Parse()
	if *token == "" {
		log.Fatal("benchserver: -token is required")
	}
	want := sha256.Sum256([]byte(*token))

	go func() {
		log.Fatal(http.ListenAndServe(*upstream, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("ok " + r.Header.Get("Gatehouse-User") + r.Header.Get("Remote-User") + "\n"))
		})))
	}()
	// The auth service does what a minimal external verifier must: parse
	// the header, compare a hash in constant time, answer with identity
	// headers for forward_auth to copy.
	log.Fatal(http.ListenAndServe(*auth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Remote-User", "bench")
		w.WriteHeader(http.StatusOK)
	})))
}
