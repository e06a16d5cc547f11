// Package jwks keeps the keys of a remote JWK Set (RFC 7517), such as an
// OpenID Connect issuer's, for authx to verify the tokens that issuer
// signs. A [Set] is an [authx.KeySet]:
//
//	ks, err := jwks.Discover(ctx, "https://issuer.example.com/")
//	if err != nil {
//		return err
//	}
//	a, err := authx.New[User](authx.WithKeySet(ks, authx.Audience("my-api")), …)
//
// [Discover] reads the issuer's metadata for its jwks_uri; [New] takes the
// JWKS URL itself. Either fetches the keys once before it returns (see
// [WithTolerantStart] for a service that may start before its issuer), and
// starts one goroutine that keeps them fresh until the context given to it
// ends or [Set.Close] is called. An Auth whose only keys come from key sets
// verifies tokens and cannot issue them.
//
// # What a request waits for
//
// [Set.Keys] answers from memory. It never waits on the network for a
// kid it holds: refreshes run in the background, when 3/4 of the keys'
// lifetime has passed (Cache-Control max-age or Expires, clamped into
// [WithLifetimeBounds]). A kid it does not hold may be a key the issuer has
// just rotated in: Keys then asks for a fetch and waits for it, at most
// [WithUnknownKIDWait] and never past the request's deadline, but no more
// than one fetch per [WithUnknownKIDInterval] is caused this way, and a
// kid that fetch did not find is answered "no key" at once until the next
// one. So a flood of tokens with random kids costs the issuer one request
// per interval. Concurrent requests for a fetch share one (single flight).
//
// # Failing closed
//
// Every failure of the endpoint — no connection, a timeout
// ([WithFetchTimeout]), a status other than 200, a body that is not a JWK
// Set, longer than [WithMaxResponseBytes] or with more than [WithMaxKeys]
// keys, a JWK Set without one usable key — keeps the keys held, logged at
// Warn, and the Set retries (after 1 s, doubling up to 1 min). Keys past
// their lifetime are served for [WithMaxStale] more; after that, and before
// the first successful fetch, Keys returns an error and authx answers 503.
//
// Only public signature keys of authx's asymmetric algorithms are used
// (see [Set.Keys]); symmetric keys, HMAC, "none" and keys with private
// material never are. A JWK without alg is used only with
// [WithDefaultAlg]. Only https is fetched ([InsecureAllowHTTP] is for
// tests). No key is ever logged, and strings from the network (kids,
// issuers) are bounded in logs and errors.
//
// # Sharing keys between kids
//
// JWKs that share a kid are all kept (an issuer may publish one key for
// two algorithms); [Set.Keys] returns them all and authx uses the one whose
// alg is the token's. An exact duplicate is dropped.
package jwks
