// Package scope implements AuthX's scope matching: a granted scope covers a
// required one when they are equal, or when the granted scope is a namespace
// wildcard "ns:*" and the required one is "ns" or lies below "ns:".
// There is no other wildcard: "*" alone is not global, and "ns:*" never
// covers "nsfoo".
package scope

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen bounds the length of a scope pattern.
const MaxLen = 256

// Errors from Validate.
var (
	ErrEmpty    = errors.New("empty scope")
	ErrTooLong  = errors.New("scope too long")
	ErrChar     = errors.New("scope has a character outside RFC 6749 scope-token (space, quote, backslash or control)")
	ErrWildcard = errors.New(`"*" is allowed only as a whole last segment ("ns:*")`)
)

// Validate checks a required-scope pattern once, when a policy is built.
func Validate(p string) error {
	switch {
	case p == "":
		return ErrEmpty
	case len(p) > MaxLen:
		return ErrTooLong
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
		if c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
			return fmt.Errorf("%w at byte %d", ErrChar, i)
		}
		if c == '*' && !(i == len(p)-1 && i >= 2 && p[i-1] == ':') {
			return ErrWildcard
		}
	}
	for _, seg := range strings.Split(p, ":") {
		if seg == "" {
			return fmt.Errorf("%w: empty segment in %q", ErrEmpty, p)
		}
	}
	return nil
}

// Match reports whether granted covers required.
func Match(required, granted string) bool {
	if required == granted {
		return true
	}
	ns, ok := strings.CutSuffix(granted, ":*")
	if !ok || ns == "" {
		return false
	}
	return required == ns || (len(required) > len(ns) && required[len(ns)] == ':' && required[:len(ns)] == ns)
}

// Covered reports whether some granted scope covers required.
func Covered(required string, granted []string) bool {
	for _, g := range granted {
		if Match(required, g) {
			return true
		}
	}
	return false
}
