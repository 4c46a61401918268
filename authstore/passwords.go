package authstore

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2id cost for new hashes. 46 MiB and two passes is OWASP's
// recommended argon2id setting; one hash took about 60 ms on the project's
// 2-core machine (BenchmarkHashPassword), inside the 50–100 ms the design
// asks for: slow for an offline guesser, cheap enough for a login.
const (
	argonMemory  = 46 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on parameters of stored hashes (which may come from an import or
// from the admin API), so a planted hash cannot make a login take gigabytes
// or minutes.
const (
	maxArgonMemory = 1 << 20 // 1 GiB in KiB
	maxArgonTime   = 20
	maxPasswordLen = 1024
	// MinPasswordLen is the shortest password Gatehouse accepts.
	MinPasswordLen = 8
)

// ErrBadCredentials is every failed password or code check: which part was
// wrong, or whether the account exists, is never told.
var ErrBadCredentials = errors.New("incorrect login, password or one-time code")

// ErrTOTPRequired is a correct password for an account with TOTP, sent
// without a one-time code. It matches ErrBadCredentials too, so callers
// that do not tell the two apart treat it as any failed login.
var ErrTOTPRequired error = totpRequiredError{}

type totpRequiredError struct{}

func (totpRequiredError) Error() string { return "one-time code required" }

// Is makes ErrTOTPRequired match ErrBadCredentials.
func (totpRequiredError) Is(target error) bool { return target == ErrBadCredentials }

// ErrBusy means that too many password checks are already waiting for a
// hashing slot: the caller answers 503 with Retry-After instead of joining
// an unbounded queue.
var ErrBusy = errors.New("too many password checks in progress")

// hashWaitersPerSlot bounds the queue for hashing slots: at about 60 ms a
// hash, 16 waiters per slot wait at most about a second. Beyond that a
// burst of logins is refused rather than piling up goroutines and
// requests that their clients have long given up on.
const hashWaitersPerSlot = 16

// hashes bounds concurrent password hashes: each argon2id hash holds
// argonMemory of RAM, so a burst of logins must queue rather than exhaust
// memory, and the queue is bounded too.
var hashes = newHashQueue(max(2, runtime.GOMAXPROCS(0)), hashWaitersPerSlot)

// hashQueue is a counting semaphore with a bounded, context-aware queue.
type hashQueue struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
}

func newHashQueue(slots, waitersPerSlot int) *hashQueue {
	return &hashQueue{slots: make(chan struct{}, slots), maxWaiting: int64(slots * waitersPerSlot)}
}

// acquire takes a slot, waiting while ctx lasts; a full queue is ErrBusy
// at once. The caller releases the slot when its hash is done.
func (q *hashQueue) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case q.slots <- struct{}{}:
		return nil
	default:
	}
	if q.waiting.Add(1) > q.maxWaiting {
		q.waiting.Add(-1)
		return ErrBusy
	}
	defer q.waiting.Add(-1)
	select {
	case q.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *hashQueue) release() { <-q.slots }

// CheckPasswordPolicy reports whether a new password is acceptable: 8 to
// 1024 bytes of valid UTF-8.
func CheckPasswordPolicy(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("password: must be at least %d characters", MinPasswordLen)
	case len(pw) > maxPasswordLen:
		return fmt.Errorf("password: must be at most %d bytes", maxPasswordLen)
	case !utf8.ValidString(pw):
		return errors.New("password: must be valid UTF-8")
	}
	return nil
}

// HashPassword returns the argon2id hash of pw in PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash). It is HashPasswordContext
// without a deadline, for commands and tests.
func HashPassword(pw string) (string, error) {
	return HashPasswordContext(context.Background(), pw)
}

// HashPasswordContext is HashPassword for a request: it waits for a
// hashing slot only while ctx lasts, and fails with ErrBusy when too many
// hashes are queued already.
func HashPasswordContext(ctx context.Context, pw string) (string, error) {
	if err := CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	if err := hashes.acquire(ctx); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	hashes.release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// argonHash is a parsed PHC argon2id string.
type argonHash struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func parseArgon2id(phc string) (*argonHash, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return nil, errors.New("not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return nil, fmt.Errorf("argon2id version %q: want v=%d", parts[2], argon2.Version)
	}
	h := &argonHash{}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil {
		return nil, fmt.Errorf("argon2id parameters %q: %w", parts[3], err)
	}
	if h.memory < 8 || h.memory > maxArgonMemory || h.time < 1 || h.time > maxArgonTime || h.threads < 1 {
		return nil, fmt.Errorf("argon2id parameters %q out of bounds", parts[3])
	}
	var err error
	b64 := base64.RawStdEncoding
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return nil, errors.New("argon2id salt: malformed")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return nil, errors.New("argon2id hash: malformed")
	}
	return h, nil
}

// maxBcryptCost bounds imported bcrypt hashes: each step doubles the
// work, and a cost-31 hash would hold a hashing slot (and with it every
// other login) for days.
const maxBcryptCost = 14

// ValidatePasswordHash reports whether s is a hash Gatehouse can verify:
// argon2id in PHC format within sane cost bounds, or bcrypt of cost at
// most 14.
func ValidatePasswordHash(s string) error {
	if isBcrypt(s) {
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil {
			return fmt.Errorf("bcrypt hash: %w", err)
		}
		if cost > maxBcryptCost {
			return fmt.Errorf("bcrypt hash: cost %d is above %d", cost, maxBcryptCost)
		}
		return nil
	}
	_, err := parseArgon2id(s)
	return err
}

func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// verifyPassword reports whether pw matches the stored hash, in constant
// time with respect to the hash's content. It waits for a hashing slot
// while ctx lasts (ErrBusy when the queue is full).
func verifyPassword(ctx context.Context, stored, pw string) (bool, error) {
	if len(pw) > maxPasswordLen {
		return false, nil
	}
	if isBcrypt(stored) {
		if err := hashes.acquire(ctx); err != nil {
			return false, err
		}
		err := bcrypt.CompareHashAndPassword([]byte(stored), []byte(pw))
		hashes.release()
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		}
		return false, fmt.Errorf("bcrypt: %w", err)
	}
	h, err := parseArgon2id(stored)
	if err != nil {
		return false, err
	}
	if err := hashes.acquire(ctx); err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	hashes.release()
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// fakeHash is compared against when the account does not exist or has no
// password, so that a login for an unknown user costs the same as one for a
// known user and response time does not reveal which logins exist.
var fakeHash = sync.OnceValue(func() string {
	h, err := HashPassword(rand.Text())
	if err != nil {
		// Only a failing random source gets here; a constant hash keeps the
		// work equal all the same.
		return "$argon2id$v=19$m=47104,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE"
	}
	return h
})

// WarmPasswordCheck computes the fake hash ahead of the first login, so the
// first login for an unknown user is not faster than later ones.
func WarmPasswordCheck() { fakeHash() }
