package authx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// This file is the verification cache ([WithVerificationCache]): a token's
// bytes, once its signature and claims have been verified, map to its
// claims, so that the next request with the same token skips the
// signature and the decoding. What a cached entry lets skip is only what
// the token's bytes decide; the clock, the blocklist, sessions, the
// guard's type and policies are checked on every request, hit or not.

// Cache bounds. An entry costs its token and claims (about 7/4 of the
// token's length, the payload being 3/4 of it) plus the entry itself.
const (
	maxCacheEntries    = 1 << 20 // WithVerificationCache's upper bound
	cacheBytesPerEntry = 2 << 10 // the byte budget: entries × this
	maxCachedToken     = 4 << 10 // longer tokens are verified every time
	cacheEntryOverhead = int(unsafe.Sizeof(cacheEntry{})) + 64
)

// verifyCache is a sharded, bounded map from token bytes to verified
// claims. Hits take a shard's read lock only, so concurrent hits do not
// serialise; eviction is CLOCK (an entry hit since the hand last passed
// is spared once), bounded per insertion.
//
// The shard is chosen by the token's last characters (its signature's,
// which no one can choose for a token that verifies), and the entry by a
// map keyed by the token itself: Go's map hashes the key with a per-map
// random seed and then compares the whole token, so a hit is exactly the
// bytes that were verified. That final comparison is not constant-time,
// and need not be: it runs only on a token whose seeded hash equals a
// cached token's, which for any other token is a 2^-64 accident the
// attacker can neither aim for nor observe.
type verifyCache struct {
	shards []cacheShard
	mask   int
}

type cacheShard struct {
	mu       sync.RWMutex
	m        map[string]*cacheEntry // by the token
	ring     []*cacheEntry          // CLOCK order; nil: a free slot
	hand     int
	bytes    int
	maxBytes int
	_        [64]byte // keep shards' locks off each other's cache lines
}

// cacheEntry is one verified token. c is never handed out: hits copy it
// (copyClaims), so a handler that writes to its claims writes to its own.
type cacheEntry struct {
	tok  string     // the token (a copy), the entry's key
	c    Claims     // as verified, before the request-specific checks
	by   verifiedBy // the key set and key that verified it; zero: the Auth's own keys
	size int
	slot int         // index in the shard's ring
	ref  atomic.Bool // hit since the hand last passed
}

// verifiedBy names the key of a key set that verified a token, so that a
// cached verification is used only while the set still has that key; its
// zero value stands for the Auth's own keys.
type verifiedBy struct {
	set *issuerKeys
	key PublicKey
}

// newVerifyCache returns a cache of at most entries tokens and at most
// entries × cacheBytesPerEntry bytes.
func newVerifyCache(entries int) *verifyCache {
	n := 1
	for n < 64 && n*16 <= entries {
		n *= 2
	}
	vc := &verifyCache{shards: make([]cacheShard, n), mask: n - 1}
	for i := range vc.shards {
		per := entries / n
		if i < entries%n {
			per++
		}
		vc.shards[i] = cacheShard{m: make(map[string]*cacheEntry, per), ring: make([]*cacheEntry, per), maxBytes: per * cacheBytesPerEntry}
	}
	return vc
}

// shard returns tok's shard, by two characters of its signature: the last
// but one and the one before (the very last carries as few as 2 bits).
func (vc *verifyCache) shard(tok string) *cacheShard {
	if len(tok) < 3 {
		return &vc.shards[0]
	}
	return &vc.shards[(int(tok[len(tok)-2])+31*int(tok[len(tok)-3]))&vc.mask]
}

// get returns the entry for tok, or nil.
func (vc *verifyCache) get(tok string) *cacheEntry {
	sh := vc.shard(tok)
	sh.mu.RLock()
	ent := sh.m[tok]
	sh.mu.RUnlock()
	if ent == nil {
		return nil
	}
	if !ent.ref.Load() {
		ent.ref.Store(true)
	}
	return ent
}

// put remembers tok as verified to c (by the key by names, zero for the
// Auth's own). Tokens past maxCachedToken are not kept.
func (vc *verifyCache) put(tok string, c *Claims, by verifiedBy, now time.Time) {
	if len(tok) > maxCachedToken {
		return
	}
	// A copy: tok may be cut from a long Cookie header.
	ent := &cacheEntry{tok: strings.Clone(tok), by: by,
		size: len(tok) + len(tok)*3/4 + cacheEntryOverhead}
	copyClaims(&ent.c, c)
	sh := vc.shard(tok)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.ring) == 0 || ent.size > sh.maxBytes {
		return
	}
	if old := sh.m[tok]; old != nil {
		sh.remove(old)
	}
	slot := -1
	for steps := 0; slot < 0 || sh.bytes+ent.size > sh.maxBytes; steps++ {
		at := sh.hand
		sh.hand = (sh.hand + 1) % len(sh.ring)
		old := sh.ring[at]
		switch {
		case old == nil:
		case old.ref.Load() && steps < 2*len(sh.ring) && now.Before(old.c.ExpiresAt):
			old.ref.Store(false) // spared this once
			continue
		default:
			sh.remove(old)
		}
		if slot < 0 {
			slot = at
		}
	}
	ent.slot = slot
	sh.ring[slot] = ent
	sh.m[ent.tok] = ent
	sh.bytes += ent.size
}

// drop forgets ent, if it is still cached (a hit found it expired, or its
// key gone).
func (vc *verifyCache) drop(ent *cacheEntry) {
	sh := vc.shard(ent.tok)
	sh.mu.Lock()
	if sh.m[ent.tok] == ent {
		sh.remove(ent)
	}
	sh.mu.Unlock()
}

func (sh *cacheShard) remove(ent *cacheEntry) {
	delete(sh.m, ent.tok)
	sh.ring[ent.slot] = nil
	sh.bytes -= ent.size
}

// stats returns the number of entries and their bytes (tests).
func (vc *verifyCache) stats() (entries, size int) {
	for i := range vc.shards {
		sh := &vc.shards[i]
		sh.mu.RLock()
		entries += len(sh.m)
		size += sh.bytes
		sh.mu.RUnlock()
	}
	return entries, size
}

// copyClaims makes dst (zero, or scratch to overwrite) a copy of src that
// shares no writable memory with it: Scopes and Audience are copied, into
// dst's own inline array when short. Strings and the custom claims (never
// written after decoding) are shared.
func copyClaims(dst, src *Claims) {
	*dst = *src
	dst.Scopes = copyStrings(src.Scopes, dst.inl[0:0:inlineStrings-1])
	dst.Audience = copyStrings(src.Audience, dst.inl[inlineStrings-1:inlineStrings-1:inlineStrings])
}

// copyStrings copies s into room when it fits, else into a new slice; nil
// stays nil and empty stays empty.
func copyStrings(s, room []string) []string {
	switch {
	case s == nil:
		return nil
	case len(s) <= cap(room):
		return append(room, s...)
	}
	return cloneStrings(s)
}

// sameKey reports whether a and b are the same public key (a key set's
// refresh may return equal keys in new values).
func sameKey(a, b any) bool {
	switch a := a.(type) {
	case *ecdsa.PublicKey:
		b, ok := b.(*ecdsa.PublicKey)
		return ok && (a == b || a.Equal(b))
	case *rsa.PublicKey:
		b, ok := b.(*rsa.PublicKey)
		return ok && (a == b || a.Equal(b))
	case ed25519.PublicKey:
		b, ok := b.(ed25519.PublicKey)
		return ok && bytes.Equal(a, b)
	}
	return false
}
