package authx

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
)

// Bounds on session data taken from requests.
const (
	maxUserAgent   = 512
	maxDeviceItems = 16
	maxDeviceBytes = 256 // per key or value
)

// StartSession records a new session for sub, with the client's IP (see
// [WithTrustedProxies]) and User-Agent from r, and device details (bounded:
// 16 entries of 256 bytes). It lives as long as a login (the refresh TTL).
// Issue the login's tokens with [Session](info.ID) so they carry it.
func (a *Auth[T]) StartSession(ctx context.Context, r *http.Request, sub string, device map[string]string) (SessionInfo, error) {
	if err := a.configured(); err != nil {
		return SessionInfo{}, err
	}
	if sub == "" || len(sub) > maxClaimString {
		return SessionInfo{}, fmt.Errorf("%w: subject must be 1 to %d bytes", ErrTokenOption, maxClaimString)
	}
	id, err := randomID()
	if err != nil {
		return SessionInfo{}, err
	}
	now := a.e.cfg.now().UTC()
	s := SessionInfo{
		ID:         id,
		Subject:    sub,
		CreatedAt:  now,
		LastActive: now,
		ExpiresAt:  now.Add(a.e.familyLifetime() + a.e.cfg.leeway),
		Active:     true,
	}
	if r != nil {
		s.IP = a.ClientIP(r)
		s.UserAgent = truncate(r.UserAgent(), maxUserAgent)
	}
	if len(device) > 0 {
		s.Device = make(map[string]string, min(len(device), maxDeviceItems))
		for _, k := range slices.Sorted(maps.Keys(device)) {
			if len(s.Device) == maxDeviceItems {
				break
			}
			s.Device[truncate(k, maxDeviceBytes)] = truncate(device[k], maxDeviceBytes)
		}
	}
	if err := a.e.sessions.Create(ctx, s); err != nil {
		return SessionInfo{}, newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	}
	a.e.emit(ctx, r, Event{Kind: EventSessionStart, Subject: bound(sub, maxLogID), SessionID: id}, nil)
	return s, nil
}

// Sessions returns sub's active sessions, newest first.
func (a *Auth[T]) Sessions(ctx context.Context, sub string) ([]SessionInfo, error) {
	if err := a.configured(); err != nil {
		return nil, err
	}
	ss, err := a.e.sessions.List(ctx, sub)
	if err != nil {
		return nil, newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	}
	return ss, nil
}

// Session returns sub's session id (active or ended, until it expires). A
// session of another subject, or none, is [ErrSessionNotFound] (404), as
// for [Auth.RevokeSession]; a store that cannot answer is [ErrUnavailable].
func (a *Auth[T]) Session(ctx context.Context, sub, id string) (SessionInfo, error) {
	if err := a.configured(); err != nil {
		return SessionInfo{}, err
	}
	if id == "" || len(id) > maxClaimString {
		return SessionInfo{}, newError(ErrSessionNotFound, nil)
	}
	s, ok, err := a.e.sessions.Get(ctx, id)
	if err != nil {
		return SessionInfo{}, newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	}
	if !ok || s.Subject != sub {
		return SessionInfo{}, newError(ErrSessionNotFound, nil)
	}
	return s, nil
}

// RevokeSession ends session id of subject sub: every token carrying its
// sid fails on the next request, on every replica sharing the stores. A
// session of another subject, or none, is [ErrSessionNotFound] — a caller
// cannot end someone else's session by guessing its id.
func (a *Auth[T]) RevokeSession(ctx context.Context, sub, id string) error {
	if err := a.configured(); err != nil {
		return err
	}
	e := a.e
	if id == "" || len(id) > maxClaimString {
		return newError(ErrSessionNotFound, nil)
	}
	s, ok, err := e.sessions.Get(ctx, id)
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	}
	if !ok || s.Subject != sub {
		return newError(ErrSessionNotFound, nil)
	}
	// Tokens of the session may outlive its record (an access token minted
	// by a late refresh): block it for as long as any token may live.
	until := s.ExpiresAt
	if limit := e.revocationEnd(); limit.After(until) {
		until = limit
	}
	return e.endSessions(ctx, sub, []string{id}, until, func() error { return e.sessions.Revoke(ctx, id) })
}

// RevokeAllSessions ends every session of sub ("log out everywhere"): every
// token sub was issued before this second fails on the next request — of
// listed sessions, of sessions the store no longer knows, and of none —
// when the Blocklist is a [SubjectBlocklist] (the memory and Redis stores
// are); otherwise the sessions the store lists end. Logging in again works
// at once.
func (a *Auth[T]) RevokeAllSessions(ctx context.Context, sub string) error {
	if err := a.configured(); err != nil {
		return err
	}
	e := a.e
	until := e.revocationEnd()
	// Every token sub holds now ends, whatever the session store still
	// lists (a store that lost a session cannot list it); then the listed
	// sessions are ended by id, which also covers a Blocklist that cannot
	// revoke by subject.
	if err := e.blocklist.RevokeSubject(ctx, sub, e.cfg.now(), until); err != nil {
		return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
	}
	e.emit(ctx, nil, Event{Kind: EventRevoke, Subject: bound(sub, maxLogID)}, nil)
	// Blocklist first, then mark the store: if the blocklist fails, the
	// sessions stay active in the store and a retry finds them again.
	active, err := e.sessions.List(ctx, sub)
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	}
	listed := make(map[string]bool, len(active))
	ids := make([]string, 0, len(active))
	for _, s := range active {
		listed[s.ID] = true
		ids = append(ids, s.ID)
	}
	if err := e.endSessions(ctx, sub, ids, until, nil); err != nil {
		return err
	}
	revoked, err := e.sessions.RevokeAll(ctx, sub)
	if err != nil {
		return newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	}
	var late []string // sessions created between List and RevokeAll
	for _, id := range revoked {
		if !listed[id] {
			late = append(late, id)
		}
	}
	return e.endSessions(ctx, sub, late, until, nil)
}
