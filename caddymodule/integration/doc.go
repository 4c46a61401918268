// Package integration holds Gatehouse's end-to-end tests: a real Caddy
// (in process, through caddytest, or the built binary) in front of a real
// upstream on loopback, with a real bbolt file. caddytest always talks to
// one admin port, so every such test lives in this one package.
//
// Ports: GATEHOUSE_TEST_PORT (default 29000) is the admin port; the next
// ones serve HTTP and HTTPS and the built binary's own servers. Set it when
// running several copies of this suite on one machine.
package integration
