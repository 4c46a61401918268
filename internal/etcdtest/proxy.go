package etcdtest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a loopback TCP proxy in front of each member's client URL, so a
// test can cut one edge off the cluster (every connection dropped, new
// ones refused) while the others keep talking to it, and then restore it.
type Proxy struct {
	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
	urls  []string
}

// Proxy starts a proxy for every member; it stops when the test ends.
func (c *Cluster) Proxy(t testing.TB) *Proxy {
	t.Helper()
	p := &Proxy{conns: map[net.Conn]bool{}}
	for _, m := range c.Members {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		p.urls = append(p.urls, "http://"+l.Addr().String())
		target := m.ClientURL[len("http://"):]
		go p.serve(l, target)
	}
	t.Cleanup(p.Cut)
	return p
}

// Endpoints are the proxy's URLs, one per member.
func (p *Proxy) Endpoints() []string { return p.urls }

// Cut drops every connection through the proxy and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *Proxy) serve(l net.Listener, target string) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				return
			}
			if !p.track(in, out) {
				in.Close()
				out.Close()
				return
			}
			done := make(chan struct{}, 2)
			go func() { io.Copy(out, in); done <- struct{}{} }()
			go func() { io.Copy(in, out); done <- struct{}{} }()
			<-done
			in.Close()
			out.Close()
			p.mu.Lock()
			delete(p.conns, in)
			delete(p.conns, out)
			p.mu.Unlock()
		}()
	}
}
