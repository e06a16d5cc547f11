package authx

import (
	"context"
	"errors"
	"net/http"
)

// ClaimsFrom returns the verified claims that a [Guard] (or [Auth.NewContext],
// or [NewContext]) put into ctx.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	if ctx == nil {
		return nil, false
	}
	s, ok := ctx.Value(stateKey{}).(claimsCarrier)
	if !ok {
		return nil, false
	}
	return s.claimsOf(), true
}

// RequestFrom returns the request a [Guard] is deciding on (or decided
// on), from the context it hands to policies and handlers: a [Policy] can
// then look at the method, r.PathValue, headers, the client's address —
// on HTTP requests and WebSocket handshakes alike. It reports false
// outside a guarded request (in [Auth.Verify], re-authentication, or a
// context without claims). The request is the one the guard received;
// treat it as read-only (its body may be the handler's).
func RequestFrom(ctx context.Context) (*http.Request, bool) {
	if ctx == nil {
		return nil, false
	}
	s, ok := ctx.Value(stateKey{}).(requestCarrier)
	if !ok || s.requestOf() == nil {
		return nil, false
	}
	return s.requestOf(), true
}

// SubjectFrom returns the caller as the application's type T, resolving it
// with the subject getter on first use in the request (later calls return
// the same value). It reports false when ctx carries no authenticated
// caller, when T is not the Auth's type, or when the getter failed; use
// [Auth.Subject] to see the error.
func SubjectFrom[T any](ctx context.Context) (T, bool) {
	var zero T
	if ctx == nil {
		return zero, false
	}
	s, ok := ctx.Value(stateKey{}).(subjectSource[T])
	if !ok {
		return zero, false
	}
	v, err := s.subject()
	if err != nil {
		return zero, false
	}
	return v, true
}

// NewContext returns a context carrying c and an already-resolved subject,
// as a guard's would: [ClaimsFrom] and [SubjectFrom] read them. It is for
// tests (see authtest.Context) and for flows that authenticate outside a
// [Guard] and call code that expects a guarded context.
func NewContext[T any](ctx context.Context, c *Claims, subject T) context.Context {
	return &requestState[T]{Context: ctx, claims: c, done: true, subj: subject}
}

// NewContext returns a context carrying c whose subject is resolved lazily
// with a's getter, as in a guarded request. Use it after [Auth.Verify] in
// flows without a Guard (a gRPC interceptor, a message consumer).
func (a *Auth[T]) NewContext(ctx context.Context, c *Claims) context.Context {
	return a.newState(ctx, c)
}

// Subject returns the authenticated caller of ctx, resolving it with the
// subject getter on first use. The error says why there is none: no
// authenticated caller (401, [ErrNoToken]), unknown subject (401,
// [ErrSubjectNotFound]) or a store that could not answer (503,
// [ErrUnavailable]); write it with [Auth.WriteError].
func (a *Auth[T]) Subject(ctx context.Context) (T, error) {
	var zero T
	if a == nil {
		return zero, newError(ErrNotConfigured, nil)
	}
	if ctx == nil {
		return zero, newError(ErrNoToken, nil)
	}
	switch s := ctx.Value(stateKey{}).(type) {
	case subjectSource[T]:
		return s.subject()
	case claimsCarrier:
		return zero, newError(ErrMisconfigured, errors.New("context carries a subject of another type"))
	}
	return zero, newError(ErrNoToken, errors.New("context carries no authenticated caller"))
}

// KnownSubject returns a [Policy] that resolves the subject and denies when
// it cannot: 401 when the getter reports [ErrSubjectNotFound] or returns a
// nil subject with a nil error, 503 when it fails otherwise. Add it to a guard so handlers may rely on [SubjectFrom]:
//
//	a.Require(authx.Scopes("admin:*"), a.KnownSubject())
func (a *Auth[T]) KnownSubject() Policy { return knownSubject[T]{a} }

type knownSubject[T any] struct{ a *Auth[T] }

func (k knownSubject[T]) Check(ctx context.Context, _ *Claims) error {
	_, err := k.a.Subject(ctx)
	return err
}

func (k knownSubject[T]) String() string { return "KnownSubject" }
