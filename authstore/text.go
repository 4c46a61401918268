package authstore

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text that people supply and the store keeps falls in two kinds. A name
// (a token's name) is chosen by its owner and shown back to them: it is
// checked with CheckTokenName and refused when it is not plain text. What
// a client merely reports about itself (its User-Agent) is kept for
// display whatever it holds, so it is made plain with SanitizeUserAgent
// before it is stored.

// MaxTokenNameLen bounds a token name, in characters.
const MaxTokenNameLen = 100

// maxUserAgentLen bounds what is kept of a client's User-Agent, in bytes.
const maxUserAgentLen = 256

// ErrInvalidName is the outcome of storing a name that CheckTokenName
// refuses; the error's text says what is wrong, fit to show the person
// who chose the name.
var ErrInvalidName = errors.New("invalid name")

// nameError is an ErrInvalidName with its own message.
type nameError struct{ msg string }

func (e *nameError) Error() string        { return e.msg }
func (e *nameError) Is(target error) bool { return target == ErrInvalidName }

// CheckTokenName checks a token name and returns it without surrounding
// spaces. A name must be valid UTF-8 and hold no control characters
// (unicode.IsControl: C0, DEL, C1, so no escape sequences or line breaks),
// no format characters (Unicode Cf: bidirectional overrides such as
// U+202E, zero-width characters) and no line or paragraph separators, so
// that it shows as what it says wherever it is printed: a page, a
// terminal, a log. Once trimmed it must be 1 to MaxTokenNameLen
// characters. A refused name is an error matching ErrInvalidName.
func CheckTokenName(name string) (string, error) {
	if err := checkPlainText("token name", name); err != nil {
		return "", err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "", &nameError{"token name must not be empty"}
	}
	if n := utf8.RuneCountInString(name); n > MaxTokenNameLen {
		return "", &nameError{fmt.Sprintf("token name must be at most %d characters (it has %d)", MaxTokenNameLen, n)}
	}
	return name, nil
}

// checkPlainText refuses s unless it is valid UTF-8 without unsafe runes
// (see unsafeRune). what names the field in the message.
func checkPlainText(what, s string) error {
	if !utf8.ValidString(s) {
		return &nameError{what + " must be valid UTF-8"}
	}
	if i := strings.IndexFunc(s, unsafeRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return &nameError{fmt.Sprintf("%s must not contain control or formatting characters (found %U)", what, r)}
	}
	return nil
}

// unsafeRune reports whether r changes how the text around it shows
// rather than being shown: control characters, format characters (Cf,
// bidirectional overrides among them) and line and paragraph separators.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// SanitizeUserAgent makes a client's User-Agent fit to store and show:
// invalid UTF-8 and unsafe runes (control and format characters, line
// separators) become U+FFFD, surrounding spaces go, and the result is cut
// to at most maxUserAgentLen bytes without splitting a character.
func SanitizeUserAgent(ua string) string {
	return SanitizeText(ua, maxUserAgentLen)
}

// SanitizeText makes s plain text: invalid UTF-8 and unsafe runes become
// U+FFFD (one for each run of them), surrounding spaces go, and the result
// is cut to at most max bytes on a character boundary.
func SanitizeText(s string, max int) string {
	if len(s) > 4*max {
		s = s[:4*max] // enough to fill max bytes even if every rune is replaced
	}
	var b strings.Builder
	replaced := false
	for _, r := range s { // invalid bytes arrive as utf8.RuneError
		if r == utf8.RuneError || unsafeRune(r) {
			if !replaced {
				b.WriteRune(utf8.RuneError)
			}
			replaced = true
			continue
		}
		replaced = false
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if len(out) <= max {
		return out
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut]
}
