package jwks

import "errors"

// Sentinel errors. Every error of this package wraps one of them, and the
// error that caused it where there is one (a *url.Error, a context error),
// so callers match with [errors.Is]. Any error from [Set.Keys] makes authx
// answer 503; none of their text is meant for clients.
var (
	// ErrConfig: [New] or [Discover] was given a bad URL or option (the
	// error names it), or a method was called on a nil Set.
	ErrConfig = errors.New("jwks: invalid configuration")
	// ErrFetch: a request to the endpoint failed: no connection, a
	// timeout ([WithFetchTimeout]), a status other than 200, a redirect
	// to plain http.
	ErrFetch = errors.New("jwks: fetch failed")
	// ErrTooLarge: a response was longer than [WithMaxResponseBytes]
	// allows. It is not read further, and the keys held are kept.
	ErrTooLarge = errors.New("jwks: response too large")
	// ErrInvalid: a response is not a usable JWK Set or discovery
	// document: not JSON, not an object, a member missing or duplicated,
	// more keys than [WithMaxKeys], no key this package accepts.
	ErrInvalid = errors.New("jwks: invalid document")
	// ErrIssuerMismatch: the discovery document names another issuer than
	// the one [Discover] was given (compared byte for byte, as OpenID
	// Connect Discovery and RFC 8414 require).
	ErrIssuerMismatch = errors.New("jwks: discovery issuer mismatch")
	// ErrNotReady: the Set has not fetched keys yet ([WithTolerantStart]);
	// it keeps trying in the background.
	ErrNotReady = errors.New("jwks: no keys fetched yet")
	// ErrStale: the endpoint has failed for longer than [WithMaxStale]
	// allows past the keys' expiry; no key is served until a fetch
	// succeeds.
	ErrStale = errors.New("jwks: keys expired and the endpoint is failing")
	// ErrClosed: the Set's context ended or [Set.Close] was called.
	ErrClosed = errors.New("jwks: set closed")
)
