package authstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkVerifyPATWarm is the request-path cost of a PAT whose record
// is cached: hash, cache lookup, expiry and owner checks.
func BenchmarkVerifyPATWarm(b *testing.B) {
	s, _ := openTest(b, Options{})
	u := mustUser(b, s, "bench")
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
}

// BenchmarkVerifyPATFromStore forces every verification to read bbolt.
func BenchmarkVerifyPATFromStore(b *testing.B) {
	s, _ := openTest(b, Options{})
	u := mustUser(b, s, "bench")
	tok, _ := mustPAT(b, s, u, time.Now().Add(time.Hour), "a:b")
	h := HashToken(tok)
	b.ReportAllocs()
	for b.Loop() {
		s.pats.invalidate(h)
		if _, _, err := s.VerifyPAT(tok, "127.0.0.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLargeStore shows that opening a store and a cold lookup stay
// flat as the store grows: nothing is loaded into memory at start. It
// builds stores of 1,000 and GATEHOUSE_BIG_STORE tokens (default 100,000;
// the README's figure is for 1,000,000), so it is opt-in:
//
//	GATEHOUSE_BIG_STORE=1000000 go test -run x -bench LargeStore -benchtime 2000x ./authstore
func BenchmarkLargeStore(b *testing.B) {
	big, err := strconv.Atoi(os.Getenv("GATEHOUSE_BIG_STORE"))
	if err != nil {
		b.Skip("set GATEHOUSE_BIG_STORE to the number of tokens (e.g. 1000000)")
	}
	for _, n := range []int{1000, big} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "big.db")
			toks := fillStore(b, path, n)
			start := time.Now()
			s, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			opened := time.Since(start)
			i := 0
			for b.Loop() {
				tok := toks[i%len(toks)]
				i++
				s.pats.invalidate(HashToken(tok))
				if _, _, err := s.VerifyPAT(tok, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(opened.Microseconds()), "open-µs")
		})
	}
}

// fillStore writes n tokens for one user in large transactions and returns
// a sample of them spread over the key space.
func fillStore(b *testing.B, path string, n int) []string {
	b.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	u := mustUser(b, s, "owner")
	var sample []string
	const batch = 20000
	for done := 0; done < n; done += batch {
		err := s.localUpdate(func(tx *Tx) error {
			for i := done; i < min(n, done+batch); i++ {
				tok, err := NewToken("gth_")
				if err != nil {
					return err
				}
				id, _ := randomID("tok_")
				p := &PAT{ID: id, UserID: u.ID, Name: "bulk", Hint: TokenHint("gth_", tok), Scopes: []string{"a:b"}, CreatedAt: time.Now(), CreatedVia: ViaAdmin}
				if err := s.unsafeInsertPAT(tx, HashToken(tok), p, AdminActor); err != nil {
					return err
				}
				if i%(n/1000+1) == 0 {
					sample = append(sample, tok)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return sample
}
