package authx

import (
	"context"
	"fmt"
	"time"
)

// revoked consults the blocklist for the token, its refresh family and its
// session, failing closed.
func (e *engine) revoked(ctx context.Context, c *Claims) error {
	// The ids live in c's scratch array: c is on the heap already, so the
	// variadic call allocates nothing.
	ids := c.revIDs[:0]
	if c.ID != "" { // another issuer's token may have no jti
		ids = append(ids, c.tokenKey())
	}
	if c.FamilyID != "" {
		ids = append(ids, familyPrefix+c.FamilyID)
	}
	if c.SessionID != "" {
		ids = append(ids, sessionPrefix+c.SessionID)
	}
	bad, err := e.blocklist.IsTokenRevoked(ctx, TokenCheck{IDs: ids, Subject: c.revocationSubject(), IssuedAt: c.IssuedAt})
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
	}
	if bad {
		return newError(ErrRevoked, nil)
	}
	return nil
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

// familyOf returns c's refresh family. A refresh token minted without one
// (by Python AuthX) founds a family named by its own id, so that reusing it
// after a rotation still revokes what descended from it.
func familyOf(c *Claims) string {
	if c.FamilyID != "" {
		return c.FamilyID
	}
	return c.ID
}

// endSessions puts sub's sessions on the blocklist (which every guard
// asks), emitting [EventSessionEnd] for each, and then runs mark, the
// store's own bookkeeping.
func (e *engine) endSessions(ctx context.Context, sub string, ids []string, until time.Time, mark func() error) error {
	for _, id := range ids {
		if err := e.blocklist.Revoke(ctx, sessionPrefix+id, until); err != nil {
			return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
		}
		e.emit(ctx, nil, Event{Kind: EventSessionEnd, Subject: bound(sub, maxLogID), SessionID: bound(id, maxLogID)}, nil)
	}
	if mark != nil {
		if err := mark(); err != nil {
			return newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
		}
	}
	return nil
}

// revocationEnd is when a revocation of a session or refresh family may
// lapse: once every token of it has expired (they never outlive the longer
// TTL), plus the leeway.
func (e *engine) revocationEnd() time.Time {
	return e.cfg.now().Add(e.familyLifetime() + e.cfg.leeway)
}
