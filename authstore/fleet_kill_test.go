package authstore

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/etcdtest"
)

// TestFleetLeaderKilledDuringRevokes runs etcd members as child processes
// and SIGKILLs the leader in the middle of a stream of revokes on edge a,
// then, with the first member back, the new leader too. No revoke that
// answered is lost: each ends up in etcd and refused on edge b (those made
// while no leader answered went through a's outbox).
func TestFleetLeaderKilledDuringRevokes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs etcd members as processes")
	}
	bin := etcdtest.BuildMember(t, t.TempDir())
	c := etcdtest.StartProcs(t, bin, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)
	u := mustUser(t, a, "alice")
	const n = 60
	toks, ids := make([]string, n), make([]string, n)
	for i := range n {
		toks[i], ids[i] = mustPATID(t, a, u)
	}
	leader := func() int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if l := c.Leader(); l >= 0 {
				return l
			}
			time.Sleep(20 * time.Millisecond) // waiting for an election
		}
		t.Fatal("no leader")
		return -1
	}
	first := -1
	took := make([]time.Duration, n)
	for i := range n {
		switch i {
		case 20:
			first = leader()
			c.Kill(first)
		case 40:
			c.Restart(first)
			c.Kill(leader())
		}
		start := time.Now()
		if _, err := a.RevokePAT(ids[i], AdminActor); err != nil {
			t.Fatalf("revoke %d: %v", i, err)
		}
		took[i] = time.Since(start)
		if _, _, err := a.VerifyPAT(toks[i], ""); !errors.Is(err, ErrRevoked) {
			t.Fatalf("revoke %d not applied on a at once: %v", i, err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for a.Status().Outbox != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained: %+v", a.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	caughtUp(t, a, b)
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for i, tok := range toks {
		if _, _, err := b.VerifyPAT(tok, ""); !errors.Is(err, ErrRevoked) {
			t.Errorf("revoke %d lost on b: %v", i, err)
		}
		h := HashToken(tok)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := cli.Get(ctx, "/gatehouse/pats/"+string(h[:]))
		cancel()
		if err != nil || len(got.Kvs) != 1 {
			t.Fatalf("etcd read %d: %v", i, err)
		}
		var p PAT
		if err := json.Unmarshal(got.Kvs[0].Value, &p); err != nil || p.RevokedAt.IsZero() {
			t.Errorf("revoke %d lost in etcd: %v", i, err)
		}
	}
	p50, p99, mx := percentiles(took)
	t.Logf("%d revokes across two leader kills: answer p50 %v p99 %v max %v; none lost", n, p50, p99, mx)
}

func mustPATID(t testing.TB, s *Store, u *User) (string, string) {
	t.Helper()
	tok, p := mustPAT(t, s, u, time.Time{})
	return tok, p.ID
}

// TestFleetEachMemberKilledWhileWatching: edge b only watches while edge
// a revokes, and each member in turn is SIGKILLed for a stretch of the
// revokes and then restarted. Whichever member b's watch stream was on is
// killed at some point; b must fail over to another and miss no event:
// each stretch's revokes are refused on b while its member is still down,
// and every revoke at the end.
func TestFleetEachMemberKilledWhileWatching(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs etcd members as processes")
	}
	bin := etcdtest.BuildMember(t, t.TempDir())
	c := etcdtest.StartProcs(t, bin, 3)
	a := openEdge(t, c.Endpoints(), "a", nil)
	b := openEdge(t, c.Endpoints(), "b", nil)
	u := mustUser(t, a, "alice")
	const perMember = 8
	n := perMember * len(c.Members)
	toks, ids := make([]string, n), make([]string, n)
	for i := range n {
		toks[i], ids[i] = mustPATID(t, a, u)
	}
	caughtUp(t, a, b)
	for i := range n {
		m := i / perMember
		if i%perMember == 0 {
			c.Kill(m)
		}
		if _, err := a.RevokePAT(ids[i], AdminActor); err != nil {
			t.Fatalf("revoke %d with member %d down: %v", i, m, err)
		}
		if i%perMember == perMember-1 {
			// While the member is still down: b has the revokes, so its
			// watch is on a live member (failed over, if it was on m).
			caughtUp(t, a, b)
			for j := i - perMember + 1; j <= i; j++ {
				if _, _, err := b.VerifyPAT(toks[j], ""); !errors.Is(err, ErrRevoked) {
					t.Fatalf("revoke %d not seen on the watching edge while member %d is down: %v", j, m, err)
				}
			}
			c.Restart(m)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for a.Status().Outbox != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox not drained: %+v", a.Status())
		}
		time.Sleep(20 * time.Millisecond) // the outbox retries on its own timer
	}
	caughtUp(t, a, b)
	for i, tok := range toks {
		if _, _, err := b.VerifyPAT(tok, ""); !errors.Is(err, ErrRevoked) {
			t.Errorf("revoke %d (member %d down) missed by the watching edge: %v", i, i/perMember, err)
		}
	}
	if st := b.Status(); st.Resyncs != 0 {
		t.Logf("the watching edge resynced %d times", st.Resyncs)
	}
}
