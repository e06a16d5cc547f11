package authx

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func cacheTestAuth(t *testing.T, opts ...Option) *Auth[string] {
	t.Helper()
	a, err := New[string](append([]Option{WithSecret([]byte("0123456789abcdef0123456789abcdef"))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The cache is off unless asked for; on, a hit skips the signature check:
// with the keys taken away, a cached token still verifies and an uncached
// one does not.
func TestVerificationCacheSkipsTheSignature(t *testing.T) {
	if cacheTestAuth(t).e.cache != nil {
		t.Fatal("a verification cache without WithVerificationCache")
	}
	for _, cached := range []bool{false, true} {
		var opts []Option
		if cached {
			opts = append(opts, WithVerificationCache(10))
		}
		a := cacheTestAuth(t, opts...)
		tok, err := a.CreateAccessToken("alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		a.e.keys = keyring{} // no key verifies anything now
		_, err = a.Verify(context.Background(), tok)
		if cached && err != nil {
			t.Errorf("cached: %v, want the cached verification", err)
		}
		if !cached && err == nil {
			t.Error("uncached: verified without keys")
		}
	}
}

// The cache holds at most its entries and its bytes, never a token past
// maxCachedToken, and CLOCK keeps the entries that are hit through churn.
func TestVerificationCacheBounds(t *testing.T) {
	const entries = 128
	a := cacheTestAuth(t, WithVerificationCache(entries))
	vc := a.e.cache
	ctx := context.Background()
	hot := make([]string, 8)
	for i := range hot {
		hot[i] = mustToken(t, a, fmt.Sprintf("hot-%d", i), "")
	}
	for i := range 4000 {
		tok := mustToken(t, a, fmt.Sprintf("cold-%d", i), "")
		if _, err := a.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		for _, h := range hot {
			if _, err := a.Verify(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		if n, size := vc.stats(); n > entries || size > entries*cacheBytesPerEntry {
			t.Fatalf("after %d tokens: %d entries, %d bytes; bounds %d, %d", i, n, size, entries, entries*cacheBytesPerEntry)
		}
	}
	for _, h := range hot {
		if vc.get(h) == nil {
			t.Errorf("a token hit on every round was evicted")
		}
	}
	// Large tokens: the byte bound holds with every entry near the limit,
	// and a token past maxCachedToken is not kept.
	big := cacheTestAuth(t, WithVerificationCache(entries))
	for i := range 600 {
		tok := mustToken(t, big, fmt.Sprintf("big-%d", i), strings.Repeat("x", 2000))
		if _, err := big.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n, size := big.e.cache.stats(); size > entries*cacheBytesPerEntry || n >= entries {
		t.Errorf("2 KB tokens: %d entries, %d bytes; want fewer than %d entries within %d bytes", n, size, entries, entries*cacheBytesPerEntry)
	}
	huge := mustToken(t, big, "huge", strings.Repeat("x", maxCachedToken))
	if _, err := big.Verify(ctx, huge); err != nil {
		t.Fatal(err)
	}
	if big.e.cache.get(huge) != nil {
		t.Errorf("a %d-byte token was cached", len(huge))
	}
	// An expired entry met by a hit is dropped.
	clock := time.Now()
	exp := cacheTestAuth(t, WithVerificationCache(4), WithClock(func() time.Time { return clock }))
	tok := mustToken(t, exp, "soon", "")
	if _, err := exp.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	if _, err := exp.Verify(ctx, tok); err == nil {
		t.Fatal("expired token verified")
	}
	if n, _ := exp.e.cache.stats(); n != 0 {
		t.Errorf("%d entries after the only one expired", n)
	}
}

func mustToken(t *testing.T, a *Auth[string], sub, data string) string {
	t.Helper()
	var opts []TokenOption
	if data != "" {
		opts = append(opts, Claim("data", data))
	}
	tok, err := a.CreateAccessToken(sub, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Tokens spread over the shards: no shard holds more than three times its
// share of 6400 random tokens.
func TestVerificationCacheShards(t *testing.T) {
	a := cacheTestAuth(t, WithVerificationCache(1<<16))
	vc := a.e.cache
	if len(vc.shards) != 64 {
		t.Fatalf("%d shards, want 64", len(vc.shards))
	}
	count := map[*cacheShard]int{}
	for i := range 6400 {
		count[vc.shard(mustToken(t, a, fmt.Sprintf("u%d", i), ""))]++
	}
	for sh, n := range count {
		if n > 3*100 {
			t.Errorf("shard %p holds %d of 6400 tokens", sh, n)
		}
	}
	if len(count) < 60 {
		t.Errorf("tokens went to %d of 64 shards", len(count))
	}
}
