package gate

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/requestcheck"
)

// Identity fields the upstream can receive as headers, as the Caddyfile's
// `headers` and `header` name them.
const (
	FieldUserID     = "user_id"
	FieldLogin      = "login"
	FieldTier       = "tier"
	FieldScopes     = "scopes"
	FieldCredential = "credential"
	FieldTokenID    = "token_id"
	FieldResource   = "resource" // set by a role rule
	FieldRole       = "role"     // set by a role rule
)

// field indexes UpstreamHeaders.names.
type field uint8

const (
	fUserID field = iota
	fLogin
	fTier
	fScopes
	fCredential
	fTokenID
	fResource
	fRole
	numFields
)

// fieldNames and defaultHeaders are indexed by field.
var (
	fieldNames     = [numFields]string{FieldUserID, FieldLogin, FieldTier, FieldScopes, FieldCredential, FieldTokenID, FieldResource, FieldRole}
	defaultHeaders = [numFields]string{api.HeaderUserID, api.HeaderUser, api.HeaderTier, api.HeaderScopes, api.HeaderCredential, api.HeaderTokenID, api.HeaderResource, api.HeaderRole}
)

// FieldNames lists every identity field, in the order of the docs.
func FieldNames() []string { return slices.Clone(fieldNames[:]) }

// UpstreamHeaders is which identity headers a site sends its upstream,
// under which names. The zero value sends none; DefaultUpstreamHeaders
// sends all under Gatehouse's names.
type UpstreamHeaders struct {
	// names[f] is field f's canonical header name; "" is not sent.
	names [numFields]string
	// foreign are the header names outside Gatehouse's namespace, folded
	// (requestcheck.StripHeaders): a client's copies are deleted.
	foreign []string
}

// DefaultUpstreamHeaders sends every field under Gatehouse's names.
var DefaultUpstreamHeaders = &UpstreamHeaders{names: defaultHeaders}

// headerNamesRefused are names an identity header cannot take: the
// caller's credentials, framing, and hop-by-hop headers that a proxy
// reads or removes.
var headerNamesRefused = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie", "host", "connection", "keep-alive",
	"transfer-encoding", "content-length", "content-type", "te", "trailer", "upgrade", "proxy-connection",
	"forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
}

// FieldsNone, alone in the fields list, sends no identity header but the
// renamed ones (a site that relies on the signed assertion alone).
const FieldsNone = "none"

// NewUpstreamHeaders builds the header set of a site: fields are the
// fields to send (nil: all of them; [FieldsNone]: none), rename maps a field to the header
// name it is sent as (a renamed field is sent even when fields omits
// it). Names must be valid header names, distinct, and none of the
// request's own framing or credential headers.
func NewUpstreamHeaders(fields []string, rename map[string]string) (*UpstreamHeaders, error) {
	u := &UpstreamHeaders{}
	var errs []error
	switch {
	case fields == nil:
		u.names = defaultHeaders
	case len(fields) == 1 && fields[0] == FieldsNone:
		fields = nil
	}
	for _, f := range fields {
		i := slices.Index(fieldNames[:], f)
		if i < 0 {
			errs = append(errs, fmt.Errorf("unknown identity header %q (known: %s)", f, strings.Join(fieldNames[:], " ")))
			continue
		}
		u.names[i] = defaultHeaders[i]
	}
	for _, f := range sortedFields(rename) {
		name := rename[f]
		i := slices.Index(fieldNames[:], f)
		if i < 0 {
			errs = append(errs, fmt.Errorf("header %s: unknown identity field (known: %s)", f, strings.Join(fieldNames[:], " ")))
			continue
		}
		if !httpguts.ValidHeaderFieldName(name) {
			errs = append(errs, fmt.Errorf("header %s %q: not a valid header name", f, name))
			continue
		}
		if slices.Contains(headerNamesRefused, requestcheck.FoldHeaderName(name)) {
			errs = append(errs, fmt.Errorf("header %s %s: that header belongs to the request itself; choose another name", f, name))
			continue
		}
		u.names[i] = textproto.CanonicalMIMEHeaderKey(name)
	}
	for i, n := range u.names {
		if n == "" {
			continue
		}
		folded := requestcheck.FoldHeaderName(n)
		for j := range i {
			if u.names[j] != "" && requestcheck.FoldHeaderName(u.names[j]) == folded {
				errs = append(errs, fmt.Errorf("identity headers %s and %s are both sent as %s", fieldNames[j], fieldNames[i], n))
			}
		}
		if !requestcheck.InNamespace(n) {
			u.foreign = append(u.foreign, folded)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return u, nil
}

func sortedFields(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Strip deletes the client's copies of the headers this set sends outside
// Gatehouse's namespace (requestcheck.Request deletes the namespace),
// whatever the request's outcome.
func (u *UpstreamHeaders) Strip(h http.Header) { requestcheck.StripHeaders(h, u.foreign) }

// Set hands the identity to the upstream as the chosen headers. Every
// client copy must have been deleted before (requestcheck.Request and
// Strip), so none can come from the client. It returns the scopes
// space-separated, so a host that also publishes them elsewhere joins
// them once.
func (u *UpstreamHeaders) Set(h http.Header, id *Identity) (scopes string) {
	u.set(h, fCredential, id.Credential)
	u.set(h, fTier, id.Tier)
	if id.User == nil {
		return ""
	}
	scopes = strings.Join(id.Scopes, " ")
	u.set(h, fUserID, id.User.ID)
	u.set(h, fLogin, id.User.Login)
	u.set(h, fScopes, scopes)
	if id.PAT != nil {
		u.set(h, fTokenID, id.PAT.ID)
	}
	if id.Resource != "" {
		u.set(h, fResource, id.Resource)
		u.set(h, fRole, id.Role)
	}
	return scopes
}

func (u *UpstreamHeaders) set(h http.Header, f field, v string) {
	if name := u.names[f]; name != "" {
		h[name] = []string{v} // canonical already
	}
}

// Names returns the header each field is sent as ("" for a field not
// sent), by field name.
func (u *UpstreamHeaders) Names() map[string]string {
	m := make(map[string]string, numFields)
	for i, n := range u.names {
		m[fieldNames[i]] = n
	}
	return m
}

// SetUpstreamHeaders hands the identity to the upstream under the
// default headers; see UpstreamHeaders.Set.
func SetUpstreamHeaders(h http.Header, id *Identity) (scopes string) {
	return DefaultUpstreamHeaders.Set(h, id)
}
