package dpop

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authx-go/authx"
)

// Sentinel errors. Every refusal of a [Verifier] is an *[authx.Error]
// (written by the Auth as it is: status, Challenge, Header) that also
// matches, with [errors.Is], [authx.ErrKeyBound] and one or two of these:
// every defect of a proof matches [ErrInvalidProof], and the refusals with
// a reason of their own match its sentinel as well.
var (
	// ErrInvalidProof: the DPoP proof is missing where one is needed,
	// malformed, or fails a check of RFC 9449 §4.3 (typ, alg, jwk,
	// signature, htm, htu, iat, jti, ath). Code invalid_dpop_proof.
	ErrInvalidProof = errors.New("dpop: invalid DPoP proof")
	// ErrMissingProof: a bound token, or with [Required] any token, came
	// without a DPoP proof. It also matches [ErrInvalidProof].
	ErrMissingProof = errors.New("dpop: DPoP proof required")
	// ErrReplay: the proof's jti was already used within its window. It
	// also matches [ErrInvalidProof].
	ErrReplay = errors.New("dpop: DPoP proof replayed")
	// ErrKeyMismatch: the proof is signed by another key than the one the
	// token is bound to (cnf.jkt). It also matches [ErrInvalidProof].
	ErrKeyMismatch = errors.New("dpop: DPoP proof key is not the token's")
	// ErrAccessTokenHash: the proof's ath is missing or is not the hash of
	// the access token it came with. It also matches [ErrInvalidProof].
	ErrAccessTokenHash = errors.New("dpop: DPoP proof ath does not match the access token")
	// ErrNonce: nonces are on ([WithNonces]) and the proof lacks the
	// current one. Code use_dpop_nonce; the refusal carries a fresh nonce
	// in its DPoP-Nonce header.
	ErrNonce = errors.New("dpop: DPoP nonce required")
	// ErrBoundAsBearer: a token bound to a key was presented under the
	// Bearer scheme (RFC 9449 §7.1). Code invalid_token.
	ErrBoundAsBearer = errors.New("dpop: bound token presented as a bearer token")
	// ErrNotBound: a token bound to no key was presented under the DPoP
	// scheme. Code invalid_token.
	ErrNotBound = errors.New("dpop: unbound token presented under the DPoP scheme")
	// ErrBearerRefused: [Required] is set and a request proved no key.
	// Code invalid_token.
	ErrBearerRefused = errors.New("dpop: bearer tokens refused, DPoP required")
	// ErrStore: the replay store (the Auth's refresh store) could not
	// record a jti. The request is refused with 503: without replay
	// protection no proof is accepted. It matches [authx.ErrUnavailable].
	ErrStore = errors.New("dpop: replay store unavailable")
)

// Error codes of the WWW-Authenticate challenge (RFC 9449 §7.1, §8, §12.2).
const (
	codeInvalidProof = "invalid_dpop_proof"
	codeNonce        = "use_dpop_nonce"
	codeInvalidToken = "invalid_token"
)

// failure is one reason to refuse, with the fixed text a client is told.
type failure struct {
	code string  // the challenge's error
	desc string  // error_description: fixed, never attacker input
	is   []error // the dpop sentinels it matches
}

// Error returns the description, for logs.
func (f *failure) Error() string { return "dpop: " + f.desc }

// Unwrap returns the sentinels f matches, and authx.ErrKeyBound.
func (f *failure) Unwrap() []error { return append([]error{authx.ErrKeyBound}, f.is...) }

// proofFailure returns a failure of the proof itself with description desc.
func proofFailure(desc string, also ...error) *failure {
	return &failure{code: codeInvalidProof, desc: desc, is: append([]error{ErrInvalidProof}, also...)}
}

// The reasons a proof is refused, each with its fixed description.
var (
	failNoProof       = proofFailure("DPoP proof required", ErrMissingProof)
	failManyProofs    = proofFailure("more than one DPoP header")
	failTooLarge      = proofFailure("DPoP proof too large")
	failMalformed     = proofFailure("DPoP proof is not a compact JWS")
	failHeader        = proofFailure("DPoP proof header is invalid")
	failType          = proofFailure("DPoP proof typ must be dpop+jwt")
	failAlg           = proofFailure("DPoP proof alg is not allowed")
	failKeyRef        = proofFailure("DPoP proof must carry its key in jwk, not by reference")
	failJWK           = proofFailure("DPoP proof jwk is not a valid public key")
	failPrivateJWK    = proofFailure("DPoP proof jwk holds private key material")
	failWeakKey       = proofFailure("DPoP proof jwk is too weak or does not match alg")
	failSignature     = proofFailure("DPoP proof signature does not verify")
	failClaims        = proofFailure("DPoP proof claims are invalid")
	failJTI           = proofFailure("DPoP proof jti is missing or too long")
	failMethod        = proofFailure("DPoP proof htm does not match the request method")
	failURI           = proofFailure("DPoP proof htu does not match the request URI")
	failIATOld        = proofFailure("DPoP proof iat is too old")
	failIATNew        = proofFailure("DPoP proof iat is in the future")
	failReplay        = proofFailure("DPoP proof was already used", ErrReplay)
	failAth           = proofFailure("DPoP proof ath does not match the access token", ErrAccessTokenHash)
	failAthMissing    = proofFailure("DPoP proof ath is required with an access token", ErrAccessTokenHash)
	failAthUnexpected = proofFailure("DPoP proof ath is not allowed without an access token")
	failKeyMismatch   = proofFailure("DPoP proof key does not match the token binding", ErrKeyMismatch)
	failNonce         = &failure{code: codeNonce, desc: "DPoP proof nonce required", is: []error{ErrNonce}}
	failBoundBearer   = &failure{code: codeInvalidToken, desc: "DPoP-bound token presented as a bearer token", is: []error{ErrBoundAsBearer}}
	failNotBound      = &failure{code: codeInvalidToken, desc: "token is not DPoP-bound", is: []error{ErrNotBound}}
	failBearerRefused = &failure{code: codeInvalidToken, desc: "DPoP proof required", is: []error{ErrBearerRefused}}
)

// Messages of the JSON body: short and safe.
var messages = map[string]string{
	codeInvalidProof: "The DPoP proof is invalid.",
	codeNonce:        "The DPoP proof must carry the server's nonce.",
	codeInvalidToken: "The token is not presented as its key binding requires.",
}

// refusal returns f as the *authx.Error the Auth writes: status 401 for a
// protected resource, 400 for the token and login endpoints (token says
// which), with a DPoP challenge naming algs and a DPoP-Nonce header when
// nonce is not "".
func (v *Verifier) refusal(f *failure, tokenEndpoint bool, nonce string) *authx.Error {
	e := authxError(f)
	e.Status = http.StatusUnauthorized
	if tokenEndpoint {
		e.Status = http.StatusBadRequest
	}
	e.Code = f.code
	e.Message = messages[f.code]
	var b strings.Builder
	b.WriteString(`DPoP algs="`)
	b.WriteString(v.algList)
	b.WriteString(`", error="`)
	b.WriteString(f.code)
	b.WriteString(`", error_description="`)
	b.WriteString(f.desc) // a constant of this file: no quote, no backslash
	b.WriteByte('"')
	e.Challenge = b.String()
	if nonce != "" {
		e.Header = http.Header{"Dpop-Nonce": {nonce}}
	}
	return e
}

// storeFailure returns the 503 refusal for a replay store that failed.
func storeFailure(err error) *authx.Error {
	return authxError(&storeError{err})
}

type storeError struct{ err error }

func (e *storeError) Error() string   { return ErrStore.Error() + ": " + e.err.Error() }
func (e *storeError) Unwrap() []error { return []error{authx.ErrUnavailable, ErrStore, e.err} }

// authxError returns the *authx.Error for cause, which wraps the authx
// sentinel it stands for (ErrKeyBound, ErrUnavailable): a 503 for a store
// that failed, else a 401 the caller specialises; cause is kept for
// errors.Is and logs, never shown.
func authxError(cause error) *authx.Error {
	if errors.Is(cause, authx.ErrUnavailable) {
		return authx.NewError(http.StatusServiceUnavailable, "unavailable", "Authentication is temporarily unavailable.", cause)
	}
	return authx.NewError(http.StatusUnauthorized, codeInvalidToken, messages[codeInvalidToken], cause)
}
