package authx

import (
	"errors"
	"fmt"
	"strings"
)

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
