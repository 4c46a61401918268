// Package ratelimit decides, per key, whether a request fits a tier's quota.
//
// The gateway keeps one *Limiter per tier (anonymous, free, pro, …) and asks
// it about every request, keyed by user id, or by client IP for anonymous
// traffic. Each Limiter enforces one Policy ("600 requests per minute, bursts
// of up to 100") with the generic cell rate algorithm (GCRA): per key it keeps
// a single number, the theoretical arrival time (TAT) of the next request, so
// a tracked key costs one map entry and eight bytes of state whatever its
// quota. The Decision it returns carries what the response needs: allowed or
// not, Retry-After, and the IETF RateLimit / RateLimit-Policy field values
// (draft-ietf-httpapi-ratelimit-headers-11).
//
// # Concurrency
//
// All methods of a Limiter are safe for concurrent use. Keys are spread over
// independent shards; a lookup takes only its shard's read lock, and the
// decision itself is a compare-and-swap loop on the key's TAT, so requests for
// different keys never wait for each other and requests for one key never
// hold a lock while deciding. A shard's write lock is taken only to add a key,
// to evict one, and by Sweep. Allow does not allocate for a key that is
// already tracked.
//
// Decisions for one key are linearizable: however many goroutines ask at
// once, the admitted requests are exactly those a single-threaded GCRA would
// admit in some order (unless the key is evicted, below). Sweep only drops
// keys whose state equals that of a new key (TAT in the past), and it does so
// atomically with respect to concurrent Allow calls, so sweeping never
// changes a decision.
//
// # Memory
//
// The number of tracked keys is bounded by Options.MaxKeys. When a shard is
// full, adding a key first drops idle keys it finds; if there are none (a
// flood of distinct keys), it evicts the key closest to becoming idle among a
// small random sample. An evicted key that was not idle loses its state and
// starts again with a full budget: under a flood of more than MaxKeys active
// keys the limiter becomes more lenient, by at most one burst per eviction,
// but memory never grows past the bound and nothing fails. Size MaxKeys well
// above the expected number of concurrently active keys, and call Sweep
// periodically (for example once per Window) so that eviction stays rare.
//
// # Time
//
// The limiter measures time with the monotonic clock, so a step of the wall
// clock (NTP, a VM resume) neither grants nor withholds budget.
//
// # What it is not
//
// It is not HTTP middleware and knows nothing of Caddy, requests or
// identities: choosing the key (never a raw X-Forwarded-For) and the tier is
// the caller's job. State lives in this process only: it is not shared
// between edges, does not survive a restart, and a new Limiter starts with
// every key fresh. It limits request rates, not concurrent requests or bytes.
package ratelimit
