// Package problem is Gatehouse's one error model: a Problem is a refused
// request or a failed operation as the client sees it (status, error
// code, message, RFC 6750 challenge, extra headers) and as the operator
// sees it (a reason for logs and metrics, a subject naming the credential
// without revealing it). Write is the one place that answers with one:
// the same JSON body {"error","message"} for every endpoint, page API and
// the admin API, and the challenge RFC 6750 asks for.
//
// The package knows HTTP and nothing of Caddy or the store.
package problem
