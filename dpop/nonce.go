package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"time"
)

// NonceSource makes and checks the server nonces of RFC 9449 §8 for
// [WithNonces].
type NonceSource interface {
	// Nonce returns the nonce to hand out at now.
	Nonce(now time.Time) string
	// Valid reports whether a proof made at now may carry nonce.
	Valid(nonce string, now time.Time) bool
}

// HMACNonces is a [NonceSource] that needs no storage: the nonce of each
// period is an HMAC of the period's number, so every replica sharing the
// secret makes and accepts the same nonces. A nonce is accepted in its
// period and the next, so one handed out just before a rotation still
// works.
type HMACNonces struct {
	secret []byte
	period time.Duration
}

// NewNonceSource returns the [HMACNonces] of secret (at least 32 bytes,
// random; copied) rotating every period (at least 1 second).
func NewNonceSource(secret []byte, period time.Duration) (*HMACNonces, error) {
	if len(secret) < 32 {
		return nil, errors.New("dpop: NewNonceSource: the secret must be at least 32 bytes")
	}
	if period < time.Second {
		return nil, errors.New("dpop: NewNonceSource: the period must be at least 1s")
	}
	return &HMACNonces{secret: append([]byte(nil), secret...), period: period}, nil
}

// Nonce returns the nonce of now's period.
func (n *HMACNonces) Nonce(now time.Time) string { return n.of(n.epoch(now)) }

// Valid reports whether nonce is that of now's period or the one before.
func (n *HMACNonces) Valid(nonce string, now time.Time) bool {
	e := n.epoch(now)
	return hmac.Equal([]byte(nonce), []byte(n.of(e))) || hmac.Equal([]byte(nonce), []byte(n.of(e-1)))
}

func (n *HMACNonces) epoch(now time.Time) int64 { return now.UnixNano() / int64(n.period) }

func (n *HMACNonces) of(epoch int64) string {
	m := hmac.New(sha256.New, n.secret)
	m.Write([]byte("authx dpop nonce\x00"))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(epoch))
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// Nonce returns the nonce a client should put in its next proof, "" when
// nonces are off ([WithNonces]). Send it in a DPoP-Nonce header (or use
// [Verifier.SendNonce]) so that clients need not be refused once per
// rotation to learn it.
func (v *Verifier) Nonce() string {
	if v.nonces == nil {
		return ""
	}
	return v.nonces.Nonce(v.now())
}

// SendNonce returns h with a DPoP-Nonce header (the current nonce) on
// every response, when nonces are on; h itself otherwise.
func (v *Verifier) SendNonce(h http.Handler) http.Handler {
	if v.nonces == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DPoP-Nonce", v.Nonce())
		h.ServeHTTP(w, r)
	})
}
