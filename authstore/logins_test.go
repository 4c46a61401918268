package authstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// registerTestAgent registers an agent the way open registration does.
func registerTestAgent(t testing.TB, s *Store, login string) (*User, error) {
	t.Helper()
	key := NewPAT{Prefix: "kp_", Name: "registration", Scopes: []string{"wiki:read"},
		ExpiresAt: s.now().Add(24 * time.Hour), CreatedVia: ViaRegister}
	_, u, _, err := s.RegisterAgent(NewUser{Login: login, Tier: "free", Scopes: []string{"wiki:read"}}, key,
		Actor{Kind: ActorRegistration, IP: "203.0.113.7"})
	return u, err
}

func mustAgent(t testing.TB, s *Store, login string) *User {
	t.Helper()
	u, err := registerTestAgent(t, s, login)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSetupSurvivesAgents: agent accounts, however many and whenever they
// appear, never end first-admin setup; the first human account does.
func TestSetupSurvivesAgents(t *testing.T) {
	h, _ := HashPassword("first admin password")
	for _, tc := range []struct {
		name   string
		before []string // agents registered before the grant is created
		after  []string // agents registered while the grant is pending
		admin  string   // the first admin's login
	}{
		{"one agent before the grant", []string{"crawler-1"}, nil, "root"},
		{"one agent while the grant is pending", nil, []string{"crawler-1"}, "root"},
		{"agents before and during", []string{"a1", "b2"}, []string{"zz-top", "0day"}, "admin"},
		{"many agents", manyLogins("bot-", 60), manyLogins("late-", 5), "alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openSessStore(t, newSessClock())
			for _, a := range tc.before {
				mustAgent(t, s, a)
			}
			if humans, err := s.HasHumans(); err != nil || humans {
				t.Fatalf("HasHumans = %v, %v with only agents", humans, err)
			}
			tok, _, err := s.CreateSetupGrant(time.Hour)
			if err != nil {
				t.Fatalf("no setup grant once agents registered: %v", err)
			}
			for _, a := range tc.after {
				mustAgent(t, s, a)
			}
			if !s.SetupPending() {
				t.Fatal("setup is not pending with only agents")
			}
			if err := s.CheckSetupToken(tok); err != nil {
				t.Fatalf("CheckSetupToken with only agents: %v", err)
			}
			u, err := s.UseSetupGrant(tok, NewUser{Login: tc.admin}, h, Actor{Kind: "user"})
			if err != nil || u.Kind != KindHuman || u.Login != tc.admin {
				t.Fatalf("setup with only agents: %v %+v", err, u)
			}
			if humans, _ := s.HasHumans(); !humans || s.SetupPending() {
				t.Errorf("after setup: HasHumans %v, pending %v", humans, s.SetupPending())
			}
			if _, _, err := s.CreateSetupGrant(time.Hour); !errors.Is(err, ErrSetupUnavailable) {
				t.Errorf("a grant after the first human: %v", err)
			}
			// Agents registered after setup keep working and change nothing.
			mustAgent(t, s, "after-setup")
			if n, _ := s.CountUsers(); n != len(tc.before)+len(tc.after)+2 {
				t.Errorf("CountUsers = %d", n)
			}
			if problems, err := s.Check(); err != nil || len(problems) > 0 {
				t.Errorf("check: %v %v", problems, err)
			}
		})
	}

	t.Run("an operator-made agent does not count either", func(t *testing.T) {
		s := openSessStore(t, newSessClock())
		if _, err := s.CreateUser(NewUser{Login: "ci-bot", Kind: KindAgent}, AdminActor); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateSetupGrant(time.Hour); err != nil || !s.SetupPending() {
			t.Errorf("setup after an operator-made agent: %v", err)
		}
		mustUser(t, s, "carol")
		if s.SetupPending() {
			t.Error("setup pending after a human account was created")
		}
	})
}

func manyLogins(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// TestLoginNamespaces: humans and agents are indexed apart, but a login
// names one account: neither kind can take the other's login, in any case,
// and a refused creation writes nothing.
func TestLoginNamespaces(t *testing.T) {
	h, _ := HashPassword("first admin password")
	human := func(s *Store, login string) error {
		_, err := s.CreateUser(NewUser{Login: login, Tier: "free"}, AdminActor)
		return err
	}
	agent := func(s *Store, login string) error {
		_, err := registerTestAgent(t, s, login)
		return err
	}
	opAgent := func(s *Store, login string) error {
		_, err := s.CreateUser(NewUser{Login: login, Kind: KindAgent}, AdminActor)
		return err
	}
	setup := func(s *Store, login string) error {
		tok, _, err := s.CreateSetupGrant(time.Hour)
		if err != nil {
			return err
		}
		_, err = s.UseSetupGrant(tok, NewUser{Login: login}, h, Actor{Kind: "user"})
		return err
	}
	for _, tc := range []struct {
		name         string
		first, then  func(*Store, string) error
		held, wanted string
		mentions     string // in the refusal
	}{
		{"agent takes a human's login", human, agent, "alice", "alice", ""},
		{"agent takes a human's login in another case", human, agent, "alice", "ALICE", ""},
		{"human takes an agent's login", agent, human, "crawler-1", "crawler-1", "agent"},
		{"human takes an agent's login in another case", agent, human, "crawler-1", "Crawler-1", "agent"},
		{"first admin takes an agent's login", agent, setup, "bob", "Bob", "agent"},
		{"agent takes an agent's login", agent, agent, "crawler-1", "CRAWLER-1", "agent"},
		{"operator agent takes an agent's login", agent, opAgent, "crawler-1", "crawler-1", "agent"},
		{"agent takes an operator agent's login", opAgent, agent, "ci-bot", "ci-bot", "agent"},
		{"human takes a human's login", human, human, "alice", "Alice", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openSessStore(t, newSessClock())
			if err := tc.first(s, tc.held); err != nil {
				t.Fatal(err)
			}
			holder, err := s.UserByLogin(tc.held)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := s.Stats()
			pending := s.SetupPending()
			err = tc.then(s, tc.wanted)
			if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), tc.mentions) {
				t.Fatalf("err = %v, want ErrExists mentioning %q", err, tc.mentions)
			}
			if after, _ := s.Stats(); after != before {
				t.Errorf("stats %+v after a refused creation, want %+v", after, before)
			}
			if s.SetupPending() != pending && pending {
				t.Error("a refused creation ended setup")
			}
			if u, err := s.UserByLogin(tc.wanted); err != nil || u.ID != holder.ID || u.Kind != holder.Kind {
				t.Errorf("%s now answers %+v, %v; want the first account %+v", tc.wanted, u, err, holder)
			}
			if problems, err := s.Check(); err != nil || len(problems) > 0 {
				t.Errorf("check: %v %v", problems, err)
			}
		})
	}

	t.Run("a refused first admin keeps the grant", func(t *testing.T) {
		s := openSessStore(t, newSessClock())
		mustAgent(t, s, "bob")
		tok, _, err := s.CreateSetupGrant(time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UseSetupGrant(tok, NewUser{Login: "bob"}, h, Actor{Kind: "user"}); !errors.Is(err, ErrExists) {
			t.Fatalf("setup as an agent's login: %v", err)
		}
		if !s.SetupPending() {
			t.Fatal("the grant was spent by a refused setup")
		}
		if u, err := s.UseSetupGrant(tok, NewUser{Login: "robert"}, h, Actor{Kind: "user"}); err != nil || u.Kind != KindHuman {
			t.Fatalf("setup with another login: %v", err)
		}
	})

	t.Run("listing merges both namespaces in login order", func(t *testing.T) {
		s := openSessStore(t, newSessClock())
		mustUser(t, s, "mia")
		mustAgent(t, s, "bot-b")
		mustUser(t, s, "amy")
		mustAgent(t, s, "zed-bot")
		mustAgent(t, s, "bot-a")
		users, err := s.Users()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range users {
			got = append(got, u.Login+":"+u.Kind)
		}
		want := "amy:user bot-a:agent bot-b:agent mia:user zed-bot:agent"
		if strings.Join(got, " ") != want {
			t.Errorf("users %v, want %s", got, want)
		}
		if n, _ := s.CountUsers(); n != 5 {
			t.Errorf("CountUsers = %d, want 5", n)
		}
		if st, _ := s.Stats(); st.Users != 5 {
			t.Errorf("Stats.Users = %d, want 5", st.Users)
		}
		if _, err := s.UpdateUser("bot-a", AdminActor, "disabled", func(u *User) error { u.Disabled = true; return nil }); err != nil {
			t.Errorf("updating an agent by login: %v", err)
		}
	})
}

// TestReservedLogins: open registration refuses the reserved names in any
// spelling and writes nothing; near misses register; operators may still
// use them.
func TestReservedLogins(t *testing.T) {
	s := openSessStore(t, newSessClock())
	for _, login := range []string{
		"admin", "Admin", "ROOT", "Root", "administrator", "superuser", "sysadmin", "system",
		"gatehouse", "GateHouse", "setup", "support", "security", "operator", "owner",
		"ad-min", "ro.ot", "_root_", "sys_admin", "admin@example.com", "Root@Example.Org", " admin ",
	} {
		t.Run("refused "+login, func(t *testing.T) {
			before, _ := s.Stats()
			if _, err := registerTestAgent(t, s, login); !errors.Is(err, ErrReservedLogin) {
				t.Fatalf("err = %v, want ErrReservedLogin", err)
			}
			if after, _ := s.Stats(); after != before {
				t.Errorf("stats %+v after a refused registration, want %+v", after, before)
			}
		})
	}
	for _, login := range []string{"admin2", "rooted", "my-admin-bot", "admins", "support-bot-7", "example@admin.org"} {
		t.Run("allowed "+login, func(t *testing.T) {
			if _, err := registerTestAgent(t, s, login); err != nil {
				t.Fatalf("a near miss was refused: %v", err)
			}
		})
	}
	t.Run("operators may use them", func(t *testing.T) {
		for _, login := range []string{"admin", "Root", "support"} {
			if _, err := s.CreateUser(NewUser{Login: login}, AdminActor); err != nil {
				t.Errorf("user add %s: %v", login, err)
			}
		}
	})
}

// TestLoginRefusesControlText: a login that is not valid UTF-8 or holds a
// control or formatting character anywhere is refused, never trimmed or
// stored; ordinary spaces around it are still trimmed.
func TestLoginRefusesControlText(t *testing.T) {
	s := openSessStore(t, newSessClock())
	for _, tc := range []struct {
		name, login, problem string
	}{
		{"NUL", "ali\x00ce", "U+0000"},
		{"trailing newline", "alice\n", "U+000A"},
		{"leading tab", "\talice", "U+0009"},
		{"carriage return", "alice\r", "U+000D"},
		{"DEL", "alice\x7f", "U+007F"},
		{"C1 next line", "\u0085alice", "U+0085"},
		{"bidi override", "alice\u202egpj", "U+202E"},
		{"bidi isolate", "\u2066alice", "U+2066"},
		{"zero width space", "al\u200bice", "U+200B"},
		{"byte order mark", "\ufeffalice", "U+FEFF"},
		{"line separator", "alice\u2028", "U+2028"},
		{"invalid UTF-8", "ali\xffce", "UTF-8"},
		{"truncated UTF-8", "alice\xe2\x80", "UTF-8"},
		{"replacement character", "alice\ufffd", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NormalizeLogin(tc.login)
			var le *LoginError
			if !errors.As(err, &le) || !strings.Contains(le.Problem, tc.problem) {
				t.Fatalf("NormalizeLogin(%q) = %v, want a LoginError naming %s", tc.login, err, tc.problem)
			}
			if textProblem(le.Problem) != "" {
				t.Errorf("the problem %q is not plain text itself", le.Problem)
			}
			before, _ := s.Stats()
			if _, err := registerTestAgent(t, s, tc.login); err == nil {
				t.Error("RegisterAgent accepted it")
			}
			if _, err := s.CreateUser(NewUser{Login: tc.login}, AdminActor); err == nil {
				t.Error("CreateUser accepted it")
			}
			if after, _ := s.Stats(); after != before {
				t.Errorf("stats %+v, want %+v", after, before)
			}
		})
	}
	for in, want := range map[string]string{" alice ": "alice", "Alice": "alice", "a.b_c-d@e": "a.b_c-d@e"} {
		if got, err := NormalizeLogin(in); err != nil || got != want {
			t.Errorf("NormalizeLogin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestMigrateAgentLogins: a schema 1 store, where agents shared logins/
// with humans, moves them to their own namespace on open; a store whose
// only accounts are agents offers setup again.
func TestMigrateAgentLogins(t *testing.T) {
	for _, tc := range []struct {
		name           string
		humans, agents []string
	}{
		{"only agents", nil, []string{"crawler-1", "crawler-2"}},
		{"humans and agents", []string{"alice", "zoe"}, []string{"bot", "crawler-1"}},
		{"only humans", []string{"alice"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t, Options{})
			for _, l := range tc.humans {
				mustUser(t, s, l)
			}
			for _, l := range tc.agents {
				mustAgent(t, s, l)
			}
			downgradeToSchema1(t, s)
			s.Close()

			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.localView(func(tx *Tx) error {
				if v := tx.Bucket(bucketMeta).Get(keySchemaVersion); binary.BigEndian.Uint64(v) != schemaVersion {
					t.Errorf("schema version %d, want %d", binary.BigEndian.Uint64(v), schemaVersion)
				}
				for _, l := range tc.humans {
					if tx.Bucket(bucketLogins).Get([]byte(l)) == nil || tx.Bucket(bucketAgentLogins).Get([]byte(l)) != nil {
						t.Errorf("human %s is not in logins/ alone", l)
					}
				}
				for _, l := range tc.agents {
					if tx.Bucket(bucketAgentLogins).Get([]byte(l)) == nil || tx.Bucket(bucketLogins).Get([]byte(l)) != nil {
						t.Errorf("agent %s is not in agent_logins/ alone", l)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if problems, err := s.Check(); err != nil || len(problems) > 0 {
				t.Errorf("check: %v %v", problems, err)
			}
			if n, _ := s.CountUsers(); n != len(tc.humans)+len(tc.agents) {
				t.Errorf("CountUsers = %d", n)
			}
			humans, _ := s.HasHumans()
			_, _, grantErr := s.CreateSetupGrant(time.Hour)
			if humans != (len(tc.humans) > 0) || (grantErr == nil) == humans {
				t.Errorf("HasHumans %v, setup grant %v, with humans %v", humans, grantErr, tc.humans)
			}
		})
	}
}

// downgradeToSchema1 rewrites s into the schema 1 layout: every login in
// logins/, no agent_logins/, version 1.
func downgradeToSchema1(t *testing.T, s *Store) {
	t.Helper()
	err := s.localUpdate(func(tx *Tx) error {
		logins := tx.Bucket(bucketLogins)
		if err := tx.Bucket(bucketAgentLogins).ForEach(func(k, v []byte) error {
			return logins.Put(k, v)
		}); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketAgentLogins); err != nil {
			return err
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], 1)
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, buf[:])
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckFindsMisfiledLogins: Check reports a login indexed in the
// other kind's namespace or in both.
func TestCheckFindsMisfiledLogins(t *testing.T) {
	s, _ := openTest(t, Options{})
	alice := mustUser(t, s, "alice")
	bot := mustAgent(t, s, "bot")
	s.localUpdate(func(tx *Tx) error {
		tx.Bucket(bucketAgentLogins).Delete([]byte("bot"))
		tx.Bucket(bucketLogins).Put([]byte("bot"), []byte(bot.ID))
		return tx.Bucket(bucketAgentLogins).Put([]byte("alice"), []byte(alice.ID))
	})
	problems, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"login bot of agent account", "login alice is both"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems %q do not report %q", problems, want)
		}
	}
}
