package rules

import (
	"errors"

	"github.com/authx-go/authx"
)

// sentinelError matches an authx sentinel with [errors.Is], so that authx
// answers with the sentinel's status and generic message, and says why in
// its text, which authx logs and never sends to a client.
type sentinelError struct {
	sentinel error
	msg      string
}

func (e *sentinelError) Error() string { return e.msg }

func (e *sentinelError) Unwrap() error { return e.sentinel }

// misconfigured is the error of a policy that was built wrongly.
func misconfigured(err error) error {
	return &sentinelError{authx.ErrMisconfigured, err.Error()}
}

// undecided reports whether a condition's error is a failure to answer
// rather than a "no": a 5xx (including an error authx does not know), or
// no caller to ask about.
func undecided(err error) bool {
	return authx.StatusOf(err) >= 500 ||
		errors.Is(err, authx.ErrSubjectNotFound) || errors.Is(err, authx.ErrNoToken)
}
