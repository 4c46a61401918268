package endpoints

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/service"
)

// tokenForm is the part of a page form that says what a new PAT may do:
// name, expiry, scopes and resource caps. The PAT page's create form and
// the device approval form share it (templates/_token_fields.html).
type tokenForm struct {
	// NameField is the name (and id) of the token-name input: "name" on
	// the PAT page, "token_name" on the device form, as RFC 8628 clients
	// pre-fill it.
	NameField   string
	Name        string
	ExpiresDays int
	MaxDays     int
	// Scopes are those the user holds; a token can never get another.
	Scopes []scopeChoice
	// Resources are the resources the user holds a role on, offered as
	// caps; SomeResources is true when the form limits the token to the
	// chosen ones instead of every resource at the user's role.
	Resources     []resourceRow
	SomeResources bool
}

// resourceChoice is one resource the form offers to cap.
type resourceChoice = service.ResourceChoice

// resourceRow is one resource on the form and the cap chosen.
type resourceRow struct {
	resourceChoice
	Selected string
}

type scopeChoice struct {
	Name    string
	Checked bool
}

// newTokenForm is the form at its defaults: the user's scopes, ticked
// where checked says so; days (or 90 when 0), capped at the maximum.
func (s *Site) newTokenForm(id *decision.Identity, nameField string, checked func(scope string) bool, days int) tokenForm {
	maxDays := s.policy.PATMaxDays
	if days == 0 {
		days = defaultPATDays
	}
	f := tokenForm{NameField: nameField, ExpiresDays: min(days, maxDays), MaxDays: maxDays}
	for _, s := range id.Scopes {
		f.Scopes = append(f.Scopes, scopeChoice{Name: s, Checked: checked(s)})
	}
	for _, c := range s.svc().ResourceChoices(id.User) {
		f.Resources = append(f.Resources, resourceRow{resourceChoice: c})
	}
	return f
}

// read takes the posted fields (NameField, expires_days, scope repeated, and
// resources=some with a cap:<type:name> role per resource) into the form,
// so a refused form shows what was sent, and returns the request they
// make or the message saying what is wrong. Scopes are checked against the
// catalog and the user when the token is minted.
func (f *tokenForm) read(params url.Values) (service.PATRequest, *message) {
	name, nameErr := authstore.CheckTokenName(params.Get(f.NameField))
	f.Name = name
	if nameErr != nil {
		// Shown back in the form as plain text, never as sent.
		f.Name = authstore.SanitizeText(params.Get(f.NameField), authstore.MaxTokenNameLen)
	}
	scopes := params["scope"]
	for i := range f.Scopes {
		f.Scopes[i].Checked = slices.Contains(scopes, f.Scopes[i].Name)
	}
	var caps map[string]string
	if params.Get("resources") == "some" {
		f.SomeResources, caps = true, map[string]string{}
		for i := range f.Resources {
			row := &f.Resources[i]
			if role := params.Get("cap:" + row.Resource); role != "" {
				row.Selected, caps[row.Resource] = role, role
			}
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(params.Get("expires_days")))
	if err == nil {
		f.ExpiresDays = n
	}
	switch {
	case nameErr != nil:
		return service.PATRequest{}, msg("pat.err_name")
	case err != nil || n < 1 || n > f.MaxDays:
		return service.PATRequest{}, msg("pat.err_expires", f.MaxDays)
	case len(scopes) == 0:
		return service.PATRequest{}, msg("pat.err_scopes")
	case caps != nil && len(caps) == 0:
		return service.PATRequest{}, msg("pat.err_resources")
	}
	return service.PATRequest{Name: f.Name, Scopes: scopes, ExpiresDays: n, Resources: caps}, nil
}
