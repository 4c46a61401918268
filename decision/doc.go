// Package decision is Gatehouse's one authorization decision: who a
// request acts as (an Identity, once its credential has verified) against
// what a route or endpoint requires (a config.CompiledRule) gives a
// Decision, allow or the precise reason to refuse. Decide is a pure
// function: no store, clock, logger or request; the caller authenticates
// first and turns the decision into a response after.
//
// It does not verify credentials (an invalid credential never reaches it:
// it is refused before, and never downgraded to anonymous) and does not
// write responses.
package decision
