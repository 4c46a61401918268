// Package assertion signs the identity assertion Gatehouse hands an
// upstream (the Gatehouse-Assertion header): a short-lived JWT, EdDSA or
// ES256, over who the request acts as, so the upstream can verify the
// identity instead of trusting headers that anything reaching it around
// the gateway could set. It also writes the JWKS that publishes the
// public keys. The keys live in the store (authstore.AssertionKey); this
// package holds no key of its own and no HTTP routing.
package assertion
