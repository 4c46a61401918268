// Package reqbody reads the request bodies Gatehouse reads itself (its
// endpoints, the admin API): one size bound, one set of answers.
package reqbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/problem"
)

// MaxBody bounds the bodies of Gatehouse's own endpoints; a larger body
// is refused, never truncated.
const MaxBody = 64 << 10

// Media types Gatehouse reads.
const (
	FormType = "application/x-www-form-urlencoded"
	JSONType = "application/json"
)

// MediaType is the request's media type without parameters.
func MediaType(r *http.Request) string {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct
}

// Read reads the whole bounded body.
func Read(r *http.Request) ([]byte, *problem.Problem) { return readLimit(r, MaxBody) }

func readLimit(r *http.Request, limit int) ([]byte, *problem.Problem) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, problem.Invalid("bad_body", "could not read the request body")
	}
	if len(body) > limit {
		return nil, problem.Invalid("bad_body", fmt.Sprintf("the request body is larger than %d KiB", limit>>10))
	}
	return body, nil
}

// Params reads an endpoint's parameters from a form or a flat JSON
// object of strings; a bodiless request has none (pages read their query
// themselves).
func Params(r *http.Request) (url.Values, *problem.Problem) {
	body, d := Read(r)
	if d != nil {
		return nil, d
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return url.Values{}, nil
	}
	switch MediaType(r) {
	case FormType:
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, problem.Invalid("bad_body", "the form body is malformed")
		}
		return v, nil
	case JSONType:
		if !utf8.Valid(body) {
			return nil, problem.Invalid("bad_body", jsonNotUTF8)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, problem.Invalid("bad_body", "the JSON body is malformed")
		}
		v := url.Values{}
		for k, val := range m {
			s, ok := val.(string)
			if !ok {
				return nil, problem.Invalid("bad_body", "parameter "+k+" must be a string")
			}
			v.Set(k, s)
		}
		return v, nil
	}
	return nil, problem.Invalid("bad_body", "send "+FormType+" or "+JSONType)
}

// jsonNotUTF8 refuses a JSON body that is not UTF-8 (RFC 8259 §8.1).
// encoding/json would read invalid bytes as U+FFFD, silently storing
// something other than what was sent.
const jsonNotUTF8 = "the JSON body must be valid UTF-8"

// DecodeJSON reads one JSON object into v: the media type must be JSON
// (415 otherwise), the body UTF-8, and unknown fields, wrong types and
// trailing data are 400s that say what is wrong, so a typo is an error
// rather than a silent default.
func DecodeJSON(r *http.Request, v any) *problem.Problem { return DecodeJSONLimit(r, v, MaxBody) }

// DecodeJSONLimit is DecodeJSON for an endpoint whose bodies may be
// larger than MaxBody, up to limit bytes (a secret scanner's batch).
func DecodeJSONLimit(r *http.Request, v any, limit int) *problem.Problem {
	if MediaType(r) != JSONType {
		return &problem.Problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Reason: "bad_body",
			Message: "send a JSON object with Content-Type: " + JSONType}
	}
	body, d := readLimit(r, limit)
	if d != nil {
		return d
	}
	if !utf8.Valid(body) {
		return problem.Invalid("bad_body", jsonNotUTF8)
	}
	// null decodes into a struct without an error and without setting
	// anything; like every value that is not an object, it is refused.
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] != '{' {
		return problem.Invalid("bad_body", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problem.Invalid("bad_body", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem.Invalid("bad_body", "the body must hold one JSON object and nothing after it")
	}
	return nil
}

// describeJSONError says what is wrong with a body in the API's terms,
// without Go type names.
func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("%s has the wrong type (%s)", typeErr.Field, typeErr.Value)
	case errors.As(err, &typeErr):
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF):
		return "the body is empty; send a JSON object"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "the JSON body is malformed"
}
