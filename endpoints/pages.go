package endpoints

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/i18n"
	"github.com/gatehouse/gatehouse/problem"
)

// templateFS holds the pages: layout.html wraps every other *.html file,
// each of which defines "content" (and optionally "script"); files whose
// name starts with _ hold fragments several pages share; style.css is
// inlined into every page.
//
//go:embed all:templates
var templateFS embed.FS

// pageCSS is the stylesheet, inlined so pages need no asset endpoint.
var pageCSS = func() template.CSS {
	b, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		panic("gatehouse: embedded style.css: " + err.Error())
	}
	return template.CSS(b) // our own file, not input
}()

var pageFuncs = template.FuncMap{
	// date shows a time in UTC, to the minute.
	"date": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v != nil {
				return v.UTC().Format("2006-01-02 15:04 UTC")
			}
		}
		return ""
	},
}

// pages maps a page name (its file name without .html) to its template
// set, parsed once at start-up; a broken template fails every build's
// tests, not a request.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t := template.Must(template.New(name).Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", f))
		out[name] = t
	}
	return out
}()

// pageData is what every page template sees: the page's own Data plus
// the layout's needs. Templates translate with {{.T "id" args…}} and show
// a computed message with {{.M .Data.Error}}.
type pageData struct {
	Lang      string
	HTMLLang  string
	Title     string // message id
	Realm     string
	Nonce     string
	CSS       template.CSS
	User      *authstore.User // the signed-in browser user, if any
	Paths     map[string]string
	LangLinks []i18n.Link
	// Narrow centres a small form (login, setup).
	Narrow bool
	Data   any
}

// T translates a message id into the page's language.
func (p *pageData) T(id string, args ...any) string { return i18n.T(p.Lang, id, args...) }

// M translates a computed message; nil gives "".
func (p *pageData) M(m *i18n.Message) string { return m.In(p.Lang) }

// page describes one response of render.
type page struct {
	status int
	name   string // template: templates/<name>.html
	title  string // message id of the <title> and heading
	narrow bool
	data   any
}

// render writes an HTML page in the language the request prefers, with
// headers that keep it out of caches and frames and let only its own
// inline style and script run (a fresh CSP nonce per response). id is the
// caller's identity: a browser session shows who is signed in and the
// logout button. Other features' pages (the device flow) call it too.
func (s *Site) render(w http.ResponseWriter, r *http.Request, id *decision.Identity, p page) error {
	t, ok := pages[p.name]
	if !ok {
		return fmt.Errorf("gatehouse: no page template %q", p.name)
	}
	nonce, err := newNonce()
	if err != nil {
		return err
	}
	lang := i18n.Pick(w, r, s.facts.IsHTTPS(r))
	data := &pageData{
		Lang: lang, HTMLLang: i18n.HTMLLang(lang), Title: p.title, Realm: s.policy.Realm,
		Nonce: nonce, CSS: pageCSS, Paths: s.endpointPaths(), LangLinks: i18n.Links(r, lang),
		Narrow: p.narrow, Data: p.data,
	}
	if id != nil && id.Browser {
		data.User = id.User
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.logger.Error("rendering page", zap.String("page", p.name), zap.Error(err))
		return s.refuse(w, r, problem.Internal(), id)
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; script-src 'nonce-"+nonce+
		"'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Vary", "Accept-Language, Cookie")
	status := p.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// endpointPaths maps endpoint names to where this site serves them, so
// pages link to moved endpoints correctly.
func (s *Site) endpointPaths() map[string]string {
	out := make(map[string]string, len(endpointDefs))
	for name := range endpointDefs {
		out[name] = s.Path(name)
	}
	return out
}

func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("page nonce: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(b[:]), nil
}

// redirect answers 303 See Other to a local path.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// loginURL is where a browser without a session is sent to sign in
// before coming back to next (a local path with its query, as
// /device?user_code=…).
func (s *Site) loginURL(next string) string {
	return s.Path("login") + "?next=" + url.QueryEscape(next)
}
