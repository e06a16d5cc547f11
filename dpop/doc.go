// Package dpop binds tokens to a client's key with DPoP proofs (RFC 9449)
// for authx.
//
// A [Verifier] is an [authx.KeyBinding]: give it to an Auth with
// [authx.WithKeyBinding]. The Auth then accepts the DPoP scheme in the
// Authorization header and shows every token it verified to
// [Verifier.Check], which reads the request's DPoP header: a compact JWS,
// typ dpop+jwt, signed by the public key of its jwk header with an
// allowed algorithm, whose claims name the request (htm, htu), a recent
// time (iat), a unique id (jti, recorded in the Auth's refresh store so
// that every replica sharing it refuses a replay), the hash of the access
// token (ath) and, with [WithNonces], the server's nonce. A token bound
// to a key (cnf.jkt, [authx.BoundToKey]) is admitted only with a proof
// by that key; an unbound one is a bearer token, unless [Required].
//
// The flow: a login calls Auth.KeyProof(r) for the thumbprint of the key
// the login request proves, and issues tokens with
// authx.BoundToKey(jkt); the refresh endpoint rotates a bound pair only
// with a proof by its key; guards need a proof with every request.
//
// On the client side, a [Prover] signs proofs with a [crypto.Signer], and
// [Prover.Transport] adds them (and the DPoP scheme) to every request,
// retrying once with the server's nonce when asked to.
package dpop
