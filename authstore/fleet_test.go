package authstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gatehouse/gatehouse/internal/etcdtest"
)

// openEdge opens a fleet-mode store (one edge) on endpoints with its own
// mirror file.
func openEdge(t testing.TB, endpoints []string, name string, tune func(*Options)) *Store {
	t.Helper()
	o := Options{Fleet: &FleetOptions{
		Endpoints: endpoints, EdgeID: name, WriteTimeout: 2 * time.Second,
		ProgressInterval: 50 * time.Millisecond, EdgeTTL: 3 * time.Second,
	}}
	if tune != nil {
		tune(&o)
	}
	s, err := Open(filepath.Join(t.TempDir(), name+".db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// caughtUp waits until b's mirror has applied everything a committed so
// far (a's applied revision), the point at which b must agree with a.
func caughtUp(t testing.TB, a, b *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !b.fleet.waitApplied(ctx, a.fleet.applied.Load()) {
		t.Fatalf("edge %s did not reach revision %d (at %d)", b.fleet.o.EdgeID, a.fleet.applied.Load(), b.fleet.applied.Load())
	}
}

func TestFleetCrossEdge(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)
	if a.Status().Engine != "etcd" {
		t.Fatalf("engine %q", a.Status().Engine)
	}

	u := mustUser(t, a, "alice")
	tok, p := mustPAT(t, a, u, time.Time{}, "wiki:read")
	caughtUp(t, a, b)
	if _, got, err := b.VerifyPAT(tok, "10.0.0.1"); err != nil || got.ID != u.ID {
		t.Fatalf("PAT minted on a, verified on b: %v", err)
	}
	if _, err := b.RevokePAT(p.ID, AdminActor); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, b, a)
	if _, _, err := a.VerifyPAT(tok, ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked on b, verified on a (warm cache): %v, want ErrRevoked", err)
	}

	// A browser session made on a works on b: the signing keys are shared.
	sess, err := a.CreateSession(NewSession{UserID: u.ID, Kind: SessionBrowser, TTL: time.Hour}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := a.IssueSessionJWT(sess, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	caughtUp(t, a, b)
	if _, got, _, err := b.VerifySessionJWT(jwt, ""); err != nil || got.ID != sess.ID {
		t.Fatalf("session JWT from a on b: %v", err)
	}
	if _, err := a.RevokeSession(sess.ID, AdminActor, "logout"); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, a, b)
	if _, _, _, err := b.VerifySessionJWT(jwt, ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("session revoked on a, on b: %v", err)
	}

	// A membership change on b shrinks what a sees at once.
	if _, err := b.UpdateUser("alice", AdminActor, "disable", func(u *User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, b, a)
	if got, _ := a.User(u.ID); !got.Disabled {
		t.Fatal("user disabled on b is enabled in a's cache")
	}

	// The audit trail stays per edge, tagged with edge and revision.
	ev, err := a.Audit("", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		if e.Edge != "a" || e.Revision == 0 {
			t.Fatalf("audit event on a: %+v", e)
		}
		if e.Action == ActionTokenRevoked {
			t.Fatalf("a's trail holds b's revoke: %+v", e)
		}
	}
	edges, err := a.Edges()
	if err != nil {
		t.Fatal(err)
	}
	if ids := edgeIDs(edges); !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("registry: %v", ids)
	}
}

func edgeIDs(es []EdgeInfo) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	slices.Sort(out)
	return out
}

func TestFleetDeviceFlowAcrossEdges(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)
	u := mustUser(t, a, "alice")

	dc, uc, err := b.CreateDeviceGrant(NewDeviceGrant{ClientID: "cli", Scopes: []string{"wiki:read"}, TTL: 10 * time.Minute, Interval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	caughtUp(t, b, a)
	if _, err := a.DecideDevice(uc, u.ID, &NewPAT{UserID: u.ID, Prefix: "gth_", Name: "cli", Scopes: []string{"wiki:read"}, CreatedVia: ViaDevice}, UserActor(u.ID, "")); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, a, b)
	// Two edges redeem the approved code at once: exactly one gets the
	// token.
	var wg sync.WaitGroup
	toks := make([]string, 2)
	errs := make([]error, 2)
	for i, s := range []*Store{a, b} {
		wg.Go(func() { toks[i], _, _, errs[i] = s.PollDevice(dc, "cli") })
	}
	wg.Wait()
	won := 0
	for i := range toks {
		if errs[i] == nil && toks[i] != "" {
			won++
		} else if !errors.Is(errs[i], ErrDeviceCodeUsed) {
			t.Fatalf("losing poll: %v", errs[i])
		}
	}
	if won != 1 {
		t.Fatalf("%d edges redeemed one device code (%v)", won, errs)
	}
}

func TestFleetOnceOnlyRaces(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)

	t.Run("setup token", func(t *testing.T) {
		tok, _, err := a.CreateSetupGrant(time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		caughtUp(t, a, b)
		h, err := HashPassword("first admin password")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*Store{a, b} {
			wg.Go(func() {
				_, errs[i] = s.UseSetupGrant(tok, NewUser{Login: fmt.Sprintf("admin%d", i), Tier: "free"}, h, AdminActor)
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("setup token used on both edges or neither: %v", errs)
		}
	})

	t.Run("refresh rotation", func(t *testing.T) {
		u := mustUser(t, a, "carol")
		for round := range 10 {
			_, refresh, err := a.CreateCLISession(NewSession{UserID: u.ID, Kind: SessionCLI, TTL: time.Hour}, AdminActor)
			if err != nil {
				t.Fatal(err)
			}
			caughtUp(t, a, b)
			var wg sync.WaitGroup
			rots := make([]*Rotation, 2)
			errs := make([]error, 2)
			for i, s := range []*Store{a, b} {
				wg.Go(func() { rots[i], errs[i] = s.RotateRefresh(refresh, time.Minute, AdminActor) })
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("round %d: %v", round, errs)
			}
			// One rotation: the loser got the winner's successor (grace),
			// never a second, diverging one.
			if rots[0].RefreshToken != rots[1].RefreshToken {
				t.Fatalf("round %d: two edges rotated one refresh token into two successors", round)
			}
		}
	})

	t.Run("recovery code", func(t *testing.T) {
		mustUser(t, a, "dave")
		h, err := HashPassword("dave's password")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.SetPassword("dave", h, AdminActor); err != nil {
			t.Fatal(err)
		}
		raw, err := a.BeginTOTP("dave", "Gatehouse", AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		pu, _ := url.Parse(raw)
		code, err := totp.GenerateCode(pu.Query().Get("secret"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		codes, err := a.ConfirmTOTP("dave", code, AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		caughtUp(t, a, b)
		// Each recovery code, sent to both edges at once, signs in once:
		// the edge that loses the race runs its transaction again and
		// must then find the code gone.
		for round, rc := range codes {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, s := range []*Store{a, b} {
				wg.Go(func() { _, errs[i] = s.CheckLogin(context.Background(), "dave", "dave's password", rc, "") })
			}
			wg.Wait()
			if (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("round %d: one recovery code signed in on both edges or neither: %v", round, errs)
			}
		}
	})
}

// TestFleetRevokePropagation measures how long a revoke on edge a takes to
// be refused on edge b, from the moment a's revoke returned, over 60
// revokes, and holds the p99 to the guarantee (1 s).
func TestFleetRevokePropagation(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)
	u := mustUser(t, a, "alice")
	const n = 60
	toks, ids := make([]string, n), make([]string, n)
	for i := range n {
		tok, p := mustPAT(t, a, u, time.Time{})
		toks[i], ids[i] = tok, p.ID
	}
	caughtUp(t, a, b)
	for _, tok := range toks { // warm b's cache: the revoke must invalidate it
		if _, _, err := b.VerifyPAT(tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	lat := make([]time.Duration, n)
	for i := range n {
		if _, err := a.RevokePAT(ids[i], AdminActor); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for {
			if _, _, err := b.VerifyPAT(toks[i], ""); errors.Is(err, ErrRevoked) {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("revoke %d not refused on b after 5s", i)
			}
			time.Sleep(100 * time.Microsecond) // polling the outcome, not synchronising
		}
		lat[i] = time.Since(start)
	}
	p50, p99, mx := percentiles(lat)
	t.Logf("revoke on a -> refused on b, %d revokes: p50 %v  p99 %v  max %v", n, p50, p99, mx)
	if p99 > time.Second {
		t.Fatalf("p99 propagation %v exceeds 1s", p99)
	}
}

func percentiles(d []time.Duration) (p50, p99, mx time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99), s[len(s)-1]
}

func TestFleetCutOff(t *testing.T) {
	c := etcdtest.Start(t, 3)
	proxy := c.Proxy(t)
	clk := &testClock{now: time.Now()}
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, proxy.Endpoints(), "b", func(o *Options) {
		o.Now = clk.Now
		o.Fleet.MaxStaleness = 10 * time.Second
	})
	u := mustUser(t, a, "alice")
	tok, p := mustPAT(t, a, u, time.Time{})
	tok2, p2 := mustPAT(t, a, u, time.Time{})
	caughtUp(t, a, b)

	proxy.Cut()
	// Within max_staleness the mirror keeps serving.
	clk.Advance(5 * time.Second)
	if _, _, err := b.VerifyPAT(tok, ""); err != nil {
		t.Fatalf("cut off for 5s of 10: %v", err)
	}
	// Writes fail closed.
	if _, err := b.CreateUser(NewUser{Login: "bob", Tier: "free"}, AdminActor); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("write while cut off: %v, want ErrUnavailable", err)
	}
	// A revoke applies here at once and is queued.
	if _, err := b.RevokePAT(p.ID, AdminActor); err != nil {
		t.Fatalf("revoke while cut off: %v", err)
	}
	if _, _, err := b.VerifyPAT(tok, ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked on the cut-off edge: %v", err)
	}
	if got := b.Status().Outbox; got != 1 {
		t.Fatalf("outbox %d, want 1", got)
	}
	// Meanwhile a revokes another token and the history is compacted,
	// so b cannot resume its watch and must resync.
	if _, err := a.RevokePAT(p2.ID, AdminActor); err != nil {
		t.Fatal(err)
	}
	mustUser(t, a, "carol") // so the compaction passes the revoke's revision
	c.Compact(c.Client())
	// Past max_staleness, the policy: refuse.
	clk.Advance(6 * time.Second)
	if _, _, err := b.VerifyPAT(tok2, ""); !errors.Is(err, ErrStale) {
		t.Fatalf("cut off past max_staleness: %v, want ErrStale", err)
	}
	resyncs := b.Status().Resyncs

	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for b.Status().Outbox != 0 || b.Status().Resyncs == resyncs {
		if time.Now().After(deadline) {
			t.Fatalf("after reconnecting: %+v", b.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	caughtUp(t, b, a)
	for _, s := range []*Store{a, b} {
		for _, tk := range []string{tok, tok2} {
			if _, _, err := s.VerifyPAT(tk, ""); !errors.Is(err, ErrRevoked) {
				h := HashToken(tk)
				got, _ := c.Client().Get(context.Background(), "/gatehouse/pats/"+string(h[:]))
				t.Fatalf("edge %s after convergence: %v, want ErrRevoked (etcd holds %s)", s.fleet.o.EdgeID, err, got.Kvs)
			}
		}
	}
}

func TestFleetServeStalePolicy(t *testing.T) {
	c := etcdtest.Start(t, 3)
	clk := &testClock{now: time.Now()}
	a := openEdge(t, c.Endpoints(), "a", func(o *Options) { o.Now = clk.Now; o.Fleet.ServeStale = true })
	u := mustUser(t, a, "alice")
	tok, _ := mustPAT(t, a, u, time.Time{})
	c.StopAll()
	clk.Advance(time.Hour)
	if _, _, err := a.VerifyPAT(tok, ""); err != nil {
		t.Fatalf("serve-stale policy, etcd down an hour: %v", err)
	}
	if !a.Status().Stale {
		t.Fatal("status does not say stale")
	}
}

func TestFleetMirrorSurvivesRestart(t *testing.T) {
	c := etcdtest.Start(t, 3)
	dir := t.TempDir()
	o := Options{Fleet: &FleetOptions{Endpoints: c.Endpoints(), EdgeID: "a"}}
	a, err := Open(filepath.Join(dir, "m.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, a, "alice")
	tok, _ := mustPAT(t, a, u, time.Time{})
	applied := a.Status().Applied
	a.Close()
	// Reopened, the mirror resumes from its applied revision (no resync).
	a, err = Open(filepath.Join(dir, "m.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if st := a.Status(); st.Resyncs != 0 || st.Applied < applied {
		t.Fatalf("reopened mirror: %+v (was at %d)", st, applied)
	}
	if _, _, err := a.VerifyPAT(tok, ""); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkVerifyPATWarmEngines compares the warm request path of the two
// engines in one run: in fleet mode a verification reads the same caches
// (plus one freshness check), so it must cost the same and stay
// allocation-free.
func BenchmarkVerifyPATWarmEngines(b *testing.B) {
	c := etcdtest.Start(b, 3)
	runs := 0
	for _, engine := range []string{"bbolt", "etcd"} {
		b.Run(engine, func(b *testing.B) {
			runs++
			var s *Store
			if engine == "bbolt" {
				s, _ = openTest(b, Options{})
			} else {
				s = openEdge(b, c.Endpoints(), "bench", nil)
			}
			u := mustUser(b, s, fmt.Sprintf("bench%d", runs))
			tok, _ := mustPAT(b, s, u, time.Now().Add(time.Hour), "a:b")
			if _, _, err := s.VerifyPAT(tok, "127.0.0.1"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.VerifyPAT(tok, "127.0.0.1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestMigrateToEtcd(t *testing.T) {
	c := etcdtest.Start(t, 3)
	src, path := openTest(t, Options{})
	u := mustUser(t, src, "alice")
	tok, _ := mustPAT(t, src, u, time.Time{}, "wiki:read")
	sess, err := src.CreateSession(NewSession{UserID: u.ID, Kind: SessionBrowser, TTL: time.Hour}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := src.IssueSessionJWT(sess, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	src.Close()

	ctx := context.Background()
	fo := FleetOptions{Endpoints: c.Endpoints()}
	rep, err := MigrateToEtcd(ctx, path, fo)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Keys == 0 || rep.Copied != rep.Keys || rep.Present != 0 || len(rep.Checksum) != 64 {
		t.Fatalf("first run: %+v", rep)
	}
	// Rerun: nothing to copy, same checksum.
	again, err := MigrateToEtcd(ctx, path, fo)
	if err != nil || again.Copied != 0 || again.Present != rep.Keys || again.Checksum != rep.Checksum {
		t.Fatalf("rerun: %+v %v", again, err)
	}
	// Resume: keys lost from etcd (an interrupted run) are copied again.
	cli := c.Client()
	if _, err := cli.Delete(ctx, "/gatehouse/pats/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	resumed, err := MigrateToEtcd(ctx, path, fo)
	if err != nil || resumed.Copied != 1 || resumed.Present != rep.Keys-1 {
		t.Fatalf("resume: %+v %v", resumed, err)
	}
	// A key etcd holds with another value is left alone and reported.
	if _, err := cli.Put(ctx, "/gatehouse/users/"+u.ID, `{"id":"changed"}`); err != nil {
		t.Fatal(err)
	}
	if rep, err := MigrateToEtcd(ctx, path, fo); err != nil || !slices.Equal(rep.Differing, []string{"users/" + u.ID}) {
		t.Fatalf("differing: %+v %v", rep, err)
	}
	if _, err := cli.Delete(ctx, "/gatehouse/users/"+u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := MigrateToEtcd(ctx, path, fo); err != nil {
		t.Fatal(err)
	}

	// An edge on the migrated prefix accepts the file's credentials.
	e := openEdge(t, c.Endpoints(), "a", nil)
	if _, got, err := e.VerifyPAT(tok, ""); err != nil || got.ID != u.ID {
		t.Fatalf("migrated PAT: %v", err)
	}
	if _, got, _, err := e.VerifySessionJWT(jwt, ""); err != nil || got.ID != sess.ID {
		t.Fatalf("migrated session: %v", err)
	}
}

// TestFleetManySessions: a user with more sessions than one etcd
// transaction may touch (128 operations by default) can still log in,
// log out everywhere, and have ended sessions pruned, in chunks.
func TestFleetManySessions(t *testing.T) {
	c := etcdtest.Start(t, 3)
	clk := &testClock{now: time.Now()}
	a := openEdge(t, c.Endpoints(), "a", func(o *Options) { o.Now = clk.Now })
	u := mustUser(t, a, "alice")
	const n = 150
	for i := range n {
		if _, err := a.CreateSession(NewSession{UserID: u.ID, Kind: SessionBrowser, TTL: time.Hour}, AdminActor); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	ended, err := a.RevokeUserSessions(u.ID, AdminActor, "admin")
	if err != nil || ended != n {
		t.Fatalf("log out everywhere: %d, %v", ended, err)
	}
	clk.Advance(8 * 24 * time.Hour)
	// The clock jumped: the edge is cut off by its own reckoning until
	// the next progress notification.
	deadline := time.Now().Add(5 * time.Second)
	for a.fleet.cutOff() {
		if time.Now().After(deadline) {
			t.Fatal("no progress notification after the clock moved")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 3 {
		if _, err := a.CreateSession(NewSession{UserID: u.ID, Kind: SessionBrowser, TTL: time.Hour}, AdminActor); err != nil {
			t.Fatal(err)
		}
	}
	left, err := a.Sessions(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Each login pruned up to pruneBudget keys (a session and its index
	// entry each): 3 logins, 32 sessions each at most.
	if want := n - 3*pruneBudget/2 + 3; len(left) != want {
		t.Fatalf("%d sessions left after 3 pruning logins, want %d", len(left), want)
	}
}

// TestFleetTOTPReplayAcrossEdges: a TOTP code used on one edge is refused
// on another (the used step is shared through etcd).
func TestFleetTOTPReplayAcrossEdges(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)
	mustUser(t, a, "alice")
	h, _ := HashPassword("alice's password")
	if _, err := a.SetPassword("alice", h, AdminActor); err != nil {
		t.Fatal(err)
	}
	raw, err := a.EnableTOTP("alice", "Gatehouse", AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	code, err := totp.GenerateCode(u.Query().Get("secret"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caughtUp(t, a, b)
	if _, err := a.CheckLogin(context.Background(), "alice", "alice's password", code, ""); err != nil {
		t.Fatalf("first use on a: %v", err)
	}
	caughtUp(t, a, b)
	if _, err := b.CheckLogin(context.Background(), "alice", "alice's password", code, ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("the same code replayed on b: %v, want ErrBadCredentials", err)
	}
}

// TestFleetAssertionKeysShared: the identity-assertion key is the fleet's,
// and a rotation on one edge is what the others sign with next.
func TestFleetAssertionKeysShared(t *testing.T) {
	c := etcdtest.Start(t, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)
	ka, err := a.CurrentAssertionKey(AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	caughtUp(t, a, b)
	kb, err := b.CurrentAssertionKey(AlgEdDSA)
	if err != nil || kb.ID != ka.ID {
		t.Fatalf("b signs with %v (%v), a with %s", kb, err, ka.ID)
	}
	rotated, err := b.RotateAssertionKey(AlgEdDSA, time.Hour, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	caughtUp(t, b, a)
	deadline := time.Now().Add(5 * time.Second)
	for {
		k, err := a.CurrentAssertionKey(AlgEdDSA)
		if err != nil {
			t.Fatal(err)
		}
		if k.ID == rotated.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a still signs with %s after b rotated to %s", k.ID, rotated.ID)
		}
		time.Sleep(5 * time.Millisecond) // the cache is dropped off the watch's goroutine
	}
}
