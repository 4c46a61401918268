package i18n

import (
	"net/http"
	"slices"

	"golang.org/x/text/language"
)

// cookieName is the cookie that remembers a language picked with ?lang=.
const cookieName = "lang"

var matcher = func() language.Matcher {
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = l.tag
	}
	return language.NewMatcher(tags)
}()

// Pick chooses the language of the page answering r and returns its
// code: ?lang= (remembered in a cookie, Secure when secure is set), then
// that cookie, then Accept-Language, then the fallback.
func Pick(w http.ResponseWriter, r *http.Request, secure bool) string {
	if q := r.URL.Query().Get("lang"); q != "" && known(q) {
		http.SetCookie(w, &http.Cookie{
			Name: cookieName, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
		})
		return q
	}
	if c, err := r.Cookie(cookieName); err == nil && known(c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" && len(al) < 512 {
		prefs, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(prefs) > 0 {
			_, i, conf := matcher.Match(prefs...)
			if conf != language.No {
				return langs[i].Code
			}
		}
	}
	return langs[0].Code
}

func known(code string) bool {
	return slices.ContainsFunc(langs, func(l Lang) bool { return l.Code == code })
}

// HTMLLang returns the <html lang> value of a language code; an unknown
// code gets the fallback's.
func HTMLLang(code string) string {
	for _, l := range langs {
		if l.Code == code {
			return l.HTMLLang
		}
	}
	return langs[0].HTMLLang
}

// Link is an entry of the language switcher: the current page in one
// language.
type Link struct {
	Lang
	URL     string
	Current bool // the page is in this language
}

// Links returns the language switcher of the page at r, which is in the
// language current: r's path and query with lang= set, one per language.
func Links(r *http.Request, current string) []Link {
	out := make([]Link, 0, len(langs))
	for _, l := range langs {
		q := r.URL.Query()
		q.Set("lang", l.Code)
		out = append(out, Link{Lang: l, URL: r.URL.Path + "?" + q.Encode(), Current: l.Code == current})
	}
	return out
}
