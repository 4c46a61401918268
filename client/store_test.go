package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testenv"
)

// Environment of the store-writer child process (see TestMain).
const (
	writerEnvPath  = "GATEHOUSE_TEST_STORE_PATH"
	writerEnvName  = "GATEHOUSE_TEST_STORE_WRITER"
	writerEnvCount = "GATEHOUSE_TEST_STORE_COUNT"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(writerEnvName); name != "" {
		n, _ := strconv.Atoi(os.Getenv(writerEnvCount))
		if err := writeEntries(NewStore(os.Getenv(writerEnvPath)), name, n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// DefaultHostsPath falls back to the home: keep the real one out of
	// reach. The writer children inherit this environment.
	_, restore, err := testenv.Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test home:", err)
		os.Exit(1)
	}
	code := m.Run()
	restore()
	os.Exit(code)
}

// writeEntries adds n hosts named after name, one Update each.
func writeEntries(s *Store, name string, n int) error {
	for i := range n {
		key := fmt.Sprintf("https://%s-%d.example", name, i)
		err := s.Update(context.Background(), func(f *HostsFile) error {
			f.SetHost(key, &Host{Token: "gth_" + name, User: name, AddedAt: time.Now().UTC()})
			return nil
		})
		if err != nil {
			return fmt.Errorf("writer %s entry %d: %w", name, i, err)
		}
	}
	return nil
}

func newTestStore(t *testing.T) *Store {
	t.Helper()
	return NewStore(filepath.Join(t.TempDir(), "gatehouse", HostsFileName))
}

func put(t *testing.T, s *Store, key string, h *Host) {
	t.Helper()
	err := s.Update(t.Context(), func(f *HostsFile) error { f.SetHost(key, h); return nil })
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func TestDefaultHostsPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	got, err := DefaultHostsPath("gatehouse")
	if err != nil || got != filepath.Join(dir, "gatehouse", "hosts.yml") {
		t.Fatalf("DefaultHostsPath = %q, %v", got, err)
	}
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", home)
	got, err = DefaultHostsPath("gatehouse")
	if err != nil || got != filepath.Join(home, ".config", "gatehouse", "hosts.yml") {
		t.Fatalf("DefaultHostsPath without XDG_CONFIG_HOME = %q, %v", got, err)
	}
	t.Setenv("XDG_CONFIG_HOME", "relative/dir") // not absolute: ignored, as the spec says
	if got2, _ := DefaultHostsPath("gatehouse"); got2 != got {
		t.Fatalf("relative XDG_CONFIG_HOME gave %q", got2)
	}
}

func TestStoreRoundTripAndModes(t *testing.T) {
	s := newTestStore(t)
	f, err := s.Load()
	if err != nil || len(f.Hosts) != 0 {
		t.Fatalf("Load of a missing file = %+v, %v", f, err)
	}
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	added := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	want := Host{Token: "gth_abcd1234", User: "alice", AddedAt: added, TokenID: "tok_1", TokenHint: "gth_abcd****",
		TokenName: "laptop", Scopes: []string{"wiki:read", "papers:read"}, ExpiresAt: exp}
	put(t, s, "https://example.com", &want)
	err = s.Update(t.Context(), func(f *HostsFile) error { f.DefaultServer = "https://example.com"; return nil })
	if err != nil {
		t.Fatal(err)
	}

	f, err = s.Load()
	if err != nil {
		t.Fatal(err)
	}
	got := f.Host("https://example.com")
	if got == nil || got.Token != want.Token || got.User != want.User || !got.AddedAt.Equal(added) ||
		!got.ExpiresAt.Equal(exp) || strings.Join(got.Scopes, " ") != "wiki:read papers:read" ||
		got.TokenName != "laptop" || got.TokenID != "tok_1" || got.TokenHint != "gth_abcd****" {
		t.Fatalf("read back %#v", got)
	}
	if f.DefaultServer != "https://example.com" || f.Version != HostsFileVersion {
		t.Fatalf("read back default %q version %d", f.DefaultServer, f.Version)
	}
	if runtime.GOOS == "windows" {
		return
	}
	assertMode(t, s.Path(), 0o600)
	assertMode(t, filepath.Dir(s.Path()), 0o700)
	assertMode(t, s.Path()+".lock", 0o600)
	data, _ := os.ReadFile(s.Path())
	for _, key := range []string{"version: 1", "default_server:", "token: gth_abcd1234", "user: alice", "added_at:", "expires_at:"} {
		if !strings.Contains(string(data), key) {
			t.Errorf("hosts.yml lacks %q:\n%s", key, data)
		}
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}

func TestStoreRefusesLoosePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits mean nothing on Windows")
	}
	tests := []struct {
		name      string
		fileMode  fs.FileMode
		dirMode   fs.FileMode
		wantFix   string
		wantInMsg string
	}{
		{"group-readable file", 0o640, 0o700, "chmod 600 ", "hosts file"},
		{"world-readable file", 0o644, 0o700, "chmod 600 ", "0644"},
		{"world-readable directory", 0o600, 0o755, "chmod 700 ", "directory"},
		{"group-writable directory", 0o600, 0o770, "chmod 700 ", "0770"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			put(t, s, "https://example.com", &Host{Token: "gth_x"})
			before, _ := os.ReadFile(s.Path())
			if err := os.Chmod(s.Path(), tt.fileMode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Dir(s.Path()), tt.dirMode); err != nil {
				t.Fatal(err)
			}
			target := s.Path()
			if tt.dirMode != 0o700 {
				target = filepath.Dir(s.Path())
			}
			_, loadErr := s.Load()
			updErr := s.Update(t.Context(), func(f *HostsFile) error { f.SetHost("https://other.example", &Host{Token: "gth_y"}); return nil })
			for _, err := range []error{loadErr, updErr} {
				var pe *PermissionError
				if !errors.As(err, &pe) || !errors.Is(err, fs.ErrPermission) {
					t.Fatalf("error %v is not a PermissionError", err)
				}
				msg := err.Error()
				if !strings.Contains(msg, tt.wantFix+target) || !strings.Contains(msg, tt.wantInMsg) {
					t.Errorf("message %q lacks %q", msg, tt.wantFix+target)
				}
			}
			after, _ := os.ReadFile(s.Path())
			if string(after) != string(before) {
				t.Errorf("a refused Update changed the file")
			}
		})
	}
}

func TestStoreCorruptedFileIsNotOverwritten(t *testing.T) {
	tests := map[string]string{
		"not yaml":        "hosts: [unclosed\n\ttoken: :\n",
		"wrong shape":     "hosts: [1, 2, 3]\n",
		"bad host key":    "hosts:\n  \"https://example.com/path\":\n    token: x\n",
		"newer version":   "version: 99\nhosts: {}\n",
		"bad default":     "default_server: \"ftp://x\"\n",
		"duplicate hosts": "hosts:\n  example.com:\n    token: a\n  https://example.com:\n    token: b\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			s := newTestStore(t)
			if err := os.MkdirAll(filepath.Dir(s.Path()), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.Path(), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, loadErr := s.Load()
			called := false
			updErr := s.Update(t.Context(), func(*HostsFile) error { called = true; return nil })
			for _, err := range []error{loadErr, updErr} {
				var he *HostsFileError
				if !errors.As(err, &he) {
					t.Fatalf("error %v is not a HostsFileError", err)
				}
				if !strings.Contains(err.Error(), s.Path()) {
					t.Errorf("message %q does not name the file", err)
				}
			}
			if called {
				t.Error("Update called fn on a corrupted file")
			}
			if got, _ := os.ReadFile(s.Path()); string(got) != content {
				t.Errorf("corrupted file was rewritten to %q", got)
			}
		})
	}
}

func TestStoreHandEditedKeysAreNormalised(t *testing.T) {
	s := newTestStore(t)
	if err := os.MkdirAll(filepath.Dir(s.Path()), 0o700); err != nil {
		t.Fatal(err)
	}
	content := "default_server: example.com\nhosts:\n  example.com:\n    token: gth_a\n  localhost:8080:\n    token: gth_b\n"
	if err := os.WriteFile(s.Path(), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if f.Host("https://example.com") == nil || f.Host("http://localhost:8080") == nil || f.DefaultServer != "https://example.com" {
		t.Fatalf("loaded %+v", f)
	}
}

func TestStoreEmptyFile(t *testing.T) {
	s := newTestStore(t)
	if err := os.MkdirAll(filepath.Dir(s.Path()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	put(t, s, "https://example.com", &Host{Token: "gth_a"})
	f, err := s.Load()
	if err != nil || f.Host("https://example.com") == nil {
		t.Fatalf("Load = %+v, %v", f, err)
	}
}

func TestStoreUpdateErrorWritesNothing(t *testing.T) {
	s := newTestStore(t)
	put(t, s, "https://example.com", &Host{Token: "gth_a"})
	before, _ := os.ReadFile(s.Path())
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(f *HostsFile) error {
		f.SetHost("https://other.example", &Host{Token: "gth_b"})
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want boom", err)
	}
	if after, _ := os.ReadFile(s.Path()); string(after) != string(before) {
		t.Fatal("a failed Update changed the file")
	}
	assertNoTempFiles(t, filepath.Dir(s.Path()))
}

// TestStoreWriteIsAtomic checks that a reader never sees a partial file
// while a writer keeps replacing it.
func TestStoreWriteIsAtomic(t *testing.T) {
	s := newTestStore(t)
	put(t, s, "https://example.com", &Host{Token: "gth_a"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			err := s.Update(ctx, func(f *HostsFile) error {
				f.SetHost("https://example.com", &Host{Token: "gth_a", User: strings.Repeat("u", i%500)})
				return nil
			})
			if err != nil && ctx.Err() == nil {
				done <- err
				return
			}
		}
	}()
	for range 300 {
		f, err := s.Load()
		if err != nil {
			t.Fatalf("Load during writes: %v", err)
		}
		if f.Host("https://example.com") == nil {
			t.Fatal("Load during writes saw no entry")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	assertNoTempFiles(t, filepath.Dir(s.Path()))
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != HostsFileName && e.Name() != HostsFileName+".lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestStoreConcurrentGoroutinesLoseNothing(t *testing.T) {
	s := newTestStore(t)
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			// A Store per goroutine, as separate commands would have.
			if err := writeEntries(NewStore(s.Path()), fmt.Sprintf("g%d", w), each); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	assertEntries(t, s, "g", writers, each)
}

func TestStoreConcurrentProcessesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	s := newTestStore(t)
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	const procs, each = 4, 15
	cmds := make([]*exec.Cmd, procs)
	for p := range procs {
		cmd := exec.CommandContext(t.Context(), exe, "-test.run=^$")
		cmd.Env = append(os.Environ(),
			writerEnvName+"="+fmt.Sprintf("p%d", p),
			writerEnvPath+"="+s.Path(),
			writerEnvCount+"="+strconv.Itoa(each))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[p] = cmd
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("writer %d said: %s", p, out.String())
			}
		})
	}
	// And goroutines of this process at the same time.
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := writeEntries(NewStore(s.Path()), "p-main", each); err != nil {
			t.Error(err)
		}
	})
	for p, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer process %d: %v", p, err)
		}
	}
	wg.Wait()
	assertEntries(t, s, "p", procs, each)
	f, _ := s.Load()
	for i := range each {
		if f.Host(fmt.Sprintf("https://p-main-%d.example", i)) == nil {
			t.Errorf("entry %d of the in-process writer was lost", i)
		}
	}
}

func assertEntries(t *testing.T, s *Store, prefix string, writers, each int) {
	t.Helper()
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		for i := range each {
			key := fmt.Sprintf("https://%s%d-%d.example", prefix, w, i)
			if f.Host(key) == nil {
				t.Errorf("entry %s was lost", key)
			}
		}
	}
}

func TestStoreLockTimeoutNamesLockFile(t *testing.T) {
	s := newTestStore(t)
	put(t, s, "https://example.com", &Host{Token: "gth_a"})
	inside := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = s.Update(context.Background(), func(*HostsFile) error {
			close(inside)
			<-release
			return nil
		})
	})
	<-inside
	defer wg.Wait()
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := s.Update(ctx, func(*HostsFile) error { return nil })
	if err == nil || !strings.Contains(err.Error(), s.Path()+".lock") {
		t.Fatalf("Update while locked = %v, want an error naming the lock file", err)
	}
}
