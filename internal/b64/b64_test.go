package b64

import (
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// std is the reference: the standard library's unpadded base64url decoder in
// strict mode (non-zero trailing bits rejected). Unlike ours it skips '\r'
// and '\n', so comparisons leave those out or expect ours to be stricter.
var std = base64.RawURLEncoding.Strict()

// decode runs Decode with a buffer of exactly DecodedLen bytes.
func decode(src string) ([]byte, error) {
	dst := make([]byte, DecodedLen(len(src)))
	n, err := Decode(dst, src)
	if err != nil {
		return nil, err
	}
	return dst[:n], nil
}

func TestDecodedLen(t *testing.T) {
	t.Parallel()
	for n := 0; n <= 64; n++ {
		if n%4 == 1 {
			continue // never a valid length
		}
		if got, want := DecodedLen(n), base64.RawURLEncoding.DecodedLen(n); got != want {
			t.Errorf("DecodedLen(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		want    []byte
		wantErr bool
		reason  string
	}{
		{name: "empty", src: "", want: []byte{}},
		{name: "one byte", src: "QQ", want: []byte("A")},
		{name: "two bytes", src: "QUI", want: []byte("AB")},
		{name: "three bytes", src: "QUJD", want: []byte("ABC")},
		{name: "four bytes", src: "QUJDRA", want: []byte("ABCD")},
		{name: "url alphabet", src: "-_-_", want: []byte{0xfb, 0xff, 0xbf}},
		{name: "all zero bits", src: "AAAA", want: []byte{0, 0, 0}},
		{name: "all one bits", src: "____", want: []byte{0xff, 0xff, 0xff}},
		{name: "JWT header", src: "eyJhbGciOiJIUzI1NiJ9", want: []byte(`{"alg":"HS256"}`)},

		{name: "length 1 mod 4", src: "Q", wantErr: true, reason: "one character cannot carry a byte"},
		{name: "length 5", src: "QUJDR", wantErr: true},
		{name: "trailing bits in 2-char tail", src: "QR", wantErr: true, reason: `"QR" has non-zero unused bits; only "QQ" encodes "A"`},
		{name: "trailing bits in 3-char tail", src: "QUJ", wantErr: true, reason: `"QUJ" has non-zero unused bits; only "QUI" encodes "AB"`},
		{name: "trailing bits after quantum", src: "QUJDRB", wantErr: true},
		{name: "padding", src: "QQ==", wantErr: true, reason: "padding is not allowed"},
		{name: "padding 3", src: "QUI=", wantErr: true},
		{name: "padding alone", src: "====", wantErr: true},
		{name: "standard alphabet plus", src: "+/+/", wantErr: true, reason: "'+' and '/' belong to the standard alphabet"},
		{name: "standard alphabet slash", src: "QUJ/", wantErr: true},
		{name: "newline", src: "QUJD\nRA", wantErr: true, reason: "the std decoder skips newlines; we do not"},
		{name: "carriage return", src: "QU\rJD", wantErr: true},
		{name: "trailing newline", src: "QUJD\n", wantErr: true},
		{name: "space", src: "QU JD", wantErr: true},
		{name: "tab", src: "QUJ\t", wantErr: true},
		{name: "dot", src: "QU.D", wantErr: true},
		{name: "NUL", src: "QU\x00D", wantErr: true},
		{name: "high byte", src: "QU\xffD", wantErr: true, reason: "0xff must not alias the invalid marker"},
		{name: "non-ASCII letter", src: "QUé", wantErr: true},
		{name: "bad char in tail", src: "QUJD!A", wantErr: true},
		{name: "bad char in first of tail", src: "QUJD!", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decode(tt.src)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Decode(%q) = %x, %v; want ErrInvalid (%s)", tt.src, got, err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.src, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode(%q) mismatch (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestDecodeShortBuffer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		dstLen int
	}{
		{name: "one short", src: "QUJD", dstLen: 2},
		{name: "tail one short", src: "QUI", dstLen: 1},
		{name: "nil dst", src: "QQ", dstLen: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if n, err := Decode(make([]byte, tt.dstLen), tt.src); !errors.Is(err, ErrInvalid) {
				t.Errorf("Decode(len %d, %q) = %d, %v; want ErrInvalid", tt.dstLen, tt.src, n, err)
			}
		})
	}
}

// TestDecodeLargerBuffer checks that a dst larger than needed is fine and
// that nothing past the decoded length is written.
func TestDecodeLargerBuffer(t *testing.T) {
	t.Parallel()
	dst := []byte("xxxxxxxx")
	n, err := Decode(dst, "QUI")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("ABxxxxxx", string(dst)); diff != "" || n != 2 {
		t.Errorf("Decode into larger buffer: n = %d (-want +got):\n%s", n, diff)
	}
}

// TestDecodeRoundTrip: every byte string's canonical encoding decodes back.
func TestDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		b := make([]byte, rng.IntN(80))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		enc := base64.RawURLEncoding.EncodeToString(b)
		got, err := decode(enc)
		if err != nil {
			t.Fatalf("Decode(%q) of %x: %v", enc, b, err)
		}
		if diff := cmp.Diff(b, got); diff != "" {
			t.Fatalf("Decode(%q) mismatch (-want +got):\n%s", enc, diff)
		}
	}
}

// TestDecodeMatchesStd: random strings over an alphabet that mixes valid
// characters with the usual near-misses. Whenever the std strict decoder
// rejects, ours rejects; whenever ours accepts, std agrees on the output;
// strings with a character std skips ('\r', '\n') or rejects are refused.
func TestDecodeMatchesStd(t *testing.T) {
	t.Parallel()
	const valid = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	const bad = "=\n\r+/ \t.\x00\xff"
	alphabet := valid + valid + bad
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 50000; i++ {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			if rng.IntN(8) == 0 {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[j] = valid[rng.IntN(len(valid))]
			}
		}
		src := string(b)
		got, err := decode(src)
		want, stdErr := std.DecodeString(src)
		switch {
		case strings.IndexFunc(src, func(r rune) bool { return r == utf8.RuneError || strings.ContainsRune(bad[:len(bad)-1], r) }) >= 0:
			if err == nil {
				t.Fatalf("Decode(%q) = %x; want an error for a non-alphabet character", src, got)
			}
		case stdErr != nil:
			if err == nil {
				t.Fatalf("Decode(%q) = %x; std strict rejects it (%v)", src, got, stdErr)
			}
		case err != nil:
			t.Fatalf("Decode(%q): %v; std strict accepts it as %x", src, err, want)
		default:
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("Decode(%q) mismatch with std (-want +got):\n%s", src, diff)
			}
		}
	}
}

// TestDecodeTrailingBits: for every last character of a 2- and 3-character
// tail, exactly the ones std strict accepts are accepted.
func TestDecodeTrailingBits(t *testing.T) {
	t.Parallel()
	const valid = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, prefix := range []string{"Q", "QU", "QUJDQ", "QUJDQU"} {
		accepted := 0
		for i := 0; i < len(valid); i++ {
			src := prefix + valid[i:i+1]
			_, err := decode(src)
			_, stdErr := std.DecodeString(src)
			if (err == nil) != (stdErr == nil) {
				t.Errorf("Decode(%q) err = %v, std strict err = %v", src, err, stdErr)
			}
			if err == nil {
				accepted++
			}
		}
		// 2-char tail: 4 unused bits, 4 of 64 last characters are canonical;
		// 3-char tail: 2 unused bits, 16 of 64.
		want := 4
		if len(prefix)%4 == 2 {
			want = 16
		}
		if accepted != want {
			t.Errorf("prefix %q: %d canonical last characters, want %d", prefix, accepted, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"", "QQ", "QR", "QUI", "QUJ", "QUJD", "QUJDRA", "Q", "QQ==", "+/+/", "-_-_",
		"QUJD\nRA", "eyJhbGciOiJIUzI1NiJ9", "\xff\xff", "____",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := decode(src)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Decode(%q): error %v is not ErrInvalid", src, err)
		}
		if strings.ContainsAny(src, "\r\n") {
			// std skips line breaks; we never accept them.
			if err == nil {
				t.Fatalf("Decode(%q) = %x; want an error for a line break", src, got)
			}
			return
		}
		want, stdErr := std.DecodeString(src)
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("Decode(%q) err = %v, std strict err = %v", src, err, stdErr)
		}
		if err != nil {
			return
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Decode(%q) mismatch with std (-want +got):\n%s", src, diff)
		}
		// Canonical: re-encoding gives back the input.
		if enc := base64.RawURLEncoding.EncodeToString(got); enc != src {
			t.Fatalf("Decode(%q) accepted a non-canonical encoding of %x (canonical %q)", src, got, enc)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	src := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat(`{"sub":"alice","jti":"x"}`, 8)))
	dst := make([]byte, DecodedLen(len(src)))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Decode(dst, src); err != nil {
			b.Fatal(err)
		}
	}
}
