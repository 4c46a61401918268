package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// stdinTerminal reports whether r is a terminal.
func stdinTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readNoEcho reads a line from the terminal r without echoing it.
func readNoEcho(r io.Reader) (string, error) {
	f, ok := r.(*os.File)
	if !ok {
		return "", errors.New("standard input is not a terminal")
	}
	b, err := term.ReadPassword(int(f.Fd()))
	return string(b), err
}

// prompt asks for a line on the terminal: with echo for a login or a
// code, without for a password.
func (a *app) prompt(label string, secret bool) (string, error) {
	fmt.Fprint(a.stderr, label)
	var (
		s   string
		err error
	)
	if secret {
		s, err = a.readSecret()
		fmt.Fprintln(a.stderr)
	} else {
		s, err = readLine(a.stdin)
	}
	if err != nil {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// readLine reads up to a newline a byte at a time, so that nothing after
// it is consumed: a later prompt reads the next line.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 4096 {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) && b.Len() > 0 {
				return b.String(), nil
			}
			return "", err
		}
	}
	return b.String(), nil
}

// readStdinLine reads what --password-stdin, --with-token and
// --with-refresh-token pipe in: one non-empty line (surrounding blank
// lines and spaces at its ends are dropped), at most max bytes. what
// names it in errors, which never repeat it.
func (a *app) readStdinLine(what string, max int, keepSpaces bool) (string, error) {
	data, err := io.ReadAll(io.LimitReader(a.stdin, int64(max)+1))
	if err != nil {
		return "", fmt.Errorf("reading the %s from standard input: %w", what, err)
	}
	if len(data) > max {
		return "", fmt.Errorf("standard input holds more than %d bytes; give only the %s", max, what)
	}
	line := ""
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, "\r")
		if !keepSpaces {
			l = strings.TrimSpace(l)
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		if line != "" {
			return "", fmt.Errorf("standard input holds more than one line; give only the %s", what)
		}
		line = l
	}
	return line, nil // empty: the caller's check says what is wrong
}
