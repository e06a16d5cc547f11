package authx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// policySet is a guard's (or Verify's) policies, normalised: the implicit
// Access requirement, whether refresh locations are searched, and the first
// construction mistake.
type policySet struct {
	user           AllPolicy
	implicitAccess bool       // the token must be an access token
	requireRefresh bool       // the token must be a refresh token (the refresh endpoint)
	look           kinds      // whose cookie and JSON names to search
	optional       bool       // a request without a token passes, unauthenticated (Auth.Optional)
	locs           []Location // where the guard looks, when narrowed (Guard.From); nil: the Auth's
	noCSRF         bool       // cookie tokens pass without the CSRF check (Guard.InsecureWithoutCSRF)
	err            error
}

func newPolicySet(policies []Policy) policySet {
	ps := policySet{user: All(policies...)}
	ps.err = validatePolicy(ps.user)
	refresh := mentions(ps.user, Refresh)
	ps.implicitAccess = !refresh
	switch {
	case refresh && mentions(ps.user, Access):
		ps.look = forBoth // Any(Access, Refresh): either token, either name
	case refresh:
		ps.look = forRefresh
	default:
		ps.look = forAccess
	}
	return ps
}

// policySet normalises policies for this engine: besides the checks of
// newPolicySet, a Scopes requirement that no token within WithMaxScopes
// could meet is a construction mistake.
func (e *engine) policySet(policies []Policy) policySet {
	ps := newPolicySet(policies)
	if ps.err == nil {
		if n, known := minScopes(ps.user); known && n > e.cfg.maxScopes {
			ps.err = fmt.Errorf("%v needs tokens with at least %d scopes, but WithMaxScopes(%d) refuses tokens with more than %d",
				ps.user, n, e.cfg.maxScopes, e.cfg.maxScopes)
		}
	}
	return ps
}

// locations returns where a guard with ps looks: its own narrowed list
// ([Guard.From]) or the configured one.
func (e *engine) locations(ps policySet) []Location {
	if ps.locs != nil {
		return ps.locs
	}
	return e.cfg.locations
}

// userString prints the policies as passed, without the implicit Access.
func (ps policySet) userString() string { return policyList(ps.user) }

func (ps policySet) String() string {
	if ps.locs != nil || ps.noCSRF {
		inner := ps
		inner.locs, inner.noCSRF = nil, false
		s := inner.String()
		if ps.locs != nil {
			s += ".From(" + locationList(ps.locs) + ")"
		}
		if ps.noCSRF {
			s += ".InsecureWithoutCSRF()"
		}
		return s
	}
	if ps.optional {
		inner := ps
		inner.optional = false
		return "Optional(" + inner.String() + ")"
	}
	if ps.implicitAccess && !slices.Contains([]Policy(ps.user), Policy(Access)) {
		return All(append([]Policy{Access}, ps.user...)...).String()
	}
	return ps.user.String()
}

// check verifies a located token and applies the type requirement; the
// caller then applies CSRF, the blocklist and the policies.
func (e *engine) check(ctx context.Context, tok string, ps policySet) (*Claims, error) {
	c := new(Claims)
	if err := e.checkInto(ctx, tok, ps, c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkInto is check decoding into c, which must be zero; on error c
// holds nothing of use.
func (e *engine) checkInto(ctx context.Context, tok string, ps policySet, c *Claims) error {
	if len(tok) > e.cfg.maxToken {
		return newError(ErrTokenTooLarge, nil)
	}
	vc := e.cache
	if vc != nil {
		if ent := vc.get(tok); ent != nil {
			ok, err := e.stillVerified(ctx, ent)
			if err != nil {
				return err
			}
			if ok {
				copyClaims(c, &ent.c)
				err := e.admissible(c, ps)
				if errors.Is(err, ErrExpired) {
					vc.drop(ent)
				}
				return err
			}
			vc.drop(ent)
		}
	}
	var by verifiedBy
	if len(e.cfg.keySets) == 0 {
		if err := e.keys.parse(tok, e.cfg.maxScopes, c); err != nil {
			return err
		}
	} else {
		var err error
		if by, err = e.parseExternal(ctx, tok, c); err != nil {
			return err
		}
	}
	if err := e.admissible(c, ps); err != nil {
		return err
	}
	if vc != nil && c.Type == Access {
		vc.put(tok, c, by, e.cfg.now())
	}
	return nil
}

// stillVerified reports whether a cached verification still stands: the
// Auth's own keys never change, but a key set may have dropped or
// replaced the key that verified the token (false: verify it again). A set
// that cannot answer now fails the request closed, as it would uncached.
func (e *engine) stillVerified(ctx context.Context, ent *cacheEntry) (bool, error) {
	by := ent.by
	if by.set == nil {
		return true, nil
	}
	keys, err := by.set.keys(ctx, by.key.KID)
	if err != nil {
		return false, newError(ErrUnavailable, fmt.Errorf("key set of %q: %w", bound(by.set.iss, maxLogPath), err))
	}
	for _, pk := range keys {
		if pk.KID == by.key.KID && pk.Alg == by.key.Alg && sameKey(pk.Key, by.key.Key) {
			return true, nil
		}
	}
	return false, nil
}

var errTicket = errors.New("a WebSocket ticket is not a bearer token")

// admissible applies ps's type requirement to verified claims, then the
// time, issuer and audience checks.
func (e *engine) admissible(c *Claims, ps policySet) error {
	// The type before the times: a token of the wrong type is that first,
	// whatever its age, so that (for instance) an expired access token sent
	// beside a refresh token is skipped by the refresh endpoint, not fatal.
	switch {
	case c.Type == ticketType:
		// Only the handshake redeems tickets; no guard or Verify admits one,
		// whatever its policies mention.
		return newError(ErrAccessRequired, errTicket)
	case ps.implicitAccess && c.Type != Access:
		return newError(ErrAccessRequired, nil)
	case ps.requireRefresh && c.Type != Refresh:
		return newError(ErrRefreshRequired, nil)
	}
	return e.validate(c)
}

// validate checks time, issuer and audience.
func (e *engine) validate(c *Claims) error {
	now := e.cfg.now()
	lee := e.cfg.leeway
	if !now.Before(c.ExpiresAt.Add(lee)) {
		return newError(ErrExpired, nil)
	}
	if !c.NotBefore.IsZero() && now.Add(lee).Before(c.NotBefore) {
		return newError(ErrNotYetValid, nil)
	}
	if !c.IssuedAt.IsZero() && now.Add(lee).Before(c.IssuedAt) {
		return newError(ErrIssuedInFuture, nil)
	}
	return e.validateParties(c)
}

// validateParties checks the login type, issuer and audience.
func (e *engine) validateParties(c *Claims) error {
	if s := c.src; s != nil {
		// Another issuer's token: its set matched the iss already; the
		// login type is ours to write, not the issuer's.
		if s.anyAudience {
			return nil
		}
		for _, want := range s.audience {
			if slices.Contains(c.Audience, want) {
				return nil
			}
		}
		return newError(ErrAudience, nil)
	}
	if e.cfg.loginType != "" && c.LoginType != e.cfg.loginType {
		return newError(ErrLoginType, nil)
	}
	if e.cfg.issuer != "" && c.Issuer != e.cfg.issuer {
		return newError(ErrIssuer, nil)
	}
	if len(e.cfg.audience) == 0 {
		if len(c.Audience) != 0 {
			return newError(ErrAudience, errors.New("token names an audience and none is configured"))
		}
		return nil
	}
	for _, want := range e.cfg.audience {
		if slices.Contains(c.Audience, want) {
			return nil
		}
	}
	return newError(ErrAudience, nil)
}

// admit is the last step every path shares once a token is verified: the
// blocklist (token, family, session), the token's session, then the
// policies on a context that carries c (st bound to ctx) and r (nil
// outside a request), which it returns.
func (e *engine) admit(ctx context.Context, r *http.Request, c *Claims, ps policySet, st stateSlot) (context.Context, error) {
	if err := e.revoked(ctx, c); err != nil {
		return nil, err
	}
	touch, err := e.checkSession(ctx, c)
	if err != nil {
		return nil, err
	}
	ctx = st.bind(ctx, c)
	if rc, ok := ctx.(requestCarrier); ok && r != nil {
		rc.setRequest(r) // for RequestFrom, in policies and handlers
	}
	if err := e.policies(ctx, c, ps); err != nil {
		return nil, err
	}
	if touch { // only for admitted requests: a denial records no activity
		e.touch(ctx, c)
	}
	return ctx, nil
}

// policies runs the user's policies on the request context.
func (e *engine) policies(ctx context.Context, c *Claims, ps policySet) error {
	if len(ps.user) == 0 {
		return nil
	}
	if err := ps.user.Check(ctx, c); err != nil {
		return asError(err)
	}
	return nil
}

// deny emits a denial's event (with the claims of the token refused, or
// of the guard in front) and writes it.
func (e *engine) deny(w http.ResponseWriter, r *http.Request, err *Error) {
	e.emit(r.Context(), r, Event{Kind: denialKind(err), Status: err.Status, Err: err}, claimsOr(err.refusedClaims(), r.Context()))
	if err.clearCookies != "" {
		e.clearTossed(w, r, TokenType(err.clearCookies))
	}
	if e.cfg.onError == nil && writeCanned(w, e.canned, err) {
		return
	}
	err = err.challengedWith(e.cfg.scheme) // the challenge names WithHeader's scheme
	if e.cfg.onError != nil {
		e.cfg.onError(w, r, err)
		return
	}
	WriteError(w, e.cfg.realm, err)
}
