package i18n

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"golang.org/x/text/language"
)

// Lang is a language the pages speak.
type Lang struct {
	Code     string // as in ?lang=, the lang cookie and locales/<Code>.json
	HTMLLang string // as in <html lang>
	Name     string // in its own language, for the language switcher
	tag      language.Tag
}

// langs are the languages the pages speak. The first is the fallback:
// a request that asks for none of them, and a message missing in the
// language asked for, get it.
var langs = []Lang{
	{Code: "en", HTMLLang: "en", Name: "English", tag: language.English},
	{Code: "zh", HTMLLang: "zh-CN", Name: "简体中文", tag: language.SimplifiedChinese},
}

// Langs returns the languages the pages speak, the fallback first.
func Langs() []Lang { return append([]Lang(nil), langs...) }

//go:embed locales/*.json
var localeFS embed.FS

// catalogs maps a language code to its messages (id → text), read once
// from the embedded locale files; a broken file fails every test.
var catalogs = func() map[string]map[string]string {
	out := make(map[string]map[string]string, len(langs))
	for _, l := range langs {
		c, err := readCatalog(localeFS, "locales/"+l.Code+".json")
		if err != nil {
			panic("gatehouse: " + err.Error())
		}
		out[l.Code] = c
	}
	return out
}()

// readCatalog reads one locale file.
func readCatalog(fsys fs.FS, name string) (map[string]string, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	c, err := parseCatalog(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// parseCatalog parses a locale file: one JSON object whose values are
// strings. An id given twice is an error rather than a silent overwrite
// (encoding/json keeps the last one).
func parseCatalog(b []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("want a JSON object of message id → text")
	}
	out := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		id := tok.(string) // an object's keys are strings
		var text string
		if err := dec.Decode(&text); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("%s: given twice", id)
		}
		out[id] = text
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more after the object")
	}
	return out, nil
}

// T renders message id in the language lang (a Lang.Code) with args
// for its fmt verbs. A message missing in lang falls back to the first
// language and then to the id itself, so a missing translation shows up
// without breaking the page. Without args the text is returned as is.
func T(lang, id string, args ...any) string {
	text, ok := catalogs[lang][id]
	if !ok {
		if text, ok = catalogs[langs[0].Code][id]; !ok {
			return id
		}
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// Message is a text a handler computes (an error, a notice) for a page
// that is rendered later, in the page's language.
type Message struct {
	ID   string
	Args []any
}

// Msg returns message id with its arguments.
func Msg(id string, args ...any) *Message { return &Message{ID: id, Args: args} }

// In renders m in the language lang; a nil Message renders as "".
func (m *Message) In(lang string) string {
	if m == nil {
		return ""
	}
	return T(lang, m.ID, m.Args...)
}
