// Package i18n holds the texts of Gatehouse's pages in every language
// they speak and picks the language of a response.
//
// The texts live in locales/<code>.json, one flat JSON object of message
// id ("page.what") → text per language, embedded in the binary. A text
// may hold fmt verbs for its arguments; every language has the same ids
// with the same verbs (locales_test.go checks that, and that every id
// the pages name exists and is used).
//
// It is not a template engine and knows nothing of Caddy: callers
// translate with T, or carry a computed Message to the page, and render
// the result themselves.
package i18n
