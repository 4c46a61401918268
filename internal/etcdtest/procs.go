package etcdtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// ProcCluster is a cluster whose members are child processes (the
// etcdmember command), so a test can SIGKILL one by its PID.
type ProcCluster struct {
	t       testing.TB
	bin     string
	Members []*ProcMember
}

// ProcMember is one member process.
type ProcMember struct {
	Name, ClientURL, PeerURL, dir, initial string
	cmd                                    *exec.Cmd
	done                                   chan struct{}
	readyCh                                chan struct{}
}

// BuildMember builds the etcdmember command into dir and returns its path.
func BuildMember(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "etcdmember")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/gatehouse/gatehouse/internal/etcdtest/etcdmember").CombinedOutput()
	if err != nil {
		t.Fatalf("build etcdmember: %v\n%s", err, out)
	}
	return bin
}

// StartProcs starts n member processes of bin and kills them when the
// test ends.
func StartProcs(t testing.TB, bin string, n int) *ProcCluster {
	t.Helper()
	c := &ProcCluster{t: t, bin: bin}
	var initial []string
	for i := range n {
		m := &ProcMember{Name: fmt.Sprintf("p%d", i), ClientURL: "http://" + freeAddr(t), PeerURL: "http://" + freeAddr(t), dir: t.TempDir()}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	for _, m := range c.Members {
		m.initial = strings.Join(initial, ",")
		c.spawn(m, "new")
	}
	for _, m := range c.Members {
		c.ready(m)
	}
	t.Cleanup(func() {
		for i := range c.Members {
			c.Kill(i)
		}
	})
	return c
}

func (c *ProcCluster) spawn(m *ProcMember, state string) {
	c.t.Helper()
	m.cmd = exec.Command(c.bin, "-name", m.Name, "-dir", m.dir, "-client", m.ClientURL, "-peer", m.PeerURL, "-initial", m.initial, "-state", state)
	m.cmd.Stderr = os.Stderr
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := m.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	m.done = make(chan struct{})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
			}
		}
	}()
	go func() { m.cmd.Wait(); close(m.done) }()
	m.readyCh = ready
}

func (c *ProcCluster) ready(m *ProcMember) {
	c.t.Helper()
	select {
	case <-m.readyCh:
	case <-m.done:
		c.t.Fatalf("etcd member %s exited before it was ready", m.Name)
	case <-time.After(time.Minute):
		c.t.Fatalf("etcd member %s not ready", m.Name)
	}
}

// Endpoints are the members' client URLs.
func (c *ProcCluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.ClientURL)
	}
	return out
}

// Kill SIGKILLs member i by its PID and waits for it to be gone.
func (c *ProcCluster) Kill(i int) {
	m := c.Members[i]
	if m.cmd == nil {
		return
	}
	syscall.Kill(m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.done
	m.cmd = nil
}

// Restart starts killed member i again on its data and ports.
func (c *ProcCluster) Restart(i int) {
	c.t.Helper()
	m := c.Members[i]
	if m.cmd != nil {
		return
	}
	c.spawn(m, "existing")
	c.ready(m)
}

// Leader returns the index of the current leader, asking each live
// member, or -1.
func (c *ProcCluster) Leader() int {
	for i, m := range c.Members {
		if m.cmd == nil {
			continue
		}
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.ClientURL}, DialTimeout: time.Second, Logger: zap.NewNop()})
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := cli.Status(ctx, m.ClientURL)
		cancel()
		cli.Close()
		if err == nil && st.Leader == st.Header.MemberId {
			return i
		}
	}
	return -1
}
