package caddymodule

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Languages the pages speak. The first is the fallback.
var pageLangs = []pageLang{
	{Code: "en", HTMLLang: "en", Name: "English", tag: language.English},
	{Code: "zh", HTMLLang: "zh-CN", Name: "简体中文", tag: language.SimplifiedChinese},
}

type pageLang struct {
	Code     string // as in ?lang= and the lang cookie
	HTMLLang string // as in <html lang>
	Name     string // in its own language
	tag      language.Tag
}

var langMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(pageLangs))
	for i, l := range pageLangs {
		tags[i] = l.tag
	}
	return language.NewMatcher(tags)
}()

// langCookie remembers a language picked with ?lang=.
const langCookie = "lang"

// catalogs map language code -> message id -> text (fmt verbs allowed).
// Every page file adds its messages with registerMessages from init().
var catalogs = map[string]map[string]string{}

// registerMessages adds messages in one language; ids are "page.what".
func registerMessages(lang string, msgs map[string]string) {
	c := catalogs[lang]
	if c == nil {
		c = map[string]string{}
		catalogs[lang] = c
	}
	for id, text := range msgs {
		if _, dup := c[id]; dup {
			panic("gatehouse: message registered twice: " + lang + " " + id)
		}
		c[id] = text
	}
}

// translate renders message id in lang, falling back to English and then
// to the id itself, so a missing translation shows up without breaking
// the page.
func translate(lang, id string, args ...any) string {
	text, ok := catalogs[lang][id]
	if !ok {
		if text, ok = catalogs[pageLangs[0].Code][id]; !ok {
			return id
		}
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// message is a translatable text with arguments, for errors and notices
// computed by a handler and shown by a template.
type message struct {
	ID   string
	Args []any
}

func msg(id string, args ...any) *message { return &message{ID: id, Args: args} }

// pickLang chooses the page language: ?lang= (remembered in a cookie),
// then the lang cookie, then Accept-Language, then English.
func pickLang(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q != "" && knownLang(q) {
		http.SetCookie(w, &http.Cookie{
			Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
		})
		return q
	}
	if c, err := r.Cookie(langCookie); err == nil && knownLang(c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" && len(al) < 512 {
		prefs, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(prefs) > 0 {
			_, i, conf := langMatcher.Match(prefs...)
			if conf != language.No {
				return pageLangs[i].Code
			}
		}
	}
	return pageLangs[0].Code
}

func knownLang(code string) bool {
	return slices.ContainsFunc(pageLangs, func(l pageLang) bool { return l.Code == code })
}

func htmlLang(code string) string {
	for _, l := range pageLangs {
		if l.Code == code {
			return l.HTMLLang
		}
	}
	return pageLangs[0].HTMLLang
}

// langLink is a language switcher entry: the current page in another
// language.
type langLink struct {
	pageLang
	URL     string
	Current bool
}

func langLinks(r *http.Request, current string) []langLink {
	out := make([]langLink, 0, len(pageLangs))
	for _, l := range pageLangs {
		q := r.URL.Query()
		q.Set("lang", l.Code)
		out = append(out, langLink{pageLang: l, URL: r.URL.Path + "?" + q.Encode(), Current: l.Code == current})
	}
	return out
}

// acceptsHTML reports whether the client prefers an HTML answer (a browser
// form) to JSON (a script).
func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func init() {
	registerMessages("en", map[string]string{
		"layout.signed_in_as": "Signed in as %s",
		"layout.tokens":       "Access tokens",
		"layout.logout":       "Sign out",

		"common.throttled":    "Too many failed attempts. Try again in %d seconds.",
		"common.server_error": "Something went wrong on our side. Try again later.",
	})
	registerMessages("zh", map[string]string{
		"layout.signed_in_as": "已登录：%s",
		"layout.tokens":       "访问令牌",
		"layout.logout":       "退出登录",

		"common.throttled":    "失败次数过多，请在 %d 秒后重试。",
		"common.server_error": "服务器出错了，请稍后重试。",
	})
}
