package authx

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// This file verifies tokens whose keys come from key sets ([WithKeySet]):
// the token's iss selects the set before any key is tried.

var (
	errNoKeyInSet    = errors.New("no key of the issuer's key set has the token's kid")
	errSetAlgorithm  = errors.New("key sets verify asymmetric algorithms only")
	errNeedsATJWT    = errors.New(`the issuer's access tokens must have typ "at+jwt"`)
	errForeignType   = errors.New(`another issuer's token of a type other than "access"`)
	errIDToken       = errors.New("an ID token (it has nonce, at_hash or c_hash), not an access token")
	errScopeShape    = errors.New("scope claim is neither a string nor an array of strings")
	errTooManyScopes = errors.New("too many scopes")
)

// asymmetric reports whether alg is an algorithm a key set may use.
func asymmetric(alg string) bool {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA":
		return true
	}
	return false
}

// parseExternal verifies tok with key sets configured, with the keys of
// the issuer it names, and decodes its claims into c (zero). It returns
// the key set and key that verified the token, a zero verifiedBy for the
// configured keys.
func (e *engine) parseExternal(ctx context.Context, tok string, c *Claims) (verifiedBy, error) {
	d1, d2, err := splitToken(tok)
	if err != nil {
		return verifiedBy{}, newError(ErrMalformed, err)
	}
	var hbuf [headerScratch]byte
	h, err := e.keys.header(tok[:d1], hbuf[:])
	if err != nil {
		return verifiedBy{}, newError(ErrMalformed, err)
	}
	var sbuf [signatureScratch]byte
	sig, err := decodeSignature(tok[d2+1:], sbuf[:])
	if err != nil {
		return verifiedBy{}, err
	}
	payload, err := decodePayload(tok[d1+1 : d2])
	if err != nil {
		return verifiedBy{}, err
	}
	// The claims are read before the signature is checked, only to route
	// the token to its issuer's keys; nothing of them is trusted before.
	hasType, err := decodeClaimSet(payload, e.cfg.maxScopes, c)
	if err != nil {
		return verifiedBy{}, err
	}
	input := tok[:d2]
	var own []*issuerKeys // key sets of our own issuer
	for _, s := range e.cfg.keySets {
		switch {
		case s.iss == "":
			own = append(own, s)
		case s.iss == c.Issuer:
			pk, err := e.verifyWith(ctx, s, h, input, sig)
			if err != nil {
				return verifiedBy{}, err
			}
			if err := s.adopt(c, h, hasType, e.cfg.maxScopes); err != nil {
				return verifiedBy{}, err
			}
			return verifiedBy{set: s, key: pk}, nil
		}
	}
	// Ours: the configured keys, then our issuer's key sets.
	var by verifiedBy
	err = e.keys.verify(h, input, sig)
	if errors.Is(err, ErrUnknownKey) || (err != nil && len(e.keys.noKID)+len(e.keys.byKID) == 0) {
		for _, s := range own {
			var pk PublicKey
			if pk, err = e.verifyWith(ctx, s, h, input, sig); err == nil {
				by = verifiedBy{set: s, key: pk}
				break
			}
			if !errors.Is(err, ErrUnknownKey) {
				break
			}
		}
	}
	if err != nil {
		return verifiedBy{}, err
	}
	return by, ownClaims(c, hasType)
}

// verifyWith checks the signature with the keys of set s whose kid and
// algorithm are the token's. A set that cannot answer is a 503.
func (e *engine) verifyWith(ctx context.Context, s *issuerKeys, h jwsHeader, input string, sig []byte) (PublicKey, error) {
	if !asymmetric(h.alg) {
		return PublicKey{}, newError(ErrAlgorithm, errSetAlgorithm)
	}
	keys, err := s.keys(ctx, h.kid)
	if err != nil {
		return PublicKey{}, newError(ErrUnavailable, fmt.Errorf("key set of %q: %w", bound(s.iss, maxLogPath), err))
	}
	tried := false
	for _, pk := range keys {
		if pk.Alg != h.alg || (h.hasKID && pk.KID != h.kid) {
			continue
		}
		k, err := s.spec(pk)
		if err != nil {
			e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "authx: key set offered an unusable key",
				slog.String("issuer", bound(s.iss, maxLogPath)), slog.String("kid", bound(pk.KID, maxLogPath)), slog.String("error", bound(err.Error(), maxLogError)))
			continue
		}
		tried = true
		if k.verifySignature(input, sig) {
			return pk, nil
		}
	}
	if !tried {
		return PublicKey{}, newError(ErrUnknownKey, errNoKeyInSet)
	}
	return PublicKey{}, newError(ErrSignature, nil)
}

// keys asks the set, turning a panic into an error.
func (s *issuerKeys) keys(ctx context.Context, kid string) (keys []PublicKey, err error) {
	defer func() {
		if r := recover(); r != nil {
			keys, err = nil, fmt.Errorf("KeySet.Keys panicked: %v", r)
		}
	}()
	return s.ks.Keys(ctx, kid)
}

// maxCachedSpecs bounds a set's cache of validated keys; past it the cache
// starts over.
const maxCachedSpecs = 256

// spec returns the validated keySpec of pk.
func (s *issuerKeys) spec(pk PublicKey) (*keySpec, error) {
	id := specID{kid: pk.KID, alg: pk.Alg, key: pk.Key}
	switch k := pk.Key.(type) {
	case ed25519.PublicKey:
		id.key = string(k)
	case nil:
		return nil, errors.New("nil key")
	}
	if !hashable(id.key) {
		return nil, fmt.Errorf("unsupported key type %T", pk.Key)
	}
	s.cache.mu.Lock()
	k, ok := s.cache.m[id]
	s.cache.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := newKeySpec(pk.KID, pk.Alg, pk.Key, false)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	if s.cache.m == nil || len(s.cache.m) >= maxCachedSpecs {
		s.cache.m = make(map[specID]*keySpec)
	}
	s.cache.m[id] = k
	s.cache.mu.Unlock()
	return k, nil
}

// hashable reports whether v can be a map key without panicking.
func hashable(v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = map[any]bool{v: true}
	return true
}

// adopt turns the claims of a token verified by s into an access token's
// claims: the issuer's required claims and token type, its scopes read from
// the configured claims, and its sid, fam and login_type kept as custom
// data (never taken for our sessions or families).
func (s *issuerKeys) adopt(c *Claims, h jwsHeader, hasType bool, maxScopes int) error {
	switch {
	case s.atJWT && !h.atJWT:
		return newError(ErrMalformed, errNeedsATJWT)
	case c.ExpiresAt.IsZero():
		return newError(ErrMissingClaim, &claimsError{claimExp, errEmpty})
	case c.Subject == "":
		return newError(ErrMissingClaim, &claimsError{claimSub, errEmpty})
	case hasType && c.Type != Access:
		return newError(ErrAccessRequired, errForeignType)
	case isIDToken(c):
		// An OpenID Connect ID token proves a login to a client; it is not
		// a credential for an API, even when its aud is the client id that
		// the issuer also writes into its access tokens.
		return newError(ErrAccessRequired, errIDToken)
	}
	c.Type = Access
	for _, kv := range [...]struct {
		name string
		v    *string
	}{{claimSID, &c.SessionID}, {claimFam, &c.FamilyID}, {claimLoginType, &c.LoginType}, {claimCSRF, &c.CSRF}} {
		if *kv.v != "" {
			c.data = append(c.data, rawClaim{name: kv.name, raw: strconv.Quote(*kv.v)})
			*kv.v = ""
		}
	}
	scopes, err := s.scopes(c, maxScopes)
	if err != nil {
		return err
	}
	c.Scopes = scopes
	c.src = s
	return nil
}

// isIDToken reports whether c carries a claim only ID tokens carry
// (OpenID Connect Core §2, §3.1.3.6, §3.3.2.11).
func isIDToken(c *Claims) bool {
	for _, name := range [...]string{"nonce", "at_hash", "c_hash"} {
		if _, ok := c.rawData(name); ok {
			return true
		}
	}
	return false
}

// scopes reads the token's scopes from the set's scope claims.
func (s *issuerKeys) scopes(c *Claims, maxScopes int) ([]string, error) {
	var out []string
	add := func(v string) error {
		if v == "" || slices.Contains(out, v) {
			return nil
		}
		if len(v) > maxClaimString {
			return newError(ErrMalformed, &claimsError{"scope", errTooLong})
		}
		if len(out) == maxScopes {
			return newError(ErrMalformed, &claimsError{"scope", errTooManyScopes})
		}
		out = append(out, v)
		return nil
	}
	for _, path := range s.scopeClaims {
		if path == claimScopes {
			for _, v := range c.Scopes {
				if err := add(v); err != nil {
					return nil, err
				}
			}
			continue
		}
		v, ok := c.lookup(path)
		if !ok {
			continue
		}
		switch v := v.(type) {
		case string:
			for _, f := range strings.Fields(v) {
				if err := add(f); err != nil {
					return nil, err
				}
			}
		case []any:
			for _, x := range v {
				str, ok := x.(string)
				if !ok {
					return nil, newError(ErrMalformed, &claimsError{path, errScopeShape})
				}
				if err := add(str); err != nil {
					return nil, err
				}
			}
		case nil:
		default:
			return nil, newError(ErrMalformed, &claimsError{path, errScopeShape})
		}
	}
	return out, nil
}

// lookup reads a custom claim by dotted path: the whole name first (a claim
// named "cognito:groups" or "a.b"), then its first segment walked into.
func (c *Claims) lookup(path string) (any, bool) {
	if raw, ok := c.rawData(path); ok {
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			return nil, false
		}
		return v, true
	}
	first, rest, ok := strings.Cut(path, ".")
	if !ok {
		return nil, false
	}
	raw, ok := c.rawData(first)
	if !ok {
		return nil, false
	}
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return nil, false
	}
	for _, seg := range strings.Split(rest, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return v, true
}

// rawData returns the raw JSON of custom claim name.
func (c *Claims) rawData(name string) (string, bool) {
	for _, d := range c.data {
		if d.name == name {
			return d.raw, true
		}
	}
	return "", false
}

// tokenKey is the blocklist key of the token c describes: its jti, or, for
// another issuer's token, its jti qualified by the issuer (issuers mint
// jtis only unique among their own).
func (c *Claims) tokenKey() string {
	if c.src == nil {
		return tokenKey(c.ID)
	}
	return tokenKey(qualified(c.src.iss, c.ID))
}

// revocationSubject is the subject revocation cut-offs are kept under: the
// sub of our tokens, the issuer-qualified sub of another issuer's, so that
// its "alice" is never ours.
func (c *Claims) revocationSubject() string {
	if c.src == nil {
		return c.Subject
	}
	return qualified(c.src.iss, c.Subject)
}

// qualified prefixes v with iss, unambiguously (iss's length first).
func qualified(iss, v string) string {
	return "iss:" + strconv.Itoa(len(iss)) + ":" + iss + v
}
