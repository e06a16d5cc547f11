package rules

import (
	"context"
	"errors"
	"reflect"

	"github.com/authx-go/authx"
)

// Subject returns a condition that holds when f reports true for the
// caller, resolved by a as [authx.Auth.Subject] does (once per request):
//
//	rules.Deny("/", rules.Subject(a, func(u *User) bool { return u.Suspended })).Because("account suspended")
//
// A subject that cannot be resolved is not a "no": the store's outage
// (503), an unknown subject (401) or a context without a caller ends the
// set's decision with that error, so that a deny rule is never lifted by
// a failed lookup. A nil a or f is a construction mistake. For a test
// that needs the context or can fail, write an [authx.PolicyFunc] calling
// a.Subject.
func Subject[T any](a *authx.Auth[T], f func(T) bool) authx.Policy {
	return subjectPolicy[T]{a, f}
}

type subjectPolicy[T any] struct {
	a *authx.Auth[T]
	f func(T) bool
}

// errNoSubject is the denial of a Subject condition whose test is false.
var errNoSubject error = &sentinelError{authx.ErrForbidden, "rules: the subject condition does not hold"}

func (p subjectPolicy[T]) Check(ctx context.Context, _ *authx.Claims) error {
	if err := p.Validate(); err != nil {
		return misconfigured(err)
	}
	u, err := p.a.Subject(ctx)
	if err != nil {
		return err
	}
	if p.f(u) {
		return nil
	}
	return errNoSubject
}

// Validate reports a nil Auth or function.
func (p subjectPolicy[T]) Validate() error {
	switch {
	case p.a == nil:
		return errors.New("rules.Subject: nil Auth")
	case p.f == nil:
		return errors.New("rules.Subject: nil func")
	}
	return nil
}

// String returns "rules.Subject(func(T) bool)" with T's name.
func (p subjectPolicy[T]) String() string {
	return "rules.Subject(func(" + reflect.TypeFor[T]().String() + ") bool)"
}
