package dpop

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Prover signs DPoP proofs with a client's key: the client side of the
// protocol. It is safe for concurrent use.
type Prover struct {
	key    crypto.Signer
	alg    string
	header []byte // the encoded protected header
	jkt    string
	now    func() time.Time

	mu     sync.Mutex
	nonces map[string]string // the last DPoP-Nonce of each origin
}

// NewProver returns a Prover signing with key by alg (ES256, ES384,
// ES512, EdDSA, RS256… PS512; the key must fit it). Of the options, only
// [WithClock] applies.
func NewProver(key crypto.Signer, alg string, opts ...Option) (*Prover, error) {
	if key == nil {
		return nil, errors.New("dpop: NewProver: nil key")
	}
	if !contains(supported, alg) {
		return nil, fmt.Errorf("dpop: NewProver: %q is not a supported algorithm", alg)
	}
	s := settings{now: time.Now}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("dpop: NewProver: nil Option")
		}
		o.apply(&s)
	}
	if s.verifierOnly {
		return nil, errors.New("dpop: NewProver: only WithClock applies to a Prover")
	}
	if len(s.errs) > 0 {
		return nil, fmt.Errorf("dpop: NewProver: %w", errors.Join(s.errs...))
	}
	pub := key.Public()
	if !keyFits(pub, alg) {
		return nil, fmt.Errorf("dpop: NewProver: the key does not fit %s", alg)
	}
	jwk := jose.JSONWebKey{Key: pub}
	rawJWK, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("dpop: NewProver: %w", err)
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("dpop: NewProver: %w", err)
	}
	h, err := json.Marshal(struct {
		Typ string          `json:"typ"`
		Alg string          `json:"alg"`
		JWK json.RawMessage `json:"jwk"`
	}{"dpop+jwt", alg, rawJWK})
	if err != nil {
		return nil, fmt.Errorf("dpop: NewProver: %w", err)
	}
	return &Prover{
		key: key, alg: alg, now: s.now,
		header: []byte(base64.RawURLEncoding.EncodeToString(h)),
		jkt:    base64.RawURLEncoding.EncodeToString(tp),
		nonces: make(map[string]string),
	}, nil
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the Prover's
// public key, base64url: the jkt a server binds tokens to.
func (p *Prover) Thumbprint() string { return p.jkt }

// Proof returns a fresh proof for a request of method to rawURL (its query
// and fragment are left out of htu), with the hash of accessToken (ath)
// when it is not "" and the server's nonce when it is not "".
func (p *Prover) Proof(method, rawURL, accessToken, nonce string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("dpop: Proof: %.100q is not an absolute http(s) URL", rawURL)
	}
	htu := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	claims := struct {
		JTI   string `json:"jti"`
		HTM   string `json:"htm"`
		HTU   string `json:"htu"`
		IAT   int64  `json:"iat"`
		ATH   string `json:"ath,omitempty"`
		Nonce string `json:"nonce,omitempty"`
	}{base64.RawURLEncoding.EncodeToString(jti[:]), method, htu, p.now().Unix(), "", nonce}
	if accessToken != "" {
		claims.ATH = AccessTokenHash(accessToken)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("dpop: Proof: %w", err)
	}
	signing := make([]byte, 0, len(p.header)+1+base64.RawURLEncoding.EncodedLen(len(payload)))
	signing = append(append(append(signing, p.header...), '.'), base64.RawURLEncoding.EncodeToString(payload)...)
	sig, err := p.sign(signing)
	if err != nil {
		return "", fmt.Errorf("dpop: Proof: signing: %w", err)
	}
	return string(signing) + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// sign returns the JWS signature of msg by the Prover's key.
func (p *Prover) sign(msg []byte) ([]byte, error) {
	if p.alg == "EdDSA" {
		return p.key.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	var h crypto.Hash
	switch p.alg[2:] {
	case "256":
		h = crypto.SHA256
	case "384":
		h = crypto.SHA384
	default:
		h = crypto.SHA512
	}
	var hh hash.Hash
	switch h {
	case crypto.SHA256:
		hh = sha256.New()
	case crypto.SHA384:
		hh = sha512.New384()
	default:
		hh = sha512.New()
	}
	hh.Write(msg)
	digest := hh.Sum(nil)
	switch p.alg[:2] {
	case "PS":
		return p.key.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
	case "RS":
		return p.key.Sign(rand.Reader, digest, h)
	}
	der, err := p.key.Sign(rand.Reader, digest, h)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, errors.New("ECDSA signature is not DER")
	}
	size := (p.key.Public().(*ecdsa.PublicKey).Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// Transport returns an http.RoundTripper that sends each request through
// base (http.DefaultTransport when nil) with a fresh DPoP proof: a request
// with an Authorization header of the Bearer or DPoP scheme is sent under
// DPoP, with the hash of its token in the proof; one without is sent with
// a proof alone (a login, or a refresh with the token in the body). A
// refusal with use_dpop_nonce is retried once with the server's nonce when
// the request can be resent (no body, or GetBody set); the last
// DPoP-Nonce of each origin goes into the next proof for it.
func (p *Prover) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{p: p, base: base}
}

type transport struct {
	p    *Prover
	base http.RoundTripper
}

// RoundTrip sends req with a proof, retrying once on use_dpop_nonce.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	token := ""
	if a := req.Header.Get("Authorization"); a != "" {
		scheme, tok, ok := strings.Cut(a, " ")
		if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) {
			token = strings.TrimSpace(tok)
		}
	}
	resp, err := t.send(req, token, t.p.nonce(origin))
	if err != nil {
		return nil, err
	}
	n := resp.Header.Get("DPoP-Nonce")
	if n != "" {
		t.p.setNonce(origin, n)
	}
	if n == "" || !askedForNonce(resp) || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return t.send(req, token, n)
}

// send sends a copy of req with a proof (and the DPoP scheme for token).
func (t *transport) send(req *http.Request, token, nonce string) (*http.Response, error) {
	proof, err := t.p.Proof(req.Method, req.URL.String(), token, nonce)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		if r.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	if token != "" {
		r.Header.Set("Authorization", "DPoP "+token)
	}
	r.Header.Set("DPoP", proof)
	return t.base.RoundTrip(r)
}

// askedForNonce reports whether resp refuses a proof for want of the
// server's nonce (use_dpop_nonce in the challenge or the JSON body).
func askedForNonce(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
		return false
	}
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		if strings.Contains(c, `error="use_dpop_nonce"`) {
			return true
		}
	}
	if resp.StatusCode == http.StatusBadRequest && resp.Body != nil {
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			var e struct {
				Error string `json:"error"`
				Code  string `json:"code"`
			}
			if json.Unmarshal(body, &e) == nil && (e.Error == codeNonce || e.Code == codeNonce) {
				return true
			}
		}
	}
	return false
}

func (p *Prover) nonce(origin string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nonces[origin]
}

func (p *Prover) setNonce(origin, n string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.nonces) > 1000 {
		clear(p.nonces)
	}
	p.nonces[origin] = n
}
