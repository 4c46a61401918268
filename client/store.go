package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"go.yaml.in/yaml/v3"
)

// HostsFileName is the name of the hosts file inside the config directory.
const HostsFileName = "hosts.yml"

// lockWait bounds how long a writer waits for another process's lock.
const lockWait = 10 * time.Second

// DefaultHostsPath is where app keeps its hosts file:
// `$XDG_CONFIG_HOME/app/hosts.yml`, or `~/.config/app/hosts.yml` when
// XDG_CONFIG_HOME is unset or not absolute. app is the CLI's name
// (`gatehouse`).
func DefaultHostsPath(app string) (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the config directory: %w", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, app, HostsFileName), nil
}

// Store is a hosts.yml file. Reads see a whole file, never half of a
// write; writes go to a temporary file in the same directory that is
// synced and renamed over the old one, under an exclusive lock on a lock
// file beside it (`hosts.yml.lock`), so that concurrent commands never lose
// each other's entries. The file is kept at mode 0600 in a directory of
// mode 0700, and a file or directory that others may read is refused.
//
// A Store holds no state between calls; it is safe for concurrent use by
// goroutines and processes.
//
// With a Keyring, the secrets (tokens and refresh tokens) of every
// account not stored with [StorageFile] live in the keychain and
// hosts.yml keeps only their metadata; an account whose secret the
// keychain refuses to take is kept in the file instead
// ([Host.StorageNote] says why). Secrets written to the file by an older
// version move to the keychain on the next write.
type Store struct {
	path string
	// Keyring, if set, is where secrets live.
	Keyring Keyring
}

// NewStore returns the store kept at path (see [DefaultHostsPath]), with
// every secret in the file.
func NewStore(path string) *Store { return &Store{path: path} }

// NewKeyringStore returns the store kept at path whose secrets live in kr.
func NewKeyringStore(path string, kr Keyring) *Store { return &Store{path: path, Keyring: kr} }

// Path is the hosts file's path.
func (s *Store) Path() string { return s.path }

// Load reads the hosts file. A missing file (or directory) is an empty
// [HostsFile]. The error is a [*PermissionError] when the file or its
// directory is open to other users, and a [*HostsFileError] when the file
// cannot be understood.
func (s *Store) Load() (*HostsFile, error) {
	if err := checkMode(filepath.Dir(s.path), 0o700, true); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &HostsFile{}, nil
		}
		return nil, err
	}
	f, err := s.read()
	if err != nil {
		return nil, err
	}
	readSecrets(s.Keyring, f)
	return f, nil
}

// Update reads the hosts file, lets fn change it and writes the result,
// all under the store's exclusive lock; the directory is created (mode
// 0700) if needed. Nothing is written when fn returns an error (which
// Update returns as it is), or when the file on disk is unreadable,
// corrupted or too open: a file that cannot be understood is never
// replaced.
func (s *Store) Update(ctx context.Context, fn func(*HostsFile) error) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := checkMode(dir, 0o700, true); err != nil {
		return err
	}
	lock := flock.New(s.path+".lock", flock.SetPermissions(0o600))
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	locked, err := lock.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !locked {
		if err == nil {
			err = ctx.Err()
		}
		return fmt.Errorf("locking %s (is another gatehouse command stuck?): %w", lock.Path(), err)
	}
	defer lock.Unlock()

	f, err := s.read()
	if err != nil {
		return err
	}
	readSecrets(s.Keyring, f)
	before := keyringItems(f)
	if err := fn(f); err != nil {
		return err
	}
	if f.Version == 0 {
		f.Version = HostsFileVersion
	}
	// The keychain first: the file must never name a secret that is not
	// there.
	onDisk := s.placeSecrets(f, before)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(onDisk); err != nil {
		return fmt.Errorf("encoding %s: %w", s.path, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encoding %s: %w", s.path, err)
	}
	if err := writeAtomic(s.path, buf.Bytes()); err != nil {
		return err
	}
	// Forget what no account keeps in the keychain any more. A failure
	// leaves an orphan item, which nothing reads; it is not worth failing
	// a write that succeeded.
	after := keyringItems(f)
	for ref := range before {
		if _, kept := after[ref]; !kept && s.Keyring != nil {
			_ = s.Keyring.Delete(keyringService(ref.key), ref.user)
		}
	}
	return nil
}

// placeSecrets decides where each account's secrets live, puts those for
// the keychain there, and returns the copy of f to write: f with the
// secrets kept in the keychain left out.
func (s *Store) placeSecrets(f *HostsFile, before map[accountRef]secrets) *HostsFile {
	forEachAccount(f, func(key string, a *Host) {
		a.storageNote = nil
		if a.secretErr != nil || a.Storage == StorageFile {
			// Unreadable: leave the keychain's item alone. File: chosen.
			return
		}
		if s.Keyring == nil {
			if a.Storage == "" {
				a.Storage = StorageFile
			}
			return
		}
		sec := secrets{a.Token, a.RefreshToken}
		ref := accountRef{key, accountKey(a.User)}
		if old, ok := before[ref]; ok && old == sec && a.Storage == StorageKeyring {
			return
		}
		if err := s.Keyring.Set(keyringService(key), ref.user, sec.encode()); err != nil {
			a.Storage, a.storageNote = StorageFile, fmt.Errorf("the keychain refused it: %w", err)
			return
		}
		a.Storage = StorageKeyring
	})
	out := *f
	out.Hosts = make(map[string]*Host, len(f.Hosts))
	for key, h := range f.Hosts {
		c := *h
		if c.Storage == StorageKeyring {
			c.Token, c.RefreshToken = "", ""
		}
		if len(h.Accounts) > 0 {
			c.Accounts = make(map[string]*Host, len(h.Accounts))
			for login, a := range h.Accounts {
				ac := *a
				if ac.Storage == StorageKeyring {
					ac.Token, ac.RefreshToken = "", ""
				}
				c.Accounts[login] = &ac
			}
		}
		out.Hosts[key] = &c
	}
	return &out
}

// read decodes the file, which may be absent; the caller has checked the
// directory.
func (s *Store) read() (*HostsFile, error) {
	if err := checkMode(s.path, 0o600, false); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &HostsFile{}, nil
		}
		return nil, err
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("reading hosts file: %w", err)
	}
	var f HostsFile
	if len(bytes.TrimSpace(data)) == 0 {
		return &f, nil
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, &HostsFileError{Path: s.path, Err: fmt.Errorf("not valid YAML: %w", err)}
	}
	if err := f.normalize(); err != nil {
		return nil, &HostsFileError{Path: s.path, Err: err}
	}
	return &f, nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, written, synced, renamed over path, and the directory synced.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing hosts file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("writing hosts file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing hosts file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing hosts file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing hosts file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing hosts file: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the platform allows it; a
// failure is ignored, since the rename itself has succeeded.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// checkMode refuses a file or directory that grants anything to its group
// or to others (want, 0600 or 0700, is the fix to suggest), and one of the
// wrong kind. Mode bits
// mean nothing on Windows, where only the kind is checked.
func checkMode(path string, want fs.FileMode, isDir bool) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	switch {
	case isDir && !fi.IsDir():
		return fmt.Errorf("%s is not a directory", path)
	case !isDir && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return &PermissionError{Path: path, Mode: fi.Mode().Perm(), Want: want, Dir: isDir}
	}
	return nil
}

// PermissionError is a hosts file or directory that other users could
// read or change. Its message gives the chmod command that fixes it.
type PermissionError struct {
	// Path is the file or directory.
	Path string
	// Mode is its permission bits; Want the bits it should have.
	Mode, Want fs.FileMode
	// Dir is true for the directory.
	Dir bool
}

// Error implements error.
func (e *PermissionError) Error() string {
	kind := "hosts file"
	if e.Dir {
		kind = "directory"
	}
	return fmt.Sprintf("%s %s has mode %04o, which lets other users reach the tokens in it; fix it with: chmod %o %s",
		kind, e.Path, e.Mode, e.Want, shellQuote(e.Path))
}

// Unwrap makes the error match [fs.ErrPermission].
func (e *PermissionError) Unwrap() error { return fs.ErrPermission }

// HostsFileError is a hosts file that cannot be understood. Such a file is
// never rewritten; the message names it so that a person can fix or move it.
type HostsFileError struct {
	// Path is the file.
	Path string
	// Err is what is wrong with it.
	Err error
}

// Error implements error.
func (e *HostsFileError) Error() string {
	return fmt.Sprintf("hosts file %s cannot be used: %v; it was left unchanged: fix it by hand, or move it aside and log in again",
		e.Path, e.Err)
}

// Unwrap returns the decoding error.
func (e *HostsFileError) Unwrap() error { return e.Err }

// shellQuote quotes a path for a command line when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r == '/' || r == '.' || r == '-' || r == '_' || r == '~' || r == ':' ||
			('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
