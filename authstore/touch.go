package authstore

import (
	"sync"
	"time"
)

// toucher batches last-used stamps and writes them off the request path,
// in one transaction per interval, so a busy token costs one bbolt write a
// minute instead of one per request. Its loop also runs the store's
// housekeeping (retention.go).
type toucher struct {
	s       *Store
	mu      sync.Mutex
	pending map[string]touch // token or session id -> newest use
	quit    chan struct{}
	done    chan struct{}
}

type touch struct {
	at time.Time
	ip string
}

func startToucher(s *Store, every time.Duration) *toucher {
	t := &toucher{s: s, pending: make(map[string]touch), quit: make(chan struct{}), done: make(chan struct{})}
	go t.loop(every)
	return t
}

func (t *toucher) note(id string, at time.Time, ip string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.pending[id] = touch{at: at.UTC().Truncate(time.Second), ip: ip}
	t.mu.Unlock()
}

func (t *toucher) loop(every time.Duration) {
	defer close(t.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	purge := time.NewTicker(time.Minute)
	defer purge.Stop()
	for {
		select {
		case <-tick.C:
			t.flush()
		case <-purge.C:
			// Housekeeping rides on the same goroutine: one loop per store,
			// stopped by Close.
			t.s.housekeep(time.Now())
		case <-t.quit:
			t.flush()
			return
		}
	}
}

// stop flushes what is pending and ends the loop.
func (t *toucher) stop() {
	close(t.quit)
	<-t.done
}

// flush writes pending stamps. A failed write is dropped: last-used is
// advisory and must never hold up or fail a request.
func (t *toucher) flush() {
	t.mu.Lock()
	batch := t.pending
	t.pending = make(map[string]touch)
	t.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if t.s.fleet == nil {
		t.write(batch)
		return
	}
	// In fleet mode each stamp costs compares in one etcd transaction,
	// which etcd bounds (--max-txn-ops): write in chunks.
	chunk := map[string]touch{}
	for id, tc := range batch {
		chunk[id] = tc
		if len(chunk) == touchChunk {
			t.write(chunk)
			chunk = map[string]touch{}
		}
	}
	t.write(chunk)
}

// touchChunk is how many stamps one fleet-mode transaction writes: two
// reads each, within etcd's default 128 compares.
const touchChunk = 40

func (t *toucher) write(batch map[string]touch) {
	if len(batch) == 0 {
		return
	}
	_ = t.s.update("touch", func(tx *Tx) error {
		pats, ids := tx.Bucket(bucketPATs), tx.Bucket(bucketPATIDs)
		for id, tc := range batch {
			if isSessionID(id) {
				if err := unsafeTouchSession(tx, id, tc); err != nil {
					return err
				}
				continue
			}
			h := ids.Get([]byte(id))
			if h == nil {
				continue
			}
			var p PAT
			if err := getJSON(pats, h, &p); err != nil {
				continue
			}
			if !tc.at.After(p.LastUsedAt) {
				continue
			}
			p.LastUsedAt, p.LastUsedIP = tc.at, tc.ip
			if err := putJSON(pats, h, &p); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlushTouches writes pending last-used stamps now (admin listings and
// tests call it so what they show is current).
func (s *Store) FlushTouches() {
	if s.touches != nil {
		s.touches.flush()
	}
}
