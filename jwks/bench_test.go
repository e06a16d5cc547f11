package jwks_test

import (
	"testing"
	"time"

	"github.com/authx-go/authx/jwks"
)

// BenchmarkKeys is the cost of a guarded request's key lookup: a kid the
// Set holds (a map lookup and a copy of the result), and an unknown kid
// once the unknown-kid budget is spent (a mutex). The floor is a map
// lookup (~20 ns).
func BenchmarkKeys(b *testing.B) {
	is := newIssuer(b, jwksBody(b, "ec-256", "ed"))
	clk := newClock()
	s := newSet(b, is, jwks.WithClock(clk.Now), jwks.WithUnknownKIDInterval(time.Hour))
	s.Keys(b.Context(), "spend the budget")
	for _, bm := range []struct{ name, kid string }{{"known", "ed"}, {"unknown", "nope"}, {"all", ""}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Keys(b.Context(), bm.kid); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
