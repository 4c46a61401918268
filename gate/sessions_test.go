package gate

import (
	"net/http/httptest"
	"testing"
)

func TestStripCredentials(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer secret")
	r.Header.Add("Cookie", "theme=dark; gatehouse_session=jwt1; lang=zh")
	r.Header.Add("Cookie", "__Host-gatehouse_session=jwt2;x=\"quoted value\"")
	StripCredentials(r)
	if r.Header.Get("Authorization") != "" {
		t.Error("Authorization kept")
	}
	if got := r.Header.Values("Cookie"); len(got) != 1 || got[0] != `theme=dark; lang=zh; x="quoted value"` {
		t.Errorf("cookies %q", got)
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", "gatehouse_session=jwt")
	StripCredentials(r)
	if _, ok := r.Header["Cookie"]; ok {
		t.Error("an empty Cookie header was left")
	}
}

func TestHasSessionCookie(t *testing.T) {
	t.Parallel()
	for cookie, want := range map[string]bool{
		"gatehouse_session=x":            true,
		"a=b; __Host-gatehouse_session=": true,
		"not_gatehouse_session=x":        false,
		"a=gatehouse_session":            false,
		"":                               false,
	} {
		r := httptest.NewRequest("POST", "/", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		if got := HasSessionCookie(r); got != want {
			t.Errorf("%q: %v", cookie, got)
		}
	}
}
