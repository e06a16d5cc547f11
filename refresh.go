package authx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authx-go/authx/internal/b64"
	"github.com/authx-go/authx/internal/jsonscan"
)

// refreshPolicies is the policy set of the refresh endpoint.
var refreshPolicies = func() policySet {
	ps := newPolicySet([]Policy{Refresh})
	ps.requireRefresh = true
	return ps
}()

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
	return a.e.revokeFamily(ctx, familyID)
}

func (e *engine) revokeFamily(ctx context.Context, familyID string) error {
	until := e.revocationEnd()
	if err := e.blocklist.Revoke(ctx, familyPrefix+familyID, until); err != nil {
		return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
	}
	return nil
}

// familyLifetime bounds the life of any token of a refresh family.
func (e *engine) familyLifetime() time.Duration {
	return max(e.cfg.refreshTTL, e.cfg.accessTTL)
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
		if err := a.configured(); err != nil {
			a.WriteError(w, r, err)
			return
		}
		e := a.e
		c, loc, err := a.findRefresh(r)
		if err != nil {
			e.deny(w, r, asError(err))
			return
		}
		pair, err := a.rotate(r.Context(), c)
		if err != nil {
			e.deny(w, r, asError(err))
			return
		}
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
func (a *Auth[T]) findRefresh(r *http.Request) (*Claims, Location, error) {
	var first error
	for _, loc := range refreshSources {
		tok, _, err := a.e.locateIn(r, []Location{loc}, forRefresh)
		if errors.Is(err, ErrInvalidRequest) {
			return nil, loc, err // ambiguous (two tokens, two cookies): no guessing
		}
		if err == nil {
			var c *Claims
			if c, err = a.verifyRefresh(r, tok, loc); err == nil {
				return c, loc, nil
			}
			if !errors.Is(err, ErrRefreshRequired) {
				return nil, loc, err
			}
		}
		if first == nil && !errors.Is(err, ErrNoToken) {
			first = err
		}
	}
	if first == nil {
		first = newError(ErrNoToken, nil)
	}
	return nil, 0, first
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
func (a *Auth[T]) rotate(ctx context.Context, c *Claims) (*TokenPair, error) {
	e := a.e
	cfg := &e.cfg
	s, err := a.settings(c.Subject, []TokenOption{renewal(c)})
	if err != nil {
		return nil, err
	}
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
		TokenType:   "bearer",
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
	first, spentAt, err := cfg.refresh.Spend(ctx, spendKey(c.ID), c.ExpiresAt.Add(cfg.leeway))
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
		cfg.logger.LogAttrs(ctx, slog.LevelWarn, "authx: refresh token reused; family revoked",
			slog.String("sub", bound(c.Subject, maxLogPath)), slog.String("family", bound(fam, maxLogPath)))
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

// sessionEnd returns when c's session ends (zero for a token without a
// session), or an error when the session is unknown, ended or someone
// else's, or the store cannot answer (see [engine.session]): a renewal
// never outlives the session it belongs to.
func (e *engine) sessionEnd(ctx context.Context, c *Claims) (time.Time, error) {
	if c.SessionID == "" {
		return time.Time{}, nil
	}
	sess, err := e.tokenSession(ctx, c)
	if err != nil {
		return time.Time{}, err
	}
	return sess.ExpiresAt, nil
}

// peekExpiry reads a token's exp without verifying anything, within the
// bounds decodeClaims applies (dateOf).
func peekExpiry(tok string) (time.Time, bool) {
	d1 := strings.IndexByte(tok, '.')
	d2 := strings.LastIndexByte(tok, '.')
	if d1 < 0 || d2 <= d1 {
		return time.Time{}, false
	}
	// Payloads up to 1 KiB decode on the stack; larger ones (a token with
	// custom data) on the heap, which costs far less than the signature
	// check a failed peek would lead to. Callers bound tok's size.
	var stack [1024]byte
	seg := tok[d1+1 : d2]
	buf := stack[:]
	if n := b64.DecodedLen(len(seg)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := b64.Decode(buf, seg)
	if err != nil {
		return time.Time{}, false
	}
	sc := jsonscan.New(buf[:n])
	if sc.Begin() != nil {
		return time.Time{}, false
	}
	for {
		k, done, err := sc.Next()
		if err != nil || done {
			return time.Time{}, false
		}
		if string(k) == claimExp {
			f, err := sc.Number()
			if err != nil {
				return time.Time{}, false
			}
			return dateOf(f)
		}
		if _, err := sc.Skip(); err != nil {
			return time.Time{}, false
		}
	}
}

// familyOf returns c's refresh family. A refresh token minted without one
// (by Python AuthX) founds a family named by its own id, so that reusing it
// after a rotation still revokes what descended from it.
func familyOf(c *Claims) string {
	if c.FamilyID != "" {
		return c.FamilyID
	}
	return c.ID
}

// ImplicitRefreshConfig configures [Auth.ImplicitRefresh]. Path rules match
// the URL path exactly; method rules match methods exactly. A request is
// refreshed when it is not excluded by path or method, and, where include
// lists are given, is included by them.
type ImplicitRefreshConfig struct {
	// Delta: refresh when the access token expires within it. Default 10
	// minutes, as Python AuthX, or half the access TTL when the TTL is 10
	// minutes or less; it must be shorter than the access TTL.
	Delta time.Duration
	// IncludePaths, if non-empty, limits refreshing to these paths.
	IncludePaths []string
	// ExcludePaths are never refreshed.
	ExcludePaths []string
	// IncludeMethods, if non-empty, limits refreshing to these methods.
	IncludeMethods []string
	// ExcludeMethods are never refreshed.
	ExcludeMethods []string
}

func (ic ImplicitRefreshConfig) applies(r *http.Request) bool {
	path := r.URL.Path
	switch {
	case slices.Contains(ic.ExcludePaths, path):
		return false
	case len(ic.IncludePaths) > 0 && !slices.Contains(ic.IncludePaths, path):
		return false
	case slices.Contains(ic.ExcludeMethods, r.Method):
		return false
	case len(ic.IncludeMethods) > 0 && !slices.Contains(ic.IncludeMethods, r.Method):
		return false
	}
	return true
}

// ImplicitRefresh returns middleware that keeps cookie sessions alive: when
// a request carries a valid access-token cookie that expires within Delta,
// the response gets a new access cookie (and CSRF cookie) — but only if
// the response is not a refusal: the cookies are added when the handler
// (the guard behind this middleware included) writes a status below 400,
// and dropped otherwise, so a request the guard denies (401, 403) never
// receives fresh tokens. Such a response is marked Cache-Control: no-store.
// The new token is not fresh and keeps the scopes, custom data, audience,
// session and family of the old one, and never outlives its session.
// Revoked tokens, tokens of an unknown, ended or foreign session, tokens
// failing the CSRF checks, and tokens from anywhere but the cookie are
// never refreshed; failures leave the request untouched (the guard
// decides).
//
// Delta must be shorter than the access TTL (else every request would
// renew): a longer one is a mistake in the program, and ImplicitRefresh
// panics with a message saying so, at start-up, as [http.ServeMux.Handle]
// does for a bad pattern. The default is 10 minutes, or half the access
// TTL when that is 10 minutes or less.
func (a *Auth[T]) ImplicitRefresh(ic ImplicitRefreshConfig) func(http.Handler) http.Handler {
	if a.configured() == nil {
		ttl := a.e.cfg.accessTTL
		switch {
		case ic.Delta == 0 && ttl > 10*time.Minute:
			ic.Delta = 10 * time.Minute
		case ic.Delta == 0:
			ic.Delta = ttl / 2
		case ic.Delta < 0 || ic.Delta >= ttl:
			panic(fmt.Sprintf("authx: ImplicitRefreshConfig.Delta %v must be positive and shorter than the access TTL %v (WithAccessTTL), or every request would renew its token", ic.Delta, ttl))
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a.configured() != nil || !ic.applies(r) {
				next.ServeHTTP(w, r)
				return
			}
			tok := a.renewCookie(r, ic.Delta)
			if tok == "" {
				next.ServeHTTP(w, r)
				return
			}
			rw := &renewingWriter{ResponseWriter: w, set: func() {
				if err := a.SetAccessCookies(w, tok); err != nil {
					a.e.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "authx: implicit refresh could not set cookies",
						slog.String("error", bound(err.Error(), maxLogError)))
				}
			}}
			next.ServeHTTP(rw, r)
			rw.decide(http.StatusOK) // a handler that wrote nothing answers 200
		})
	}
}

// renewingWriter adds renewed token cookies to a response when its status
// is known, and only to a response that is not a refusal.
type renewingWriter struct {
	http.ResponseWriter
	set     func()
	decided bool
}

func (w *renewingWriter) decide(status int) {
	if w.decided {
		return
	}
	w.decided = true
	if status < http.StatusBadRequest {
		w.set()
	}
}

func (w *renewingWriter) WriteHeader(status int) {
	if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(status) // informational: not yet decided
		return
	}
	w.decide(status)
	w.ResponseWriter.WriteHeader(status)
}

func (w *renewingWriter) Write(b []byte) (int, error) {
	w.decide(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Flush sends the headers (deciding as for 200) and flushes.
func (w *renewingWriter) Flush() {
	w.decide(http.StatusOK)
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives [http.ResponseController] (and websocket.Accept) the
// underlying writer.
func (w *renewingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// renewCookie returns a renewed access token for r's access cookie when one
// is due, or "".
func (a *Auth[T]) renewCookie(r *http.Request, delta time.Duration) string {
	e := a.e
	val, err := e.fromCookie(r, Access)
	if err != nil || val == "" || len(val) > e.cfg.maxToken {
		return "" // an ambiguous pair of cookies: the guard answers 400
	}
	// Most requests are not due: read exp without verifying first, so the
	// signature (and the guard's own verification) is not paid twice. An
	// unverified exp can only make this skip a renewal.
	if exp, ok := peekExpiry(val); ok && exp.Sub(e.cfg.now()) >= delta {
		return ""
	}
	ctx := r.Context()
	c, err := e.check(ctx, val, newPolicySet(nil))
	if err != nil || c.ExpiresAt.Sub(e.cfg.now()) >= delta {
		return ""
	}
	if e.checkCSRF(r, c) != nil || e.revoked(ctx, c) != nil {
		return ""
	}
	s, err := a.settings(c.Subject, []TokenOption{renewal(c)})
	if err != nil {
		return ""
	}
	// A session bounds its tokens: an unknown, ended, foreign or unreadable
	// session is not renewed, and a renewal never outlives it (else "log
	// out everywhere" would miss an active browser).
	sessionEnd, err := e.sessionEnd(ctx, c)
	if err != nil {
		return ""
	}
	if s.exp = e.renewedAccessEnd(sessionEnd); !s.exp.After(e.cfg.now().Add(time.Second)) {
		return "" // the session ends now: nothing worth renewing
	}
	tok, _, err := a.issue(Access, c.Subject, s)
	if err != nil {
		return ""
	}
	return tok
}

// postOnly serves h for POST requests and answers every other method 405
// with Allow: POST and the JSON error body.
func (a *Auth[T]) postOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			a.WriteError(w, r, newError(ErrMethodNotAllowed, nil))
			return
		}
		h(w, r)
	})
}

// ownsSession reports whether c's session may be ended on c's word: the
// store knows it as c's subject's, or does not know it at all (nothing of
// anyone else's is ended then). A token naming another subject's session
// ends nothing of it.
func (e *engine) ownsSession(ctx context.Context, c *Claims) (bool, error) {
	s, ok, err := e.sessions.Get(ctx, c.SessionID)
	if err != nil {
		return false, newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	}
	return !ok || s.Subject == c.Subject, nil
}

// LogoutHandler returns a handler (POST; other methods get 405) that logs
// the caller out: it revokes the
// presented access token, its refresh family and its session (so every
// token of that login stops working on every guard, and the session leaves
// [Auth.Sessions]), revokes a presented refresh token too, clears the four
// cookies and answers 204. An expired token still
// ends its family: its signature, type, issuer and audience are checked, not
// its expiry. A request with no valid token is still answered 204 with
// cleared cookies (logging out twice is not an error). Cookie-borne tokens
// need the CSRF checks on every method (a cross-site link must not log
// anyone out); the header may carry either token's csrf value. A store that
// cannot record the revocation answers 503.
func (a *Auth[T]) LogoutHandler() http.Handler {
	return a.postOnly(func(w http.ResponseWriter, r *http.Request) {
		if err := a.configured(); err != nil {
			a.WriteError(w, r, err)
			return
		}
		e := a.e
		var found, fromCookie []*Claims
		// The access token where guards look for it; a refresh token in each
		// place the refresh endpoint reads (the header too), one place at a
		// time so that one token does not hide another.
		type source struct {
			locs []Location
			want TokenType
		}
		sources := []source{{e.cfg.locations, Access}}
		for i := range refreshSources {
			sources = append(sources, source{refreshSources[i : i+1], Refresh})
		}
		seen := map[string]bool{}
		for _, src := range sources {
			tok, loc, err := e.locateIn(r, src.locs, kindsOf(src.want))
			if errors.Is(err, ErrInvalidRequest) {
				// Ambiguous (two tokens, two cookies of one name): end
				// nothing on a guess; the refusal deletes the cookies.
				e.deny(w, r, asError(err))
				return
			}
			if err != nil || seen[tok] {
				continue
			}
			c, err := e.keys.parse(tok, e.cfg.maxScopes)
			if err != nil || c.Type != src.want || e.validateParties(c) != nil {
				continue
			}
			seen[tok] = true
			found = append(found, c)
			if loc == InCookie {
				fromCookie = append(fromCookie, c)
			}
		}
		if err := e.checkCSRFOf(r, fromCookie...); err != nil {
			e.deny(w, r, asError(err))
			return
		}
		var failed *Error
		ended := map[string]bool{}
		for _, c := range found {
			if err := a.Revoke(r.Context(), c); err != nil {
				failed = asError(err)
			}
			if err := e.revokeFamily(r.Context(), familyOf(c)); err != nil {
				failed = asError(err)
			}
			if sid := c.SessionID; sid != "" && !ended[sid] {
				ended[sid] = true
				if owns, err := e.ownsSession(r.Context(), c); err != nil || !owns {
					if err != nil {
						failed = asError(err)
					}
					continue
				}
				until := e.revocationEnd()
				if err := e.endSessions(r.Context(), []string{sid}, until, func() error { return e.sessions.Revoke(r.Context(), sid) }); err != nil {
					failed = asError(err)
				}
			}
		}
		a.UnsetCookies(w)
		if failed != nil {
			e.deny(w, r, failed)
			return
		}
		noStore(w.Header())
		w.WriteHeader(http.StatusNoContent)
	})
}
