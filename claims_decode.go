package authx

import (
	"errors"
	"strings"
	"time"

	"github.com/authx-go/authx/internal/jsonscan"
)

// This file is the strict decoder of a token's claims: one pass over the
// JSON, every registered and AuthX claim checked for type, bounds and
// duplicates, custom claims kept undecoded.

// decodeClaims is decodeClaimsInto new Claims.
func decodeClaims(payload string, maxScopes int) (*Claims, error) {
	c := new(Claims)
	if err := decodeClaimsInto(payload, maxScopes, c); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeClaimsInto reads the claims JSON of one of our tokens into c
// (zero) in one strict pass: exp, sub, jti and type are required. c's
// strings share payload's memory.
func decodeClaimsInto(payload string, maxScopes int, c *Claims) error {
	hasType, err := decodeClaimSet(payload, maxScopes, c)
	if err != nil {
		return err
	}
	return ownClaims(c, hasType)
}

// ownClaims applies our tokens' required claims (exp, sub, jti, type) to
// claims decoded by decodeClaimSet.
func ownClaims(c *Claims, hasType bool) error {
	switch {
	case c.ExpiresAt.IsZero():
		return newError(ErrMissingClaim, &claimsError{claimExp, errEmpty})
	case c.Subject == "":
		return newError(ErrMissingClaim, &claimsError{claimSub, errEmpty})
	case c.ID == "":
		return newError(ErrMissingClaim, &claimsError{claimJTI, errEmpty})
	case !hasType:
		return newError(ErrMissingClaim, &claimsError{claimType, errEmpty})
	}
	return nil
}

// decodeClaimSet is decodeClaims without the required claims: it reports
// whether the token has a type claim.
func decodeClaimSet(payload string, maxScopes int, c *Claims) (bool, error) {
	fail := func(claim string, err error) (bool, error) {
		return false, newError(ErrMalformed, &claimsError{claim, err})
	}
	sc := jsonscan.New(payload)
	if err := sc.Begin(); err != nil {
		return fail("", err)
	}
	var seen uint32
	hasType := false
	for {
		key, done, err := sc.Next()
		if err != nil {
			return fail("", err)
		}
		if done {
			break
		}
		idx, folded := reservedIndex(key)
		if folded {
			return fail(key, errCaseVariant)
		}
		if idx < 0 {
			if len(c.data) == maxCustomClaims {
				return fail("", errTooMany)
			}
			for _, d := range c.data {
				if d.name == key {
					return fail(key, errDuplicate)
				}
			}
			raw, err := sc.Skip()
			if err != nil {
				return fail(key, err)
			}
			if c.data == nil {
				c.data = make([]rawClaim, 0, 4)
			}
			c.data = append(c.data, rawClaim{name: key, raw: raw})
			continue
		}
		if seen&(1<<idx) != 0 {
			return fail(key, errDuplicate)
		}
		seen |= 1 << idx
		switch key {
		case claimSub:
			c.Subject, err = boundedString(&sc, false)
		case claimJTI:
			c.ID, err = boundedString(&sc, false)
		case claimIss:
			c.Issuer, err = boundedString(&sc, false)
		case claimCSRF:
			c.CSRF, err = boundedString(&sc, true)
		case claimSID:
			c.SessionID, err = boundedString(&sc, true)
		case claimFam:
			c.FamilyID, err = boundedString(&sc, true)
		case claimLoginType:
			c.LoginType, err = boundedString(&sc, true)
		case claimCnf:
			c.KeyThumbprint, err = confirmation(&sc)
		case claimTicketJTI:
			c.ticketOf().JTI, err = boundedString(&sc, false)
		case claimTicketExp:
			c.ticketOf().Exp, err = numericDate(&sc)
		case claimType:
			var t string
			t, err = sc.String()
			if err == nil {
				switch TokenType(t) {
				case Access, Refresh, ticketType:
					c.Type = TokenType(t)
					hasType = true
				default:
					err = errBadType
				}
			}
		case claimFresh:
			c.Fresh, err = sc.Bool()
		case claimExp:
			c.ExpiresAt, err = numericDate(&sc)
		case claimIat:
			c.IssuedAt, err = numericDate(&sc)
		case claimNbf:
			c.NotBefore, err = numericDate(&sc)
		case claimAud:
			c.Audience, err = audience(&sc, c.inl[inlineStrings-1:inlineStrings-1:inlineStrings])
		case claimScopes:
			c.Scopes, err = scopes(&sc, maxScopes, c.inl[0:0:inlineStrings-1])
		}
		if err != nil {
			return fail(key, err)
		}
	}
	if err := sc.End(); err != nil {
		return fail("", err)
	}
	if c.Type == Refresh {
		c.Fresh = false
	}
	return hasType, nil
}

func boundedString(sc *jsonscan.Scanner[string], nullable bool) (string, error) {
	if nullable && sc.Null() {
		return "", nil
	}
	s, err := sc.String()
	if err != nil {
		return "", err
	}
	if len(s) > maxClaimString {
		return "", errTooLong
	}
	return s, nil
}

var (
	errCnfMethod  = errors.New(`confirmation other than "jkt" (a key thumbprint) cannot be checked`)
	errThumbprint = errors.New("jkt is not a base64url SHA-256 thumbprint (43 characters)")
)

// confirmation reads a cnf claim: an object whose one member is jkt, a
// SHA-256 JWK thumbprint. Any other confirmation method (x5t#S256, jwk,
// jku, kid) binds the token to something authx cannot check: the token is
// refused rather than admitted as a bearer token.
func confirmation(sc *jsonscan.Scanner[string]) (string, error) {
	if sc.Peek() != jsonscan.Object {
		if _, err := sc.Skip(); err != nil {
			return "", err
		}
		return "", jsonscan.ErrType
	}
	raw, err := sc.Skip()
	if err != nil {
		return "", err
	}
	in := jsonscan.New(raw)
	if err := in.Begin(); err != nil {
		return "", err
	}
	jkt := ""
	for {
		key, done, err := in.Next()
		switch {
		case err != nil:
			return "", err
		case done:
			if jkt == "" {
				return "", errCnfMethod
			}
			return jkt, nil
		case key != "jkt":
			return "", errCnfMethod
		case jkt != "":
			return "", errDuplicate
		}
		if jkt, err = in.String(); err != nil {
			return "", err
		}
		if !validThumbprint(jkt) {
			return "", errThumbprint
		}
	}
}

// validThumbprint reports whether s is the unpadded base64url of 32
// bytes, canonical (its last character carries no stray bits).
func validThumbprint(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	// 43 characters carry 258 bits: the last one's low 2 bits are unused.
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", s[42])
	return last&3 == 0
}

// NumericDate bounds: from the epoch to 9999-12-31T23:59:59Z, the last
// second RFC 3339 (and most languages' date types) can write. A date
// outside them is a forgery or a bug, not a date: a negative iat or nbf
// passes every time check, an exp in year 31 million never expires. Such a
// claim is malformed. Every reader of a NumericDate (decodeClaims,
// peekExpiry) and the issuer use these bounds.
const (
	minNumericDate = 0
	maxNumericDate = 253402300799 // 9999-12-31T23:59:59Z
)

func numericDate(sc *jsonscan.Scanner[string]) (time.Time, error) {
	f, err := sc.Number()
	if err != nil {
		return time.Time{}, err
	}
	t, ok := dateOf(f)
	if !ok {
		return time.Time{}, jsonscan.ErrRange
	}
	return t, nil
}

// dateOf converts a NumericDate to a time, reporting false outside
// [minNumericDate, maxNumericDate]. Whole seconds, truncated toward zero as
// PyJWT's int(): a token Python AuthX holds expired is expired here too.
func dateOf(f float64) (time.Time, bool) {
	if !(f >= minNumericDate && f <= maxNumericDate) { // NaN fails too
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// validDate reports whether t, written as a NumericDate (whole seconds), is
// within [minNumericDate, maxNumericDate]: the issuer's side of dateOf.
func validDate(t time.Time) bool {
	s := t.Unix()
	return s >= minNumericDate && s <= maxNumericDate
}

// dateRange names the NumericDate bounds in error messages.
const dateRange = "[1970-01-01T00:00:00Z, 9999-12-31T23:59:59Z]"

// audience reads aud: a string, into one, which has room for one string,
// or an array.
func audience(sc *jsonscan.Scanner[string], one []string) ([]string, error) {
	if sc.Peek() == jsonscan.String {
		s, err := sc.String()
		if err != nil {
			return nil, err
		}
		return append(one, s), nil
	}
	return sc.StringArray(maxAudiences)
}

// scopes reads the scopes array, appending to dst (empty, with room for a
// few), or null.
func scopes(sc *jsonscan.Scanner[string], max int, dst []string) ([]string, error) {
	if sc.Null() {
		return nil, nil
	}
	out, err := sc.AppendStrings(dst, max)
	if err != nil {
		return nil, err
	}
	for _, s := range out {
		if len(s) > maxClaimString {
			return nil, errTooLong
		}
	}
	return out, nil
}
