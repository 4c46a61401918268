package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// refreshLockWait bounds how long a renewal waits for another process's
// renewal of the same account: a refresh is one request.
const refreshLockWait = 60 * time.Second

// StoredCredentials are the [Credentials] of one account kept in a
// [Store]: the token is the stored one, and renewing a session refreshes
// it at most once per stale token, across the goroutines that share this
// value (a mutex) and across processes that share the store (a lock file
// per account beside hosts.yml; once it holds the lock, a renewal reads
// the account again, since another process may have refreshed it
// meanwhile, and then uses that token instead of refreshing). A refresh
// the server refuses marks the account [StateInvalidated].
//
// Set Client to the client that sends the refresh (its own credentials are
// not used).
type StoredCredentials struct {
	// Store holds the account; Host and User name it (User empty: the
	// server's active account at the first use).
	Store *Store
	Host  string
	User  string
	// Client sends the refresh requests.
	Client *Client
	// OnRefresh, if set, is told of each refresh this value made (not of
	// tokens another process refreshed).
	OnRefresh func(*Host)

	mu  sync.Mutex
	cur *Host
}

// NewStoredCredentials returns the credentials of the account acct of the
// server key, as read from store, refreshed through c.
func NewStoredCredentials(store *Store, key string, acct *Host, c *Client) *StoredCredentials {
	return &StoredCredentials{Store: store, Host: key, User: acct.User, Client: c, cur: acct.credential()}
}

// Token implements Credentials. An invalidated session gives its error
// without a request.
func (s *StoredCredentials) Token(context.Context) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		if err := s.reload(); err != nil {
			return "", time.Time{}, err
		}
	}
	if s.cur.State == StateInvalidated {
		return "", time.Time{}, s.invalidated("")
	}
	return s.cur.Token, s.cur.ExpiresAt, nil
}

// Account returns a copy of the account as this value last saw it.
func (s *StoredCredentials) Account() *Host {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return nil
	}
	return s.cur.credential()
}

// Renew implements Credentials.
func (s *StoredCredentials) Renew(ctx context.Context, stale string) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.Token != stale && s.cur.State != StateInvalidated {
		// Another goroutine renewed it while this one waited.
		return s.cur.Token, s.cur.ExpiresAt, nil
	}
	if s.cur != nil && !s.cur.IsSession() {
		return "", time.Time{}, ErrCannotRenew
	}

	lock := flock.New(s.lockPath(), flock.SetPermissions(0o600))
	lctx, cancel := context.WithTimeout(ctx, refreshLockWait)
	defer cancel()
	if locked, err := lock.TryLockContext(lctx, 20*time.Millisecond); err != nil || !locked {
		if err == nil {
			err = lctx.Err()
		}
		return "", time.Time{}, fmt.Errorf("waiting for another gatehouse command to refresh the session on %s: %w", DisplayHost(s.Host), err)
	}
	defer lock.Unlock()

	// Under the lock, the stored account is the truth: another process
	// may have refreshed it, logged out, or found it invalidated.
	if err := s.reload(); err != nil {
		return "", time.Time{}, err
	}
	acct := s.cur
	switch {
	case acct.State == StateInvalidated:
		return "", time.Time{}, s.invalidated("")
	case acct.Token != stale:
		return acct.Token, acct.ExpiresAt, nil
	case !acct.IsSession() || acct.RefreshToken == "":
		return "", time.Time{}, ErrCannotRenew
	case !acct.RefreshExpiresAt.IsZero() && !s.Client.now().Before(acct.RefreshExpiresAt):
		return "", time.Time{}, &LoginError{Host: s.Host, Reason: ErrSessionInvalidated, CLI: s.Client.CLIName,
			Message: "the session expired on " + FormatTime(acct.RefreshExpiresAt)}
	}

	used := acct.RefreshToken
	tokens, err := s.Client.RefreshSession(ctx, used)
	if err != nil {
		if !errors.Is(err, ErrSessionInvalidated) {
			// Unreachable, rate limited, a server error: nothing is
			// known about the session, so nothing is recorded.
			return "", time.Time{}, err
		}
		uerr := s.Store.Update(ctx, func(f *HostsFile) error {
			f.UpdateAccount(s.Host, s.User, func(a *Host) {
				if a.RefreshToken == used {
					a.State = StateInvalidated
				}
			})
			return nil
		})
		s.cur.State = StateInvalidated
		if uerr != nil {
			return "", time.Time{}, fmt.Errorf("%w (and marking it in hosts.yml failed: %v)", err, uerr)
		}
		return "", time.Time{}, err
	}
	next := acct.credential()
	tokens.Apply(next)
	err = s.Store.Update(ctx, func(f *HostsFile) error {
		if !f.UpdateAccount(s.Host, s.User, func(a *Host) {
			if a.RefreshToken == used {
				tokens.Apply(a)
			}
		}) {
			return fmt.Errorf("the account %s on %s was removed meanwhile", s.User, DisplayHost(s.Host))
		}
		return nil
	})
	s.cur = next
	if err != nil {
		// The old refresh token is spent; the new one lives only here.
		// This process can go on; the others will have to log in again.
		return next.Token, next.ExpiresAt, fmt.Errorf("the session on %s was refreshed, but the new tokens could not be stored: %w", DisplayHost(s.Host), err)
	}
	if s.OnRefresh != nil {
		s.OnRefresh(next.credential())
	}
	return next.Token, next.ExpiresAt, nil
}

// Invalidate implements Invalidator: a session whose access token the
// server refused as revoked or unknown is marked invalidated, as a
// refused refresh would (the refresh token is as dead). A PAT is left
// as it is: auth status reports it as the server sees it.
func (s *StoredCredentials) Invalidate(ctx context.Context, token string, reason error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || !s.cur.IsSession() || s.cur.Token != token {
		return
	}
	s.cur.State = StateInvalidated
	_ = s.Store.Update(ctx, func(f *HostsFile) error {
		f.UpdateAccount(s.Host, s.User, func(a *Host) {
			if a.Token == token {
				a.State = StateInvalidated
			}
		})
		return nil
	})
}

// reload reads the account from the store; the caller holds mu.
func (s *StoredCredentials) reload() error {
	f, err := s.Store.Load()
	if err != nil {
		return err
	}
	a := f.Host(s.Host).Account(s.User)
	if a == nil || (a.Token == "" && a.RefreshToken == "" && a.SecretError() == nil) {
		return fmt.Errorf("%w to %s as %s (logged out meanwhile?); run: %s auth login -s %s",
			ErrNotLoggedIn, DisplayHost(s.Host), accountKey(s.User), cliName(s.Client.CLIName), DisplayHost(s.Host))
	}
	if err := a.SecretError(); err != nil {
		return fmt.Errorf("reading the session of %s on %s: %w", accountKey(s.User), DisplayHost(s.Host), err)
	}
	if s.User == "" {
		s.User = a.User
	}
	s.cur = a.credential()
	return nil
}

// invalidated is the error of a session the server refused to refresh.
func (s *StoredCredentials) invalidated(msg string) error {
	if msg == "" {
		msg = "the server refused to refresh it; log in again"
	}
	return &LoginError{Host: s.Host, Reason: ErrSessionInvalidated, Message: msg, CLI: s.Client.CLIName}
}

// lockPath is the lock file of the account's renewals, beside hosts.yml.
func (s *StoredCredentials) lockPath() string {
	sum := sha256.Sum256([]byte(s.Host + "\x00" + s.User))
	return filepath.Join(filepath.Dir(s.Store.Path()), "."+HostsFileName+".refresh-"+hex.EncodeToString(sum[:8])+".lock")
}
