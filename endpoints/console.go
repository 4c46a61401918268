package endpoints

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// The admin console: users, tokens, sessions, memberships and the audit
// trail, under one tree (endpointTable's "console", default
// /gatehouse/admin). Its requirement is the administrator role on a
// browser session (config.AdminRule), applied by Site.ServeHTTP before
// any of this runs, for every URL and form under the tree. Every change
// is made as service.ConsoleActor, so the audit trail names the
// administrator.

// consoleData is what every console page's Data holds besides its own.
type consoleData struct {
	Base    string // the console's root path
	Section string // users, tokens, sessions, members, audit
	Notice  *message
	Error   *message
	Detail  string
}

// consoleSections are the console's pages, by the path under its root.
var consoleSections = map[string]func(s *Site, w http.ResponseWriter, r *http.Request, id *decision.Identity, c consoleData, rest string) error{
	"":         (*Site).consoleUsers,
	"users":    (*Site).consoleUser,
	"tokens":   (*Site).consoleTokens,
	"sessions": (*Site).consoleSessions,
	"members":  (*Site).consoleMembers,
	"audit":    (*Site).consoleAudit,
}

// serveConsole dispatches a console URL to its section.
func (s *Site) serveConsole(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	base := s.Path("console")
	rest := strings.Trim(r.URL.Path[min(len(base), len(r.URL.Path)):], "/")
	section, sub, _ := strings.Cut(rest, "/")
	serve, ok := consoleSections[strings.ToLower(section)]
	if !ok || (section == "" && sub != "") {
		return s.render(w, r, id, page{status: http.StatusNotFound, name: "message", title: "console.title",
			data: messageData{Message: "console.not_found", Link: base, LinkText: "console.users"}})
	}
	c := consoleData{Base: base, Section: section}
	if section == "" {
		c.Section = "users"
	}
	if done := r.URL.Query().Get("done"); done != "" && r.Method != http.MethodPost {
		c.Notice = consoleNotice(done)
	}
	return serve(s, w, r, id, c, sub)
}

// consoleNotices are the notices after a post/redirect/get, by the
// done key.
var consoleNotices = map[string]string{
	"admin": "console.done_admin", "disabled": "console.done_disabled", "enabled": "console.done_enabled",
	"member": "console.done_member", "member_removed": "console.done_member_removed", "reset_2fa": "console.done_reset_factor",
	"revoked_all": "console.done_revoked_all", "scopes": "console.done_scopes", "session_revoked": "console.done_session_revoked",
	"tier": "console.done_tier", "token_revoked": "console.done_token_revoked",
}

// consoleNotice is the notice of a done key; nil for an unknown one.
func consoleNotice(done string) *message {
	if id, ok := consoleNotices[done]; ok {
		return msg(id)
	}
	return nil
}

// consoleForm reads a console form post; nil params means the refusal
// was written.
func (s *Site) consoleForm(w http.ResponseWriter, r *http.Request, id *decision.Identity) (url.Values, error) {
	params, d := reqbody.Params(r)
	if d != nil {
		return nil, s.refuse(w, r, d, id)
	}
	return params, nil
}

// consoleFailed shows what went wrong with a console action on the page
// it came from, with the refusal's status.
func (s *Site) consoleFailed(w http.ResponseWriter, r *http.Request, id *decision.Identity, c *consoleData, err error) int {
	d := problem.From(err, problem.Admin)
	if d.Status >= 500 {
		s.logger.Error("console action", zap.Error(err))
	}
	s.denied(r, d, id)
	c.Error, c.Detail = msg("console.err_action"), d.Message
	return d.Status
}

// userRow is a user in the console's list.
type userRow struct {
	api.UserInfo
	LastLogin *time.Time
}

type consoleUsersData struct {
	consoleData
	Query, Status string
	Users         []userRow
	Tiers         []string
	DefaultTier   string
	// Created is a user just created with the one-time link to hand
	// over: in this one response.
	Created *createdUser
}

type createdUser struct {
	Login, Link string
	Expires     time.Time
}

// consoleUsers lists users (search by login, kind, tier, status) and
// creates one (POST action=create) with a one-time password link.
func (s *Site) consoleUsers(w http.ResponseWriter, r *http.Request, id *decision.Identity, c consoleData, _ string) error {
	svc := s.svc()
	data := &consoleUsersData{consoleData: c, Tiers: s.tierNames(), DefaultTier: s.policy.DefaultTier}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		params, err := s.consoleForm(w, r, id)
		if params == nil {
			return err
		}
		if params.Get("action") != "create" {
			data.Error, status = msg("pat.err_action"), http.StatusBadRequest
		} else {
			info, link, err := svc.CreateUserWithLink(api.CreateUserRequest{Login: params.Get("login"), Tier: params.Get("tier"),
				Admin: params.Get("admin") != ""}, service.ConsoleActor(id.User, s.facts.ClientIP(r)))
			if err != nil {
				status = s.consoleFailed(w, r, id, &data.consoleData, err)
			} else {
				data.Created = &createdUser{Login: info.Login, Link: s.passwordLinkURL(r, link), Expires: link.Expires}
				status = http.StatusCreated
			}
		}
	} else {
		q := r.URL.Query()
		data.Query, data.Status = strings.TrimSpace(q.Get("q")), q.Get("status")
	}
	users, err := svc.Users()
	if err != nil {
		return err
	}
	lastLogins := s.lastLogins(svc)
	for _, u := range users {
		if !matchesUser(u, data.Query, data.Status) {
			continue
		}
		row := userRow{UserInfo: u}
		if t, ok := lastLogins[u.ID]; ok {
			row.LastLogin = &t
		}
		data.Users = append(data.Users, row)
	}
	return s.render(w, r, id, page{status: status, name: "console_users", title: "console.users", data: data})
}

// matchesUser is the users list's search: q in the login, kind or tier;
// status active, disabled or admin.
func matchesUser(u api.UserInfo, q, status string) bool {
	switch status {
	case "active":
		if u.Disabled {
			return false
		}
	case "disabled":
		if !u.Disabled {
			return false
		}
	case "admin":
		if !u.Admin {
			return false
		}
	}
	q = strings.ToLower(q)
	return q == "" || strings.Contains(u.Login, q) || u.Kind == q || u.Tier == q
}

// lastLogins maps user ids to their newest session's start: the last
// sign-in, browser or CLI.
func (s *Site) lastLogins(svc *service.Service) map[string]time.Time {
	out := map[string]time.Time{}
	sessions, err := svc.Store.Sessions("")
	if err != nil {
		return out
	}
	for _, sess := range sessions {
		if sess.CreatedAt.After(out[sess.UserID]) {
			out[sess.UserID] = sess.CreatedAt
		}
	}
	return out
}

func (s *Site) tierNames() []string {
	names := make([]string, 0, len(s.policy.Tiers))
	for n := range s.policy.Tiers {
		if n != "anonymous" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// passwordLinkURL is the link a new user sets their password with: the
// token travels in the fragment, which browsers never send, so it is in
// no access log on the way back.
func (s *Site) passwordLinkURL(r *http.Request, l service.PasswordLink) string {
	frag := url.Values{"u": {l.Login}, "t": {l.Token}}.Encode()
	return s.facts.ExternalBase(r) + s.Path("set_password") + "#" + frag
}

type consoleUserData struct {
	consoleData
	User      api.UserInfo
	Self      bool
	Tiers     []string
	Scopes    []scopeChoice
	Resources []config.ResourceType
	Members   []api.Membership
	Tokens    []api.TokenInfo
	Sessions  []api.SessionInfo
	// Link is a password link just issued, shown this once.
	Link   *createdUser
	issued *service.PasswordLink
}

// consoleUser shows one user (users/<login>) and applies the actions on
// them: disable, enable, tier, scopes, admin, member_set, member_remove,
// reset_2fa, revoke_all, password_link.
func (s *Site) consoleUser(w http.ResponseWriter, r *http.Request, id *decision.Identity, c consoleData, login string) error {
	svc := s.svc()
	u, err := svc.Store.UserByLogin(login)
	if err != nil || login == "" {
		return s.render(w, r, id, page{status: http.StatusNotFound, name: "message", title: "console.title",
			data: messageData{Message: "console.no_user", Link: c.Base, LinkText: "console.users"}})
	}
	data := &consoleUserData{consoleData: c}
	self := s.Path("console") + "/users/" + url.PathEscape(u.Login)
	status := http.StatusOK
	if r.Method == http.MethodPost {
		params, err := s.consoleForm(w, r, id)
		if params == nil {
			return err
		}
		actor := service.ConsoleActor(id.User, s.facts.ClientIP(r))
		done, err := s.consoleUserAction(svc, u, params, actor, data)
		switch {
		case err != nil:
			status = s.consoleFailed(w, r, id, &data.consoleData, err)
		case done != "":
			return redirect(w, r, self+"?done="+done)
		}
		if err == nil && data.issued != nil {
			data.Link = &createdUser{Login: data.issued.Login, Link: s.passwordLinkURL(r, *data.issued), Expires: data.issued.Expires}
		}
		if u, err = svc.Store.UserByLogin(u.Login); err != nil {
			return err
		}
	}
	data.User, data.Self, data.Tiers = svc.UserInfo(u), u.ID == id.User.ID, s.tierNames()
	for _, sc := range s.policy.Scopes {
		data.Scopes = append(data.Scopes, scopeChoice{Name: sc, Checked: u.HasScope(sc)})
	}
	for _, n := range sortedResourceTypes(s.policy) {
		data.Resources = append(data.Resources, s.policy.Resources[n])
	}
	if data.Members, err = svc.Members(u.Login); err != nil {
		return err
	}
	if data.Tokens, err = svc.Tokens(u.Login); err != nil {
		return err
	}
	if data.Sessions, err = svc.Sessions(u.Login); err != nil {
		return err
	}
	return s.render(w, r, id, page{status: status, name: "console_user", title: "console.user", data: data})
}

// consoleUserAction applies one action on u; done is the notice key to
// redirect with ("" to show the page as it is, as for a new link).
func (s *Site) consoleUserAction(svc *service.Service, u *authstore.User, params url.Values, actor authstore.Actor, data *consoleUserData) (string, error) {
	switch a := params.Get("action"); a {
	case "disable", "enable":
		_, err := svc.SetDisabled(u.Login, a == "disable", actor)
		return a + "d", err
	case "tier":
		_, err := svc.SetTier(u.Login, params.Get("tier"), actor)
		return "tier", err
	case "scopes":
		_, err := svc.SetScopes(u.Login, params.Get("all_scopes") != "", params["scope"], actor)
		return "scopes", err
	case "admin":
		_, err := svc.SetAdmin(u.Login, params.Get("admin") == "1", actor)
		return "admin", err
	case "member_set":
		_, err := svc.SetMembership(api.MembershipRequest{User: u.Login, Type: params.Get("type"), Name: params.Get("name"),
			Role: params.Get("role")}, actor)
		return "member", err
	case "member_remove":
		_, err := svc.RemoveMembership(api.MembershipRequest{User: u.Login, Type: params.Get("type"), Name: params.Get("name")}, actor)
		return "member_removed", err
	case "reset_2fa":
		_, err := svc.ResetSecondFactor(u.Login, actor)
		return "reset_2fa", err
	case "revoke_all":
		_, _, err := svc.RevokeEverything(u.Login, actor)
		return "revoked_all", err
	case "password_link":
		link, err := svc.IssuePasswordLink(u.Login, actor)
		data.issued = &link
		return "", err
	}
	return "", problem.Errorf(problem.KindInvalid, "unknown action")
}

func sortedResourceTypes(p *config.Policy) []string {
	names := make([]string, 0, len(p.Resources))
	for n := range p.Resources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type consoleListData struct {
	consoleData
	User, Status, Kind string
	Tokens             []api.TokenInfo
	Sessions           []api.SessionInfo
}

// consoleTokens lists every token (filters: user, status) and revokes
// one (POST action=revoke, token_id).
func (s *Site) consoleTokens(w http.ResponseWriter, r *http.Request, id *decision.Identity, c consoleData, _ string) error {
	svc := s.svc()
	data := &consoleListData{consoleData: c}
	status, done, err := s.consoleRevoke(w, r, id, &data.consoleData, "token_id", "/tokens?done=token_revoked",
		func(tokID string, actor authstore.Actor) error { _, err := svc.RevokeTokenAs(tokID, actor); return err })
	if done {
		return err
	}
	q := r.URL.Query()
	data.User, data.Status = strings.TrimSpace(q.Get("user")), statusFilter(q.Get("status"))
	list, err := svc.Tokens(data.User)
	if err != nil && !errors.Is(err, authstore.ErrNotFound) {
		return err
	}
	for _, t := range list {
		if data.Status == "all" || t.Status == data.Status {
			data.Tokens = append(data.Tokens, t)
		}
	}
	return s.render(w, r, id, page{status: status, name: "console_tokens", title: "console.tokens", data: data})
}

// consoleRevoke is a list page's POST: revoke what the form's field
// names, as the administrator, then back to the list at done (a path
// below the console). A refusal leaves the list to be shown with what
// went wrong, at the status returned. answered reports that the request was
// answered (err is then the answer's error); a GET is not.
func (s *Site) consoleRevoke(w http.ResponseWriter, r *http.Request, id *decision.Identity, c *consoleData, field, done string,
	revoke func(itemID string, actor authstore.Actor) error) (status int, answered bool, err error) {
	if r.Method != http.MethodPost {
		return http.StatusOK, false, nil
	}
	params, err := s.consoleForm(w, r, id)
	if params == nil {
		return 0, true, err
	}
	if err := revoke(params.Get(field), service.ConsoleActor(id.User, s.facts.ClientIP(r))); err != nil {
		return s.consoleFailed(w, r, id, c, err), false, nil
	}
	return 0, true, redirect(w, r, s.Path("console")+done)
}

// statusFilter is a list's status filter: active unless asked for
// revoked, expired or all, so ended credentials do not crowd the list.
func statusFilter(v string) string {
	if slices.Contains([]string{"revoked", "expired", "all"}, v) {
		return v
	}
	return "active"
}

// consoleSessions lists every session (filters: user, status, kind) and
// ends one (POST action=revoke, session_id).
func (s *Site) consoleSessions(w http.ResponseWriter, r *http.Request, id *decision.Identity, c consoleData, _ string) error {
	svc := s.svc()
	data := &consoleListData{consoleData: c}
	status, done, err := s.consoleRevoke(w, r, id, &data.consoleData, "session_id", "/sessions?done=session_revoked",
		func(sessID string, actor authstore.Actor) error {
			_, err := svc.RevokeSessionAs(sessID, actor)
			return err
		})
	if done {
		return err
	}
	q := r.URL.Query()
	data.User, data.Status, data.Kind = strings.TrimSpace(q.Get("user")), statusFilter(q.Get("status")), q.Get("kind")
	list, err := svc.Sessions(data.User)
	if err != nil && !errors.Is(err, authstore.ErrNotFound) {
		return err
	}
	for _, v := range list {
		if (data.Status == "all" || v.Status == data.Status) && (data.Kind == "" || v.Kind == data.Kind) {
			data.Sessions = append(data.Sessions, v)
		}
	}
	return s.render(w, r, id, page{status: status, name: "console_sessions", title: "console.sessions", data: data})
}

type consoleMembersData struct {
	consoleData
	Members   []api.Membership
	Resources []config.ResourceType
}

// consoleMembers lists every membership and sets or removes one (POST
// action=member_set | member_remove, user, type, name, role).
func (s *Site) consoleMembers(w http.ResponseWriter, r *http.Request, id *decision.Identity, c consoleData, _ string) error {
	svc := s.svc()
	data := &consoleMembersData{consoleData: c}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		params, err := s.consoleForm(w, r, id)
		if params == nil {
			return err
		}
		req := api.MembershipRequest{User: params.Get("user"), Type: params.Get("type"), Name: params.Get("name"), Role: params.Get("role")}
		actor := service.ConsoleActor(id.User, s.facts.ClientIP(r))
		done := "member"
		switch params.Get("action") {
		case "member_set":
			_, err = svc.SetMembership(req, actor)
		case "member_remove":
			req.Role, done = "", "member_removed"
			_, err = svc.RemoveMembership(req, actor)
		default:
			err = problem.Errorf(problem.KindInvalid, "unknown action")
		}
		if err != nil {
			status = s.consoleFailed(w, r, id, &data.consoleData, err)
		} else {
			return redirect(w, r, s.Path("console")+"/members?done="+done)
		}
	}
	list, err := svc.Members("")
	if err != nil {
		return err
	}
	data.Members = list
	for _, n := range sortedResourceTypes(s.policy) {
		data.Resources = append(data.Resources, s.policy.Resources[n])
	}
	return s.render(w, r, id, page{status: status, name: "console_members", title: "console.members", data: data})
}

type consoleAuditData struct {
	consoleData
	User, Actor, Action, Since, Until string
	Events                            []service.AuditLine
	Next                              string // the next page's URL, "" for none
}

// consoleAudit is the audit trail, searchable by user, actor, event and
// time (dates as 2006-01-02, UTC), newest first, 50 to a page.
func (s *Site) consoleAudit(w http.ResponseWriter, r *http.Request, id *decision.Identity, c consoleData, _ string) error {
	q := r.URL.Query()
	data := &consoleAuditData{consoleData: c, User: strings.TrimSpace(q.Get("user")), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Since: q.Get("since"), Until: q.Get("until")}
	f := service.AuditFilter{User: data.User, Actor: data.Actor, Action: data.Action}
	status := http.StatusOK
	var bad bool
	if f.Since, bad = parseDay(data.Since); bad {
		data.Error, status = msg("console.err_date"), http.StatusBadRequest
	}
	until, badUntil := parseDay(data.Until)
	if badUntil {
		data.Error, status = msg("console.err_date"), http.StatusBadRequest
	} else if !until.IsZero() {
		f.Until = until.Add(24 * time.Hour) // the whole day
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			data.Error, status = msg("console.err_page"), http.StatusBadRequest
		}
		f.Before = n
	}
	if status == http.StatusOK {
		events, next, err := s.svc().AuditSearch(f)
		if err != nil {
			return err
		}
		data.Events = events
		if next != 0 {
			nq := url.Values{}
			for k, v := range q {
				nq[k] = v
			}
			nq.Set("before", strconv.FormatUint(next, 10))
			data.Next = s.Path("console") + "/audit?" + nq.Encode()
		}
	}
	return s.render(w, r, id, page{status: status, name: "console_audit", title: "console.audit", data: data})
}

// parseDay reads a date filter; bad is true for one that is not a date.
func parseDay(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", v)
	return t, err != nil
}
