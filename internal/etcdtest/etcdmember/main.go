// Command etcdmember runs one embedded etcd member until it is signalled:
// the child process of etcdtest's process clusters, so a test can kill a
// member (the leader, say) with SIGKILL, by its PID, as a crash would.
// For tests only.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func main() {
	name := flag.String("name", "", "member name")
	dir := flag.String("dir", "", "data directory")
	client := flag.String("client", "", "client URL")
	peer := flag.String("peer", "", "peer URL")
	initial := flag.String("initial", "", "initial cluster")
	state := flag.String("state", embed.ClusterStateFlagNew, "initial cluster state")
	flag.Parse()

	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = *name, *dir
	cu, err := url.Parse(*client)
	check(err)
	pu, err := url.Parse(*peer)
	check(err)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster, cfg.InitialClusterToken, cfg.ClusterState = *initial, "gatehouse-test", *state
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	check(err)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		check(err)
	case <-time.After(time.Minute):
		check(fmt.Errorf("member %s not ready", *name))
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-e.Err():
		check(err)
	}
	e.Close()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdmember:", err)
		os.Exit(1)
	}
}
