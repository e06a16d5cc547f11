package authx

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"unsafe"

	"github.com/authx-go/authx/internal/b64"
	"github.com/authx-go/authx/internal/jsonscan"
)

// b64enc encodes unpadded base64url; decoding uses the strict internal/b64.
var b64enc = base64.RawURLEncoding

// Decode bounds. The issuer applies them too (options.go, token.go): an
// Auth never mints a token its decoder refuses.
const (
	maxHeaderBytes    = 2048
	maxSignatureBytes = maxRSABits / 8 // the longest signature: RSA's
	maxExtraHeaders   = 16             // header fields besides alg, kid and typ
)

var (
	errSegments    = errors.New("token does not have three non-empty segments")
	errBase64      = errors.New("segment is not canonical unpadded base64url")
	errNoAlg       = errors.New(`header has no "alg"`)
	errHeaderParam = errors.New("header names a key or a critical extension authx does not accept")
	errHeaderTyp   = errors.New(`header "typ" is not JWT`)
	errTooLarge    = errors.New("segment too large")
)

// forbiddenHeaders are header parameters that would let a token name its own
// verification key, demand an extension we do not implement, or claim to be
// something other than a JWS.
var forbiddenHeaders = [...]string{"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc", "cty"}

// ownHeaders are the header parameters authx writes and reads itself.
var ownHeaders = [...]string{"alg", "kid", "typ"}

// reservedHeader reports whether a header parameter is authx's own or
// forbidden, in any letter case: ExtraHeader may not set it.
func reservedHeader(name string) bool {
	for _, h := range ownHeaders {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	for _, h := range forbiddenHeaders {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// splitToken returns the positions of the two dots of a compact JWS, and
// errSegments unless it has three non-empty segments. It does not look at
// the alphabet: every segment is then decoded by the strict internal/b64,
// which refuses any byte outside base64url (a third dot included), so a
// second pass over the token would find nothing new.
func splitToken(tok string) (d1, d2 int, err error) {
	d1 = strings.IndexByte(tok, '.')
	if d1 <= 0 {
		return 0, 0, errSegments
	}
	j := strings.IndexByte(tok[d1+1:], '.')
	if j <= 0 {
		return 0, 0, errSegments
	}
	d2 = d1 + 1 + j
	if d2 == len(tok)-1 {
		return 0, 0, errSegments
	}
	return d1, d2, nil
}

// decodeHeader strictly decodes and checks the protected header, looking up
// the kid in kr. buf is scratch space for the decoded JSON; nothing returned
// refers to it, so it can live on the caller's stack.
func (kr *keyring) decodeHeader(seg string, buf []byte) (jwsHeader, error) {
	var h jwsHeader
	n := b64.DecodedLen(len(seg))
	if n > maxHeaderBytes {
		return h, errTooLarge
	}
	if n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := b64.Decode(buf, seg)
	if err != nil {
		return h, errBase64
	}
	sc := jsonscan.New(buf[:n])
	if err := sc.Begin(); err != nil {
		return h, err
	}
	var seenAlg, seenTyp, seenKid bool
	var others []string // copies, so that buf stays on the caller's stack
	for {
		key, done, err := sc.Next()
		if err != nil {
			return h, err
		}
		if done {
			break
		}
		switch string(key) {
		case "alg":
			if seenAlg {
				return h, errDuplicate
			}
			seenAlg = true
			v, err := sc.String()
			if err != nil {
				return h, err
			}
			h.alg = internAlg(v)
			if h.alg == "" {
				// Unknown or "none": no key can verify it.
				h.alg = "?"
			}
		case "typ":
			if seenTyp {
				return h, errDuplicate
			}
			seenTyp = true
			v, err := sc.String()
			if err != nil {
				return h, err
			}
			switch {
			case strings.EqualFold(string(v), "JWT"):
			case kr.external && (strings.EqualFold(string(v), "at+jwt") || strings.EqualFold(string(v), "application/at+jwt")):
				h.atJWT = true
			default:
				return h, errHeaderTyp
			}
		case "kid":
			if seenKid {
				return h, errDuplicate
			}
			seenKid = true
			v, err := sc.String()
			if err != nil {
				return h, err
			}
			h.hasKID = true
			h.key = kr.byKID[string(v)]
			if kr.external {
				h.kid = string(v)
			}
		default:
			for _, f := range forbiddenHeaders {
				if strings.EqualFold(string(key), f) {
					return h, errHeaderParam
				}
			}
			if strings.EqualFold(string(key), "alg") || strings.EqualFold(string(key), "kid") || strings.EqualFold(string(key), "typ") {
				return h, errCaseVariant
			}
			for _, o := range others {
				if o == string(key) {
					return h, errDuplicate
				}
			}
			if len(others) == maxExtraHeaders {
				return h, errTooLarge
			}
			others = append(others, string(key))
			if _, err := sc.Skip(); err != nil {
				return h, err
			}
		}
	}
	if err := sc.End(); err != nil {
		return h, err
	}
	if !seenAlg {
		return h, errNoAlg
	}
	return h, nil
}

// maxKnownHeaders bounds the headers learnHeaders remembers (a linear
// search: each costs a string comparison on a miss).
const maxKnownHeaders = 4

// learnHeaders remembers what decodeHeader answers for the header
// segments the configured keys' tokens carry (appendHeader's, without
// extra fields), so that such a token's header costs one comparison.
// decodeHeader depends only on the segment and kr, which no longer
// changes: the answer is the same.
func (kr *keyring) learnHeaders() {
	keys := append([]*keySpec(nil), kr.noKID...)
	for _, k := range kr.byKID {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if len(kr.known) == maxKnownHeaders {
			return
		}
		seg := b64enc.EncodeToString(appendHeader(nil, k.alg, k.kid, nil))
		if h, err := kr.decodeHeader(seg, nil); err == nil {
			kr.known = append(kr.known, knownHeader{seg, h})
		}
	}
}

// header decodes a header segment, answering a known one from memory.
func (kr *keyring) header(seg string, buf []byte) (jwsHeader, error) {
	for i := range kr.known {
		if kr.known[i].seg == seg {
			return kr.known[i].h, nil
		}
	}
	return kr.decodeHeader(seg, buf)
}

// internAlg maps an alg header value to the configured algorithm's name
// without allocating, or "" if it is not one authx supports.
func internAlg(v []byte) string {
	switch string(v) {
	case "HS256":
		return "HS256"
	case "HS384":
		return "HS384"
	case "HS512":
		return "HS512"
	case "RS256":
		return "RS256"
	case "RS384":
		return "RS384"
	case "RS512":
		return "RS512"
	case "PS256":
		return "PS256"
	case "PS384":
		return "PS384"
	case "PS512":
		return "PS512"
	case "ES256":
		return "ES256"
	case "ES384":
		return "ES384"
	case "ES512":
		return "ES512"
	case "EdDSA":
		return "EdDSA"
	}
	return ""
}

// parse verifies a compact JWS with the keyring and decodes its claims
// into c, which must be zero. It checks only the token itself (size,
// shape, header, key, signature, claim syntax); time, issuer and audience
// are checked by the caller.
func (kr *keyring) parse(tok string, maxScopes int, c *Claims) error {
	d1, d2, err := splitToken(tok)
	if err != nil {
		return newError(ErrMalformed, err)
	}
	var hbuf [headerScratch]byte
	h, err := kr.header(tok[:d1], hbuf[:])
	if err != nil {
		return newError(ErrMalformed, err)
	}
	var sbuf [signatureScratch]byte
	sig, err := decodeSignature(tok[d2+1:], sbuf[:])
	if err != nil {
		return err
	}
	if err := kr.verify(h, tok[:d2], sig); err != nil {
		return err
	}
	// The signature holds: decode the claims.
	payload, err := decodePayload(tok[d1+1 : d2])
	if err != nil {
		return err
	}
	return decodeClaimsInto(payload, maxScopes, c)
}

// parseNew is parse into new Claims.
func (kr *keyring) parseNew(tok string, maxScopes int) (*Claims, error) {
	c := new(Claims)
	if err := kr.parse(tok, maxScopes, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Stack scratch sizes (Go zeroes a stack array on every call, so they are
// not larger than the common case): a header with a kid; the signatures
// of HMAC, ECDSA, Ed25519 and RSA up to 2048 bits. Longer ones are decoded
// into the heap.
const (
	headerScratch    = 128
	signatureScratch = 256
)

// decodeSignature decodes a signature segment of at most
// maxSignatureBytes into buf, or a new slice if it does not fit.
func decodeSignature(seg string, buf []byte) ([]byte, error) {
	n := b64.DecodedLen(len(seg))
	if n > maxSignatureBytes {
		return nil, newError(ErrMalformed, errTooLarge)
	}
	if n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := b64.Decode(buf, seg)
	if err != nil {
		return nil, newError(ErrMalformed, errBase64)
	}
	return buf[:n], nil
}

// decodePayload decodes a claims segment into a new string: one
// allocation, no copy (the bytes are decoded in place and never written
// again), whose memory every claim string then shares.
func decodePayload(seg string) (string, error) {
	n := b64.DecodedLen(len(seg))
	if n == 0 {
		return "", newError(ErrMalformed, errBase64)
	}
	buf := make([]byte, n)
	n, err := b64.Decode(buf, seg)
	if err != nil || n == 0 {
		return "", newError(ErrMalformed, errBase64)
	}
	return unsafe.String(&buf[0], n), nil
}

// verify finds the key for h and checks the signature.
func (kr *keyring) verify(h jwsHeader, input string, sig []byte) error {
	if h.hasKID {
		k := h.key
		if k == nil {
			return newError(ErrUnknownKey, nil)
		}
		if k.alg != h.alg {
			return newError(ErrAlgorithm, nil)
		}
		if !k.verifySignature(input, sig) {
			return newError(ErrSignature, nil)
		}
		return nil
	}
	// No kid: any key without a kid and with the token's algorithm, current
	// key first (Python AuthX's previous-key rotation, with any number of keys).
	tried := false
	for _, k := range kr.noKID {
		if k.alg != h.alg {
			continue
		}
		tried = true
		if k.verifySignature(input, sig) {
			return nil
		}
	}
	if !tried {
		if len(kr.noKID) == 0 {
			return newError(ErrUnknownKey, errors.New("token has no kid and every key has one"))
		}
		return newError(ErrAlgorithm, nil)
	}
	return newError(ErrSignature, nil)
}

// appendHeader appends the JOSE header of a token of alg and kid ("" for
// none) with the extra fields.
func appendHeader(b []byte, alg, kid string, extra map[string]json.RawMessage) []byte {
	b = append(b, `{"alg":`...)
	b = appendString(b, alg)
	if kid != "" {
		b = append(b, `,"kid":`...)
		b = appendString(b, kid)
	}
	b = append(b, `,"typ":"JWT"`...)
	for _, name := range sortedKeys(extra) {
		b = append(b, ',')
		b = appendString(b, name)
		b = append(b, ':')
		b = append(b, extra[name]...)
	}
	return append(b, '}')
}

// encode encodes header and claims and signs them with k.
func (k *keySpec) encode(c *Claims, data map[string]json.RawMessage, extra map[string]json.RawMessage) (string, error) {
	hdr := appendHeader(make([]byte, 0, 64), k.alg, k.kid, extra)
	payload := appendClaims(make([]byte, 0, 256), c, data)

	out := make([]byte, 0, b64enc.EncodedLen(len(hdr))+b64enc.EncodedLen(len(payload))+2+b64enc.EncodedLen(512))
	out = b64enc.AppendEncode(out, hdr)
	out = append(out, '.')
	out = b64enc.AppendEncode(out, payload)
	sig, err := k.signature(out)
	if err != nil {
		return "", err
	}
	out = append(out, '.')
	out = b64enc.AppendEncode(out, sig)
	return string(out), nil
}
