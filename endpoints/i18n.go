package endpoints

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/i18n"
)

// The pages' texts are in the i18n package (i18n/locales/*.json). A handler
// computes a message for its page to translate; message and msg are
// i18n.Message and i18n.Msg under the names the page handlers use.
type message = i18n.Message

func msg(id string, args ...any) *message { return i18n.Msg(id, args...) }

// AcceptsHTML reports whether the client prefers an HTML answer (a browser
// form) to JSON (a script).
func AcceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
