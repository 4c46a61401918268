package i18n

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestT(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, lang, id string
		args           []any
		want           string
	}{
		{"english", "en", "login.title", nil, "Sign in"},
		{"chinese", "zh", "login.title", nil, "登录"},
		{"args", "zh", "common.throttled", []any{3}, "失败次数过多，请在 3 秒后重试。"},
		{"no args keeps the verbs", "en", "pat.expires_days", nil, "Expires in days (1 to %d)"},
		{"unknown language falls back to English", "fr", "layout.logout", nil, "Sign out"},
		{"empty language falls back to English", "", "setup.sign_in", nil, "Sign in"},
		{"unknown id shows the id", "zh", "nope.missing", []any{1}, "nope.missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := T(tc.lang, tc.id, tc.args...); got != tc.want {
				t.Errorf("T(%q, %q, %v) = %q, want %q", tc.lang, tc.id, tc.args, got, tc.want)
			}
		})
	}
}

func TestMessageIn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		m    *Message
		lang string
		want string
	}{
		{"nil", nil, "zh", ""},
		{"plain", Msg("pat.revoked"), "en", "Token revoked."},
		{"args", Msg("pat.err_expires", 365), "zh", "请选择 1 至 365 天的有效期。"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.m.In(tc.lang); got != tc.want {
				t.Errorf("%+v.In(%q) = %q, want %q", tc.m, tc.lang, got, tc.want)
			}
		})
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                        string
		query, cookie, accept, want string
		secure                      bool
		setsCookie                  bool
	}{
		{"nothing", "", "", "", "en", false, false},
		{"accept zh-CN", "", "", "zh-CN,zh;q=0.9,en;q=0.8", "zh", false, false},
		{"accept zh-Hans", "", "", "zh-Hans", "zh", false, false},
		{"accept en-GB", "", "", "en-GB,en;q=0.9", "en", false, false},
		{"accept unknown", "", "", "fr-FR, de", "en", false, false},
		{"accept malformed", "", "", "zh;q=oops;;", "en", false, false},
		{"accept too long", "", "", strings.Repeat("zh,", 200), "en", false, false},
		{"cookie beats accept", "", "zh", "en", "zh", false, false},
		{"query beats cookie", "en", "zh", "zh", "en", false, true},
		{"query over https", "zh", "", "", "zh", true, true},
		{"unknown query", "xx", "", "zh", "zh", false, false},
		{"unknown cookie", "", "xx", "", "en", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/pat?lang="+tc.query, nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: cookieName, Value: tc.cookie})
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			w := httptest.NewRecorder()
			if got := Pick(w, r, tc.secure); got != tc.want {
				t.Errorf("Pick = %q, want %q", got, tc.want)
			}
			cookies := w.Result().Cookies()
			if set := len(cookies) > 0; set != tc.setsCookie {
				t.Fatalf("Set-Cookie %q", w.Header().Values("Set-Cookie"))
			}
			if tc.setsCookie {
				c := cookies[0]
				if c.Name != cookieName || c.Value != tc.want || c.Path != "/" || !c.HttpOnly ||
					c.Secure != tc.secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 365*24*3600 {
					t.Errorf("cookie %+v", c)
				}
			}
		})
	}
}

func TestHTMLLang(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"en": "en", "zh": "zh-CN", "xx": "en", "": "en"} {
		if got := HTMLLang(code); got != want {
			t.Errorf("HTMLLang(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestLinks(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/device?user_code=WDJB-MJHT&lang=en", nil)
	got := Links(r, "zh")
	want := []struct{ code, url string }{
		{"en", "/device?lang=en&user_code=WDJB-MJHT"},
		{"zh", "/device?lang=zh&user_code=WDJB-MJHT"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d links, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Code != w.code || got[i].URL != w.url || got[i].Current != (w.code == "zh") || got[i].Name == "" {
			t.Errorf("link %d = %+v, want %s %s", i, got[i], w.code, w.url)
		}
	}
}

func TestLangsIsACopy(t *testing.T) {
	t.Parallel()
	l := Langs()
	l[0].Code = "changed"
	if Langs()[0].Code != "en" {
		t.Error("Langs returned the package's own slice")
	}
}

func TestParseCatalog(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     map[string]string // nil: an error
	}{
		{"flat", `{"a.b": "x", "a.c": "y %d"}`, map[string]string{"a.b": "x", "a.c": "y %d"}},
		{"empty", `{}`, map[string]string{}},
		{"duplicate id", `{"a.b": "x", "a.b": "y"}`, nil},
		{"nested", `{"a": {"b": "x"}}`, nil},
		{"number", `{"a.b": 1}`, nil},
		{"array", `["a.b"]`, nil},
		{"trailing data", `{"a.b": "x"} {}`, nil},
		{"truncated", `{"a.b": "x"`, nil},
		{"not json", `a.b = x`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCatalog([]byte(tc.in))
			switch {
			case tc.want == nil && err == nil:
				t.Errorf("parsed %v, want an error", got)
			case tc.want != nil && err != nil:
				t.Errorf("error %v", err)
			case tc.want != nil && !maps.Equal(got, tc.want):
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
