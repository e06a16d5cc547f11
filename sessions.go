package authx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// SessionInfo describes one login session: a device or browser where a
// subject logged in. Tokens name their session in the sid claim (see
// [Session]); revoking the session makes every one of them fail at once.
type SessionInfo struct {
	ID         string            `json:"id"`
	Subject    string            `json:"subject"`
	CreatedAt  time.Time         `json:"created_at"`
	LastActive time.Time         `json:"last_active"`
	ExpiresAt  time.Time         `json:"expires_at"`
	IP         string            `json:"ip,omitempty"`
	UserAgent  string            `json:"user_agent,omitempty"`
	Device     map[string]string `json:"device,omitempty"`
	Active     bool              `json:"active"`
}

// SessionStore keeps sessions. Implementations must be safe for concurrent
// use, forget a session after its ExpiresAt, and index sessions by subject.
// [NewMemorySessionStore] is the default; redisstore shares one across
// replicas. The conformance suite in authx/storetest checks an
// implementation.
type SessionStore interface {
	// Create stores a new, active session.
	Create(ctx context.Context, s SessionInfo) error
	// Get returns the session with id and whether it exists. A revoked
	// session is returned with Active false until it expires.
	Get(ctx context.Context, id string) (SessionInfo, bool, error)
	// List returns the subject's active sessions, newest first.
	List(ctx context.Context, subject string) ([]SessionInfo, error)
	// Touch records activity in the session at t.
	Touch(ctx context.Context, id string, t time.Time) error
	// Revoke marks the session inactive. Revoking an unknown or revoked
	// session is not an error.
	Revoke(ctx context.Context, id string) error
	// RevokeAll marks every active session of subject inactive and returns
	// their ids.
	RevokeAll(ctx context.Context, subject string) ([]string, error)
}

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
	return s, nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
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
	return e.endSessions(ctx, []string{id}, until, func() error { return e.sessions.Revoke(ctx, id) })
}

// RevokeAllSessions ends every session of sub ("log out everywhere").
func (a *Auth[T]) RevokeAllSessions(ctx context.Context, sub string) error {
	if err := a.configured(); err != nil {
		return err
	}
	e := a.e
	until := e.revocationEnd()
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
	if err := e.endSessions(ctx, ids, until, nil); err != nil {
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
	return e.endSessions(ctx, late, until, nil)
}

// endSessions puts the sessions on the blocklist (which every guard asks)
// and then runs mark, the store's own bookkeeping.
func (e *engine) endSessions(ctx context.Context, ids []string, until time.Time, mark func() error) error {
	for _, id := range ids {
		if err := e.blocklist.Revoke(ctx, sessionPrefix+id, until); err != nil {
			return newError(ErrUnavailable, fmt.Errorf("blocklist: %w", err))
		}
	}
	if mark != nil {
		if err := mark(); err != nil {
			return newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
		}
	}
	return nil
}

// sessionKey names one (session, subject) pair checked by a replica.
type sessionKey struct{ id, sub string }

// checkedSessions remembers, per replica, which (session, subject) pairs
// were found live in the session store recently, and whether their
// activity was recorded since, so that a guarded request asks the store at
// most once per [WithSessionTouchInterval] per session.
type checkedSessions struct {
	mu        sync.RWMutex
	m         map[sessionKey]checkedSession
	nextSweep int
}

type checkedSession struct {
	until   time.Time
	touched bool
}

func newCheckedSessions() *checkedSessions {
	return &checkedSessions{m: make(map[sessionKey]checkedSession), nextSweep: 64}
}

// get returns k's live entry, if any.
func (s *checkedSessions) get(k sessionKey, now time.Time) (checkedSession, bool) {
	s.mu.RLock()
	c, ok := s.m[k]
	s.mu.RUnlock()
	return c, ok && c.until.After(now)
}

func (s *checkedSessions) put(k sessionKey, c checkedSession, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = c
	if len(s.m) >= s.nextSweep {
		for k, c := range s.m {
			if !c.until.After(now) {
				delete(s.m, k)
			}
		}
		s.nextSweep = max(64, 2*len(s.m))
	}
}

var (
	errSessionUnknown = errors.New("the token's session is unknown to the session store (expired, lost or never started)")
	errSessionEnded   = errors.New("the token's session has ended")
	errSessionForeign = errors.New("the token's session belongs to another subject")
)

// session looks up c's session: a token naming a session is valid only
// while the store knows that session as active and as the token's
// subject's. An unknown session is an ended one (it expired out of the
// store, was lost, or never existed), so that no token outlives "log out
// everywhere" by naming a session the store cannot list.
func (e *engine) session(ctx context.Context, sid, sub string) (SessionInfo, error) {
	s, ok, err := e.sessions.Get(ctx, sid)
	switch {
	case err != nil:
		return SessionInfo{}, newError(ErrUnavailable, fmt.Errorf("session store: %w", err))
	case !ok:
		return SessionInfo{}, newError(ErrRevoked, errSessionUnknown)
	case s.Subject != sub:
		return SessionInfo{}, newError(ErrRevoked, errSessionForeign)
	case !s.Active:
		return SessionInfo{}, newError(ErrRevoked, errSessionEnded)
	}
	return s, nil
}

// tokenSession is session for a presented token: a session the store does
// not know is ended for good — its id goes on the blocklist, so that every
// replica refuses the login's tokens on the next request, whatever it
// remembers — and the error says so.
func (e *engine) tokenSession(ctx context.Context, c *Claims) (SessionInfo, error) {
	s, err := e.session(ctx, c.SessionID, c.Subject)
	if errors.Is(err, errSessionUnknown) {
		if berr := e.blocklist.Revoke(ctx, sessionPrefix+c.SessionID, e.revocationEnd()); berr != nil {
			return SessionInfo{}, newError(ErrUnavailable, fmt.Errorf("blocklist: %w", berr))
		}
	}
	return s, err
}

// revocationEnd is when a revocation of a session or refresh family may
// lapse: once every token of it has expired (they never outlive the longer
// TTL), plus the leeway.
func (e *engine) revocationEnd() time.Time {
	return e.cfg.now().Add(e.familyLifetime() + e.cfg.leeway)
}

// checkSession admits c only if its session (if it names one) is live and
// its subject's, asking the store at most once per
// [WithSessionTouchInterval] per session and replica. A store that cannot
// answer denies (503). Revocation itself needs no lookup: the blocklist,
// asked on every request, ends a session's tokens at once. It reports
// whether the session's activity is due to be recorded ([engine.touch]),
// which the caller does once the request is admitted.
func (e *engine) checkSession(ctx context.Context, c *Claims) (touch bool, err error) {
	if c.SessionID == "" {
		return false, nil
	}
	k := sessionKey{c.SessionID, c.Subject}
	now := e.cfg.now()
	if seen, ok := e.checked.get(k, now); ok {
		return !seen.touched, nil
	}
	if _, err := e.tokenSession(ctx, c); err != nil {
		return false, err
	}
	e.checked.put(k, checkedSession{until: now.Add(e.cfg.touchEvery)}, now)
	return true, nil
}

// touch records activity in c's session, once per check interval; a
// failure is logged, never fatal.
func (e *engine) touch(ctx context.Context, c *Claims) {
	k := sessionKey{c.SessionID, c.Subject}
	now := e.cfg.now()
	seen, ok := e.checked.get(k, now)
	if !ok || seen.touched {
		return
	}
	seen.touched = true
	e.checked.put(k, seen, now)
	if err := e.sessions.Touch(ctx, c.SessionID, now.UTC()); err != nil && !errors.Is(err, context.Canceled) {
		e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "authx: session touch failed", slog.String("error", bound(err.Error(), maxLogError)))
	}
}
