package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/authx-go/authx"
)

// BenchmarkBlocklistRoundTrip measures the blocklist check of a guarded
// request (IsTokenRevoked: ids, subject cut-off and epoch in one prepared
// statement) against its floor, a bare SELECT 1 on the same pool: the
// check should cost about one round trip.
func BenchmarkBlocklistRoundTrip(b *testing.B) {
	pool := newPool(b, "authxtest-bench")
	s := storeOn(b, pool, testSchema(b))
	ctx := context.Background()
	check := authx.TokenCheck{IDs: []string{"jti-0b7e4c", "fam:f-81d2", "sid:s-3a9f"}, Subject: "alice", IssuedAt: time.Now()}
	b.Run("SELECT1", func(b *testing.B) {
		b.ReportAllocs()
		var one int
		for b.Loop() {
			if err := pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("IsTokenRevoked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if revoked, err := s.IsTokenRevoked(ctx, check); err != nil || revoked {
				b.Fatalf("IsTokenRevoked = %v, %v", revoked, err)
			}
		}
	})
}
