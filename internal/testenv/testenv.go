// Package testenv gives a test binary a home of its own. Tests, and the
// servers, command-line tools and browsers they start (which inherit the
// environment), must never read or write the real user's files: Caddy
// autosaves its config under the config directory, the gatehouse CLI keeps
// its hosts file there, Chromium writes caches.
//
// It is for TestMain functions only; no production code imports it.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dirs are the variables Isolate sets, each to a directory of its own.
var Dirs = []string{"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"}

// Isolate points HOME and the XDG base directories at fresh directories
// under one temporary directory, which it returns with a function that
// removes it. Call it first thing in TestMain, but after anything that
// runs the go command: the build and module caches live under the real
// home, and a new home would start them empty.
func Isolate() (root string, restore func(), err error) {
	root, err = os.MkdirTemp("", "gatehouse-home-")
	if err != nil {
		return "", nil, err
	}
	old := map[string]*string{}
	for _, name := range Dirs {
		if v, ok := os.LookupEnv(name); ok {
			old[name] = &v
		} else {
			old[name] = nil
		}
		dir := filepath.Join(root, strings.ToLower(name))
		if err := os.Mkdir(dir, 0o700); err != nil {
			os.RemoveAll(root)
			return "", nil, err
		}
		os.Setenv(name, dir)
	}
	return root, func() {
		for name, v := range old {
			if v == nil {
				os.Unsetenv(name)
			} else {
				os.Setenv(name, *v)
			}
		}
		os.RemoveAll(root)
	}, nil
}

// Check reports an error unless every variable Isolate sets, and every
// path given, is inside root: the test run must not touch the real home.
func Check(root string, paths ...string) error {
	for _, name := range Dirs {
		paths = append(paths, os.Getenv(name))
	}
	for _, p := range paths {
		rel, err := filepath.Rel(root, p)
		if err != nil || !filepath.IsAbs(p) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("testenv: %q is outside the test home %s", p, root)
		}
	}
	return nil
}
