package authx

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Claims is the verified content of a token: the registered JWT claims, the
// AuthX claims (type, fresh, scopes, csrf), ours (sid, fam) and any custom
// data, which [Claims.Get], [Claims.Data] and [Claims.DecodeData] read.
//
// The wire names are those of Python AuthX, so the same token verifies in
// both: sub, jti, type, fresh, csrf, iat, exp, nbf, iss, aud, scopes; we add
// sid (session id) and fam (refresh-token family).
type Claims struct {
	// Subject (sub) identifies the caller; never empty in a verified token.
	Subject string
	// ID (jti) is the token's unique id, used for revocation.
	ID string
	// Issuer (iss), empty if absent.
	Issuer string
	// Audience (aud), nil if absent.
	Audience []string
	// ExpiresAt (exp); always set in a verified token.
	ExpiresAt time.Time
	// IssuedAt (iat), zero if absent.
	IssuedAt time.Time
	// NotBefore (nbf), zero if absent.
	NotBefore time.Time
	// Type is [Access] or [Refresh].
	Type TokenType
	// Fresh reports whether the access token was issued by a login rather
	// than by a refresh (see [Fresh]). Always false on refresh tokens.
	Fresh bool
	// Scopes granted to the token (see [Scopes]); nil if the claim is absent.
	Scopes []string
	// CSRF is the double-submit value bound to the token, "" if none.
	CSRF string
	// SessionID (sid) names the server-side session the token belongs to.
	SessionID string
	// FamilyID (fam) names the refresh-token family (one login's chain of
	// refresh tokens).
	FamilyID string
	// LoginType (login_type) names the kind of identity the token belongs
	// to, as Python AuthX's AuthManager writes it (see [WithLoginType]);
	// "" when the token has none.
	LoginType string
	// KeyThumbprint (cnf.jkt, RFC 9449 §6) is the RFC 7638 SHA-256
	// thumbprint of the key the token is bound to: such a token is
	// admitted only with proof of that key (see [KeyBinding]). "" for a
	// bearer token.
	KeyThumbprint string

	data   []rawClaim
	inl    [inlineStrings]string // backing of short Scopes and a one-string Audience
	revIDs [3]string             // scratch for the blocklist query
	src    *issuerKeys           // the key set of another issuer that verified the token; nil for ours

	// For WebSocket tickets: the access token the ticket stands for; nil
	// in every other token (kept out of line: Claims stays within one
	// 512-byte allocation with a guard's request state).
	ticket *ticketClaims
}

// ticketClaims are a WebSocket ticket's claims. The fields are exported
// only so that go-cmp compares them in tests.
type ticketClaims struct {
	// JTI (ati) is the id of the access token the ticket was traded for.
	JTI string
	// Exp (axp) is that access token's expiry.
	Exp time.Time
}

// ticketOf returns c's ticket claims, adding them if absent.
func (c *Claims) ticketOf() *ticketClaims {
	if c.ticket == nil {
		c.ticket = new(ticketClaims)
	}
	return c.ticket
}

// inlineStrings is the number of strings a Claims holds without another
// allocation: up to three scopes and a one-string aud.
const inlineStrings = 4

// rawClaim is one custom claim as it stood in the token, undecoded.
type rawClaim struct {
	name string
	raw  string
}

// Registered and AuthX claim names. Custom data may not use any of them, in
// any letter case.
const (
	claimSub    = "sub"
	claimJTI    = "jti"
	claimIss    = "iss"
	claimAud    = "aud"
	claimExp    = "exp"
	claimIat    = "iat"
	claimNbf    = "nbf"
	claimType   = "type"
	claimFresh  = "fresh"
	claimScopes = "scopes"
	claimCSRF   = "csrf"
	claimSID    = "sid"
	claimFam    = "fam"
	// claimLoginType is Python AuthX's login_type (AuthManager).
	claimLoginType = "login_type"
	// claimCnf is the confirmation claim (RFC 7800); authx reads its jkt
	// member (RFC 9449 §6.1).
	claimCnf = "cnf"
)

var reservedClaims = [...]string{
	claimSub, claimJTI, claimIss, claimAud, claimExp, claimIat, claimNbf,
	claimType, claimFresh, claimScopes, claimCSRF, claimSID, claimFam,
	claimTicketJTI, claimTicketExp, claimLoginType, claimCnf,
}

// reservedIndex returns the index of name in reservedClaims, or -1; folded
// reports a case-insensitive match that is not exact ("EXP", or "ſub"
// with U+017F, which Unicode folds to s).
func reservedIndex(name string) (idx int, folded bool) {
	if len(name) < 3 || len(name) > len(claimLoginType) {
		return -1, false
	}
	if i := exactReserved(name); i >= 0 {
		return i, false
	}
	// Every reserved name is lower-case ASCII: a name of only lower-case
	// ASCII letters and '_' that is none of them folds to none of them.
	lower := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && c != '_' {
			lower = false
			break
		}
	}
	if lower {
		return -1, false
	}
	for i, r := range reservedClaims {
		if strings.EqualFold(name, r) {
			return i, true
		}
	}
	return -1, false
}

// exactReserved is the index of name in reservedClaims, or -1, by one
// switch (TestExactReserved checks it against the array).
func exactReserved(name string) int {
	switch name {
	case claimSub:
		return 0
	case claimJTI:
		return 1
	case claimIss:
		return 2
	case claimAud:
		return 3
	case claimExp:
		return 4
	case claimIat:
		return 5
	case claimNbf:
		return 6
	case claimType:
		return 7
	case claimFresh:
		return 8
	case claimScopes:
		return 9
	case claimCSRF:
		return 10
	case claimSID:
		return 11
	case claimFam:
		return 12
	case claimTicketJTI:
		return 13
	case claimTicketExp:
		return 14
	case claimLoginType:
		return 15
	case claimCnf:
		return 16
	}
	return -1
}

// Bounds applied while decoding claims.
const (
	maxCustomClaims = 128
	maxAudiences    = 32
	maxClaimString  = 1024 // sub, jti, iss, csrf, sid, fam, each scope
)

// Get returns the custom claim name decoded as encoding/json decodes into
// an interface value (numbers are float64), and whether it is present.
func (c *Claims) Get(name string) (any, bool) {
	if c == nil {
		return nil, false
	}
	for _, d := range c.data {
		if d.name == name {
			var v any
			if json.Unmarshal([]byte(d.raw), &v) != nil {
				return nil, false
			}
			return v, true
		}
	}
	return nil, false
}

// Data returns every custom claim, decoded as by [Claims.Get]. The map is a
// new copy; nil when there is no custom data.
func (c *Claims) Data() map[string]any {
	if c == nil || len(c.data) == 0 {
		return nil
	}
	m := make(map[string]any, len(c.data))
	for _, d := range c.data {
		var v any
		if json.Unmarshal([]byte(d.raw), &v) == nil {
			m[d.name] = v
		}
	}
	return m
}

// DecodeData unmarshals the custom claims, as one JSON object, into dst
// (typically a pointer to a struct with json tags).
func (c *Claims) DecodeData(dst any) error {
	b := []byte{'{'}
	if c != nil {
		for i, d := range c.data {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, d.name) // JSON, not Go, string syntax
			b = append(b, ':')
			b = append(b, d.raw...)
		}
	}
	b = append(b, '}')
	return json.Unmarshal(b, dst)
}

// Clone returns a deep copy of c.
func (c *Claims) Clone() *Claims {
	if c == nil {
		return nil
	}
	d := *c
	d.Audience = cloneStrings(c.Audience)
	d.Scopes = cloneStrings(c.Scopes)
	d.data = append([]rawClaim(nil), c.data...)
	if c.ticket != nil {
		t := *c.ticket
		d.ticket = &t
	}
	return &d
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append(make([]string, 0, len(s)), s...)
}

// claimsError is a decode failure: which claim, and why. It is kept as the
// cause of an ErrMalformed/ErrMissingClaim *Error, for logs.
type claimsError struct {
	claim string
	err   error
}

func (e *claimsError) Error() string {
	if e.claim == "" {
		return "claims: " + e.err.Error()
	}
	return "claim " + strconv.Quote(e.claim) + ": " + e.err.Error()
}

func (e *claimsError) Unwrap() error { return e.err }

var (
	errDuplicate   = errors.New("duplicate name")
	errCaseVariant = errors.New("differs only in letter case from a registered claim")
	errTooMany     = errors.New("too many custom claims")
	errTooLong     = errors.New("value too long")
	errBadType     = errors.New("unknown token type")
	errEmpty       = errors.New("empty value")
)

// appendClaims encodes c as the claims JSON of a token, in Python AuthX's
// order: sub, jti, type, fresh (access only), csrf, iat, exp, nbf, aud, iss,
// scopes, then ours (sid, fam), then custom data.
func appendClaims(b []byte, c *Claims, data map[string]json.RawMessage) []byte {
	b = append(b, `{"sub":`...)
	b = appendString(b, c.Subject)
	b = append(b, `,"jti":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, string(c.Type))
	if c.Type == Access || c.Type == ticketType {
		b = append(b, `,"fresh":`...)
		b = strconv.AppendBool(b, c.Fresh)
	}
	b = append(b, `,"csrf":`...)
	b = appendString(b, c.CSRF)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt.Unix(), 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt.Unix(), 10)
	if !c.NotBefore.IsZero() {
		b = append(b, `,"nbf":`...)
		b = strconv.AppendInt(b, c.NotBefore.Unix(), 10)
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		b = append(b, `,"aud":`...)
		b = appendString(b, c.Audience[0])
	default:
		b = append(b, `,"aud":`...)
		b = appendStrings(b, c.Audience)
	}
	if c.Issuer != "" {
		b = append(b, `,"iss":`...)
		b = appendString(b, c.Issuer)
	}
	if c.Scopes != nil {
		b = append(b, `,"scopes":`...)
		b = appendStrings(b, c.Scopes)
	}
	if c.SessionID != "" {
		b = append(b, `,"sid":`...)
		b = appendString(b, c.SessionID)
	}
	if c.FamilyID != "" {
		b = append(b, `,"fam":`...)
		b = appendString(b, c.FamilyID)
	}
	if c.LoginType != "" {
		b = append(b, `,"login_type":`...)
		b = appendString(b, c.LoginType)
	}
	if c.KeyThumbprint != "" {
		b = append(b, `,"cnf":{"jkt":`...)
		b = appendString(b, c.KeyThumbprint)
		b = append(b, '}')
	}
	if t := c.ticket; t != nil && t.JTI != "" {
		b = append(b, `,"ati":`...)
		b = appendString(b, t.JTI)
		b = append(b, `,"axp":`...)
		b = strconv.AppendInt(b, t.Exp.Unix(), 10)
	}
	for _, name := range sortedKeys(data) {
		b = append(b, ',')
		b = appendString(b, name)
		b = append(b, ':')
		b = append(b, data[name]...)
	}
	return append(b, '}')
}

func sortedKeys(m map[string]json.RawMessage) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	enc, err := json.Marshal(s)
	if err != nil {
		// json.Marshal of a string cannot fail.
		return append(b, `""`...)
	}
	return append(b, enc...)
}

// checkDataName reports whether name may be used for custom data.
func checkDataName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty custom claim name", ErrTokenOption)
	}
	if idx, _ := reservedIndex(name); idx >= 0 {
		return fmt.Errorf("%w: custom claim %q is reserved", ErrTokenOption, name)
	}
	return nil
}

// ticketType is the type claim of WebSocket tickets (see
// [Auth.TicketHandler]); no guard admits one as a bearer token.
const ticketType TokenType = "ws_ticket"

// Ticket claim names: the id and expiry of the access token a ticket was
// traded for, so that the connection lives and is revoked with it.
const (
	claimTicketJTI = "ati"
	claimTicketExp = "axp"
)

// TokenType is the type claim of a token, and the policy that requires it:
// [Access] or [Refresh].
type TokenType string

// The two token types. As policies, Access admits only access tokens and
// Refresh only refresh tokens, whatever location the token came from. A guard
// requires Access unless its policies mention Refresh.
const (
	Access  TokenType = "access"
	Refresh TokenType = "refresh"
)

// checkClaimString reports whether s can be written as a claim string that
// a verifier reads back as s: non-empty valid UTF-8 (encoding/json writes
// invalid bytes as U+FFFD, so that "a\xff" and "a\xfe" would be one
// subject) of at most maxClaimString bytes.
func checkClaimString(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty %s", what)
	case len(s) > maxClaimString:
		return fmt.Errorf("%s of %d bytes, more than the %d a verifier reads", what, len(s), maxClaimString)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s %.40q is not valid UTF-8: it would be written as U+FFFD, as another value", what, s)
	}
	return nil
}

// checkAudience reports whether aud can be written as an aud claim that a
// verifier reads back: 1 to maxAudiences non-empty valid UTF-8 strings.
func checkAudience(what string, aud []string) error {
	if len(aud) == 0 || len(aud) > maxAudiences {
		return fmt.Errorf("%s needs 1 to %d audiences, got %d", what, maxAudiences, len(aud))
	}
	for _, a := range aud {
		switch {
		case a == "":
			return errors.New("empty audience")
		case !utf8.ValidString(a):
			return fmt.Errorf("audience %.40q is not valid UTF-8: it would be written as U+FFFD", a)
		}
	}
	return nil
}
