package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// githubProvider is GitHub (or GitHub Enterprise Server) through an OAuth
// app: the web flow with state and PKCE, then the person from its REST
// API with the access token (which is used for these calls and dropped).
type githubProvider struct {
	p      *Provider
	client *http.Client
}

func (g *githubProvider) oauth2(redirect string) *oauth2.Config {
	web := strings.TrimRight(g.p.cfg.WebURL, "/")
	scopes := []string{"read:user", "user:email"}
	if len(g.p.cfg.AllowOrgs) > 0 || len(g.p.cfg.AllowTeams) > 0 {
		scopes = append(scopes, "read:org")
	}
	for _, s := range g.p.cfg.ExtraScopes {
		if !contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{
		ClientID: g.p.cfg.ClientID, ClientSecret: g.p.secret, RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  web + "/login/oauth/authorize",
			TokenURL: web + "/login/oauth/access_token",
			// Fixed, so the code is never sent twice while the library
			// probes which style the server takes.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (g *githubProvider) authURL(_ context.Context, redirect string, f *flow) (string, error) {
	return g.oauth2(redirect).AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier)), nil
}

// githubUser is the part of GET /user that Gatehouse reads.
type githubUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
}

// githubEmail is one entry of GET /user/emails.
type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubMembership is GET /user/memberships/orgs/{org} and GET
// /orgs/{org}/teams/{team}/memberships/{user}.
type githubMembership struct {
	State string `json:"state"` // "active" or "pending"
}

func (g *githubProvider) exchange(ctx context.Context, redirect, code string, f *flow) (*Identity, error) {
	tok, err := g.oauth2(redirect).Exchange(context.WithValue(ctx, oauth2.HTTPClient, g.client), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, tokenError(err)
	}
	var u githubUser
	if _, err := g.get(ctx, tok.AccessToken, "/user", &u); err != nil {
		return nil, err
	}
	if u.ID == 0 || u.Login == "" {
		return nil, refuse(ReasonTokenInvalid, http.StatusBadGateway, "%v", errNoSubject)
	}
	id := &Identity{Provider: g.p.cfg.Name, Subject: strconv.FormatInt(u.ID, 10), Username: u.Login}
	var emails []githubEmail
	if _, err := g.get(ctx, tok.AccessToken, "/user/emails", &emails); err != nil {
		return nil, err
	}
	for _, e := range emails {
		if e.Primary && e.Verified {
			id.Email = e.Email
		}
	}
	if err := g.p.checkEmail(id); err != nil {
		return nil, err
	}
	if err := g.checkMembership(ctx, tok.AccessToken, id); err != nil {
		return nil, err
	}
	return id, nil
}

// checkMembership admits a member (state active) of any allowed org or
// any allowed team; with neither list, everyone.
func (g *githubProvider) checkMembership(ctx context.Context, token string, id *Identity) error {
	orgs, teams := g.p.cfg.AllowOrgs, g.p.cfg.AllowTeams
	if len(orgs) == 0 && len(teams) == 0 {
		return nil
	}
	for _, org := range orgs {
		var m githubMembership
		found, err := g.get(ctx, token, "/user/memberships/orgs/"+url.PathEscape(org), &m)
		if err != nil {
			return err
		}
		if found && m.State == "active" {
			id.Groups = append(id.Groups, org)
			return nil
		}
	}
	for _, t := range teams {
		org, team, _ := strings.Cut(t, "/")
		var m githubMembership
		path := "/orgs/" + url.PathEscape(org) + "/teams/" + url.PathEscape(team) + "/memberships/" + url.PathEscape(id.Username)
		found, err := g.get(ctx, token, path, &m)
		if err != nil {
			return err
		}
		if found && m.State == "active" {
			id.Groups = append(id.Groups, t)
			return nil
		}
	}
	return refuse(ReasonOrg, http.StatusForbidden, "%s is in none of the allowed orgs and teams", id.Username)
}

// get calls the REST API; false (and no error) for 404 and 403, which is
// how GitHub answers a membership that does not exist or is hidden.
func (g *githubProvider) get(ctx context.Context, token, path string, v any) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(g.p.cfg.APIURL, "/")+path, nil)
	if err != nil {
		return false, unreachable(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := g.client.Do(req)
	if err != nil {
		return false, unreachable(fmt.Errorf("GET %s: %w", path, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, unreachable(fmt.Errorf("GET %s: %w", path, err))
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
		return false, nil
	case resp.StatusCode != http.StatusOK:
		return false, unreachable(fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return false, unreachable(fmt.Errorf("GET %s: %w", path, err))
	}
	return true, nil
}
