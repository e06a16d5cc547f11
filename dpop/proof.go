package dpop

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// This file parses a DPoP proof and checks its own parts (RFC 9449 §4.3
// steps 1–7): the checks against the request are in verifier.go.

// Bounds on a proof.
const (
	// MaxProofSize is the largest DPoP header accepted, in bytes: room for
	// an RSA 4096 key and signature, far less than an attack needs.
	MaxProofSize = 8 << 10
	// maxJTI bounds the jti, which is kept in the replay store.
	maxJTI = 256
	// minRSABits is the smallest RSA modulus accepted.
	minRSABits = 2048
)

// proof is a parsed, signature-checked DPoP proof.
type proof struct {
	jkt   string // RFC 7638 thumbprint of the header's jwk
	jti   string
	htm   string
	htu   string
	iat   time.Time
	ath   *string // nil: absent
	nonce *string // nil: absent
}

// proofHeader is the JOSE header of a proof.
type proofHeader struct {
	Typ string          `json:"typ"`
	Alg string          `json:"alg"`
	JWK json.RawMessage `json:"jwk"`
}

// proofClaims are the claims of a proof, each as its JSON.
type proofClaims struct {
	JTI   json.RawMessage `json:"jti"`
	HTM   json.RawMessage `json:"htm"`
	HTU   json.RawMessage `json:"htu"`
	IAT   json.RawMessage `json:"iat"`
	ATH   json.RawMessage `json:"ath"`
	Nonce json.RawMessage `json:"nonce"`
}

// Header parameters that name a key by reference, or change how the JWS
// is read: a proof has none of them.
var forbiddenHeader = []string{"jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc"}

// Members of a private or symmetric JWK.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseProof parses and checks the compact JWS s as a DPoP proof whose alg
// is one of algs.
func parseProof(s string, algs []string) (*proof, *failure) {
	if len(s) > MaxProofSize {
		return nil, failTooLarge
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, failMalformed
	}
	rawHeader, err := b64(parts[0])
	if err != nil {
		return nil, failMalformed
	}
	members, ok := objectMembers(rawHeader)
	if !ok {
		return nil, failHeader
	}
	for _, name := range forbiddenHeader {
		if _, ok := members[name]; ok {
			if strings.HasPrefix(name, "x5") || name == "jku" {
				return nil, failKeyRef
			}
			return nil, failHeader
		}
	}
	var h proofHeader
	if json.Unmarshal(rawHeader, &h) != nil {
		return nil, failHeader
	}
	if h.Typ != "dpop+jwt" {
		return nil, failType
	}
	if !contains(algs, h.Alg) {
		return nil, failAlg
	}
	if len(h.JWK) == 0 {
		return nil, failKeyRef
	}
	key, f := publicJWK(h.JWK, h.Alg)
	if f != nil {
		return nil, f
	}
	// The signature, by go-jose, against the key of the header only.
	jws, err := jose.ParseSignedCompact(s, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, failMalformed
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, failSignature
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, failJWK
	}
	p := &proof{jkt: base64.RawURLEncoding.EncodeToString(tp)}
	if f := p.readClaims(payload); f != nil {
		return nil, f
	}
	return p, nil
}

// publicJWK parses raw as a public JWK fit for alg.
func publicJWK(raw json.RawMessage, alg string) (*jose.JSONWebKey, *failure) {
	members, ok := objectMembers(raw)
	if !ok {
		return nil, failJWK
	}
	for _, name := range privateMembers {
		if _, ok := members[name]; ok {
			return nil, failPrivateJWK
		}
	}
	for _, name := range []string{"x5u", "x5c", "x5t", "x5t#S256"} {
		if _, ok := members[name]; ok {
			return nil, failKeyRef
		}
	}
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON(raw); err != nil || !key.Valid() || !key.IsPublic() {
		return nil, failJWK
	}
	if !keyFits(key.Key, alg) {
		return nil, failWeakKey
	}
	return &key, nil
}

// keyFits reports whether k is a public key of alg's type (and curve),
// strong enough.
func keyFits(k any, alg string) bool {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return k.Curve == elliptic.P256()
		case "ES384":
			return k.Curve == elliptic.P384()
		case "ES512":
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(k) == ed25519.PublicKeySize
	case *rsa.PublicKey:
		return (strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")) && k.N.BitLen() >= minRSABits
	}
	return false
}

// readClaims reads the payload's claims into p.
func (p *proof) readClaims(payload []byte) *failure {
	if _, ok := objectMembers(payload); !ok {
		return failClaims
	}
	var c proofClaims
	if json.Unmarshal(payload, &c) != nil {
		return failClaims
	}
	var ok bool
	if p.jti, ok = jsonString(c.JTI); !ok || p.jti == "" || len(p.jti) > maxJTI {
		return failJTI
	}
	if p.htm, ok = jsonString(c.HTM); !ok {
		return failMethod
	}
	if p.htu, ok = jsonString(c.HTU); !ok {
		return failURI
	}
	if p.iat, ok = numericDate(c.IAT); !ok {
		return failClaims
	}
	if c.ATH != nil {
		s, ok := jsonString(c.ATH)
		if !ok {
			return failAth
		}
		p.ath = &s
	}
	if c.Nonce != nil {
		s, ok := jsonString(c.Nonce)
		if !ok {
			return failNonce
		}
		p.nonce = &s
	}
	return nil
}

// b64 decodes unpadded, canonical base64url.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// objectMembers returns the members of the JSON object data, or false
// when data is not one object or names a member twice.
func objectMembers(data []byte) (map[string]json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name, ok := t.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if _, dup := m[name]; dup {
			return nil, false
		}
		m[name] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err == nil {
		return nil, false // something after the object
	}
	return m, true
}

// jsonString decodes raw as a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// numericDate decodes raw as a JSON number of seconds since the epoch.
func numericDate(raw json.RawMessage) (time.Time, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, false
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || f < 0 || f > 253402300799 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
