package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// signingAlgs are the ID token algorithms accepted: asymmetric ones
// only. An HMAC-signed ID token would be keyed with the client secret,
// and "none" is no signature at all.
var signingAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA,
}

// oidcProvider is an OpenID Connect provider. Discovery runs at the
// first sign-in and is kept once it succeeds; go-oidc's remote key set
// fetches the JWKS again when a token names a key id it does not know,
// which is how a key rotation at the provider is picked up.
type oidcProvider struct {
	p      *Provider
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

// discover returns the provider's metadata and verifier, reading them
// the first time.
func (o *oidcProvider) discover(ctx context.Context) (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	prov, verifier := o.provider, o.verifier
	o.mu.Unlock()
	if prov != nil {
		return prov, verifier, nil
	}
	// Not under the lock: while the provider hangs, each sign-in waits
	// for its own discovery only, not for every one queued before it.
	// The key set keeps the context it was made with for later fetches:
	// give it the client and no deadline of this request.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), o.client)
	prov, err := oidc.NewProvider(pctx, o.p.cfg.Issuer)
	if err != nil {
		return nil, nil, unreachable(fmt.Errorf("discovery at %s: %w", o.p.cfg.Issuer, err))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil { // the first discovery to finish is kept
		o.provider = prov
		o.verifier = prov.Verifier(&oidc.Config{
			ClientID:             o.p.cfg.ClientID,
			SupportedSigningAlgs: signingAlgs,
			Now:                  o.p.now,
		})
	}
	return o.provider, o.verifier, nil
}

func (o *oidcProvider) oauth2(prov *oidc.Provider, redirect string) *oauth2.Config {
	// No "groups" scope by default: providers that do not know it refuse
	// the request (extra_scopes asks for it where it exists).
	scopes := []string{oidc.ScopeOpenID, "email", "profile"}
	for _, s := range o.p.cfg.ExtraScopes {
		if !contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{
		ClientID: o.p.cfg.ClientID, ClientSecret: o.p.secret,
		Endpoint: prov.Endpoint(), RedirectURL: redirect, Scopes: scopes,
	}
}

func (o *oidcProvider) authURL(ctx context.Context, redirect string, f *flow) (string, error) {
	prov, _, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	return o.oauth2(prov, redirect).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// oidcClaims are the ID token claims Gatehouse reads.
type oidcClaims struct {
	Email             string          `json:"email"`
	EmailVerified     json.RawMessage `json:"email_verified"`
	PreferredUsername string          `json:"preferred_username"`
	Name              string          `json:"name"`
	AuthorizedParty   string          `json:"azp"`
}

func (o *oidcProvider) exchange(ctx context.Context, redirect, code string, f *flow) (*Identity, error) {
	prov, verifier, err := o.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := o.oauth2(prov, redirect).Exchange(oidc.ClientContext(ctx, o.client), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, tokenError(err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, refuse(ReasonTokenInvalid, http.StatusBadGateway, "the token response holds no id_token")
	}
	idt, err := verifier.Verify(oidc.ClientContext(ctx, o.client), raw)
	if err != nil {
		return nil, refuse(ReasonTokenInvalid, http.StatusForbidden, "%v", err)
	}
	if !sameString(idt.Nonce, f.Nonce) {
		return nil, refuse(ReasonTokenInvalid, http.StatusForbidden, "the ID token's nonce is not this flow's")
	}
	if idt.Subject == "" {
		return nil, refuse(ReasonTokenInvalid, http.StatusForbidden, "%v", errNoSubject)
	}
	var c oidcClaims
	var all map[string]json.RawMessage
	if err := idt.Claims(&c); err != nil {
		return nil, refuse(ReasonTokenInvalid, http.StatusForbidden, "claims: %v", err)
	}
	if err := idt.Claims(&all); err != nil {
		return nil, refuse(ReasonTokenInvalid, http.StatusForbidden, "claims: %v", err)
	}
	// With several audiences, the token must say it was issued to us
	// (OpenID Connect Core 3.1.3.7, items 4 and 5); go-oidc checks only
	// that we are among them.
	if len(idt.Audience) > 1 && c.AuthorizedParty != o.p.cfg.ClientID {
		return nil, refuse(ReasonTokenInvalid, http.StatusForbidden, "the ID token has several audiences and azp %q is not this client", printable(c.AuthorizedParty))
	}
	id := &Identity{Provider: o.p.cfg.Name, Subject: idt.Subject, Username: c.PreferredUsername}
	if id.Username == "" {
		id.Username, _, _ = strings.Cut(c.Email, "@")
	}
	if c.Email != "" && verified(c.EmailVerified) {
		id.Email = c.Email
	}
	id.Groups = stringList(all[o.p.cfg.GroupsClaim])
	if err := o.p.checkEmail(id); err != nil {
		return nil, err
	}
	if err := o.p.checkGroups(id.Groups); err != nil {
		return nil, err
	}
	return id, nil
}

// verified reads email_verified, which some providers send as a string.
func verified(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && strings.EqualFold(s, "true")
}

// stringList reads a claim that is a list of strings or one string.
func stringList(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return []string{s}
	}
	return nil
}

// tokenError is the refusal for a failed code exchange: the provider's
// own refusal (a reused or forged code, a PKCE mismatch) or no answer.
func tokenError(err error) *Refusal {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		code := re.ErrorCode
		if code == "" && re.Response != nil {
			code = fmt.Sprintf("HTTP %d", re.Response.StatusCode)
		}
		return refuse(ReasonProviderError, http.StatusBadGateway, "token endpoint: %s", code)
	}
	return unreachable(fmt.Errorf("token endpoint: %w", err))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
