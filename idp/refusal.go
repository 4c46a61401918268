package idp

import (
	"errors"
	"fmt"
	"net/http"
)

// Reasons a sign-in is refused, as logs, metrics and the audit trail
// name them; the pages that show them translate each (endpoints).
const (
	ReasonProviderError   = "provider_error"       // the provider answered error=… (access_denied)
	ReasonStateInvalid    = "state_invalid"        // no flow cookie, a tampered one, or a state that does not match
	ReasonStateReplayed   = "state_replayed"       // the flow was used already
	ReasonFlowExpired     = "flow_expired"         // the flow outlived FlowTTL
	ReasonTokenInvalid    = "token_invalid"        // the ID token failed verification (signature, issuer, audience, expiry, nonce)
	ReasonEmailUnverified = "email_not_verified"   // a domain allow-list needs a verified email, and there is none
	ReasonEmailDomain     = "email_domain"         // the verified email is at a domain not allowed
	ReasonGroup           = "group_not_allowed"    // in none of allow_groups
	ReasonOrg             = "org_not_allowed"      // in none of allow_orgs / allow_teams
	ReasonUnreachable     = "provider_unreachable" // discovery, token or API call failed
	ReasonDisabled        = "account_disabled"     // the linked account is disabled
	ReasonInternal        = "internal"             // Gatehouse's own failure
)

// Refusal is a sign-in refused: the page the browser sees and the line
// the log gets. It never holds a secret, a code or a token.
type Refusal struct {
	// Reason is one of the Reason constants.
	Reason string
	// Status is the HTTP status of the refusal page.
	Status int
	// Provider is the provider's display label, for the page.
	Provider string
	// Detail is for the log only: what exactly failed (the provider's
	// error code, the verifier's message), never a secret.
	Detail string
	// UserID is the account concerned, when one was found.
	UserID string
}

func (r *Refusal) Error() string {
	if r.Detail != "" {
		return fmt.Sprintf("sign-in with %s refused: %s: %s", r.Provider, r.Reason, r.Detail)
	}
	return fmt.Sprintf("sign-in with %s refused: %s", r.Provider, r.Reason)
}

func refuse(reason string, status int, detail string, args ...any) *Refusal {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &Refusal{Reason: reason, Status: status, Detail: detail}
}

func unreachable(err error) *Refusal {
	return refuse(ReasonUnreachable, http.StatusBadGateway, "%v", err)
}

// AsRefusal returns err's Refusal, or an internal one.
func AsRefusal(err error) *Refusal {
	if rf, ok := errors.AsType[*Refusal](err); ok {
		return rf
	}
	return refuse(ReasonInternal, http.StatusInternalServerError, "%v", err)
}
