package authx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// refreshPolicies is the policy set of the refresh endpoint.
var refreshPolicies = func() policySet {
	ps := newPolicySet([]Policy{Refresh})
	ps.requireRefresh = true
	return ps
}()

// errFamilyRevoked is the cause of a reuse that revoked its family.
var errFamilyRevoked = errors.New("reused past the grace window: its family is revoked")

// refreshSources are where the refresh endpoint looks, in order, whatever
// the guards' locations: the Authorization header, a JSON body, the refresh
// cookie (with CSRF).
var refreshSources = []Location{InHeader, InJSON, InCookie}

// RevokeFamily revokes every token of a refresh family — every access and
// refresh token descending from one login — on every guard and on the
// refresh endpoint. It lasts until any token of the family has expired:
// tokens of a family never outlive the longer of the configured TTLs (see
// [Auth.CreateTokenPair]), plus the leeway.
func (a *Auth[T]) RevokeFamily(ctx context.Context, familyID string) error {
	if err := a.configured(); err != nil {
		return err
	}
	if familyID == "" {
		return fmt.Errorf("%w: empty family id", ErrTokenOption)
	}
	if err := a.e.revokeFamily(ctx, familyID); err != nil {
		return err
	}
	a.e.emit(ctx, nil, Event{Kind: EventRevoke, FamilyID: bound(familyID, maxLogID)}, nil)
	return nil
}

// renewal returns the token options that carry c's scopes, custom data,
// audience, session and family into new tokens.
func renewal(c *Claims) tokenOptionFunc {
	return func(s *tokenSettings) {
		if c.Scopes != nil {
			s.scopesSet = true
			s.scopes = append([]string(nil), c.Scopes...)
		}
		if len(c.data) > 0 {
			s.data = make(map[string]json.RawMessage, len(c.data))
			for _, d := range c.data {
				s.data[d.name] = json.RawMessage(d.raw)
			}
		}
		if c.Audience != nil {
			s.audience = append([]string(nil), c.Audience...)
		}
		s.sid = c.SessionID
		s.fam = c.FamilyID
		s.jkt = c.KeyThumbprint
	}
}

// RefreshHandler returns the refresh endpoint (POST; other methods get 405
// with Allow: POST, so that neither a HEAD nor a GET rotates tokens): it
// trades a refresh token for a new pair. It reads the token from the Authorization header, a JSON
// body {"refresh_token": "…"} or the refresh cookie (with the CSRF checks),
// in that order, whatever the guards' locations.
//
// A token from a header or body is answered 200 with an OAuth 2.0 token
// response ({"access_token", "refresh_token", "token_type", "expires_in"});
// a token from a cookie is answered 204 with new cookies, so that tokens
// never reach page scripts. The new access token is not fresh and keeps the
// scopes, custom data, audience, session and family of the refresh token;
// the new refresh token keeps its expiry (a login lasts the refresh TTL).
//
// Rotation is on by default: each refresh token works once. Presenting a
// spent one answers 401 [ErrRefreshReused]; past the grace window
// ([WithRefreshReuseGrace]) it also revokes the whole family, because
// reuse means the token was copied. Concurrent refreshes with one token:
// exactly one succeeds.
func (a *Auth[T]) RefreshHandler() http.Handler {
	return a.postOnly(func(w http.ResponseWriter, r *http.Request) {
		e := a.e
		c, tok, loc, err := a.findRefresh(r)
		if err != nil {
			e.deny(w, r, asError(err))
			return
		}
		// A bound refresh token needs proof of its key (public clients);
		// the new pair is bound to the key the request proves, if any.
		jkt, err := e.checkBinding(r.Context(), r, tok, loc, c, true)
		if err != nil {
			e.deny(w, r, asError(err).withClaims(c))
			return
		}
		pair, err := a.rotate(r.Context(), c, jkt)
		if err != nil {
			if errors.Is(err, errFamilyRevoked) {
				e.emit(r.Context(), r, Event{Kind: EventReuseDetected, FamilyID: bound(familyOf(c), maxLogID), Err: err}, c)
			}
			e.deny(w, r, asError(err).withClaims(c))
			return
		}
		e.emit(r.Context(), r, Event{Kind: EventRefresh}, c)
		if loc == InCookie {
			err := a.SetAccessCookies(w, pair.AccessToken)
			if err == nil && pair.RefreshToken != "" {
				err = a.SetRefreshCookies(w, pair.RefreshToken)
			}
			if err != nil {
				e.deny(w, r, classify(err, ErrMisconfigured))
				return
			}
			noStore(w.Header())
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		noStore(w.Header())
		_ = json.NewEncoder(w).Encode(pair)
	})
}

// findRefresh looks for the refresh token in each source in turn. An access
// token in the Authorization header (an API client that always sends one) does
// not hide a refresh token in the body or cookie; if no source holds a
// refresh token, the first error found is returned.
func (a *Auth[T]) findRefresh(r *http.Request) (*Claims, string, Location, error) {
	var first error
	for _, loc := range refreshSources {
		tok, _, err := a.e.locateIn(r, []Location{loc}, forRefresh)
		if errors.Is(err, ErrInvalidRequest) {
			return nil, "", loc, err // ambiguous (two tokens, two cookies): no guessing
		}
		if err == nil {
			var c *Claims
			if c, err = a.verifyRefresh(r, tok, loc); err == nil {
				return c, tok, loc, nil
			}
			if !errors.Is(err, ErrRefreshRequired) {
				return nil, "", loc, err
			}
		}
		if first == nil && !errors.Is(err, ErrNoToken) {
			first = err
		}
	}
	if first == nil {
		first = newError(ErrNoToken, nil)
	}
	return nil, "", 0, first
}

// verifyRefresh verifies a refresh token found at loc: signature, claims,
// type, CSRF for cookies (on every method), revocation of the token, its
// family and session.
func (a *Auth[T]) verifyRefresh(r *http.Request, tok string, loc Location) (*Claims, error) {
	e := a.e
	c, err := e.check(r.Context(), tok, refreshPolicies)
	if err != nil {
		return nil, err
	}
	if loc == InCookie {
		if err := e.checkCSRFOf(r, c); err != nil {
			return nil, err
		}
	}
	if err := e.revoked(r.Context(), c); err != nil {
		return nil, err
	}
	return c, nil
}

// rotate issues the new pair for c and then spends c (unless rotation is
// off). Everything that can fail — the session lookup, the settings,
// signing — runs before the spend, so that a failure (a 503 from a store)
// leaves the refresh token unspent and the client's retry is not taken for
// reuse; the spend is the last step, and the pair is returned only if it
// was the first.
func (a *Auth[T]) rotate(ctx context.Context, c *Claims, jkt string) (*TokenPair, error) {
	e := a.e
	cfg := &e.cfg
	s, err := a.settings(c.Subject, []TokenOption{renewal(c)})
	if err != nil {
		return nil, err
	}
	s.jkt = jkt // the key the request proved (checkBinding: the token's own, if bound)
	s.fam = familyOf(c)
	sessionEnd, err := e.sessionEnd(ctx, c)
	if err != nil {
		return nil, err
	}
	// The login ends with its refresh token and its session, whichever is
	// first; no token renewed from it outlives that.
	loginEnd := earliest(c.ExpiresAt, sessionEnd)
	s.exp = e.renewedAccessEnd(loginEnd)
	access, ac, err := a.issue(Access, c.Subject, s)
	if err != nil {
		return nil, err
	}
	pair := &TokenPair{
		AccessToken: access,
		TokenType:   e.tokenType(jkt),
		ExpiresIn:   int64(ac.ExpiresAt.Sub(ac.IssuedAt) / time.Second),
	}
	if cfg.noRotation {
		return pair, nil // the refresh token stays the client's
	}
	// The login's absolute lifetime, within the family bound (a token
	// minted elsewhere may claim more).
	s.exp = earliest(loginEnd, cfg.now().Add(e.familyLifetime()))
	if pair.RefreshToken, _, err = a.issue(Refresh, c.Subject, s); err != nil {
		return nil, err
	}
	if err := e.spend(ctx, c); err != nil {
		return nil, err
	}
	return pair, nil
}

// spend uses refresh token c once. A second use answers ErrRefreshReused;
// past the grace window it revokes c's whole family, because reuse means
// the token was copied.
func (e *engine) spend(ctx context.Context, c *Claims) error {
	cfg := &e.cfg
	first, spentAt, err := cfg.refresh.Spend(ctx, tokenKey(c.ID), c.ExpiresAt.Add(cfg.leeway))
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("refresh store: %w", err))
	}
	if first {
		return nil
	}
	if cfg.reuseGrace == 0 || cfg.now().Sub(spentAt) > cfg.reuseGrace {
		fam := familyOf(c)
		if err := e.revokeFamily(ctx, fam); err != nil {
			return err
		}
		return newError(ErrRefreshReused, errFamilyRevoked)
	}
	return newError(ErrRefreshReused, nil)
}

// earliest returns the earlier of two ends, a zero one meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// renewedAccessEnd is the one rule for the expiry of an access token
// renewed now (refresh, implicit refresh): the access TTL from now, never
// past end, the end of the login or session it belongs to (zero: none).
func (e *engine) renewedAccessEnd(end time.Time) time.Time {
	return earliest(e.cfg.now().Add(e.cfg.accessTTL), end)
}

// postOnly serves h, an endpoint of a configured Auth, for POST requests;
// it answers every other method 405 with Allow: POST and the JSON error
// body, and everything 500 for a nil Auth.
func (a *Auth[T]) postOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.configured(); err != nil {
			a.WriteError(w, r, err)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			a.WriteError(w, r, newError(ErrMethodNotAllowed, nil))
			return
		}
		h(w, r)
	})
}
