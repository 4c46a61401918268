package problem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// AcceptedScopesHeader names what a refused route accepts, so a user can
// fix their token without reading docs.
const AcceptedScopesHeader = "Gatehouse-Accepted-Scopes"

// Body is the JSON body of every problem.
type Body struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Message     string `json:"message"`
}

// Write is the one place that answers with a problem: the RFC 6750
// challenge for realm, Gatehouse-Accepted-Scopes, any extra headers, and
// the JSON body.
func Write(w http.ResponseWriter, realm string, p *Problem) {
	SetHeaders(w.Header(), realm, p)
	body := Body{Error: p.Code, Message: p.Message}
	if p.OAuth {
		body.Description = p.Message
	}
	WriteJSON(w, p.Status, body)
}

// SetHeaders sets the headers of p's answer without writing it, for a
// caller that renders the body some other way (an HTML error page).
func SetHeaders(h http.Header, realm string, p *Problem) {
	if p.Challenge != NoChallenge {
		h.Set("WWW-Authenticate", ChallengeFor(realm, p))
	}
	if p.Accepted != "" {
		h.Set(AcceptedScopesHeader, p.Accepted)
	}
	for k, v := range p.Headers {
		h[k] = v
	}
}

// ChallengeFor is the WWW-Authenticate value of p for realm.
func ChallengeFor(realm string, p *Problem) string {
	var b strings.Builder
	fmt.Fprintf(&b, `Bearer realm=%q`, realm)
	if p.Challenge == WithCode {
		code := p.Code
		if p.ChallengeCode != "" {
			code = p.ChallengeCode
		}
		fmt.Fprintf(&b, `, error=%q, error_description=%q`, code, p.Message)
		if p.Scope != "" {
			fmt.Fprintf(&b, `, scope=%q`, p.Scope)
		}
	}
	return b.String()
}

// WriteJSON writes v as the JSON body with status; responses about
// credentials are never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // bodies are JSON for clients, not HTML
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"server_error","message":"internal error"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
