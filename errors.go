package authx

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sentinel errors. Every error returned by authx wraps exactly one of them
// (and, where one exists, the matching golang-jwt sentinel), so callers match
// with [errors.Is]:
//
//	if errors.Is(err, authx.ErrExpired) { … }       // ours
//	if errors.Is(err, jwt.ErrTokenExpired) { … }    // golang-jwt's, same error
//
// Use [StatusOf] for the HTTP status and [errors.As] with [*Error] for the
// machine code, message and WWW-Authenticate parameters. Every failure a
// client could cause, and every method of a nil *Auth ([ErrNotConfigured]),
// returns an *[Error]; mistakes in the program itself — options given to
// [New] ([ErrConfig]) and token options at issue ([ErrTokenOption],
// [ErrNoSigningKey]) — are plain errors wrapping their sentinel.
var (
	// ErrNoToken: the request carries no token in any configured location.
	ErrNoToken = errors.New("authx: no token in request")
	// ErrTokenTooLarge: the token exceeds the configured size bound; it is
	// rejected before any decoding.
	ErrTokenTooLarge = errors.New("authx: token too large")
	// ErrInvalidRequest: the request cannot be read for a token (two
	// Authorization headers, an unparsable or oversized JSON body, a
	// duplicated query parameter).
	ErrInvalidRequest = errors.New("authx: invalid request")
	// ErrMalformed: the token is not a well-formed JWS compact JWT (wrong
	// number of segments, non-canonical base64, invalid or duplicated JSON,
	// forbidden header parameters, claims of the wrong JSON type).
	ErrMalformed = errors.New("authx: malformed token")
	// ErrAlgorithm: the token's alg is not the algorithm configured for the
	// key that would verify it ("none" never is).
	ErrAlgorithm = errors.New("authx: unexpected signing algorithm")
	// ErrUnknownKey: the token names a key id (kid) that is not configured.
	ErrUnknownKey = errors.New("authx: unknown signing key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("authx: invalid signature")
	// ErrLoginType: the token's login_type is not the Auth's (see
	// [WithLoginType]). Clients get the same answer as for a bad signature
	// (401 invalid_token), so that it tells no one whose token it is.
	ErrLoginType = errors.New("authx: token of another login type")
	// ErrKeyBound: the token is bound to a key (its cnf claim, RFC 7800)
	// and the request does not prove possession of it: no [KeyBinding]
	// is configured, or it refused the request. 401 invalid_token.
	ErrKeyBound = errors.New("authx: token bound to a key the request does not prove")
	// ErrMissingClaim: a required claim (exp, sub, jti, type) is absent.
	ErrMissingClaim = errors.New("authx: required claim missing")
	// ErrExpired: the token's exp is in the past (beyond the leeway).
	ErrExpired = errors.New("authx: token expired")
	// ErrNotYetValid: the token's nbf is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("authx: token not valid yet")
	// ErrIssuedInFuture: the token's iat is in the future (beyond the leeway).
	ErrIssuedInFuture = errors.New("authx: token issued in the future")
	// ErrIssuer: the token's iss is not the configured issuer.
	ErrIssuer = errors.New("authx: invalid issuer")
	// ErrAudience: the token's aud does not name a configured audience, or
	// the token names an audience and none is configured.
	ErrAudience = errors.New("authx: invalid audience")
	// ErrRevoked: the token, its refresh family or its session is on the
	// blocklist (or a WebSocket ticket was already used).
	ErrRevoked = errors.New("authx: token revoked")
	// ErrAccessRequired: a refresh token was presented where an access token is required.
	ErrAccessRequired = errors.New("authx: access token required")
	// ErrRefreshRequired: an access token was presented where a refresh token is required.
	ErrRefreshRequired = errors.New("authx: refresh token required")
	// ErrNotFresh: the policy [Fresh] requires a token issued by a login, not a refresh.
	ErrNotFresh = errors.New("authx: fresh token required")
	// ErrRefreshReused: a refresh token was presented again after it had been
	// traded for a new pair. Past the grace window its whole family (every
	// token of that login) is revoked.
	ErrRefreshReused = errors.New("authx: refresh token reused")
	// ErrInsufficientScope: the token's scopes do not satisfy a [Scopes] policy.
	ErrInsufficientScope = errors.New("authx: insufficient scope")
	// ErrForbidden: a policy denied the request. Return it (or wrap it) from a
	// [PolicyFunc] to deny with 403.
	ErrForbidden = errors.New("authx: forbidden")
	// ErrCrossOrigin: a cookie-borne token on an unsafe method came with a
	// cross-origin request (Sec-Fetch-Site / Origin), see [CSRFConfig].
	ErrCrossOrigin = errors.New("authx: cross-origin request")
	// ErrCSRFMissing: a cookie-borne token on an unsafe method came without
	// the CSRF header.
	ErrCSRFMissing = errors.New("authx: missing CSRF token")
	// ErrCSRFMismatch: the CSRF header does not equal the token's csrf claim.
	ErrCSRFMismatch = errors.New("authx: CSRF token mismatch")
	// ErrMethodNotAllowed: an endpoint of authx's (refresh, logout, tickets)
	// was called with a method other than POST (405 with Allow: POST).
	ErrMethodNotAllowed = errors.New("authx: method not allowed")
	// ErrSessionNotFound: no session of the caller has that id (404).
	ErrSessionNotFound = errors.New("authx: session not found")
	// ErrRateLimited: a rate limit was reached (429 with Retry-After).
	ErrRateLimited = errors.New("authx: rate limited")
	// ErrSubjectNotFound: the subject getter found no subject for the token's
	// sub. Return it (or wrap it) from a getter to deny with 401.
	ErrSubjectNotFound = errors.New("authx: subject not found")
	// ErrUnavailable: a store (blocklist, subject getter, …) could not answer.
	// authx fails closed: the request is denied with 503.
	ErrUnavailable = errors.New("authx: service unavailable")
	// ErrMisconfigured: a guard or policy was built wrongly (for instance an
	// invalid scope pattern); it denies every request with 500.
	ErrMisconfigured = errors.New("authx: misconfigured")
	// ErrNotConfigured: a method was called on a nil *Auth.
	ErrNotConfigured = errors.New("authx: not configured")
	// ErrConfig: New was given an invalid option. The message says which.
	ErrConfig = errors.New("authx: invalid configuration")
	// ErrTokenOption: a token option is invalid (a reserved claim name in
	// custom data, a reserved header, an empty subject, …).
	ErrTokenOption = errors.New("authx: invalid token option")
	// ErrNoSigningKey: the Auth was built with verification keys only and cannot issue tokens.
	ErrNoSigningKey = errors.New("authx: no signing key configured")
)

// Error is the error type of every request-time failure in authx: it carries
// the HTTP status, a stable machine code, a message safe to show to a client,
// and the WWW-Authenticate parameters. Its Unwrap exposes the authx sentinel,
// the golang-jwt sentinel where one applies, and the underlying cause (which is
// never shown to clients).
type Error struct {
	// Status is the HTTP status code, e.g. 401.
	Status int
	// Code is a stable machine-readable code, e.g. "token_expired".
	Code string
	// Message is a short human message safe to send to a client.
	Message string
	// Scope lists the required scopes for an insufficient_scope error.
	Scope string
	// RetryAfter is how long to wait before retrying a rate-limited request
	// (sent as Retry-After in whole seconds, at least 1).
	RetryAfter time.Duration
	// Challenge, when set, is the WWW-Authenticate value sent instead of
	// the one built from the scheme, realm and code: a [KeyBinding]'s own
	// (`DPoP error="invalid_dpop_proof"`). It must not hold a token.
	Challenge string
	// Header holds further response headers a denial sets (DPoP-Nonce);
	// nil for none.
	Header http.Header

	sentinel error
	jwtErr   error
	cause    error
	// clearCookies, when set, names the token type whose cookies were
	// ambiguous (two of one name): the denial deletes them.
	clearCookies string
	// scheme is the authentication scheme of the WWW-Authenticate
	// challenge, the one [WithHeader] configures; "" is Bearer.
	scheme string
	// refused is the *Claims of the token refused, when it was verified
	// before the refusal, for the denial's [Event] (see withClaims). It is
	// not typed *Claims because claims.go builds on this file.
	refused any
}

// challengedWith returns e with the challenge scheme set, as a copy: e
// may be shared (an error the application keeps and writes twice).
func (e *Error) challengedWith(scheme string) *Error {
	if scheme == e.scheme || (scheme == "Bearer" && e.scheme == "") {
		return e
	}
	c := *e
	c.scheme = scheme
	return &c
}

// Error returns the message with the cause, for logs. It never contains a
// token or a key.
func (e *Error) Error() string {
	var msg string
	switch {
	case e.sentinel != nil:
		msg = e.sentinel.Error()
	case e.Code != "":
		msg = "authx: " + e.Code
	default:
		msg = "authx: " + http.StatusText(e.Status)
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the authx sentinel, the golang-jwt sentinel (if any) and the cause.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	errs = append(errs, e.sentinel)
	if e.jwtErr != nil {
		errs = append(errs, e.jwtErr)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// rfcError is the RFC 6750 error attribute for the WWW-Authenticate header:
// "" (no error code, only the realm), "invalid_token", "insufficient_scope" or
// "invalid_request". Statuses other than 400, 401 and 403-for-scope carry no
// WWW-Authenticate header at all.
func (e *Error) rfcError() (string, bool) {
	switch {
	case e.sentinel == ErrNoToken:
		return "", true
	case e.Status == http.StatusUnauthorized:
		return "invalid_token", true
	case e.sentinel == ErrInsufficientScope:
		return "insufficient_scope", true
	case e.Status == http.StatusBadRequest:
		return "invalid_request", true
	}
	return "", false
}

type errorInfo struct {
	status int
	code   string
	msg    string
	jwtErr error
}

// errorTable maps each sentinel to its status, code, client message and
// golang-jwt sentinel, in the order errors are matched. It is read-only.
var errorTable = []struct {
	sentinel error
	errorInfo
}{
	{ErrNoToken, errorInfo{http.StatusUnauthorized, "missing_token", "No token was found in the request.", nil}},
	{ErrTokenTooLarge, errorInfo{http.StatusBadRequest, "token_too_large", "The token is too large.", jwt.ErrTokenMalformed}},
	{ErrInvalidRequest, errorInfo{http.StatusBadRequest, "invalid_request", "The request could not be read for a token.", nil}},
	{ErrMalformed, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenMalformed}},
	{ErrAlgorithm, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenSignatureInvalid}},
	{ErrUnknownKey, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenUnverifiable}},
	{ErrSignature, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenSignatureInvalid}},
	{ErrLoginType, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenSignatureInvalid}},
	{ErrKeyBound, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is bound to a key the request does not prove.", nil}},
	{ErrMissingClaim, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenRequiredClaimMissing}},
	{ErrExpired, errorInfo{http.StatusUnauthorized, "token_expired", "The token has expired.", jwt.ErrTokenExpired}},
	{ErrNotYetValid, errorInfo{http.StatusUnauthorized, "token_not_yet_valid", "The token is not valid yet.", jwt.ErrTokenNotValidYet}},
	{ErrIssuedInFuture, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenUsedBeforeIssued}},
	{ErrIssuer, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenInvalidIssuer}},
	{ErrAudience, errorInfo{http.StatusUnauthorized, "invalid_token", "The token is invalid.", jwt.ErrTokenInvalidAudience}},
	{ErrRevoked, errorInfo{http.StatusUnauthorized, "token_revoked", "The token has been revoked.", nil}},
	{ErrAccessRequired, errorInfo{http.StatusUnauthorized, "access_token_required", "An access token is required.", nil}},
	{ErrRefreshRequired, errorInfo{http.StatusUnauthorized, "refresh_token_required", "A refresh token is required.", nil}},
	{ErrNotFresh, errorInfo{http.StatusUnauthorized, "fresh_token_required", "A fresh token is required.", nil}},
	{ErrRefreshReused, errorInfo{http.StatusUnauthorized, "refresh_token_reused", "The refresh token was already used.", nil}},
	{ErrInsufficientScope, errorInfo{http.StatusForbidden, "insufficient_scope", "The token lacks a required scope.", nil}},
	{ErrForbidden, errorInfo{http.StatusForbidden, "forbidden", "Access denied.", nil}},
	{ErrCrossOrigin, errorInfo{http.StatusForbidden, "cross_origin", "Cross-origin request refused.", nil}},
	{ErrCSRFMissing, errorInfo{http.StatusForbidden, "csrf_missing", "Missing CSRF token: send the csrf cookie's value in the CSRF header.", nil}},
	{ErrCSRFMismatch, errorInfo{http.StatusForbidden, "csrf_mismatch", "The CSRF token does not match.", nil}},
	{ErrSessionNotFound, errorInfo{http.StatusNotFound, "session_not_found", "No such session.", nil}},
	{ErrMethodNotAllowed, errorInfo{http.StatusMethodNotAllowed, "method_not_allowed", "Use POST.", nil}},
	{ErrRateLimited, errorInfo{http.StatusTooManyRequests, "rate_limited", "Too many requests; retry later.", nil}},
	{ErrSubjectNotFound, errorInfo{http.StatusUnauthorized, "subject_not_found", "The token's subject is unknown.", nil}},
	{ErrUnavailable, errorInfo{http.StatusServiceUnavailable, "unavailable", "Authentication is temporarily unavailable.", nil}},
	{ErrMisconfigured, errorInfo{http.StatusInternalServerError, "misconfigured", "Authentication is misconfigured.", nil}},
	{ErrNotConfigured, errorInfo{http.StatusInternalServerError, "misconfigured", "Authentication is misconfigured.", nil}},
}

// newError builds an *Error for sentinel, with an optional cause kept for logs.
// NewError returns an *Error that answers with status, code and message
// (which are sent to the client: no token, key or internal detail) and
// wraps cause, which errors.Is, errors.As and logs see: for a
// [KeyBinding], a [Policy] or a handler that answers in its own terms. Set
// its Challenge and Header as the answer needs.
func NewError(status int, code, message string, cause error) *Error {
	return &Error{Status: status, Code: code, Message: message, cause: cause}
}

func newError(sentinel, cause error) *Error {
	info, ok := infoOf(sentinel)
	if !ok {
		info, _ = infoOf(ErrForbidden)
	}
	return &Error{
		Status:   info.status,
		Code:     info.code,
		Message:  info.msg,
		sentinel: sentinel,
		jwtErr:   info.jwtErr,
		cause:    cause,
	}
}

// asError converts any error from a policy or store into an *Error,
// failing closed: an error authx does not know denies with 403.
func asError(err error) *Error { return classify(err, ErrForbidden) }

// errNilDenial is the cause of the error a nil error is denied with.
var errNilDenial = errors.New("asked to deny with a nil error")

// classify returns err as an *Error: itself if it is one, else an *Error
// for the first authx sentinel it wraps, else one for fallback (with err
// kept as the cause, for logs). A nil err is a denial without a reason, a
// programming mistake: [ErrMisconfigured] (500), never a made-up 403.
func classify(err, fallback error) *Error {
	if err == nil {
		return newError(ErrMisconfigured, errNilDenial)
	}
	if e, ok := err.(*Error); ok { // the common case, without errors.As's allocation
		return e
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, row := range errorTable {
		if errors.Is(err, row.sentinel) {
			return newError(row.sentinel, err)
		}
	}
	return newError(fallback, err)
}

func infoOf(sentinel error) (errorInfo, bool) {
	for _, row := range errorTable {
		if row.sentinel == sentinel {
			return row.errorInfo, true
		}
	}
	return errorInfo{}, false
}

// StatusOf returns the HTTP status for err: the status of an authx [*Error]
// or of the authx sentinel it wraps, 200 for nil (no error: the request
// goes on), and 500 for anything else. For an error that is or wraps an
// authx error it is the status [WriteError] writes. WriteError only
// denies: it writes 500 for nil, and 403 for an error authx does not know
// (as a guard denies when a policy returns one).
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	for _, row := range errorTable {
		if errors.Is(err, row.sentinel) {
			return row.status
		}
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON written for every error: a stable code and a short message.
// canned is the whole response to a denial by one sentinel, built once per
// Auth (realm and scheme known) so that the common denials — no token, an
// invalid or expired token — cost no formatting, marshalling or header
// canonicalisation per request.
type canned struct {
	code, message string
	status        int
	www           []string // nil: no challenge
	body          []byte
}

// Shared header values of every denial; assigned with their capacity
// equal to their length, so that an append by a handler copies them.
var (
	cannedContentType = []string{"application/json; charset=utf-8"}
	cannedNoStore     = []string{"no-store"}
	cannedNoSniff     = []string{"nosniff"}
)

// cannedDenials builds the canned responses of every sentinel for realm
// and scheme.
func cannedDenials(realm, scheme string) map[error]*canned {
	m := make(map[error]*canned, len(errorTable))
	for _, row := range errorTable {
		e := newError(row.sentinel, nil)
		c := &canned{code: e.Code, message: e.Message, status: e.Status}
		if rfc, ok := e.rfcError(); ok {
			c.www = []string{wwwAuthenticate(scheme, realm, rfc, "")}
		}
		body, _ := json.Marshal(errorBody{Code: e.Code, Message: e.Message})
		c.body = append(body, '\n')
		m[row.sentinel] = c
	}
	return m
}

// writeCanned writes e from the canned responses, if it is one of them
// unchanged (no scope, no Retry-After, the table's code and message), and
// reports whether it did.
func writeCanned(w http.ResponseWriter, m map[error]*canned, e *Error) bool {
	if e.sentinel == nil || e.Scope != "" || e.RetryAfter > 0 || e.Challenge != "" || e.Header != nil {
		return false
	}
	c := m[e.sentinel]
	if c == nil || c.code != e.Code || c.message != e.Message || c.status != e.Status || c.status == http.StatusTooManyRequests {
		return false
	}
	h := w.Header()
	if c.www != nil {
		h["Www-Authenticate"] = c.www[:1:1]
	}
	h["Content-Type"] = cannedContentType[:1:1]
	h["Cache-Control"] = cannedNoStore[:1:1]
	h["X-Content-Type-Options"] = cannedNoSniff[:1:1]
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body)
	return true
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError writes err as authx does by default: the status from
// [StatusOf] (403 for an error authx does not know), a WWW-Authenticate header as RFC 6750 asks (realm, error,
// scope), Cache-Control: no-store, and the JSON body
// {"code": "...", "message": "..."}. It never writes the error's cause.
// Custom error handlers (see [WithErrorHandler]) can call it to keep the
// default response and add to it: the errors a guard hands them carry the
// authentication scheme of [WithHeader], which the challenge names (Bearer
// by default, and for errors that do not come from an Auth).
//
// err must not be nil: a denial without a reason is a programming mistake,
// written as 500 misconfigured (the status of a misbuilt guard), neither
// as the 200 StatusOf gives nil, which would let the request through, nor
// as a 403 that no policy decided. [Auth.WriteError] logs it at Error.
func WriteError(w http.ResponseWriter, realm string, err error) {
	e := asError(err)
	h := w.Header()
	switch rfc, ok := e.rfcError(); {
	case e.Challenge != "":
		h.Set("WWW-Authenticate", e.Challenge)
	case ok:
		h.Set("WWW-Authenticate", wwwAuthenticate(e.scheme, realm, rfc, e.Scope))
	}
	for k, v := range e.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	if e.RetryAfter > 0 || e.Status == http.StatusTooManyRequests {
		h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(e.RetryAfter), 1), 10))
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	body, _ := json.Marshal(errorBody{Code: e.Code, Message: e.Message})
	_, _ = w.Write(append(body, '\n'))
}

// ceilSeconds returns d in whole seconds, rounded up. It cannot overflow,
// as adding a second before dividing would for d near the longest
// Duration.
func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return s
}

// wwwAuthenticate formats a challenge of scheme ("" is Bearer) with the
// parameters of RFC 6750 §3.
func wwwAuthenticate(scheme, realm, rfcErr, scope string) string {
	if scheme == "" {
		scheme = "Bearer"
	}
	var b strings.Builder
	b.WriteString(scheme)
	sep := " "
	if realm != "" {
		b.WriteString(sep + "realm=")
		writeQuoted(&b, realm)
		sep = ", "
	}
	if rfcErr != "" {
		b.WriteString(sep + "error=")
		writeQuoted(&b, rfcErr)
		sep = ", "
	}
	if scope != "" {
		b.WriteString(sep + "scope=")
		writeQuoted(&b, scope)
	}
	return b.String()
}

// Bounds on attacker-chosen strings in log records.
const (
	maxLogMethod = 16
	maxLogPath   = 128
	maxLogError  = 256
)

// bound cuts an attacker-chosen string for a log record to at most n bytes
// (at a UTF-8 boundary), marking the cut.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncate(s, n) + "…"
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

// writeQuoted writes s as an HTTP quoted-string (RFC 9110 §5.6.4), not a
// Go one (strconv.Quote's \t, \x01 and \u2028 mean "t", "x01" and
// "u2028" there): '"' and '\' as quoted-pairs, tabs, spaces, visible
// ASCII and bytes from 0x80 as they are. Other control bytes cannot appear
// in a quoted-string in any form and are left out ([WithRealm] refuses
// them; a realm given to [WriteError] may hold anything).
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || (c >= ' ' && c != 0x7f):
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
