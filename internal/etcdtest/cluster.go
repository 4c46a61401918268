// Package etcdtest runs a real etcd cluster inside a test process: three
// members (or any number) on loopback ports the system picked, with short
// election timeouts, started with go.etcd.io/etcd/server/v3/embed. Members
// can be stopped and restarted (same data, same ports) to cut edges off
// and bring the cluster back. It is for tests only.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is a running embedded cluster.
type Cluster struct {
	t       testing.TB
	Members []*Member
}

// Member is one embedded etcd member.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	dir       string
	etcd      *embed.Etcd
	initial   string
}

// Start starts an n-member cluster and stops it when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	var initial []string
	for i := range n {
		m := &Member{Name: fmt.Sprintf("m%d", i), ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t), dir: t.TempDir()}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range c.Members {
		m.initial = strings.Join(initial, ",")
	}
	errs := make(chan error, n)
	for _, m := range c.Members {
		go func() { errs <- m.start(embed.ClusterStateFlagNew) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(c.StopAll)
	return c
}

func (m *Member) start(state string) error {
	cfg := embed.NewConfig()
	cfg.Name = m.Name
	cfg.Dir = m.dir
	cu, _ := url.Parse(m.ClientURL)
	pu, _ := url.Parse(m.PeerURL)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = m.initial
	cfg.InitialClusterToken = "gatehouse-test"
	cfg.ClusterState = state
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd member %s: %w", m.Name, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return fmt.Errorf("etcd member %s: %w", m.Name, err)
	case <-time.After(30 * time.Second):
		e.Close()
		return fmt.Errorf("etcd member %s did not become ready", m.Name)
	}
	m.etcd = e
	return nil
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.ClientURL)
	}
	return out
}

// Client is a client of the whole cluster, closed when the test ends.
func (c *Cluster) Client() *clientv3.Client {
	c.t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// Stop stops member i (its data stays for Restart).
func (c *Cluster) Stop(i int) {
	if m := c.Members[i]; m.etcd != nil {
		// HardStop first: no leadership transfer, and Close's graceful
		// stop of the client server does not wait out open watches.
		m.etcd.Server.HardStop()
		m.etcd.Close()
		m.etcd = nil
	}
}

// StopAll stops every member: the cluster is down.
func (c *Cluster) StopAll() {
	var wg sync.WaitGroup
	for i := range c.Members {
		wg.Go(func() { c.Stop(i) })
	}
	wg.Wait()
}

// Restart starts stopped member i again on its ports and data.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if m := c.Members[i]; m.etcd == nil {
		if err := m.start(embed.ClusterStateFlagExisting); err != nil {
			c.t.Fatal(err)
		}
	}
}

// RestartAll starts every stopped member again, together (a lone member
// of three cannot elect a leader, so they wait for each other).
func (c *Cluster) RestartAll() {
	c.t.Helper()
	errs := make(chan error, len(c.Members))
	n := 0
	for _, m := range c.Members {
		if m.etcd == nil {
			n++
			go func() { errs <- m.start(embed.ClusterStateFlagExisting) }()
		}
	}
	for range n {
		if err := <-errs; err != nil {
			c.t.Fatal(err)
		}
	}
}

// Compact compacts the cluster's history up to its current revision and
// returns that revision.
func (c *Cluster) Compact(cli *clientv3.Client) int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "compact-probe")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		c.t.Fatal(err)
	}
	return resp.Header.Revision
}

// freeAddr is a loopback address with a port the system just handed out.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
