// Package integration holds Gatehouse's end-to-end tests: a real Caddy
// (in process, through caddytest, or the built binary) in front of a real
// upstream on loopback, with a real bbolt file. caddytest always talks to
// one admin port, so every such test lives in this one package.
//
// Ports: TestMain picks free ones (ports_test.go), so several copies of
// this suite can run on one machine. GATEHOUSE_TEST_PORT=N fixes them
// instead: N is the admin port, the next ones serve HTTP and HTTPS and
// the built binary's own servers. A run fails at once when a port it is
// about to use already answers.
//
// Home: TestMain points HOME and the XDG directories at a temporary
// directory (internal/testenv), so no test reads or writes the real ones.
package integration
