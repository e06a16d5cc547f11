package authx

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync"
)

// stateKey is the context key of the per-request authentication state.
type stateKey struct{}

// requestState is the context a guard hands to policies and handlers: the
// parent context plus the verified claims and the lazily resolved subject.
// Being a context itself saves the allocation of a separate value context.
type requestState[T any] struct {
	context.Context
	claims *Claims       // own, or the claims bind was given
	own    Claims        // a guarded request's claims, decoded in place (slot)
	req    *http.Request // the guarded request (RequestFrom); nil outside a request
	get    func(context.Context, *Claims) (T, error)
	isNil  func(T) bool // nil when T cannot be nil

	mu   sync.Mutex
	done bool
	subj T
	err  error
}

// Value returns the state itself for stateKey and defers to the parent
// otherwise.
func (s *requestState[T]) Value(key any) any {
	if key == (stateKey{}) {
		return s
	}
	return s.Context.Value(key)
}

func (s *requestState[T]) claimsOf() *Claims { return s.claims }

// stateSlot is a request state allocated before its token is decoded: the
// guard decodes the claims into slot(), so that a guarded request
// allocates one object for its claims and its context. bind then makes it
// the context carrying parent and c (slot() or any other claims).
type stateSlot interface {
	slot() *Claims
	bind(parent context.Context, c *Claims) context.Context
}

func (s *requestState[T]) slot() *Claims { return &s.own }

func (s *requestState[T]) bind(parent context.Context, c *Claims) context.Context {
	s.Context, s.claims = parent, c
	return s
}

func (s *requestState[T]) requestOf() *http.Request { return s.req }

func (s *requestState[T]) setRequest(r *http.Request) { s.req = r }

// requestCarrier is a state that knows the guarded request.
type requestCarrier interface {
	requestOf() *http.Request
	setRequest(*http.Request)
}

// subject resolves the subject once. The getter runs with the parent
// context, so a getter that asks for the subject again cannot deadlock.
func (s *requestState[T]) subject() (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.subj, s.err = resolveSubject(s.Context, s.claims, s.get, s.isNil)
		s.done = true
	}
	return s.subj, s.err
}

type claimsCarrier interface{ claimsOf() *Claims }

type subjectSource[T any] interface{ subject() (T, error) }

var (
	errNoGetter  = errors.New("no subject getter configured (WithSubjectGetter)")
	errNilGetter = errors.New("the subject getter returned a nil subject and a nil error")
)

// resolveSubject runs the getter. A nil subject with a nil error found
// nobody: it is [ErrSubjectNotFound], never a known subject. isNil is
// [nilCheck]'s, nil for types that cannot be nil.
func resolveSubject[T any](ctx context.Context, c *Claims, get func(context.Context, *Claims) (T, error), isNil func(T) bool) (T, error) {
	var zero T
	if get == nil {
		if s, ok := any(c.Subject).(T); ok {
			return s, nil
		}
		return zero, newError(ErrMisconfigured, errNoGetter)
	}
	v, err := callGetter(ctx, c, get)
	if err != nil {
		return zero, subjectError(err)
	}
	if isNil != nil && isNil(v) {
		return zero, newError(ErrSubjectNotFound, errNilGetter)
	}
	return v, nil
}

// callGetter runs the application's getter; a panic in it is a store that
// could not answer (503, logged), not an aborted connection.
func callGetter[T any](ctx context.Context, c *Claims, get func(context.Context, *Claims) (T, error)) (v T, err error) {
	defer recoverStore(&err, "subject getter")
	return get(ctx, c)
}

// nilCheck returns a function reporting whether a T is nil — a nil
// pointer, map, slice, func or channel, or an interface that is nil or
// holds one of those — or nil when T's kind cannot be nil (a struct, a
// string, a number). New calls it once, so that subjects of such types pay
// no reflection per request.
func nilCheck[T any]() func(T) bool {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Interface:
		return func(v T) bool { return isNilValue(any(v)) }
	}
	return nil
}

// isNilValue reports whether x is nil or holds a nil of a nillable kind.
func isNilValue(x any) bool {
	if x == nil {
		return true
	}
	switch v := reflect.ValueOf(x); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// subjectError classifies a getter error: "not found" denies with 401, an
// authx error keeps its status, and anything else is a store that could not
// answer (503).
func subjectError(err error) *Error { return classify(err, ErrUnavailable) }

// claimsOr returns c, or else the claims ctx carries (a handler behind a
// guard), or nil.
func claimsOr(c *Claims, ctx context.Context) *Claims {
	if c != nil {
		return c
	}
	if s, ok := ctx.Value(stateKey{}).(claimsCarrier); ok {
		return s.claimsOf()
	}
	return nil
}
