package authx

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"unsafe"
)

// This file checks signatures on the request path. HMAC, ECDSA, Ed25519 and
// RSA PKCS #1 v1.5 are checked here directly with the standard library, as
// golang-jwt's methods check them, but without copying the signing input,
// converting the signature to big.Ints or allocating; RSASSA-PSS (rare, and
// dominated by the RSA operation) goes through golang-jwt.

// view returns the bytes of s without copying them. The callers only read
// them (a hash's Write, ed25519.Verify), and nothing keeps them.
func view(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// verifySignature checks sig over input with k's public key or secret.
func (k *keySpec) verifySignature(input string, sig []byte) bool {
	msg := view(input)
	if k.hmacPool != nil {
		st := k.hmacPool.Get().(*hmacState)
		st.h.Reset()
		st.h.Write(msg)
		st.buf = st.h.Sum(st.buf[:0])
		ok := hmac.Equal(st.buf, sig)
		k.hmacPool.Put(st)
		return ok
	}
	switch pub := k.verify.(type) {
	case *ecdsa.PublicKey:
		return verifyECDSA(k.alg, pub, msg, sig)
	case ed25519.PublicKey:
		// The key was checked at construction (ed25519Key): 32 bytes.
		return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
	case *rsa.PublicKey:
		if k.alg[0] == 'R' { // RS256, RS384, RS512
			return verifyPKCS1(k.alg, pub, msg, sig)
		}
	}
	// The copy keeps sig (on the caller's stack) from escaping through the
	// interface call.
	return k.method.Verify(input, bytes.Clone(sig), k.verify) == nil
}

// digest hashes msg with the hash of alg's size (256, 384 or 512, from the
// last three characters of the name) into buf, returning the digest and
// its crypto.Hash.
func digest(alg string, msg []byte, buf *[sha512.Size]byte) ([]byte, crypto.Hash) {
	switch alg[len(alg)-3:] {
	case "384":
		*(*[sha512.Size384]byte)(buf[:]) = sha512.Sum384(msg)
		return buf[:sha512.Size384], crypto.SHA384
	case "512":
		*buf = sha512.Sum512(msg)
		return buf[:], crypto.SHA512
	}
	*(*[sha256.Size]byte)(buf[:]) = sha256.Sum256(msg)
	return buf[:sha256.Size], crypto.SHA256
}

// verifyPKCS1 checks an RS256/RS384/RS512 signature.
func verifyPKCS1(alg string, pub *rsa.PublicKey, msg, sig []byte) bool {
	var buf [sha512.Size]byte
	h, hash := digest(alg, msg, &buf)
	return rsa.VerifyPKCS1v15(pub, hash, h, sig) == nil
}

// verifyECDSA checks a JWS ECDSA signature (RFC 7518 §3.4: R and S as
// fixed-size big-endian integers, concatenated) by writing it as the
// ASN.1 DER ECDSA-Sig-Value that ecdsa.VerifyASN1 reads, on the stack.
func verifyECDSA(alg string, pub *ecdsa.PublicKey, msg, sig []byte) bool {
	size := (pub.Curve.Params().BitSize + 7) / 8
	if len(sig) != 2*size {
		return false
	}
	var hbuf [sha512.Size]byte
	h, _ := digest(alg, msg, &hbuf)
	var dbuf [maxECDSADER]byte
	der, ok := appendECDSADER(dbuf[:0], sig[:size], sig[size:])
	return ok && ecdsa.VerifyASN1(pub, h, der)
}

// maxECDSADER is the longest DER signature of P-521: a SEQUENCE (3 bytes of
// tag and long-form length) of two INTEGERs of at most 1+66 bytes each.
const maxECDSADER = 3 + 2*(2+1+66)

// appendECDSADER appends SEQUENCE { INTEGER r, INTEGER s } in DER (minimal
// integers, a 0x00 before a high bit), reporting false for a zero r or s,
// which no valid signature has.
func appendECDSADER(b, r, s []byte) ([]byte, bool) {
	r, s = bytes.TrimLeft(r, "\x00"), bytes.TrimLeft(s, "\x00")
	if len(r) == 0 || len(s) == 0 {
		return nil, false
	}
	intLen := func(v []byte) int { return 2 + len(v) + int(v[0]>>7) }
	n := intLen(r) + intLen(s)
	b = append(b, 0x30)
	if n >= 0x80 {
		b = append(b, 0x81)
	}
	b = append(b, byte(n))
	for _, v := range [2][]byte{r, s} {
		b = append(b, 0x02, byte(len(v)+int(v[0]>>7)))
		if v[0]&0x80 != 0 {
			b = append(b, 0)
		}
		b = append(b, v...)
	}
	return b, true
}
