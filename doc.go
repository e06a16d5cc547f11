// Package authx gives net/http services JSON Web Token authentication: it
// issues access and refresh tokens, finds them in requests, verifies them,
// and guards handlers with composable policies, resolving the caller to the
// application's own user type.
//
//	a, err := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser))
//	guard := a.Require(authx.Scopes("admin:*"))
//	mux.Handle("GET /admin", guard.Wrap(adminHandler))
//
// Tokens are interoperable with Python's AuthX: a Go service and a FastAPI
// service sharing a key accept each other's tokens.
//
// # Flow
//
//	request ─► locate ─► verify ─► CSRF ─► revocation ─► policies ─► context ─► handler
//
// Each step:
//
//   - locate: the configured locations in order ([WithTokenLocations]),
//     or a guard's own ([Guard.From]): header, cookie, query, JSON body.
//     The first that holds a token wins.
//   - verify: size bound, strict decoding, key by kid, pinned algorithm,
//     signature, exp/nbf/iat with leeway, issuer, audience, and the token
//     type ([Access] unless the guard mentions [Refresh]).
//   - CSRF: for tokens from a cookie on unsafe methods, the CSRF header must
//     equal the token's csrf claim (unless the guard was built
//     [Guard.InsecureWithoutCSRF]).
//   - revocation: the token's jti, refresh family and session against the
//     [Blocklist].
//   - policies: the guard's [Policy] values, with the request context.
//   - context: [ClaimsFrom] and [SubjectFrom] read the result; the subject
//     is resolved by the getter on first use.
//
// Any failure is an *[Error] wrapping a sentinel (see errors.go), answered
// with the RFC 6750 status and WWW-Authenticate challenge, or handed to
// [WithErrorHandler].
//
// # Events
//
// Logins, refreshes, refresh-token reuse, revocations, logouts, sessions
// started and ended, denials (with their code), rate limits, store
// failures and WebSocket closes are [Event] values: records of the
// [WithLogger] logger by default, and handed to [WithEvents] hooks — with
// [EventVerified] for each admitted request — for telemetry (the authxotel
// module) and audit trails. They name subjects, token, session and family
// ids and the client's address, never tokens, keys or secrets.
//
// # Security
//
//   - Algorithms are pinned per key, never taken from the token alone;
//     "none" is impossible. Tokens naming their own key (jwk, jku, x5u,
//     x5c) or a critical extension (crit) are refused.
//   - Decoding is strict: canonical base64url only, valid UTF-8 JSON, no
//     duplicate claim names, no claims differing from registered ones only by
//     letter case, typed dates, scopes and type, bounded sizes.
//   - exp is required; HMAC keys are at least as long as the hash; RSA keys
//     at least 2048 bits; keys are validated by [New].
//   - A refresh token never passes an access guard, and an access token
//     never passes [Refresh], whatever location it came from.
//   - Revocation is checked on every guarded request; when the blocklist
//     or the subject store cannot answer, the request is denied (503).
//   - Cookie-borne tokens on unsafe methods need a same-origin request
//     (Sec-Fetch-Site/Origin) and the double-submit CSRF header, compared in
//     constant time with the csrf claim inside the signed token.
//   - Refresh tokens are single-use; a reused one revokes every token of its
//     login (see [Auth.RefreshHandler]).
//   - A token naming a session ([Session]) is valid only while the session
//     store knows that session as active and as the token's subject's; an
//     unknown session is an ended one.
//   - Ambiguous requests are refused with 400: two Authorization headers,
//     two cookies of one authx name (cookie tossing), two CSRF headers or
//     form fields, two token query parameters or JSON members.
//   - Responses carrying tokens are Cache-Control: no-store; a token taken
//     from the query string is removed from the URL the handler sees.
//   - A store that fails or panics denies (503); nothing panics at request
//     time because of a store.
//   - Responses never contain tokens, keys or internal error text; details go
//     to the [WithLogger] logger, which never receives tokens or keys, and
//     whose records bound every attacker-chosen string.
package authx
