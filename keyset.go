package authx

import (
	"context"
	"crypto"
	"sync"
)

// KeySet is a source of keys for tokens this Auth did not sign: the JWKS of
// an OpenID Connect issuer (package github.com/authx-go/authx/jwks), or any
// other. Give it to an Auth with [WithKeySet].
//
// The Auth asks the set only about tokens whose iss claim equals
// [KeySet.Issuer], so a key of one issuer never verifies a token claiming
// another. Implementations must be safe for concurrent use and must not
// block a request on the network when what they hold can answer.
type KeySet interface {
	// Issuer returns the issuer whose tokens the set's keys sign, exactly
	// as those tokens' iss claim spells it (an issuer URL, compared byte
	// for byte). "" means the Auth's own issuer ([WithIssuer]; tokens
	// without iss when it has none). It must not change.
	Issuer() string
	// Keys returns the set's keys whose id is kid, or all its keys when kid
	// is "" (a token without a kid). No key is an answer (the token's key is
	// unknown: 401); an error means the set cannot answer now (503, fail
	// closed). A set may look for a kid it does not hold (a rotation at the
	// issuer), at most as often as it allows; ctx is the request's.
	Keys(ctx context.Context, kid string) ([]PublicKey, error)
}

// PublicKey is one verification key of a [KeySet].
type PublicKey struct {
	// KID is the key's id ("kid"), "" if it has none.
	KID string
	// Alg is the one JWS algorithm the key verifies ("RS256", "PS256",
	// "ES256", "ES384", "ES512", "EdDSA", …): from the JWK's alg, or pinned
	// by the set's configuration when the JWK has none. A token whose alg
	// header differs is refused; HMAC and "none" are never accepted from a
	// key set.
	Alg string
	// Key is the public key: *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey, matching Alg.
	Key crypto.PublicKey
}

// issuerKeys is one trusted key set and what its issuer's tokens must
// satisfy.
type issuerKeys struct {
	ks          KeySet
	iss         string   // ks.Issuer(), read once
	audience    []string // one must be in the token's aud
	anyAudience bool     // InsecureAnyAudience
	scopeClaims []string // where the token's scopes are, in order
	atJWT       bool     // RequireAccessTokenType: header typ at+jwt

	cache specCache // the set's keys, validated (keysets.go)
}

// specCache remembers the keySpec of each key a set returned, so that a
// key is validated once, not per request. Keys are identified by their
// kid, alg and value (the pointer of an RSA or ECDSA key, the bytes of an
// Ed25519 key).
type specCache struct {
	mu sync.Mutex
	m  map[specID]*keySpec
}

type specID struct {
	kid, alg string
	key      any
}
