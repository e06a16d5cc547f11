// Package b64 decodes unpadded base64url (RFC 4648 §5) strictly and without
// allocating: only the 64 alphabet characters, no padding, no white space,
// and the unused low bits of the last character must be zero, so every
// byte string has exactly one accepted encoding.
package b64

import "errors"

// ErrInvalid is returned for any input that is not canonical unpadded base64url.
var ErrInvalid = errors.New("not canonical unpadded base64url")

const invalid = 0xff

var decodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = invalid
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// DecodedLen returns the number of bytes n characters decode to.
func DecodedLen(n int) int { return n/4*3 + (n%4*6)/8 }

// Decode decodes src into dst, which must hold DecodedLen(len(src)) bytes,
// and returns the number of bytes written.
func Decode(dst []byte, src string) (int, error) {
	if len(src)%4 == 1 || len(dst) < DecodedLen(len(src)) {
		return 0, ErrInvalid
	}
	n := 0
	i := 0
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := decodeMap[src[i]], decodeMap[src[i+1]], decodeMap[src[i+2]], decodeMap[src[i+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return 0, ErrInvalid
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	switch len(src) - i {
	case 2:
		a, b := decodeMap[src[i]], decodeMap[src[i+1]]
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return 0, ErrInvalid
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := decodeMap[src[i]], decodeMap[src[i+1]], decodeMap[src[i+2]]
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return 0, ErrInvalid
		}
		dst[n], dst[n+1] = a<<2|b>>4, b<<4|c>>2
		n += 2
	}
	return n, nil
}
