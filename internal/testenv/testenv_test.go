package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIsolate(t *testing.T) {
	before := os.Getenv("HOME")
	root, restore, err := Isolate()
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(root); err != nil {
		t.Error(err)
	}
	for _, name := range Dirs {
		if fi, err := os.Stat(os.Getenv(name)); err != nil || !fi.IsDir() {
			t.Errorf("%s=%s: %v", name, os.Getenv(name), err)
		}
	}
	if err := Check(root, filepath.Join(before, ".config", "caddy", "autosave.json")); err == nil {
		t.Error("Check accepted a path in the real home")
	}
	restore()
	if os.Getenv("HOME") != before {
		t.Errorf("HOME not restored: %s", os.Getenv("HOME"))
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("the test home is still there: %v", err)
	}
}
