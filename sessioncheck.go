package authx

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
		e.emit(ctx, nil, Event{Kind: EventStoreFailure, Err: newError(ErrUnavailable, fmt.Errorf("session store: touch failed: %w", err))}, c)
	}
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
