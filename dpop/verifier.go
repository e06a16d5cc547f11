package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authx-go/authx"
)

// Verifier checks DPoP proofs (RFC 9449) for an [authx.Auth]: it is the
// Auth's [authx.KeyBinding] ([authx.WithKeyBinding]). Build one with
// [New]; it is safe for concurrent use.
type Verifier struct {
	settings
	algList string // algs for the challenge, space-separated
}

var _ authx.KeyBinding = (*Verifier)(nil)

// New returns a Verifier configured by opts, or an error wrapping
// a description of the first invalid option.
func New(opts ...Option) (*Verifier, error) {
	s := settings{
		algs:   defaultAlgorithms,
		window: 5 * time.Minute,
		now:    time.Now,
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", errConfig)
		}
		o.apply(&s)
	}
	if len(s.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", errConfig, errors.Join(s.errs...))
	}
	if s.publicURL != "" && len(s.trusted) > 0 {
		return nil, fmt.Errorf("%w: WithPublicURL and WithTrustedProxies both set the URI; give one", errConfig)
	}
	return &Verifier{settings: s, algList: strings.Join(s.algs, " ")}, nil
}

// Scheme returns "DPoP", the Authorization scheme of bound tokens.
func (v *Verifier) Scheme() string { return "DPoP" }

// Check decides on p for the Auth, as RFC 9449 says:
//
//   - a login (Auth.KeyProof: no token): a DPoP header must hold a valid
//     proof without ath, whose key's thumbprint is returned; without one,
//     "" (with [Required], a refusal);
//   - a refresh: a refresh token bound to a key needs a proof (without
//     ath) by that key; one bound to none returns the key of the proof
//     that came with it, if any, to bind the new pair to;
//   - a bound token needs the DPoP scheme and a proof by its key with the
//     hash of the token (ath); under Bearer it is refused (§7.1);
//   - an unbound token under the DPoP scheme is refused; under Bearer it
//     is accepted as a bearer token, any DPoP header beside it ignored
//     (with [Required], refused).
//
// Refusals are *[authx.Error] values: 401 at a protected resource, 400 at
// the token (refresh) and login endpoints, with a DPoP challenge and,
// for use_dpop_nonce, a DPoP-Nonce header. A replay store that fails is a
// 503 ([ErrStore]).
func (v *Verifier) Check(ctx context.Context, p authx.Presentation) (string, error) {
	if p.Request == nil {
		return "", storeFailure(errors.New("a Presentation without a Request"))
	}
	tokenEndpoint := p.Refresh || p.Claims == nil
	bound := ""
	if p.Claims != nil {
		bound = p.Claims.KeyThumbprint
	}
	deny := func(f *failure) (string, error) {
		nonce := ""
		if f == failNonce && v.nonces != nil {
			nonce = v.nonces.Nonce(v.now())
		}
		return "", v.refusal(f, tokenEndpoint, nonce)
	}
	vals := p.Request.Header.Values("DPoP")
	switch {
	case p.Claims == nil || p.Refresh:
		if len(vals) == 0 {
			if bound != "" || v.required {
				return deny(failNoProof)
			}
			return "", nil
		}
		return v.verify(ctx, p, vals, "", bound, deny)
	case bound != "" && !strings.EqualFold(p.Scheme, v.Scheme()):
		return deny(failBoundBearer)
	case bound == "" && strings.EqualFold(p.Scheme, v.Scheme()):
		return deny(failNotBound)
	case bound == "":
		if v.required {
			return deny(failBearerRefused)
		}
		return "", nil // a bearer token; a DPoP header beside it is ignored
	case len(vals) == 0:
		return deny(failNoProof)
	}
	return v.verify(ctx, p, vals, p.Token, bound, deny)
}

// verify checks the proof of the DPoP header vals against p's request
// (RFC 9449 §4.3 steps 8–12): its method and URI, iat, the nonce,
// the hash of token (none when token is ""), the key bound ("" for any),
// and last the jti's first use. It returns the proof key's thumbprint.
func (v *Verifier) verify(ctx context.Context, p authx.Presentation, vals []string, token, bound string, deny func(*failure) (string, error)) (string, error) {
	if len(vals) != 1 {
		return deny(failManyProofs)
	}
	pr, f := parseProof(vals[0], v.algs)
	if f != nil {
		return deny(f)
	}
	r := p.Request
	if pr.htm != r.Method {
		return deny(failMethod)
	}
	want, err := v.requestURI(r)
	if err != nil {
		return deny(failURI)
	}
	if got, err := normalizeURI(pr.htu); err != nil || got != want {
		return deny(failURI)
	}
	now := v.now()
	slack := v.window + v.leeway
	switch {
	case pr.iat.Before(now.Add(-slack)):
		return deny(failIATOld)
	case pr.iat.After(now.Add(slack)):
		return deny(failIATNew)
	}
	if v.nonces != nil && (pr.nonce == nil || !v.nonces.Valid(*pr.nonce, now)) {
		return deny(failNonce)
	}
	switch {
	case token == "" && pr.ath != nil:
		return deny(failAthUnexpected)
	case token != "" && pr.ath == nil:
		return deny(failAthMissing)
	case token != "" && subtle.ConstantTimeCompare([]byte(*pr.ath), []byte(AccessTokenHash(token))) != 1:
		return deny(failAth)
	}
	if bound != "" && pr.jkt != bound {
		return deny(failKeyMismatch)
	}
	// Remembered until the proof is too old to be accepted anyway, and a
	// second more: a store never forgets a jti still acceptable.
	first, err := p.FirstUse(ctx, pr.jkt+":"+pr.jti, pr.iat.Add(slack+time.Second))
	if err != nil {
		return "", storeFailure(err)
	}
	if !first {
		return deny(failReplay)
	}
	return pr.jkt, nil
}

// AccessTokenHash returns a proof's ath for token: the base64url SHA-256
// of its ASCII (RFC 9449 §4.2).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
