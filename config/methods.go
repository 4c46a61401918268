package config

// methods are the request methods Gatehouse knows: RFC 9110's, PATCH
// (RFC 5789), QUERY, and the WebDAV family (RFC 4918, 3253, 3648, 3744,
// 4791, 5323, 5842) that file and calendar servers use. Methods are
// case-sensitive (RFC 9110 §9.1): "delete" is not DELETE, so a request
// that spells one differently is refused rather than guessed at, since
// frameworks behind the gateway (Werkzeug, Django, Symfony) upper-case
// the method before routing while a rule would not have matched it.
var methods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true, "QUERY": true,
	"PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true, "MOVE": true,
	"LOCK": true, "UNLOCK": true, "REPORT": true, "SEARCH": true, "MKCALENDAR": true,
	"ACL": true, "ORDERPATCH": true, "BIND": true, "UNBIND": true, "REBIND": true,
	"VERSION-CONTROL": true, "CHECKOUT": true, "CHECKIN": true, "UNCHECKOUT": true,
	"MKWORKSPACE": true, "UPDATE": true, "LABEL": true, "MERGE": true,
	"BASELINE-CONTROL": true, "MKACTIVITY": true, "MKREDIRECTREF": true,
	"UPDATEREDIRECTREF": true,
}

// IsMethod reports whether m is a known request method, spelled exactly
// (upper case).
func IsMethod(m string) bool { return methods[m] }
