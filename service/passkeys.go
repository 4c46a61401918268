package service

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// Passkeys (WebAuthn, github.com/go-webauthn/webauthn): a signed-in
// user registers named passkeys and removes them; anyone signs in with a
// discoverable passkey, no login typed. Every ceremony's challenge is
// kept here, bound to what started it (the browser session that
// registers, the cookie of the browser that signs in), and is spent by
// the first answer, right or wrong.

// PasskeyBadResponse is the refusal reason of a WebAuthn answer that
// does not verify, belongs to no ceremony, or to another one (400).
const PasskeyBadResponse = "passkey_invalid"

// RelyingParty is who passkeys are registered to: the site's host name
// (the RP id) and the origins its pages are served from.
type RelyingParty struct {
	ID      string
	Origins []string
	Name    string
}

// RelyingPartyFor is the relying party of a site addressed as base
// (scheme://host[:port]); an operator behind a proxy can name it
// outright instead.
func RelyingPartyFor(base, name string) (RelyingParty, error) {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return RelyingParty{}, fmt.Errorf("passkeys: the site address %q has no host", base)
	}
	return RelyingParty{ID: u.Hostname(), Origins: []string{u.Scheme + "://" + u.Host}, Name: name}, nil
}

func (rp RelyingParty) webauthn() (*webauthn.WebAuthn, error) {
	return webauthn.New(&webauthn.Config{RPID: rp.ID, RPDisplayName: rp.Name, RPOrigins: rp.Origins,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL},
		}})
}

// ceremonyTTL is how long a challenge can be answered.
const ceremonyTTL = 5 * time.Minute

// Ceremonies holds the challenges in flight. The zero value is ready.
type Ceremonies struct {
	mu      sync.Mutex
	pending map[string]ceremony
}

type ceremony struct {
	data    webauthn.SessionData
	rp      RelyingParty
	userID  string // registration: whose
	name    string // registration: the passkey's name
	expires time.Time
}

func (c *Ceremonies) put(key string, v ceremony) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]ceremony{}
	}
	for k, old := range c.pending { // few in flight; drop the stale ones
		if time.Now().After(old.expires) {
			delete(c.pending, k)
		}
	}
	c.pending[key] = v
}

// take removes and returns the ceremony of key: one answer per
// challenge, whatever the answer.
func (c *Ceremonies) take(key string) (ceremony, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.pending[key]
	delete(c.pending, key)
	if !ok || time.Now().After(v.expires) {
		return ceremony{}, false
	}
	return v, true
}

// passkeyUser is a user as the WebAuthn library sees one.
type passkeyUser struct {
	u     *authstore.User
	creds []webauthn.Credential
}

func (p *passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Login }
func (p *passkeyUser) WebAuthnDisplayName() string                { return p.u.Login }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

func newPasskeyUser(u *authstore.User) *passkeyUser {
	pu := &passkeyUser{u: u}
	for _, pk := range u.Passkeys {
		var c webauthn.Credential
		if json.Unmarshal(pk.Credential, &c) == nil {
			pu.creds = append(pu.creds, c)
		}
	}
	return pu
}

func badPasskey(msg string) *problem.Problem {
	return problem.New(http.StatusBadRequest, "invalid_request", PasskeyBadResponse, msg)
}

// BeginPasskeyRegistration starts registering a passkey named name for
// u, bound to the browser session sessionID; the answer is the options
// for navigator.credentials.create.
func (s *Service) BeginPasskeyRegistration(c *Ceremonies, rp RelyingParty, u *authstore.User, sessionID, name string) (*protocol.CredentialCreation, error) {
	if _, err := authstore.CheckTokenName(name); err != nil {
		return nil, badInput("passkey name: %v", err)
	}
	w, err := rp.webauthn()
	if err != nil {
		return nil, err
	}
	pu := newPasskeyUser(u)
	creation, data, err := w.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired,
		}))
	if err != nil {
		return nil, fmt.Errorf("passkey registration: %w", err)
	}
	c.put("reg|"+sessionID, ceremony{data: *data, rp: rp, userID: u.ID, name: name, expires: time.Now().Add(ceremonyTTL)})
	return creation, nil
}

// FinishPasskeyRegistration verifies the authenticator's answer r to
// the registration that session sessionID of u began, and stores the
// passkey.
func (s *Service) FinishPasskeyRegistration(c *Ceremonies, u *authstore.User, sessionID, ip string, r *http.Request) (authstore.Passkey, error) {
	cer, ok := c.take("reg|" + sessionID)
	if !ok || cer.userID != u.ID {
		return authstore.Passkey{}, badPasskey("no passkey registration is in progress for this session; start again")
	}
	w, err := cer.rp.webauthn()
	if err != nil {
		return authstore.Passkey{}, err
	}
	cred, err := w.FinishRegistration(newPasskeyUser(u), cer.data, r)
	if err != nil {
		s.log().Info("passkey registration refused", zap.String("user", u.Login), zap.Error(err))
		return authstore.Passkey{}, badPasskey("the passkey's answer did not verify")
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return authstore.Passkey{}, err
	}
	pk := authstore.Passkey{ID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: cer.name, Credential: raw}
	if _, err := s.Store.AddPasskey(u.Login, pk, authstore.UserActor(u.ID, ip)); err != nil {
		if errors.Is(err, authstore.ErrTooManyPasskeys) {
			return authstore.Passkey{}, badInput("you have %d passkeys already; remove one first", authstore.MaxPasskeys)
		}
		return authstore.Passkey{}, err
	}
	s.log().Info("passkey added", zap.String("user", u.Login), zap.String("client_ip", ip))
	return pk, nil
}

// RemovePasskey removes passkey id of u.
func (s *Service) RemovePasskey(u *authstore.User, id, ip string) error {
	_, err := s.Store.RemovePasskey(u.Login, id, authstore.UserActor(u.ID, ip))
	return err
}

// BeginPasskeyLogin starts a discoverable sign-in; key binds it to the
// browser (a fresh value its cookie carries).
func (s *Service) BeginPasskeyLogin(c *Ceremonies, rp RelyingParty) (assertion *protocol.CredentialAssertion, key string, err error) {
	w, err := rp.webauthn()
	if err != nil {
		return nil, "", err
	}
	assertion, data, err := w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("passkey login: %w", err)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", err
	}
	key = base64.RawURLEncoding.EncodeToString(b[:])
	c.put("login|"+key, ceremony{data: *data, rp: rp, expires: time.Now().Add(ceremonyTTL)})
	return assertion, key, nil
}

// FinishPasskeyLogin verifies the answer r to the sign-in bound to key
// and returns the user whose passkey it is; a disabled user is refused
// as a password login is.
func (s *Service) FinishPasskeyLogin(c *Ceremonies, key, ip string, r *http.Request) (*authstore.User, error) {
	cer, ok := c.take("login|" + key)
	if !ok {
		return nil, badPasskey("no passkey sign-in is in progress for this browser; start again")
	}
	w, err := cer.rp.webauthn()
	if err != nil {
		return nil, err
	}
	var owner *authstore.User
	user, cred, err := w.FinishPasskeyLogin(func(_, userHandle []byte) (webauthn.User, error) {
		u, err := s.Store.User(string(userHandle))
		if err != nil {
			return nil, err
		}
		owner = u
		return newPasskeyUser(u), nil
	}, cer.data, r)
	if err != nil || user == nil || owner == nil {
		s.log().Info("passkey sign-in refused", zap.String("client_ip", ip), zap.Error(err))
		return nil, badPasskey("the passkey's answer did not verify")
	}
	if owner.Disabled {
		return nil, &problem.Problem{Status: http.StatusForbidden, Code: "user_disabled", Message: "this account is disabled",
			Reason: "user_disabled", Subject: owner.ID}
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	if err := s.Store.UsePasskey(owner.ID, base64.RawURLEncoding.EncodeToString(cred.ID), raw); err != nil {
		return nil, err
	}
	s.log().Info("passkey sign-in", zap.String("user", owner.Login), zap.String("client_ip", ip))
	return owner, nil
}

// BeginPasskeySecondFactor starts the passkey step of a password login
// of u (who has TOTP on and sent no code): an assertion limited to u's
// passkeys, bound to the browser by key (its cookie).
func (s *Service) BeginPasskeySecondFactor(c *Ceremonies, rp RelyingParty, u *authstore.User) (assertion *protocol.CredentialAssertion, key string, err error) {
	w, err := rp.webauthn()
	if err != nil {
		return nil, "", err
	}
	assertion, data, err := w.BeginLogin(newPasskeyUser(u), webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, "", fmt.Errorf("passkey second factor: %w", err)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", err
	}
	key = base64.RawURLEncoding.EncodeToString(b[:])
	c.put("second|"+key, ceremony{data: *data, rp: rp, userID: u.ID, expires: time.Now().Add(ceremonyTTL)})
	return assertion, key, nil
}

// FinishPasskeySecondFactor verifies the passkey step bound to key and
// returns the user whose password began it.
func (s *Service) FinishPasskeySecondFactor(c *Ceremonies, key, ip string, r *http.Request) (*authstore.User, error) {
	cer, ok := c.take("second|" + key)
	if !ok {
		return nil, badPasskey("no sign-in is waiting for a passkey in this browser; sign in again")
	}
	u, err := s.Store.User(cer.userID)
	if err != nil {
		return nil, err
	}
	w, err := cer.rp.webauthn()
	if err != nil {
		return nil, err
	}
	cred, err := w.FinishLogin(newPasskeyUser(u), cer.data, r)
	if err != nil {
		s.log().Info("passkey second factor refused", zap.String("user", u.Login), zap.Error(err))
		return nil, badPasskey("the passkey's answer did not verify")
	}
	if u.Disabled {
		return nil, &problem.Problem{Status: http.StatusForbidden, Code: "user_disabled", Message: "this account is disabled",
			Reason: "user_disabled", Subject: u.ID}
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	if err := s.Store.UsePasskey(u.ID, base64.RawURLEncoding.EncodeToString(cred.ID), raw); err != nil {
		return nil, err
	}
	s.log().Info("passkey second factor", zap.String("user", u.Login), zap.String("client_ip", ip))
	return u, nil
}
