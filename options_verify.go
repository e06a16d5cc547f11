package authx

import "strings"

// This file holds the options that bound what a verifier reads and change
// how a verified token is admitted: the size bounds, key binding and the
// verification cache.

// WithMaxTokenSize bounds the size of a token in bytes; a larger one is
// rejected with 400 before any decoding. Default 8 KiB; between 256 bytes
// and 1 MiB. The bound holds for issuing too: New refuses one below the
// smallest token the configuration issues (its signature, issuer and
// audiences), and a Create… method refuses, with [ErrTokenOption], a token
// that would pass it.
func WithMaxTokenSize(n int) Option {
	return optionFunc(func(c *config) {
		if n < 256 || n > 1<<20 {
			c.errorf("max token size %d out of range [256, 1MiB]", n)
			return
		}
		c.maxToken = n
	})
}

// WithMaxBodySize bounds the JSON body read by [InJSON]; a larger body is
// rejected with 400. Default 1 MiB. The body is restored for the handler.
func WithMaxBodySize(n int64) Option {
	return optionFunc(func(c *config) {
		if n < 1024 {
			c.errorf("max body size %d below 1 KiB", n)
			return
		}
		c.maxBody = n
	})
}

// WithKeyBinding makes the Auth accept tokens bound to a key (cnf.jkt)
// when kb finds that the request proves that key — package
// github.com/authx-go/authx/dpop's DPoP proofs — and accept kb's
// Authorization scheme ("DPoP") besides its own. See [KeyBinding]. Without
// it, bound tokens are refused everywhere ([ErrKeyBound]).
func WithKeyBinding(kb KeyBinding) Option {
	return optionFunc(func(c *config) {
		if kb == nil {
			c.errorf("WithKeyBinding(nil)")
			return
		}
		sch := kb.Scheme()
		if sch == "" || strings.ContainsAny(sch, " \t,\"") {
			c.errorf("WithKeyBinding: scheme %q is not an HTTP authentication scheme", sch)
			return
		}
		c.keyBinding, c.bindingScheme = kb, sch
	})
}

// WithVerificationCache keeps the verified claims of up to entries access
// tokens, keyed by the token's exact bytes, so that a token seen again is
// not verified again: no signature check and no decoding, which for an
// ES256 or RS256 token is nearly all of a guard's cost (see the README's
// "Speed" section). Off by default.
//
// Only what the token's bytes decide is cached. On every request, hit or
// not, the clock is checked against exp, nbf and iat (with the leeway);
// the blocklist, the token's session, its type and the guard's policies
// are consulted as without a cache, so a revoked token is refused at once.
// Nothing but a successful verification is cached. A token verified by a
// key set's key is used from the cache only while the set still returns
// that key (a removed or replaced key makes the next request verify
// afresh; a set that cannot answer denies, 503). Each request gets its own
// copy of the claims, so a handler that changes them changes only its own.
//
// The cache holds at most entries tokens and at most entries × 2 KiB of
// tokens, claims and bookkeeping (tokens longer than 4 KiB are never
// kept); past either bound the least recently hit entries go (CLOCK).
// Lookups take a read lock of one of up to 64 shards. entries must be from
// 1 to 1,048,576.
func WithVerificationCache(entries int) Option {
	return optionFunc(func(c *config) {
		if entries < 1 || entries > maxCacheEntries {
			c.errorf("verification cache of %d entries out of range [1, %d]", entries, maxCacheEntries)
			return
		}
		c.cacheSize = entries
	})
}

// WithMaxScopes bounds the number of scopes a token may carry, when issuing
// and when verifying (a token with more is malformed). Default 256.
func WithMaxScopes(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 || n > 4096 {
			c.errorf("max scopes %d out of range [1, 4096]", n)
			return
		}
		c.maxScopes = n
	})
}
