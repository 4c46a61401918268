package reqbody

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// request is a POST of body with Content-Type ct ("" sends none).
func request(ct, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return r
}

// failingReader fails every read, as a client that hangs up mid-body.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestMediaType(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]string{
		"":                                  "",
		"application/json":                  JSONType,
		"Application/JSON; charset=utf-8":   JSONType,
		FormType + "; charset=utf-8":        FormType,
		"text/plain":                        "text/plain",
		"application/json; charset=\"utf-8": JSONType, // a broken parameter does not hide the type
		"application/json, text/html":       "",       // two types: neither
	} {
		if got := MediaType(request(ct, "")); got != want {
			t.Errorf("MediaType(%q) = %q, want %q", ct, got, want)
		}
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		body    io.Reader // nil: no body at all
		want    int       // bytes read
		wantErr string    // substring of the refusal's message; "" for none
	}{
		{name: "no body"},
		{name: "empty", body: strings.NewReader("")},
		{name: "small", body: strings.NewReader("abc"), want: 3},
		{name: "exactly MaxBody", body: strings.NewReader(strings.Repeat("a", MaxBody)), want: MaxBody},
		{name: "one byte over MaxBody", body: strings.NewReader(strings.Repeat("a", MaxBody+1)), wantErr: "larger than 64 KiB"},
		{name: "far over MaxBody", body: strings.NewReader(strings.Repeat("a", 10*MaxBody)), wantErr: "larger than 64 KiB"},
		{name: "read error", body: failingReader{}, wantErr: "could not read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/x", nil)
			r.Body = nil
			if tc.body != nil {
				r.Body = io.NopCloser(tc.body)
			}
			got, d := Read(r)
			switch {
			case tc.wantErr == "" && d != nil:
				t.Fatalf("refused: %v", d)
			case tc.wantErr != "" && d == nil:
				t.Fatalf("read %d bytes, want a refusal", len(got))
			case tc.wantErr != "":
				if d.Status != http.StatusBadRequest || d.Code != "invalid_request" || d.Reason != "bad_body" || !strings.Contains(d.Message, tc.wantErr) {
					t.Errorf("refusal %d %s %s %q, want 400 invalid_request bad_body %q", d.Status, d.Code, d.Reason, d.Message, tc.wantErr)
				}
				if got != nil {
					t.Errorf("a refused body still returned %d bytes", len(got))
				}
			case len(got) != tc.want:
				t.Errorf("read %d bytes, want %d", len(got), tc.want)
			}
		})
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	big := `{"a":"` + strings.Repeat("x", MaxBody) + `"}`
	for _, tc := range []struct {
		name    string
		ct      string
		body    string
		want    url.Values
		wantErr string // substring of the 400's message
	}{
		{name: "empty body, no type", body: "", want: url.Values{}},
		{name: "blank body, any type", ct: "text/plain", body: " \n\t", want: url.Values{}},
		{name: "form", ct: FormType, body: "login=alice&scope=a&scope=b", want: url.Values{"login": {"alice"}, "scope": {"a", "b"}}},
		{name: "form with charset", ct: FormType + "; charset=utf-8", body: "x=%C3%A9", want: url.Values{"x": {"é"}}},
		{name: "malformed form", ct: FormType, body: "a=%zz", wantErr: "form body is malformed"},
		{name: "JSON object of strings", ct: JSONType, body: `{"login":"alice","password":"p w"}`, want: url.Values{"login": {"alice"}, "password": {"p w"}}},
		{name: "JSON with charset", ct: JSONType + "; charset=utf-8", body: `{"a":"b"}`, want: url.Values{"a": {"b"}}},
		{name: "JSON number", ct: JSONType, body: `{"expires_days":7}`, wantErr: "parameter expires_days must be a string"},
		{name: "JSON array value", ct: JSONType, body: `{"scope":["a"]}`, wantErr: "parameter scope must be a string"},
		{name: "JSON null value", ct: JSONType, body: `{"a":null}`, wantErr: "parameter a must be a string"},
		{name: "JSON array", ct: JSONType, body: `["a"]`, wantErr: "JSON body is malformed"},
		{name: "malformed JSON", ct: JSONType, body: `{"a":`, wantErr: "JSON body is malformed"},
		{name: "JSON trailing data", ct: JSONType, body: `{"a":"b"} x`, wantErr: "JSON body is malformed"},
		{name: "non-UTF-8 JSON", ct: JSONType, body: "{\"a\":\"\xff\"}", wantErr: "must be valid UTF-8"},
		{name: "no media type", body: "a=b", wantErr: "send " + FormType + " or " + JSONType},
		{name: "unsupported media type", ct: "text/plain", body: "a=b", wantErr: "send " + FormType + " or " + JSONType},
		{name: "multipart", ct: "multipart/form-data; boundary=x", body: "--x--", wantErr: "send " + FormType},
		{name: "over MaxBody", ct: JSONType, body: big, wantErr: "larger than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, d := Params(request(tc.ct, tc.body))
			if tc.wantErr != "" {
				if d == nil {
					t.Fatalf("got %v, want a refusal", got)
				}
				if d.Status != http.StatusBadRequest || d.Code != "invalid_request" || !strings.Contains(d.Message, tc.wantErr) {
					t.Errorf("refusal %d %s %q, want 400 invalid_request %q", d.Status, d.Code, d.Message, tc.wantErr)
				}
				return
			}
			if d != nil {
				t.Fatalf("refused: %v", d)
			}
			if got.Encode() != tc.want.Encode() {
				t.Errorf("params %v, want %v", got, tc.want)
			}
		})
	}
}

// Params on a request without any body (a GET) has no parameters.
func TestParamsNoBody(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/x?a=b", nil)
	r.Body = nil
	v, d := Params(r)
	if d != nil || len(v) != 0 {
		t.Errorf("Params of a bodiless GET: %v %v (the query is not a parameter)", v, d)
	}
}

type decoded struct {
	Name   string   `json:"name"`
	Days   int      `json:"days"`
	Scopes []string `json:"scopes"`
	Nested struct {
		On bool `json:"on"`
	} `json:"nested"`
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		ct         string
		body       string
		want       decoded
		wantStatus int    // 0: success
		wantCode   string // the JSON "error"
		wantMsg    string // substring of the message
	}{
		{name: "object", ct: JSONType, body: `{"name":"n","days":7,"scopes":["a"],"nested":{"on":true}}`,
			want: decoded{Name: "n", Days: 7, Scopes: []string{"a"}, Nested: struct {
				On bool `json:"on"`
			}{On: true}}},
		{name: "with charset", ct: "application/json; charset=utf-8", body: `{"name":"n"}`, want: decoded{Name: "n"}},
		{name: "trailing whitespace", ct: JSONType, body: "{\"name\":\"n\"}\n\t ", want: decoded{Name: "n"}},
		{name: "empty object", ct: JSONType, body: `{}`},
		{name: "form type", ct: FormType, body: `{"name":"n"}`, wantStatus: 415, wantCode: "unsupported_media_type", wantMsg: "Content-Type: application/json"},
		{name: "no type", body: `{"name":"n"}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "text/json", ct: "text/json", body: `{"name":"n"}`, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "unknown field", ct: JSONType, body: `{"nmae":"n"}`, wantStatus: 400, wantCode: "invalid_request", wantMsg: `unknown field "nmae"`},
		{name: "wrong type", ct: JSONType, body: `{"days":"seven"}`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "days has the wrong type (string)"},
		{name: "wrong nested type", ct: JSONType, body: `{"nested":{"on":1}}`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "nested.on has the wrong type (number)"},
		{name: "array", ct: JSONType, body: `["a"]`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "must be a JSON object"},
		{name: "string", ct: JSONType, body: `"a"`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "must be a JSON object"},
		// null decodes into a struct as nothing at all: a silent default.
		{name: "null", ct: JSONType, body: `null`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "must be a JSON object"},
		{name: "null after whitespace", ct: JSONType, body: " \n null", wantStatus: 400, wantCode: "invalid_request", wantMsg: "must be a JSON object"},
		{name: "number", ct: JSONType, body: `7`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "must be a JSON object"},
		{name: "empty", ct: JSONType, body: ``, wantStatus: 400, wantCode: "invalid_request", wantMsg: "the body is empty"},
		{name: "only whitespace", ct: JSONType, body: "  \n", wantStatus: 400, wantCode: "invalid_request", wantMsg: "the body is empty"},
		{name: "malformed", ct: JSONType, body: `{"name":`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "the JSON body is malformed"},
		{name: "syntax error", ct: JSONType, body: `{name:"n"}`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "the JSON body is malformed"},
		{name: "two objects", ct: JSONType, body: `{"name":"a"}{"name":"b"}`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "one JSON object and nothing after it"},
		{name: "trailing garbage", ct: JSONType, body: `{"name":"a"} x`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "one JSON object and nothing after it"},
		{name: "non-UTF-8", ct: JSONType, body: "{\"name\":\"\xff\xfe\"}", wantStatus: 400, wantCode: "invalid_request", wantMsg: "must be valid UTF-8"},
		{name: "over MaxBody", ct: JSONType, body: `{"name":"` + strings.Repeat("x", MaxBody) + `"}`, wantStatus: 400, wantCode: "invalid_request", wantMsg: "larger than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got decoded
			d := DecodeJSON(request(tc.ct, tc.body), &got)
			if tc.wantStatus == 0 {
				if d != nil {
					t.Fatalf("refused: %v", d)
				}
				if got.Name != tc.want.Name || got.Days != tc.want.Days || strings.Join(got.Scopes, " ") != strings.Join(tc.want.Scopes, " ") || got.Nested != tc.want.Nested {
					t.Errorf("decoded %+v, want %+v", got, tc.want)
				}
				return
			}
			if d == nil {
				t.Fatalf("decoded %+v, want %d", got, tc.wantStatus)
			}
			if d.Status != tc.wantStatus || d.Code != tc.wantCode || d.Reason != "bad_body" || !strings.Contains(d.Message, tc.wantMsg) {
				t.Errorf("refusal %d %s %s %q, want %d %s bad_body %q", d.Status, d.Code, d.Reason, d.Message, tc.wantStatus, tc.wantCode, tc.wantMsg)
			}
			if strings.Contains(d.Message, "reqbody.") || strings.Contains(d.Message, "Go struct") {
				t.Errorf("the message names Go types: %q", d.Message)
			}
		})
	}
}

// A body that cannot be read is a 400, not a silently empty object.
func TestDecodeJSONReadError(t *testing.T) {
	t.Parallel()
	r := request(JSONType, "")
	r.Body = io.NopCloser(failingReader{})
	var v decoded
	if d := DecodeJSON(r, &v); d == nil || d.Status != http.StatusBadRequest || !strings.Contains(d.Message, "could not read") {
		t.Errorf("DecodeJSON of a failing body: %v", d)
	}
}
