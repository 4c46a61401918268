package endpoints

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// badNames are token names that every way of minting a token refuses.
var badNames = map[string]string{
	"NUL":           "\x00",
	"ANSI escape":   "\x1b[31m",
	"right-to-left": "a\u202eb",
	"invalid UTF-8": "\xff",
	"CR LF":         "\r\n",
	"CR LF inside":  "a\r\nb",
	"only spaces":   " \t ",
	"too long":      strings.Repeat("n", authstore.MaxTokenNameLen+1),
}

// TestTokenNamesRefused: the PAT page and device forms (tokenForm.read)
// and every minting path (service.CheckPATRequest: API, admin, device approval)
// refuse a bad name with a 400, and the form shows back only plain text.
func TestTokenNamesRefused(t *testing.T) {
	s := newTestSite(t, config.Global{TokenPrefix: "qat_", Scopes: []string{"papers:read"}}, nil)
	u, err := s.store.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range badNames {
		t.Run(name, func(t *testing.T) {
			f := tokenForm{NameField: "name", MaxDays: 30, Scopes: []scopeChoice{{Name: "papers:read"}}}
			_, formErr := f.read(url.Values{"name": {bad}, "expires_days": {"7"}, "scope": {"papers:read"}})
			if formErr == nil || formErr.ID != "pat.err_name" {
				t.Errorf("form: %+v", formErr)
			}
			if !utf8.ValidString(f.Name) || strings.ContainsFunc(f.Name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u202e' }) {
				t.Errorf("the form shows back %q", f.Name)
			}
			_, err := s.svc().CheckPATRequest(u, service.PATRequest{Name: bad, Scopes: []string{"papers:read"}, ExpiresDays: 7, Via: authstore.ViaWeb})
			var re *problem.Error
			if !errors.As(err, &re) || re.Kind.Status() != http.StatusBadRequest || !errors.Is(err, authstore.ErrInvalidName) {
				t.Errorf("CheckPATRequest: %v", err)
			}
			if d := problem.From(err, problem.API); d.Status != http.StatusBadRequest || d.Code != "invalid_request" || !strings.HasPrefix(d.Message, "token name must") {
				t.Errorf("denial %d %s %q", d.Status, d.Code, d.Message)
			}
		})
	}
	if pats, _ := s.store.PATs(u.ID); len(pats) != 0 {
		t.Errorf("%d tokens stored", len(pats))
	}
}
