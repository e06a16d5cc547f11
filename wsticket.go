package authx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

var errTicketReused = errors.New("WebSocket ticket already used")

// TicketHandler returns an endpoint (POST; other methods get 405) that
// trades a valid access token (from the configured locations, with the CSRF
// checks for cookies) for a WebSocket ticket: {"ticket": "…", "expires_in":
// seconds}. A ticket is a signed token valid for [WithTicketTTL] (30 s by
// default) and never past the access token's own expiry, bound to the
// access token's subject, scopes, custom data, session and family, and
// usable once, in the "ticket" query parameter of a handshake — so
// long-lived tokens never appear in URLs and access logs. The connection it
// opens lives, and is revoked, with the access token it was traded for.
// Tickets are spent in the [RefreshStore]: several replicas need a shared
// one (redisstore) for "once" to hold across them.
func (a *Auth[T]) TicketHandler() http.Handler {
	issue := a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ClaimsFrom(r.Context())
		tok, ttl, err := a.issueTicket(c)
		if err != nil {
			a.WriteError(w, r, classify(err, ErrMisconfigured))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		noStore(w.Header())
		_ = json.NewEncoder(w).Encode(map[string]any{"ticket": tok, "expires_in": int64(ttl / time.Second)})
	})
	// A cookie-borne GET needs no CSRF header; tickets are POST only.
	return a.postOnly(issue.ServeHTTP)
}

func (a *Auth[T]) issueTicket(c *Claims) (string, time.Duration, error) {
	s, err := a.settings(c.Subject, []TokenOption{renewal(c)})
	if err != nil {
		return "", 0, err
	}
	now := a.e.cfg.now().Truncate(time.Second)
	ttl := min(a.e.cfg.ticketTTL, c.ExpiresAt.Sub(now))
	if ttl < time.Second {
		return "", 0, newError(ErrExpired, errors.New("the access token expires too soon for a ticket"))
	}
	s.ttl = ttl
	s.fresh = c.Fresh
	s.ticketFor = c
	s.iat, s.nbf = c.IssuedAt, c.NotBefore // a ticket does not make a token younger
	tok, _, err := a.issue(ticketType, c.Subject, s)
	return tok, ttl, err
}

// readTicket verifies a ticket and returns the claims of the access token
// it stands for, and its own id for spending.
func (e *engine) readTicket(tok string) (*Claims, string, error) {
	if len(tok) > e.cfg.maxToken {
		return nil, "", newError(ErrTokenTooLarge, nil)
	}
	c, err := e.keys.parseNew(tok, e.cfg.maxScopes)
	if err != nil {
		return nil, "", err
	}
	t := c.ticket
	if c.Type != ticketType || t == nil || t.JTI == "" || t.Exp.IsZero() {
		return nil, "", newError(ErrMalformed, errors.New("not a WebSocket ticket"))
	}
	// The ticket's own window (exp), without the iat check: a ticket
	// carries the access token's iat.
	now, lee := e.cfg.now(), e.cfg.leeway
	if !now.Before(c.ExpiresAt.Add(lee)) || !now.Before(t.Exp.Add(lee)) {
		return nil, "", newError(ErrExpired, nil)
	}
	if err := e.validateParties(c); err != nil {
		return nil, "", err
	}
	access := c.Clone()
	access.Type = Access
	access.ID = t.JTI
	access.ExpiresAt = t.Exp
	access.ticket = nil
	return access, c.ID, nil
}

// spendTicket uses a ticket once, atomically, in the refresh store.
func (e *engine) spendTicket(ctx context.Context, id string) error {
	first, _, err := e.cfg.refresh.Spend(ctx, ticketPrefix+id, e.cfg.now().Add(e.cfg.ticketTTL+e.cfg.leeway))
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("refresh store: %w", err))
	}
	if !first {
		return newError(ErrRevoked, errTicketReused)
	}
	return nil
}
