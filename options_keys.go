package authx

// The options that give an Auth its keys: a secret or signing key, keys
// that only verify, and key sets of other issuers.

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// WithSecret signs and verifies tokens with HS256 and the given secret, as
// Python AuthX does with JWT_SECRET_KEY. The secret must be at least 32 bytes
// of random data (RFC 7518 §3.2); a shorter one is refused. For HS384 or
// HS512 use [WithSigningKey]. There is no default: New needs a key.
func WithSecret(secret []byte) Option {
	return WithSigningKey("HS256", secret)
}

// WithSigningKey signs (and verifies) tokens with alg and key:
//   - HS256, HS384, HS512: a []byte secret of at least 32, 48, 64 bytes;
//   - RS256/384/512, PS256/384/512: *rsa.PrivateKey (2048 to 8192 bits);
//   - ES256, ES384, ES512: *ecdsa.PrivateKey on P-256, P-384, P-521;
//   - EdDSA: ed25519.PrivateKey.
//
// Asymmetric keys may also be given as PEM bytes. New checks the key in
// full — a nil, zero, truncated or inconsistent key (a point off the curve,
// a private half that does not match its public half) is an error wrapping
// [ErrConfig] — so that signing and verifying cannot fail at request time;
// it never writes to the key. The algorithm is pinned: a token whose alg
// header differs is rejected. Tokens carry the kid set by [WithKeyID], if
// any.
func WithSigningKey(alg string, key any) Option {
	return optionFunc(func(c *config) {
		if c.signing != nil {
			c.errorf("more than one signing key (WithSecret/WithSigningKey); add old keys with WithVerificationKey")
			return
		}
		c.keyGiven = true
		k, err := newKeySpec("", alg, key, true)
		if err != nil {
			c.errorf("signing key: %v", err)
			return
		}
		c.signing = k
	})
}

// InsecureShortSecret signs and verifies with HS256 and a secret shorter
// than the 32 bytes [WithSecret] requires — for a migration from an
// existing Python AuthX deployment whose JWT_SECRET_KEY is short, while
// both services must accept each other's tokens. A short secret can be
// guessed offline from any one token; New logs a warning (through
// [WithLogger]'s logger, or slog.Default). Replace it as soon as the
// migration allows (add the new key with [WithKeyID] and keep this one
// with [WithVerificationKey] until its tokens expire). Use it instead of
// WithSecret, not with it.
func InsecureShortSecret(secret []byte) Option {
	return optionFunc(func(c *config) {
		if c.signing != nil {
			c.errorf("more than one signing key (InsecureShortSecret with WithSecret/WithSigningKey)")
			return
		}
		c.keyGiven = true
		k, err := newKeySpecWith("", "HS256", secret, true, true)
		if err != nil {
			c.errorf("short secret: %v", err)
			return
		}
		c.signing = k
		c.shortSecret = len(secret) < 32
	})
}

// WithKeyID sets the kid header written into every token signed with the
// signing key, and makes verification select that key by kid. Default: no
// kid, as Python AuthX. It must be valid UTF-8 and short enough for the
// header (at most 2048 bytes) a verifier reads.
func WithKeyID(kid string) Option {
	return optionFunc(func(c *config) {
		if err := checkKeyID(kid); err != nil {
			c.errorf("key id: %v", err)
			return
		}
		c.signingKID = kid
	})
}

// checkKeyID reports whether kid can be written into a header that a
// verifier reads back as the same kid.
func checkKeyID(kid string) error {
	switch {
	case kid == "":
		return errors.New("empty key id")
	case !utf8.ValidString(kid):
		return fmt.Errorf("%.40q is not valid UTF-8: it would be written as U+FFFD and select no key", kid)
	case len(appendHeader(nil, "HS256", kid, nil)) > maxHeaderBytes: // every alg name has 5 bytes
		return fmt.Errorf("key id of %d bytes: the header would be longer than the %d bytes a verifier reads", len(kid), maxHeaderBytes)
	}
	return nil
}

// WithVerificationKey adds a key that verifies tokens but never signs them:
// a previous key during rotation, or another service's public key. Add as
// many as needed. A token whose header names kid is verified by the key with
// that kid only; a token without kid is tried against every key configured
// without a kid (the signing key first) whose algorithm matches. kid may be
// "" for keys of tokens minted without one (such as Python AuthX's). key is
// as for [WithSigningKey], or the public half (*rsa.PublicKey,
// *ecdsa.PublicKey, ed25519.PublicKey, or PEM, certificates included).
func WithVerificationKey(kid, alg string, key any) Option {
	return optionFunc(func(c *config) {
		c.keyGiven = true
		if kid != "" {
			if err := checkKeyID(kid); err != nil {
				c.errorf("verification key: %v", err)
				return
			}
		}
		k, err := newKeySpec(kid, alg, key, false)
		if err != nil {
			c.errorf("verification key %q: %v", kid, err)
			return
		}
		c.verifyKeys = append(c.verifyKeys, k)
	})
}

// KeySetOption configures how tokens verified by one [KeySet] are checked
// and read (see [WithKeySet]).
type KeySetOption interface{ applyKeySet(*issuerKeys) }

type keySetOptionFunc func(*issuerKeys)

func (f keySetOptionFunc) applyKeySet(k *issuerKeys) { f(k) }

// Default scope claims of another issuer's tokens: RFC 9068's "scope" (a
// space-separated string), the common "scp" array, and our "scopes".
var defaultScopeClaims = []string{"scope", "scp", "scopes"}

// WithKeySet trusts tokens signed by the keys of ks whose iss claim is
// ks.Issuer(): the access tokens of an OpenID Connect provider (Auth0,
// Okta, Keycloak, Zitadel, Cognito, Entra ID) through package
// github.com/authx-go/authx/jwks, or another service's. Give it once per
// issuer; the token's iss selects the set before any key is tried, so a key
// of one issuer never verifies a token claiming another. An Auth whose only
// keys come from key sets verifies and cannot issue.
//
// Such tokens pass every guard, policy, subject getter and WebSocket
// handshake as ours do, read as access tokens: sub and exp are required
// (jti and type are not, and a type other than "access" is refused, as is
// an OpenID Connect ID token: one with nonce, at_hash or c_hash); their
// scopes are read from the claims [ScopesFrom] names ("scope", "scp" and
// "scopes" by default) into [Claims.Scopes]; their sid, fam and login_type
// claims are the issuer's business and are kept as custom data, never
// taken for our sessions or families. Each set needs the audience its
// tokens must name ([Audience]) — an issuer's tokens for other services
// must not open this one — unless [InsecureAnyAudience] says otherwise.
// The key's algorithm is the key's own ([PublicKey.Alg]): HMAC and "none"
// are never accepted from a key set.
//
// A set whose Issuer is "" serves tokens of this Auth's own issuer
// ([WithIssuer]): its keys are tried after the configured ones, for
// tokens checked as ours are.
func WithKeySet(ks KeySet, opts ...KeySetOption) Option {
	return optionFunc(func(c *config) {
		c.keyGiven = true
		if ks == nil {
			c.errorf("WithKeySet: nil KeySet")
			return
		}
		k := &issuerKeys{ks: ks, iss: ks.Issuer(), scopeClaims: defaultScopeClaims}
		for i, o := range opts {
			if o == nil {
				c.errorf("WithKeySet(%q): option %d (counting from 0) is nil", k.iss, i)
				return
			}
			o.applyKeySet(k)
		}
		if err := k.check(); err != nil {
			c.errorf("WithKeySet(%q): %v", k.iss, err)
			return
		}
		for _, other := range c.keySets {
			if other.iss == k.iss && k.iss != "" {
				c.errorf("WithKeySet: two key sets of issuer %q", k.iss)
				return
			}
		}
		c.keySets = append(c.keySets, k)
	})
}

func (k *issuerKeys) check() error {
	if k.iss == "" {
		return nil // checked as our own tokens: WithAudience applies
	}
	if err := checkClaimString("issuer", k.iss); err != nil {
		return err
	}
	if len(k.audience) == 0 && !k.anyAudience {
		return errors.New("no Audience: say which audience this service is (the issuer's tokens for other services must not open it), or InsecureAnyAudience")
	}
	if len(k.audience) > 0 {
		if err := checkAudience("Audience", k.audience); err != nil {
			return err
		}
	}
	if len(k.scopeClaims) == 0 {
		return errors.New("ScopesFrom() needs at least one claim")
	}
	for _, s := range k.scopeClaims {
		if err := checkScopePath(s); err != nil {
			return err
		}
	}
	return nil
}

// Audience requires tokens of the key set to name one of aud in their aud
// claim: this service, as the issuer knows it ("https://api.example.com",
// an Auth0 API identifier, a Keycloak client id).
func Audience(aud ...string) KeySetOption {
	return keySetOptionFunc(func(k *issuerKeys) { k.audience = append(k.audience, aud...) })
}

// InsecureAnyAudience accepts the key set's tokens whatever their aud: any
// token the issuer minted for any of its services opens this one. Use it
// only for an issuer that serves this service alone.
func InsecureAnyAudience() KeySetOption {
	return keySetOptionFunc(func(k *issuerKeys) { k.anyAudience = true })
}

// ScopesFrom names the claims a key set's tokens carry their scopes in,
// read in order into [Claims.Scopes] (bounded by [WithMaxScopes]). Default
// "scope", "scp" and "scopes". A claim holding a string is split at
// spaces (RFC 9068's scope); one holding an array of strings is taken as
// is. A dotted name walks into objects, for the IdP shapes:
//
//	ScopesFrom("permissions")                        // Auth0 RBAC
//	ScopesFrom("scope", "realm_access.roles")        // Keycloak realm roles
//	ScopesFrom("resource_access.my-client.roles")    // Keycloak client roles
//	ScopesFrom("cognito:groups")                     // Amazon Cognito groups
//	ScopesFrom("scp", "roles")                       // Entra ID
//
// The scopes then work with [Scopes], [Any], [All] and the rules package
// unchanged.
func ScopesFrom(claims ...string) KeySetOption {
	return keySetOptionFunc(func(k *issuerKeys) { k.scopeClaims = append([]string(nil), claims...) })
}

// RequireAccessTokenType refuses the key set's tokens unless their header
// typ is "at+jwt" (RFC 9068 §2.1), so that an ID token or another JWT the
// issuer signs is never taken for an access token. Use it with issuers
// that type their access tokens (most do on request).
func RequireAccessTokenType() KeySetOption {
	return keySetOptionFunc(func(k *issuerKeys) { k.atJWT = true })
}

// maxScopePathSegments bounds a ScopesFrom name's depth.
const maxScopePathSegments = 8

func checkScopePath(p string) error {
	if p == "" {
		return errors.New("empty ScopesFrom claim")
	}
	segs := strings.Split(p, ".")
	if len(segs) > maxScopePathSegments {
		return fmt.Errorf("ScopesFrom(%q): more than %d segments", p, maxScopePathSegments)
	}
	for _, s := range segs {
		if s == "" {
			return fmt.Errorf("ScopesFrom(%q): empty segment", p)
		}
	}
	return nil
}
