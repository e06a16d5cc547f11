package authx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// EventKind says what an [Event] reports.
type EventKind uint8

// The kinds of events. Each names where it is emitted; the default log
// level of its record (see [Event]) is in brackets.
const (
	// EventIssue: a login — [Auth.CreateTokenPair], [Auth.CreateAccessToken]
	// or [Auth.CreateRefreshToken] issued tokens [Info].
	EventIssue EventKind = iota + 1
	// EventRefresh: [Auth.RefreshHandler] traded a refresh token for a new
	// pair, or [Auth.ImplicitRefresh] renewed an access cookie [Info].
	EventRefresh
	// EventReuseDetected: a spent refresh token was presented again past
	// the grace window ([WithRefreshReuseGrace]), and its whole family was
	// revoked [Warn].
	EventReuseDetected
	// EventRevoke: [Auth.Revoke], [Auth.RevokeFamily] or
	// [Auth.RevokeAllSessions] put tokens on the blocklist (so does
	// [Auth.LogoutHandler], for each token it revokes) [Info].
	EventRevoke
	// EventLogout: [Auth.LogoutHandler] logged a caller out [Info].
	EventLogout
	// EventSessionStart: [Auth.StartSession] recorded a session [Info].
	EventSessionStart
	// EventSessionEnd: a session was ended — by [Auth.RevokeSession],
	// [Auth.RevokeAllSessions] (one event per session) or
	// [Auth.LogoutHandler] [Info].
	EventSessionEnd
	// EventDenied: a guard, a handler of authx's or [Auth.WriteError]
	// refused a request, with its code and status [Debug; Error for a 5xx,
	// a guard built wrongly].
	EventDenied
	// EventRateLimited: [Auth.RateLimit] refused a request with 429
	// [Debug, as denials: clients decide how many there are].
	EventRateLimited
	// EventStoreFailure: a store (blocklist, sessions, refresh store, rate
	// limiter, subject getter) could not answer: a request refused with 503,
	// or a session's activity that could not be recorded [Warn].
	EventStoreFailure
	// EventWebSocketClose: a connection accepted by [Guard.Accept] was
	// closed for its token — expired, revoked, revocation unknown, or a
	// failed [Guard.Reauthenticate] [Info].
	EventWebSocketClose
	// EventVerified: a guard admitted a request (or a WebSocket handshake);
	// Duration is how long verifying and admitting took. It is emitted only
	// to [WithEvents] hooks, never logged, and costs nothing without one.
	EventVerified
)

// eventNames are the kinds' names, indexed by kind.
var eventNames = [...]string{
	EventIssue:          "issue",
	EventRefresh:        "refresh",
	EventReuseDetected:  "reuse_detected",
	EventRevoke:         "revoke",
	EventLogout:         "logout",
	EventSessionStart:   "session_start",
	EventSessionEnd:     "session_end",
	EventDenied:         "denied",
	EventRateLimited:    "rate_limited",
	EventStoreFailure:   "store_failure",
	EventWebSocketClose: "websocket_close",
	EventVerified:       "verified",
}

// eventMessages are the messages of the kinds' log records.
var eventMessages = [...]string{
	EventIssue:          "authx: tokens issued",
	EventRefresh:        "authx: tokens refreshed",
	EventReuseDetected:  "authx: refresh token reused; family revoked",
	EventRevoke:         "authx: revoked",
	EventLogout:         "authx: logged out",
	EventSessionStart:   "authx: session started",
	EventSessionEnd:     "authx: session ended",
	EventDenied:         "authx: request denied",
	EventRateLimited:    "authx: request rate limited",
	EventStoreFailure:   "authx: store failure",
	EventWebSocketClose: "authx: closing WebSocket",
	EventVerified:       "authx: request verified",
}

// String returns the kind's name, as metrics and logs carry it:
// "issue", "refresh", "reuse_detected", "revoke", "logout",
// "session_start", "session_end", "denied", "rate_limited",
// "store_failure", "websocket_close" or "verified".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is something that happened to authentication: a login, a refresh,
// a denial, a store failure, … (see [EventKind]). Hand events to telemetry
// with [WithEvents]; without a hook, and besides one, each event but
// [EventVerified] is a record of the [WithLogger] logger, at its kind's
// level, whose message names it and whose attributes are [Event.LogValue]'s.
//
// An Event never holds a token, a key, a secret or a CSRF value. Its
// strings that come from a request or a token are bounded (at most 128
// bytes, 16 for the method), so that a client cannot make records
// large; a field that does not apply is empty.
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// Time is when, by the configured clock ([WithClock]).
	Time time.Time
	// Subject is the token's sub, when a token was verified, or the
	// subject named ([EventSessionStart], [EventSessionEnd], and the
	// [EventRevoke] of [Auth.RevokeAllSessions]).
	Subject string
	// TokenID is the token's jti: the token issued (for a pair, the access
	// token), traded ([EventRefresh]: the refresh token, or the access
	// token an implicit refresh renewed), revoked or verified.
	TokenID string
	// SessionID is the session the token belongs to ([Session]), or the
	// session started or ended.
	SessionID string
	// FamilyID is the token's refresh family: every token of one login.
	FamilyID string
	// TokenType is the token's type: [Access] or [Refresh].
	TokenType TokenType
	// ClientIP is the address of the client, as [Auth.ClientIP] finds it
	// (see [WithTrustedProxies]), when a request is at hand.
	ClientIP string
	// Method and Path are the request's, when a request is at hand.
	Method, Path string
	// Code is the stable code of the error ([Error].Code: "token_expired",
	// "insufficient_scope", "unavailable", "refresh_token_reused", …) for
	// denials, rate limits, store failures and reuse; for
	// [EventWebSocketClose], the close code as text ("1008", or "1013"
	// when a store could not answer).
	Code string
	// Status is the HTTP status written for a refused request
	// ([EventDenied], [EventRateLimited], [EventStoreFailure] of a
	// request); 0 otherwise.
	Status int
	// Duration is, for [EventVerified], how long the guard took to verify
	// the token and admit the request (by the real clock).
	Duration time.Duration
	// Err is the cause, for logs and telemetry only: never send it to a
	// client. For a refusal it is the *[Error] the request was refused
	// with (match it with errors.Is); for a WebSocket close, why (matching
	// [ErrExpired], [ErrRevoked], [ErrUnavailable], …). Its text may be
	// long and may quote the request: bound it before recording it (the
	// default record keeps 256 bytes).
	Err error
}

// maxLogID bounds the subject, ids and client IP an event carries.
const maxLogID = 128

// about fills the token fields of ev from verified claims c (nil: none),
// bounded, keeping fields already set.
func (ev *Event) about(c *Claims) {
	if c == nil {
		return
	}
	set := func(f *string, s string) {
		if *f == "" {
			*f = bound(s, maxLogID)
		}
	}
	set(&ev.Subject, c.Subject)
	set(&ev.TokenID, c.ID)
	set(&ev.SessionID, c.SessionID)
	set(&ev.FamilyID, c.FamilyID)
	if ev.TokenType == "" && (c.Type == Access || c.Type == Refresh) {
		ev.TokenType = c.Type
	}
}

// level returns the level of ev's default log record, and false for an
// event that is never logged.
func (ev *Event) level() (slog.Level, bool) {
	switch ev.Kind {
	case EventVerified:
		return 0, false
	case EventDenied:
		if ev.Status >= 500 {
			return slog.LevelError, true
		}
		return slog.LevelDebug, true
	case EventRateLimited:
		return slog.LevelDebug, true
	case EventReuseDetected, EventStoreFailure:
		return slog.LevelWarn, true
	}
	return slog.LevelInfo, true
}

// withClaims returns e naming the verified claims c of the token it
// refuses, as a copy: e may be shared (an error a policy keeps).
func (e *Error) withClaims(c *Claims) *Error {
	if c == nil {
		return e
	}
	cp := *e
	cp.refused = c
	return &cp
}

// refusedClaims returns the claims withClaims recorded, or nil.
func (e *Error) refusedClaims() *Claims {
	c, _ := e.refused.(*Claims)
	return c
}

// denialKind is the kind of event a refusal with err is: a rate limit, a
// store that could not answer, or a denial.
func denialKind(err *Error) EventKind {
	switch {
	case err.sentinel == ErrRateLimited:
		return EventRateLimited
	case err.Status == 503 && errors.Is(err, ErrUnavailable):
		return EventStoreFailure
	}
	return EventDenied
}

// LogValue returns the event as slog attributes: event (the kind), then
// those of status, code, method, path, sub, jti, sid, family, token_type,
// client_ip, duration and error (bounded to 256 bytes) that are set. It is
// what the default record carries, for hooks that log events themselves.
func (ev Event) LogValue() slog.Value { return slog.GroupValue(ev.attrs()...) }

func (ev *Event) attrs() []slog.Attr {
	as := make([]slog.Attr, 0, 8)
	as = append(as, slog.String("event", ev.Kind.String()))
	if ev.Status != 0 {
		as = append(as, slog.Int("status", ev.Status))
	}
	for _, f := range [...]struct{ k, v string }{
		{"code", ev.Code}, {"method", ev.Method}, {"path", ev.Path},
		{"sub", ev.Subject}, {"jti", ev.TokenID}, {"sid", ev.SessionID}, {"family", ev.FamilyID},
		{"token_type", string(ev.TokenType)}, {"client_ip", ev.ClientIP},
	} {
		if f.v != "" {
			as = append(as, slog.String(f.k, f.v))
		}
	}
	if ev.Duration != 0 {
		as = append(as, slog.Duration("duration", ev.Duration))
	}
	if ev.Err != nil {
		as = append(as, slog.String("error", bound(ev.Err.Error(), maxLogError)))
	}
	return as
}

// logEvent writes ev's default record to l at level.
func logEvent(ctx context.Context, l *slog.Logger, level slog.Level, ev *Event) {
	l.LogAttrs(ctx, level, eventMessages[ev.Kind], ev.attrs()...)
}

// callHook runs a [WithEvents] hook, returning what it panicked with
// (bounded text), or "".
func callHook(ctx context.Context, hook func(context.Context, Event), ev Event) (panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = bound(fmt.Sprint(r), maxPanicText)
		}
	}()
	hook(ctx, ev)
	return ""
}
