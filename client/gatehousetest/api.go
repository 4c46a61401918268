package gatehousetest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/api"
)

// authed checks the Bearer token as Gatehouse does (RFC 6750 denials),
// applies the rate limit, and sets Gatehouse-Token-Expiration.
func (s *Server) authed(next func(http.ResponseWriter, *http.Request, *Token)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
			writeJSON(w, http.StatusUnauthorized, api.Error{Error: "unauthorized", Message: "authentication required"})
			return
		}
		secret, ok := strings.CutPrefix(h, "Bearer ")
		deny := func(desc string) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gatehouse", error="invalid_token", error_description=%q`, desc))
			writeJSON(w, http.StatusUnauthorized, api.Error{Error: "invalid_token", Message: desc})
		}
		if ok && strings.HasPrefix(secret, "eyJ") {
			s.mu.Lock()
			sess, _, denial, known := s.sessionAuthLocked(secret)
			var tok Token
			if known {
				// As whoami tells it: the session's end, not the access
				// token's.
				tok = Token{Secret: secret, ID: sess.ID, Name: "session", User: sess.User, Scopes: sess.Scopes,
					ExpiresAt: sess.ExpiresAt, SessionID: sess.ID}
			}
			s.mu.Unlock()
			switch {
			case !known:
				deny("unknown session")
			case denial != "":
				deny(denial)
			default:
				next(w, r, &tok)
			}
			return
		}
		if !ok || !strings.HasPrefix(secret, "gth_") || len(secret) != 40 {
			deny("malformed token")
			return
		}
		s.mu.Lock()
		t, known := s.tokens[secret]
		var tok Token
		if known {
			tok = *t
		}
		disabled := known && s.disabled[t.User]
		limited := s.limited > 0
		if limited {
			s.limited--
		}
		retry := s.retry
		need := s.scopes[r.URL.Path]
		s.mu.Unlock()
		switch {
		case !known:
			deny("unknown token")
			return
		case !tok.ExpiresAt.IsZero() && s.now().After(tok.ExpiresAt):
			w.Header().Set(api.HeaderTokenExpiration, api.FormatExpiration(tok.ExpiresAt))
			deny("token expired")
			return
		case tok.Revoked:
			deny("token revoked")
			return
		case disabled:
			deny("user disabled")
			return
		}
		if !tok.ExpiresAt.IsZero() {
			w.Header().Set(api.HeaderTokenExpiration, api.FormatExpiration(tok.ExpiresAt))
		}
		if limited {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			writeJSON(w, http.StatusTooManyRequests, api.Error{Error: "rate_limited", Message: "rate limit exceeded"})
			return
		}
		for _, sc := range need {
			if !slices.Contains(tok.Scopes, sc) {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gatehouse", error="insufficient_scope", scope=%q`, sc))
				w.Header().Set(api.HeaderAcceptedScopes, strings.Join(need, " "))
				writeJSON(w, http.StatusForbidden, api.Error{Error: "insufficient_scope", Message: "insufficient scope: this token lacks " + sc})
				return
			}
		}
		next(w, r, &tok)
	}
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, t *Token) {
	body := api.Whoami{
		UserID: "u_" + t.User, Login: t.User, Tier: "free", Credential: api.CredentialPAT,
		Scopes: t.Scopes, TokenID: t.ID, TokenName: t.Name, TokenHint: t.Hint(),
		ExpiresAt: t.ExpiresAt.UTC(),
	}
	if t.SessionID != "" {
		body.Credential, body.TokenID, body.TokenName, body.TokenHint, body.SessionID = api.CredentialSession, "", "", "", t.SessionID
	}
	if body.Scopes == nil {
		body.Scopes = []string{}
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) revoke(w http.ResponseWriter, _ *http.Request, t *Token) {
	s.mu.Lock()
	if t.SessionID != "" {
		// As on the server: a session revokes PATs by id, not itself
		// (it logs out instead).
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, api.Error{Error: "invalid_request", Message: "name the token to revoke with token_id"})
		return
	}
	s.tokens[t.Secret].Revoked = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, api.RevokeResponse{Revoked: true, TokenID: t.ID})
}

// logout ends the caller's session (POST /logout from a script); a PAT
// has no session to end.
func (s *Server) logout(w http.ResponseWriter, _ *http.Request, t *Token) {
	n := 0
	s.mu.Lock()
	if t.SessionID != "" && !s.sessions[t.SessionID].Revoked {
		s.sessions[t.SessionID].Revoked, s.sessions[t.SessionID].Reason = true, "logged out"
		n = 1
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, api.LogoutResponse{LoggedOut: true, SessionsRevoked: n})
}

// echo answers any other path with what it received; /status/NNN answers
// NNN.
func (s *Server) echo(w http.ResponseWriter, r *http.Request, t *Token) {
	body, _ := io.ReadAll(r.Body)
	status := http.StatusOK
	if code, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok {
		if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 600 {
			status = n
		}
	}
	resp := map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(body),
		"content_type": r.Header.Get("Content-Type"), "user": t.User,
	}
	if status >= 400 {
		resp["error"] = "test_error"
		resp["message"] = "status " + strconv.Itoa(status) + " as asked"
	}
	writeJSON(w, status, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomBase62(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = base62[int(b[i])%len(base62)]
	}
	return string(b)
}
