package authx

import (
	"errors"
	"net/http"
)

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
// cannot record the revocation answers 503. A token bound to a key
// ([BoundToKey]) is revoked without a proof of it, as a revocation
// endpoint (RFC 7009) revokes whatever token it is sent: ending a token
// gives its sender nothing.
func (a *Auth[T]) LogoutHandler() http.Handler {
	return a.postOnly(func(w http.ResponseWriter, r *http.Request) {
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
			c, err := e.keys.parseNew(tok, e.cfg.maxScopes)
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
				if err := e.endSessions(r.Context(), c.Subject, []string{sid}, until, func() error { return e.sessions.Revoke(r.Context(), sid) }); err != nil {
					failed = asError(err)
				}
			}
		}
		a.UnsetCookies(w)
		if failed != nil {
			e.deny(w, r, failed)
			return
		}
		if len(found) > 0 {
			e.emit(r.Context(), r, Event{Kind: EventLogout}, found[0])
		}
		noStore(w.Header())
		w.WriteHeader(http.StatusNoContent)
	})
}
