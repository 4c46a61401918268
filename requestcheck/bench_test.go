package requestcheck

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkChecks is what every request pays before its rule is looked
// at: the header, method, trailer and path checks and the override scan,
// on a request with the headers curl sends and a Bearer token.
func BenchmarkChecks(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/projects/atlas/tasks/7?page=2", nil)
	r.Header.Set("User-Agent", "curl/8.5.0")
	r.Header.Set("Accept", "*/*")
	r.Header.Set("Authorization", "Bearer qat_0123456789abcdefghijklmnopqrstuvwxyzAB")
	b.ReportAllocs()
	for b.Loop() {
		if p := Request(r); p != nil {
			b.Fatal(p)
		}
		if _, p := SiteMethod(r, false); p != nil {
			b.Fatal(p)
		}
	}
}
