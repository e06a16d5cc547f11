package authx

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The fuzz targets run in package authx so that they can reach the token
// locator and the claims decoder directly. They share a fixed clock and keys.
var (
	fuzzNow       = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	fuzzSecret    = []byte("fuzz-secret-HS256-0123456789abcdef")
	fuzzSecret384 = []byte("fuzz-secret-HS384-0123456789abcdef0123456789abcdef")
	fuzzIssuer    = "https://issuer.example"
	fuzzAudiences = []string{"api", "other"}
)

// fuzzSentinels is every sentinel an error from Verify or a guard may wrap.
var fuzzSentinels = []error{
	ErrNoToken, ErrTokenTooLarge, ErrInvalidRequest, ErrMalformed, ErrAlgorithm, ErrUnknownKey,
	ErrSignature, ErrMissingClaim, ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrIssuer,
	ErrAudience, ErrRevoked, ErrAccessRequired, ErrRefreshRequired, ErrNotFresh,
	ErrInsufficientScope, ErrForbidden, ErrCSRFMissing, ErrCSRFMismatch, ErrSubjectNotFound,
	ErrUnavailable, ErrMisconfigured, ErrNotConfigured, ErrConfig, ErrTokenOption, ErrNoSigningKey,
}

func fuzzClock() time.Time { return fuzzNow }

// newFuzzAuth builds an Auth[string] on the fixed clock with the shared
// keys: HS256 without kid (signing) and HS384 with kid "k2" (verification).
func newFuzzAuth(tb testing.TB, opts ...Option) *Auth[string] {
	tb.Helper()
	base := []Option{
		WithSecret(fuzzSecret),
		WithVerificationKey("k2", "HS384", fuzzSecret384),
		WithClock(fuzzClock),
	}
	a, err := New[string](append(base, opts...)...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return a
}

// checkAuthxError checks that err is an *Error wrapping exactly one authx
// sentinel, with a status in allowed, and returns it.
func checkAuthxError(tb testing.TB, err error, allowed ...int) *Error {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T) is not an *authx.Error", err, err)
	}
	n := 0
	for _, s := range fuzzSentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		tb.Fatalf("error %v matches %d authx sentinels, want exactly 1", err, n)
	}
	ok := false
	for _, s := range allowed {
		ok = ok || e.Status == s
	}
	if !ok {
		tb.Fatalf("error %v has status %d, want one of %v", err, e.Status, allowed)
	}
	if got := StatusOf(err); got != e.Status {
		tb.Fatalf("StatusOf(%v) = %d, *Error.Status = %d", err, got, e.Status)
	}
	return e
}

// resign replaces the signature of tok (header.payload[.anything]) with a
// valid one: key 1 signs with the HS256 secret, key 2 with the HS384 one.
// Other keys, or a token without two segments, leave tok as it is.
func resign(tok string, key uint8) string {
	var h func() hash.Hash
	var secret []byte
	switch key % 3 {
	case 1:
		h, secret = sha256.New, fuzzSecret
	case 2:
		h, secret = sha512.New384, fuzzSecret384
	default:
		return tok
	}
	d1 := strings.IndexByte(tok, '.')
	if d1 < 0 {
		return tok
	}
	input := tok
	if d2 := strings.IndexByte(tok[d1+1:], '.'); d2 >= 0 {
		input = tok[:d1+1+d2]
	}
	m := hmac.New(h, secret)
	m.Write([]byte(input))
	return input + "." + b64enc.EncodeToString(m.Sum(nil))
}

// rawToken builds header.payload from JSON texts, unsigned.
func rawToken(header, payload string) string {
	return b64enc.EncodeToString([]byte(header)) + "." + b64enc.EncodeToString([]byte(payload))
}

// checkStrictObject checks that an accepted JSON object is valid for
// encoding/json and has no duplicate member names at the top level.
func checkStrictObject(tb testing.TB, what string, doc []byte) {
	tb.Helper()
	if !json.Valid(doc) {
		tb.Fatalf("%s %q accepted but not valid JSON", what, doc)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		tb.Fatalf("%s %q accepted but not a JSON object", what, doc)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			tb.Fatalf("%s %q: %v", what, doc, err)
		}
		key := tok.(string)
		if seen[key] {
			tb.Fatalf("%s %q accepted with duplicate member %q", what, doc, key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			tb.Fatalf("%s %q: %v", what, doc, err)
		}
	}
}

// seedClaims are valid claims for FuzzVerify's Auth, expiring two hours
// after fuzzNow.
const seedClaims = `{"sub":"s","jti":"j","type":"access","iss":"https://issuer.example","aud":"api","exp":1893560645}`

func FuzzVerify(f *testing.F) {
	a := newFuzzAuth(f, WithIssuer(fuzzIssuer), WithAudience(fuzzAudiences...))
	k2, err := New[string](
		WithSigningKey("HS384", fuzzSecret384), WithKeyID("k2"), WithClock(fuzzClock),
		WithIssuer(fuzzIssuer), WithAudience("api"))
	if err != nil {
		f.Fatal(err)
	}
	mint := func(tok string, err error) string {
		f.Helper()
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	// dave's token names a live session of his (tokens of unknown sessions
	// are refused).
	if err := a.e.sessions.Create(context.Background(), SessionInfo{ID: "s-1", Subject: "dave", ExpiresAt: fuzzNow.Add(time.Hour)}); err != nil {
		f.Fatal(err)
	}
	valid := []string{
		mint(a.CreateAccessToken("alice")),
		mint(a.CreateAccessToken("alice", FreshLogin(), Grant("read", "admin:*"))),
		mint(a.CreateAccessToken("bob", Grant())),
		mint(a.CreateAccessToken("carol", Claim("role", "admin"), Claim("n", 42), Data(map[string]any{"org": map[string]any{"id": 7, "tags": []string{"x", "y"}}}))),
		mint(a.CreateAccessToken("dave", ForAudience("other"), Session("s-1"), ExtraHeader("x-extra", []int{1, 2}))),
		mint(a.CreateAccessToken("erin", ValidFrom(fuzzNow.Add(-time.Minute)), TokenID("jti-1"), ExpiresIn(time.Hour))),
		mint(a.CreateAccessToken("ünïcode \"quoted\" \\ \u2028")),
		mint(a.CreateRefreshToken("alice", Grant("refresh"))),
		mint(a.CreateAccessToken("late", ValidFrom(fuzzNow.Add(time.Hour)))),
		mint(a.CreateAccessToken("old", ExpiresAt(fuzzNow.Add(-time.Second)))),
		mint(a.CreateAccessToken("stranger", ForAudience("elsewhere"))),
		mint(k2.CreateAccessToken("kid-user", Grant("x:y"))),
	}
	pair, err := a.CreateTokenPair("pat", Grant("a"))
	if err != nil {
		f.Fatal(err)
	}
	valid = append(valid, pair.AccessToken, pair.RefreshToken)
	// The seeds are what they claim to be: the first seven minted tokens,
	// the kid one, the pair's access token and the harness-signed one verify.
	ctx := context.Background()
	for _, tok := range append(valid[:7:7], valid[11], pair.AccessToken, resign(rawToken(`{"alg":"HS256","typ":"JWT"}`, seedClaims), 1),
		resign(rawToken(`{"alg":"HS384","kid":"k2"}`, seedClaims), 2)) {
		if _, err := a.Verify(ctx, tok); err != nil {
			f.Fatalf("seed %q does not verify: %v", tok, err)
		}
	}
	for _, tok := range valid {
		f.Add(tok, uint8(0))
		f.Add(tok[:len(tok)-1], uint8(0))
		f.Add(tok[:strings.LastIndexByte(tok, '.')], uint8(1))
		f.Add(strings.Replace(tok, ".", "..", 1), uint8(0))
		f.Add(tok+"."+tok, uint8(0))
		b := []byte(tok)
		b[len(b)/2] ^= 1
		f.Add(string(b), uint8(0))
	}
	// Hand-made tokens, signed by the harness (key 1: HS256, 2: HS384 "k2").
	for _, seed := range []struct {
		hdr, payload string
		key          uint8
	}{
		{`{"alg":"HS256","typ":"JWT"}`, seedClaims, 1},
		{`{"alg":"HS384","kid":"k2"}`, seedClaims, 2},
		{`{"alg":"none"}`, seedClaims, 0},
		{`{"alg":"HS256","alg":"HS256"}`, seedClaims, 1},
		{`{"alg":"HS256","ALG":"none"}`, seedClaims, 1},
		{`{"alg":"HS256","jwk":{}}`, seedClaims, 1},
		{`{"alg":"HS256","crit":["exp"]}`, seedClaims, 1},
		{`{"alg":"HS256","kid":"nope"}`, seedClaims, 1},
		{`{"alg":"HS384"}`, seedClaims, 2},
		{`{"alg":"HS256","typ":"at+jwt"}`, seedClaims, 1},
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"access","exp":1893560645,"sub":"t"}`, 1},
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"refresh","iss":"https://issuer.example","aud":["x","api"],"exp":1893560645.5,"fresh":true}`, 1},
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"access","iss":"https://issuer.example","aud":["api"],"exp":1893560645,"nbf":1893553440,"iat":1893553440,"scopes":null,"csrf":null,"custom":{"a":[1,2,{"b":null}]}}`, 1},
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"access","iss":"https://issuer.example","aud":"api","exp":1e400}`, 1},
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"access","iss":"https://issuer.example","aud":"api","exp":"1893553445"}`, 1},
		{`{"alg":"HS256"}`, `{"sub":"","jti":"j","type":"access","exp":1893560645}`, 1},
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"access","EXP":1893553445}`, 1},
		{`{"alg":"HS256"}`, `{"sub":"s\ud800","jti":"j","type":"access","exp":1893560645}`, 1},
		{`{"alg":"HS256"}`, `[]`, 1},
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"access","iss":"https://issuer.example","aud":"api","exp":1893553445}`, 1}, // exp == now
		{`{"alg":"HS256"}`, `{"sub":"s","jti":"j","type":"access","iss":"https://issuer.example","aud":"api","exp":1893553445.001}`, 1},
	} {
		f.Add(rawToken(seed.hdr, seed.payload), seed.key)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "a.b.", ".b.c", "a..c", "a.b.c.d", "Bearer x", "\x00", strings.Repeat("A", 9000)} {
		f.Add(s, uint8(0))
	}

	f.Fuzz(func(t *testing.T, tok string, key uint8) {
		tok = resign(tok, key)
		c, err := a.Verify(ctx, tok)
		if err != nil {
			if c != nil {
				t.Fatalf("Verify returned claims with error %v", err)
			}
			checkAuthxError(t, err, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden)
			return
		}
		// Accepted: the claims hold together.
		switch {
		case c == nil:
			t.Fatal("Verify returned neither claims nor error")
		case c.Subject == "" || c.ID == "":
			t.Fatalf("verified claims without sub or jti: %+v", c)
		case c.Type != Access:
			t.Fatalf("verified a %q token without a Refresh policy", c.Type)
		case !c.ExpiresAt.After(fuzzNow):
			t.Fatalf("verified a token expiring at %v, now %v", c.ExpiresAt, fuzzNow)
		case c.NotBefore.After(fuzzNow) || c.IssuedAt.After(fuzzNow):
			t.Fatalf("verified a token with nbf %v, iat %v after now %v", c.NotBefore, c.IssuedAt, fuzzNow)
		case c.Issuer != fuzzIssuer:
			t.Fatalf("verified issuer %q", c.Issuer)
		case !hasAny(c.Audience, fuzzAudiences):
			t.Fatalf("verified audience %q, none of %q", c.Audience, fuzzAudiences)
		case len(c.Scopes) > a.e.cfg.maxScopes || len(tok) > a.e.cfg.maxToken:
			t.Fatalf("verified a token beyond the bounds: %d scopes, %d bytes", len(c.Scopes), len(tok))
		}
		// Only canonical, strict JSON gets this far.
		d1, d2, err := splitToken(tok)
		if err != nil {
			t.Fatalf("verified token fails splitToken: %v", err)
		}
		for _, seg := range []struct{ name, b64 string }{{"header", tok[:d1]}, {"claims", tok[d1+1 : d2]}} {
			raw, err := b64enc.Strict().DecodeString(seg.b64)
			if err != nil {
				t.Fatalf("verified token's %s is not strict base64url: %v", seg.name, err)
			}
			checkStrictObject(t, seg.name, raw)
		}
		// Verifying again gives the same claims.
		again, err := a.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("second Verify: %v", err)
		}
		if diff := cmp.Diff(c, again, cmp.AllowUnexported(Claims{}, rawClaim{})); diff != "" {
			t.Fatalf("second Verify differs (-first +second):\n%s", diff)
		}
	})
}

func hasAny(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

func FuzzDecodeClaims(f *testing.F) {
	a := newFuzzAuth(f, WithTokenLocations(InHeader, InCookie), WithAudience("api"), WithIssuer(fuzzIssuer))
	if err := a.e.sessions.Create(context.Background(), SessionInfo{ID: "sid-1", Subject: "alice", ExpiresAt: fuzzNow.Add(time.Hour)}); err != nil {
		f.Fatal(err)
	}
	for _, opts := range [][]TokenOption{
		nil,
		{FreshLogin(), Grant("read", "admin:*")},
		{Grant()},
		{Claim("role", "admin"), Claim("nested", map[string]any{"a": []any{1.5, "x", nil, true}})},
		{ForAudience("a", "b"), Session("sid-1"), ValidFrom(fuzzNow)},
	} {
		tok, err := a.CreateAccessToken("alice", opts...)
		if err != nil {
			f.Fatal(err)
		}
		payload, err := b64enc.DecodeString(tok[strings.IndexByte(tok, '.')+1 : strings.LastIndexByte(tok, '.')])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(payload))
	}
	pair, err := a.CreateTokenPair("bob")
	if err != nil {
		f.Fatal(err)
	}
	rp, err := b64enc.DecodeString(strings.Split(pair.RefreshToken, ".")[1])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(rp))
	for _, s := range []string{
		`{}`, `{"sub":"s","jti":"j","type":"access","exp":1}`,
		`{"sub":"s","jti":"j","type":"refresh","fresh":true,"exp":1.5,"aud":"x","scopes":null,"csrf":null,"sid":null,"fam":"f"}`,
		`{"sub":"s","jti":"j","type":"access","exp":1,"sub":"t"}`,
		`{"sub":"s","jti":"j","type":"access","exp":1,"Sub":"t"}`,
		`{"sub":"s","jti":"j","type":"access","exp":1,"x":1,"x":2}`,
		`{"sub":"s","jti":"j","type":"bearer","exp":1}`,
		`{"sub":"s","jti":"j","type":"access","exp":9007199254740993}`,
		`{"sub":"s","jti":"j","type":"access","exp":-62135596800}`,
		`{"sub":"s\u0000","jti":"\ud83d\ude00","type":"access","exp":1,"aud":[]}`,
		`{"sub":1,"jti":"j","type":"access","exp":1}`,
		`{"sub":"s","jti":"j","type":"access","exp":1,"scopes":["a",1]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		c, err := decodeClaims(payload, 256)
		if err != nil {
			e := checkAuthxError(t, err, http.StatusUnauthorized)
			if !errors.Is(e, ErrMalformed) && !errors.Is(e, ErrMissingClaim) {
				t.Fatalf("decodeClaims error %v is neither ErrMalformed nor ErrMissingClaim", err)
			}
			return
		}
		checkStrictObject(t, "claims", []byte(payload))
		switch {
		case c.Subject == "" || c.ID == "" || c.ExpiresAt.IsZero():
			t.Fatalf("accepted claims without sub, jti or exp: %+v", c)
		case c.Type != Access && c.Type != Refresh:
			t.Fatalf("accepted type %q", c.Type)
		case c.Type == Refresh && c.Fresh:
			t.Fatal("accepted a fresh refresh token")
		case len(c.Scopes) > 256:
			t.Fatalf("accepted %d scopes", len(c.Scopes))
		}

		// What we read is what encoding/json reads, member by member.
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(payload), &m); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		unmarshal := func(name string, v any) {
			if err := json.Unmarshal(m[name], v); err != nil {
				t.Fatalf("claim %q: we accept %s, encoding/json: %v", name, m[name], err)
			}
		}
		str := func(name string) string {
			var s *string // absent or null reads as ""
			if _, ok := m[name]; ok {
				unmarshal(name, &s)
			}
			if s == nil {
				return ""
			}
			return *s
		}
		strs := func(name string) []string {
			raw, ok := m[name]
			switch {
			case !ok:
				return nil
			case bytes.HasPrefix(raw, []byte(`"`)):
				return []string{str(name)}
			}
			var ss []string
			unmarshal(name, &ss)
			return ss
		}
		var fresh bool
		if _, ok := m["fresh"]; ok {
			unmarshal("fresh", &fresh)
		}
		want := map[string]any{
			"sub": str("sub"), "jti": str("jti"), "iss": str("iss"), "type": str("type"),
			"csrf": str("csrf"), "sid": str("sid"), "fam": str("fam"),
			"aud": strs("aud"), "scopes": strs("scopes"), "fresh": fresh && c.Type == Access,
		}
		got := map[string]any{
			"sub": c.Subject, "jti": c.ID, "iss": c.Issuer, "type": string(c.Type),
			"csrf": c.CSRF, "sid": c.SessionID, "fam": c.FamilyID,
			"aud": c.Audience, "scopes": c.Scopes, "fresh": c.Fresh,
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("claims differ from encoding/json's reading (-json +ours):\n%s", diff)
		}
		for _, name := range []string{"exp", "iat", "nbf"} {
			if raw, ok := m[name]; ok {
				var n json.Number
				unmarshal(name, &n)
				if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
					t.Fatalf("accepted %s = %s", name, raw)
				}
			}
		}
		// Custom data: every other member, each name unreserved in any case,
		// decoded by Get and Data as encoding/json decodes it (a number out
		// of float64 range is kept raw, and Get reports it absent).
		data := c.Data()
		custom, decodable := 0, 0
		for name, raw := range m {
			if idx, _ := reservedIndex(name); idx >= 0 {
				continue
			}
			custom++
			var v any
			jerr := json.Unmarshal(raw, &v)
			got, ok := c.Get(name)
			if ok != (jerr == nil) {
				t.Fatalf("custom claim %q = %s: Get ok = %v, encoding/json error %v", name, raw, ok, jerr)
			}
			if !ok {
				continue
			}
			decodable++
			if diff := cmp.Diff(v, got); diff != "" {
				t.Fatalf("custom claim %q (-json +ours):\n%s", name, diff)
			}
			if diff := cmp.Diff(v, data[name]); diff != "" {
				t.Fatalf("Data()[%q] (-json +ours):\n%s", name, diff)
			}
		}
		if custom != len(c.data) || len(data) != decodable {
			t.Fatalf("%d custom claims in the JSON (%d decodable), %d read, Data() has %d", custom, decodable, len(c.data), len(data))
		}
	})
}

// fuzzRequest builds a request from the FuzzLocate inputs. A header value
// of "" means the header is absent.
func fuzzRequest(method, authz, authz2, cookie, rawQuery, contentType, csrf string, body []byte) *http.Request {
	r := &http.Request{
		Method:        method,
		URL:           &url.URL{Path: "/", RawQuery: rawQuery},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Host:          "example.com",
		RemoteAddr:    "192.0.2.1:1234",
		RequestURI:    "/",
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
	}
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	for _, v := range []string{authz, authz2} {
		if v != "" {
			r.Header["Authorization"] = append(r.Header["Authorization"], v)
		}
	}
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if csrf != "" {
		r.Header.Set("X-CSRF-TOKEN", csrf)
	}
	return r
}

// csrfSafe are the only methods on which a cookie-borne token needs no CSRF
// header (RFC 9110 §9.2.1).
var csrfSafe = []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace}

func FuzzLocate(f *testing.F) {
	const maxToken, maxBody = 512, 1024
	a := newFuzzAuth(f,
		WithTokenLocations(InHeader, InCookie, InQuery, InJSON),
		WithMaxTokenSize(maxToken), WithMaxBodySize(maxBody))
	tok, err := a.CreateAccessToken("alice", Grant("read"))
	if err != nil {
		f.Fatal(err)
	}
	c, err := a.Verify(context.Background(), tok)
	if err != nil {
		f.Fatal(err)
	}
	refresh, err := a.CreateRefreshToken("alice")
	if err != nil {
		f.Fatal(err)
	}
	if len(tok) > maxToken || len(refresh) > maxToken {
		f.Fatalf("seed tokens of %d and %d bytes exceed the bound %d", len(tok), len(refresh), maxToken)
	}
	jsonBody := func(key, v string) []byte {
		b, err := json.Marshal(map[string]string{key: v, "other": "x"})
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	type seed struct {
		method, authz, authz2, cookie, query, ctype, csrf string
		body                                              []byte
		want                                              int // status through the guard
	}
	seeds := []seed{
		{method: "GET", authz: "Bearer " + tok, want: 200},
		{method: "GET", authz: "bearer   " + tok + "  ", want: 200},
		{method: "GET", authz: "Bearer " + tok, authz2: "Bearer " + tok, want: 400},
		{method: "GET", authz: "Basic dXNlcjpwYXNz", query: "token=" + tok, want: 200},
		{method: "GET", authz: "Bearer", want: 400},
		{method: "GET", authz: "Bearer    ", want: 400},
		{method: "GET", authz: "Bearerx " + tok, want: 401},
		{method: "GET", authz: "Bearer " + refresh, want: 401},
		{method: "GET", authz: "Bearer " + strings.Repeat("A", maxToken+1), want: 400},
		{method: "GET", cookie: "access_token_cookie=" + tok, want: 200},
		{method: "POST", cookie: "access_token_cookie=" + tok, csrf: c.CSRF, want: 200},
		{method: "POST", cookie: "access_token_cookie=" + tok, want: 403},
		{method: "DELETE", cookie: "access_token_cookie=" + tok, csrf: "wrong", want: 403},
		{method: "post", cookie: "access_token_cookie=" + tok, want: 403},
		{method: "PROPPATCH", cookie: "access_token_cookie=" + tok, want: 403},
		{method: "PROPPATCH", cookie: "access_token_cookie=" + tok, csrf: c.CSRF, want: 200},
		{method: "HEAD", cookie: "access_token_cookie=" + tok, want: 200},
		{method: "GET", cookie: "refresh_token_cookie=" + refresh + "; access_token_cookie=\"" + tok + "\"", want: 200},
		{method: "GET", query: "token=" + tok, want: 200},
		{method: "GET", query: "token=" + tok + "&token=" + tok, want: 400},
		{method: "GET", query: "a=1;token=" + tok, want: 401},
		{method: "GET", query: "token=%zz", want: 401},
		{method: "POST", ctype: "application/json", body: jsonBody("access_token", tok), want: 200},
		{method: "POST", ctype: "application/json; charset=utf-8", body: jsonBody("access_token", tok), want: 200},
		{method: "PUT", ctype: "application/vnd.api+json", body: jsonBody("access_token", tok), want: 200},
		{method: "POST", ctype: "text/plain", body: jsonBody("access_token", tok), want: 401},
		{method: "POST", ctype: "application/json", body: jsonBody("refresh_token", refresh), want: 401},
		{method: "POST", ctype: "application/json", body: []byte(`{"access_token":null}`), want: 401},
		{method: "POST", ctype: "application/json", body: []byte(`{"access_token":1}`), want: 400},
		{method: "POST", ctype: "application/json", body: []byte(`{"access_token":"a","access_token":"b"}`), want: 400},
		{method: "POST", ctype: "application/json", body: []byte(`{"access_token":`), want: 400},
		{method: "POST", ctype: "application/json", body: []byte(`[1,2]`), want: 401},
		{method: "POST", ctype: "application/json", body: []byte(" \n"), want: 401},
		{method: "POST", ctype: "application/json", body: bytes.Repeat([]byte(" "), maxBody+1), want: 400},
		{method: "POST", ctype: "application/json", body: []byte(`{"x":"` + strings.Repeat("y", 600) + `"}`), want: 401},
		{method: "POST", authz: "Bearer " + tok, ctype: "application/json", body: []byte(`{"keep":"me"}`), want: 200},
		{method: "", authz: "", query: "", want: 401},
		{method: "GET", ctype: "application/json", body: jsonBody("access_token", tok), want: 401},
		{method: "HEAD", ctype: "application/json", body: jsonBody("access_token", tok), want: 401},
		{method: "GET", cookie: "access_token_cookie=" + tok + "; access_token_cookie=" + tok, want: 400},
		{method: "GET", cookie: "access_token_cookie=" + tok + "; csrf_access_token=a; csrf_access_token=b", want: 400},
	}
	for _, s := range seeds {
		f.Add(s.method, s.authz, s.authz2, s.cookie, s.query, s.ctype, s.csrf, s.body)
	}

	g := a.Require()
	// The seeds are what they claim to be.
	for i, s := range seeds {
		rec := httptest.NewRecorder()
		g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })).ServeHTTP(rec, fuzzRequest(s.method, s.authz, s.authz2, s.cookie, s.query, s.ctype, s.csrf, s.body))
		if rec.Code != s.want {
			f.Errorf("seed %d (%+v): status %d, want %d", i, s, rec.Code, s.want)
		}
	}
	f.Fuzz(func(t *testing.T, method, authz, authz2, cookie, query, ctype, csrf string, body []byte) {
		// The locator alone.
		r := fuzzRequest(method, authz, authz2, cookie, query, ctype, csrf, body)
		got, loc, err := a.e.locate(r, forAccess)
		if err != nil {
			if got != "" {
				t.Fatalf("locate returned token and error %v", err)
			}
			e := checkAuthxError(t, err, http.StatusBadRequest, http.StatusUnauthorized)
			if !errors.Is(e, ErrNoToken) && !errors.Is(e, ErrTokenTooLarge) && !errors.Is(e, ErrInvalidRequest) && !errors.Is(e, ErrMalformed) {
				t.Fatalf("locate: unexpected error %v", err)
			}
		} else {
			switch {
			case got == "":
				t.Fatal("locate returned an empty token and no error")
			case len(got) > maxToken:
				t.Fatalf("locate returned a %d-byte token, bound %d", len(got), maxToken)
			case loc < InHeader || loc > InJSON:
				t.Fatalf("locate returned location %v", loc)
			}
			// Whatever was read, the body is still there in full.
			if rest, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(rest, body) {
				t.Fatalf("after locate the body reads %q (%v), want %q", rest, err, body)
			}
		}

		// The whole guard, on a fresh copy of the request.
		reached := false
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached = true
			rest, err := io.ReadAll(r.Body)
			if err != nil || !bytes.Equal(rest, body) {
				t.Errorf("handler reads body %q (%v), want %q", rest, err, body)
			}
			c, ok := ClaimsFrom(r.Context())
			if !ok || c.Type != Access || c.Subject == "" {
				t.Errorf("handler context claims = %+v, %v", c, ok)
			}
			// A cookie-borne token passes on a method other than the safe
			// ones (compared case-sensitively: "post" is not safe) only with
			// the CSRF header equal to its csrf claim.
			if ok && err == nil && loc == InCookie && !slices.Contains(csrfSafe, r.Method) && (csrf == "" || csrf != c.CSRF) {
				t.Errorf("cookie token passed on method %q with CSRF header %q, claim %q", r.Method, csrf, c.CSRF)
			}
			w.WriteHeader(http.StatusOK)
		})
		rec := httptest.NewRecorder()
		g.Wrap(h).ServeHTTP(rec, fuzzRequest(method, authz, authz2, cookie, query, ctype, csrf, body))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		default:
			t.Fatalf("guard answered %d", rec.Code)
		}
		if reached != (rec.Code == http.StatusOK) {
			t.Fatalf("guard answered %d, handler reached = %v", rec.Code, reached)
		}
		if err != nil {
			// The guard denies exactly as the locator did.
			if want := StatusOf(err); rec.Code != want {
				t.Fatalf("locate failed with %v (%d), guard answered %d", err, want, rec.Code)
			}
		}
		if !reached {
			if www := rec.Header().Get("WWW-Authenticate"); rec.Code == http.StatusUnauthorized && !strings.HasPrefix(www, "Bearer") {
				t.Fatalf("401 without a Bearer challenge: %q", www)
			}
			if len(got) >= 16 && strings.Contains(rec.Body.String()+rec.Header().Get("WWW-Authenticate"), got) {
				t.Fatalf("denial echoes the token: %q", rec.Body.String())
			}
		}
	})
}

// FuzzParseReauth: the in-band re-authentication parser reads untrusted
// WebSocket messages. It must never panic; what it accepts is valid JSON,
// and every token it is given round-trips.
func FuzzParseReauth(f *testing.F) {
	f.Add([]byte(`{"type":"authx.reauth","token":"a.b.c"}`), "a.b.c")
	f.Add([]byte(`{"token":"x","type":"authx.reauth","n":[1,{"a":null}]}`), "x")
	f.Add([]byte(`{"type":"authx.reauth","token":"\u0061"}`), "\x00")
	f.Add([]byte(`not json`), "")
	f.Fuzz(func(t *testing.T, msg []byte, tok string) {
		got, ok := ParseReauth(msg)
		if ok && (got == "" || !json.Valid(msg)) {
			t.Fatalf("ParseReauth(%q) accepted %q", msg, got)
		}
		if tok == "" || !utf8.ValidString(tok) {
			return
		}
		if back, ok := ParseReauth(ReauthMessage(tok)); !ok || back != tok {
			t.Fatalf("round trip of %q gave %q, %v", tok, back, ok)
		}
	})
}

// FuzzPeekExpiry: implicit refresh reads exp from untrusted cookies before
// verifying them. It must never panic, and for a token we minted it must
// read the same exp as full verification.
func FuzzPeekExpiry(f *testing.F) {
	a, err := New[string](WithSecret([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		f.Fatal(err)
	}
	tok, err := a.CreateAccessToken("alice", ExpiresIn(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add("a.eyJleHAiOjF9.b")
	f.Add("a.eyJleHAiOiIxIn0.b")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		exp, ok := peekExpiry(s)
		if !ok {
			return
		}
		if c, err := a.Verify(context.Background(), s); err == nil && !c.ExpiresAt.Equal(exp) {
			t.Fatalf("peekExpiry = %v, verified exp = %v", exp, c.ExpiresAt)
		}
	})
}
