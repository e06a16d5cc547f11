package authx_test

// Bad input: every way a token or a request can be wrong, each checked for
// the exact sentinel (ours and golang-jwt's), the status, the
// WWW-Authenticate challenge and the JSON body a client sees, through
// Auth.Verify, Guard.Check, Guard.Wrap with a recorder and a real
// httptest.Server — and that the response never carries the token, the key
// or internal error text, and that nothing panics.
//
// Hand-crafted tokens carry a VALID HMAC signature over exactly the bytes
// sent, so every rejection here is caused by the content, not the signature.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// Keys and clock of this file. Each secret is exactly as long as its
// algorithm requires.
var (
	badSecret      = []byte("bad-input-test-secret-32-bytes!!")
	badOldSecret   = []byte("bad-input-old-rotated-secret-32b")
	badOtherSecret = []byte("bad-input-attacker-secret-32byte")
	badSecret384   = []byte("bad-input-hs384-verification-secret-is-48-bytes!")

	badNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	badRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
)

func badClock() time.Time { return badNow }

// badP expands the time placeholders of a JSON template: $NOW is the fixed
// clock, $EXP fifteen minutes later, $PAST/$SOON one minute either side,
// $OLD/$LATER three minutes either side.
func badP(s string) string {
	n := badNow.Unix()
	return strings.NewReplacer(
		"$NOW", strconv.FormatInt(n, 10),
		"$EXP", strconv.FormatInt(n+900, 10),
		"$PAST", strconv.FormatInt(n-60, 10),
		"$SOON", strconv.FormatInt(n+60, 10),
		"$OLD", strconv.FormatInt(n-180, 10),
		"$LATER", strconv.FormatInt(n+180, 10),
	).Replace(s)
}

// The usual header and a valid access-token payload.
const (
	badHS256 = `{"alg":"HS256","typ":"JWT"}`
	badValid = `{"sub":"alice","jti":"j1","type":"access","fresh":false,"csrf":"c1","iat":$NOW,"exp":$EXP}`
)

// badSeg is unpadded base64url.
func badSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// badSignWith returns h.p.base64url(HMAC(newHash, secret, "h.p")): a valid
// signature over exactly the two segments given, canonical or not.
func badSignWith(newHash func() hash.Hash, h, p string, secret []byte) string {
	mac := hmac.New(newHash, secret)
	mac.Write([]byte(h + "." + p))
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// badSign signs two segments with HMAC-SHA256.
func badSign(h, p string, secret []byte) string { return badSignWith(sha256.New, h, p, secret) }

// badForge builds base64url(header).base64url(payload).base64url(HMAC-SHA256)
// with the placeholders of badP expanded in both.
func badForge(tb testing.TB, header, payload string, secret []byte) string {
	tb.Helper()
	return badSign(badSeg(badP(header)), badSeg(badP(payload)), secret)
}

// badSplit returns the three segments of a compact token.
func badSplit(tb testing.TB, tok string) (h, p, s string) {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("badSplit: %d segments", len(parts))
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}

// badFlipUnusedBits changes only the unused low bits of seg's last
// character ('A' → 'B'): a decoder that ignores them reads the same bytes.
func badFlipUnusedBits(tb testing.TB, seg string) string {
	tb.Helper()
	if len(seg)%4 != 2 && len(seg)%4 != 3 {
		tb.Fatalf("badFlipUnusedBits: segment of length %d has no unused bits", len(seg))
		return seg
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	if i < 0 || i&1 != 0 {
		tb.Fatalf("badFlipUnusedBits: last character %q is not canonical", seg[len(seg)-1])
		return seg
	}
	out := seg[:len(seg)-1] + string(alphabet[i^1])
	// The lenient decoder must read the same bytes, or the case tests nothing.
	a, errA := base64.RawURLEncoding.DecodeString(seg)
	b, errB := base64.RawURLEncoding.DecodeString(out)
	if errA != nil || errB != nil || string(a) != string(b) {
		tb.Fatalf("badFlipUnusedBits: %q and %q do not decode alike", seg, out)
	}
	return out
}

// badUnaligned prefixes JSON with spaces until its encoding ends in a
// partial group (so its last character has unused bits).
func badUnaligned(js string) string {
	for len(js)%3 == 0 {
		js = " " + js
	}
	return js
}

// badTokenOfLen forges a valid access token exactly n characters long by
// padding a custom claim and the header's white space.
func badTokenOfLen(tb testing.TB, n int, secret []byte) string {
	tb.Helper()
	for spaces := 0; spaces < 3; spaces++ {
		header := `{"alg":"HS256",` + strings.Repeat(" ", spaces) + `"typ":"JWT"}`
		base := len(badForge(tb, header, `{"sub":"alice","jti":"j1","type":"access","iat":$NOW,"exp":$EXP,"pad":""}`, secret))
		for pad := max(0, (n-base)*3/4-8); pad < n; pad++ {
			payload := `{"sub":"alice","jti":"j1","type":"access","iat":$NOW,"exp":$EXP,"pad":"` + strings.Repeat("x", pad) + `"}`
			tok := badForge(tb, header, payload, secret)
			if len(tok) == n {
				return tok
			}
			if len(tok) > n {
				break
			}
		}
	}
	tb.Fatalf("badTokenOfLen: cannot forge a token of %d characters", n)
	return ""
}

// badParams returns n distinct JSON members "p0":0,"p1":1,….
func badParams(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"p%d":%d`, i, i)
	}
	return strings.Join(parts, ",")
}

// badExpect is what a rejection must look like.
type badExpect struct {
	status  int
	code    string
	message string
	www     string // "" when no WWW-Authenticate header may be sent
	jwt     []error
}

const (
	badChallenge        = `Bearer realm="api"`
	badChallengeToken   = `Bearer realm="api", error="invalid_token"`
	badChallengeRequest = `Bearer realm="api", error="invalid_request"`
	badInvalidMessage   = "The token is invalid."
)

// badExpects is written out independently of errors.go (DESIGN.md §5).
var badExpects = map[error]badExpect{
	authx.ErrNoToken:         {401, "missing_token", "No token was found in the request.", badChallenge, nil},
	authx.ErrTokenTooLarge:   {400, "token_too_large", "The token is too large.", badChallengeRequest, []error{jwt.ErrTokenMalformed}},
	authx.ErrInvalidRequest:  {400, "invalid_request", "The request could not be read for a token.", badChallengeRequest, nil},
	authx.ErrMalformed:       {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenMalformed}},
	authx.ErrAlgorithm:       {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenSignatureInvalid}},
	authx.ErrUnknownKey:      {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenUnverifiable}},
	authx.ErrSignature:       {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenSignatureInvalid}},
	authx.ErrMissingClaim:    {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenRequiredClaimMissing}},
	authx.ErrExpired:         {401, "token_expired", "The token has expired.", badChallengeToken, []error{jwt.ErrTokenExpired}},
	authx.ErrNotYetValid:     {401, "token_not_yet_valid", "The token is not valid yet.", badChallengeToken, []error{jwt.ErrTokenNotValidYet}},
	authx.ErrIssuedInFuture:  {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenUsedBeforeIssued}},
	authx.ErrIssuer:          {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenInvalidIssuer}},
	authx.ErrAudience:        {401, "invalid_token", badInvalidMessage, badChallengeToken, []error{jwt.ErrTokenInvalidAudience}},
	authx.ErrAccessRequired:  {401, "access_token_required", "An access token is required.", badChallengeToken, nil},
	authx.ErrRefreshRequired: {401, "refresh_token_required", "A refresh token is required.", badChallengeToken, nil},
	authx.ErrCSRFMissing:     {403, "csrf_missing", "Missing CSRF token: send the csrf cookie's value in the CSRF header.", "", nil},
	authx.ErrCSRFMismatch:    {403, "csrf_mismatch", "The CSRF token does not match.", "", nil},
}

// badSentinels are all of authx's sentinels: an error must match exactly one.
var badSentinels = []struct {
	name string
	err  error
}{
	{"ErrNoToken", authx.ErrNoToken}, {"ErrTokenTooLarge", authx.ErrTokenTooLarge},
	{"ErrInvalidRequest", authx.ErrInvalidRequest}, {"ErrMalformed", authx.ErrMalformed},
	{"ErrAlgorithm", authx.ErrAlgorithm}, {"ErrUnknownKey", authx.ErrUnknownKey},
	{"ErrSignature", authx.ErrSignature}, {"ErrMissingClaim", authx.ErrMissingClaim},
	{"ErrExpired", authx.ErrExpired}, {"ErrNotYetValid", authx.ErrNotYetValid},
	{"ErrIssuedInFuture", authx.ErrIssuedInFuture}, {"ErrIssuer", authx.ErrIssuer},
	{"ErrAudience", authx.ErrAudience}, {"ErrRevoked", authx.ErrRevoked},
	{"ErrAccessRequired", authx.ErrAccessRequired}, {"ErrRefreshRequired", authx.ErrRefreshRequired},
	{"ErrNotFresh", authx.ErrNotFresh}, {"ErrInsufficientScope", authx.ErrInsufficientScope},
	{"ErrForbidden", authx.ErrForbidden}, {"ErrCSRFMissing", authx.ErrCSRFMissing},
	{"ErrCSRFMismatch", authx.ErrCSRFMismatch}, {"ErrSubjectNotFound", authx.ErrSubjectNotFound},
	{"ErrUnavailable", authx.ErrUnavailable}, {"ErrMisconfigured", authx.ErrMisconfigured},
	{"ErrNotConfigured", authx.ErrNotConfigured}, {"ErrConfig", authx.ErrConfig},
	{"ErrTokenOption", authx.ErrTokenOption}, {"ErrNoSigningKey", authx.ErrNoSigningKey},
}

// badJWTSentinels are golang-jwt's validation sentinels.
var badJWTSentinels = []error{
	jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
	jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenInvalidAudience, jwt.ErrTokenExpired,
	jwt.ErrTokenUsedBeforeIssued, jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidSubject,
	jwt.ErrTokenNotValidYet, jwt.ErrTokenInvalidId, jwt.ErrTokenInvalidClaims,
	jwt.ErrInvalidKey, jwt.ErrInvalidKeyType, jwt.ErrHashUnavailable,
}

func badName(err error) string {
	for _, s := range badSentinels {
		if s.err == err {
			return s.name
		}
	}
	return fmt.Sprintf("%v", err)
}

// badNoPanic runs f and reports a panic as a test failure.
func badNoPanic(tb testing.TB, what string, f func()) {
	tb.Helper()
	defer func() {
		if p := recover(); p != nil {
			tb.Errorf("%s panicked: %v", what, p)
		}
	}()
	f()
}

// badCheckErr asserts that err is exactly want: one authx sentinel, the
// mapped golang-jwt sentinels, its status and its *Error code and message,
// and an Error() text (for logs) without tokens or keys.
func badCheckErr(tb testing.TB, where string, err, want error, leaks []string) {
	tb.Helper()
	if err == nil {
		tb.Errorf("%s: error = nil, want %s", where, badName(want))
		return
	}
	exp, ok := badExpects[want]
	if !ok {
		tb.Fatalf("%s: no expectation for %v", where, want)
	}
	var gotOurs []string
	for _, s := range badSentinels {
		if errors.Is(err, s.err) {
			gotOurs = append(gotOurs, s.name)
		}
	}
	if diff := cmp.Diff([]string{badName(want)}, gotOurs); diff != "" {
		tb.Errorf("%s: authx sentinels matched by errors.Is (-want +got):\n%s\nerror: %v", where, diff, err)
	}
	var wantJWT, gotJWT []string
	for _, j := range exp.jwt {
		wantJWT = append(wantJWT, j.Error())
	}
	for _, j := range badJWTSentinels {
		if errors.Is(err, j) {
			gotJWT = append(gotJWT, j.Error())
		}
	}
	if diff := cmp.Diff(wantJWT, gotJWT); diff != "" {
		tb.Errorf("%s: golang-jwt sentinels matched by errors.Is (-want +got):\n%s", where, diff)
	}
	if got := authx.StatusOf(err); got != exp.status {
		tb.Errorf("%s: StatusOf = %d, want %d", where, got, exp.status)
	}
	var e *authx.Error
	if !errors.As(err, &e) || e == nil {
		tb.Errorf("%s: error %T is not an *authx.Error", where, err)
	} else {
		type view struct {
			Status        int
			Code, Message string
		}
		if diff := cmp.Diff(view{exp.status, exp.code, exp.message}, view{e.Status, e.Code, e.Message}); diff != "" {
			tb.Errorf("%s: *authx.Error (-want +got):\n%s", where, diff)
		}
	}
	text := err.Error()
	for _, l := range leaks {
		if l != "" && strings.Contains(text, l) {
			tb.Errorf("%s: Error() %q contains a token or key %.24q…", where, text, l)
		}
	}
}

// badResp is what a client sees of a response.
type badResp struct {
	Status          int
	WWWAuthenticate string
	ContentType     string
	CacheControl    string
	JSON            map[string]any // error bodies
	Text            string         // success bodies
}

func badRead(tb testing.TB, res *http.Response) (badResp, string) {
	tb.Helper()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Errorf("reading response: %v", err)
	}
	r := badResp{Status: res.StatusCode, WWWAuthenticate: strings.Join(res.Header.Values("WWW-Authenticate"), " | ")}
	if res.StatusCode == http.StatusOK {
		r.Text = string(raw)
		return r, string(raw)
	}
	r.ContentType = res.Header.Get("Content-Type")
	r.CacheControl = res.Header.Get("Cache-Control")
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&r.JSON); err != nil {
		tb.Errorf("error body %q is not JSON: %v", raw, err)
	}
	var headers []string
	for k, vs := range res.Header {
		headers = append(headers, k+": "+strings.Join(vs, ", "))
	}
	return r, string(raw) + "\n" + strings.Join(headers, "\n")
}

func badWantResp(want error, body string) badResp {
	if want == nil {
		if body == "" {
			body = "ok"
		}
		return badResp{Status: http.StatusOK, Text: body}
	}
	exp := badExpects[want]
	return badResp{
		Status:          exp.status,
		WWWAuthenticate: exp.www,
		ContentType:     "application/json; charset=utf-8",
		CacheControl:    "no-store",
		JSON:            map[string]any{"code": exp.code, "message": exp.message},
	}
}

// badReq describes a request; the zero value means GET with
// "Authorization: Bearer <token>".
type badReq struct {
	method  string   // default GET
	auth    []string // Authorization header values, each sent as a line
	cookie  string   // raw Cookie header
	query   string   // raw query string
	csrf    string   // X-CSRF-TOKEN header
	ctype   string   // Content-Type
	body    string
	chunked bool // hide the length: sent chunked, ContentLength unknown
}

func (q badReq) isZero() bool {
	return q.method == "" && q.auth == nil && q.cookie == "" && q.query == "" &&
		q.csrf == "" && q.ctype == "" && q.body == "" && !q.chunked
}

func badBearer(tok string) badReq { return badReq{auth: []string{"Bearer " + tok}} }

func (q badReq) build(tb testing.TB, base string, refresh bool) *http.Request {
	tb.Helper()
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
		if q.chunked {
			body = io.MultiReader(body)
		}
	}
	target := base + "/access"
	if refresh {
		target = base + "/refresh"
	}
	if q.query != "" {
		target += "?" + q.query
	}
	r, err := http.NewRequestWithContext(context.Background(), method, target, body)
	if err != nil {
		tb.Fatalf("building request: %v", err)
	}
	if q.auth != nil {
		r.Header["Authorization"] = append([]string(nil), q.auth...)
	}
	if q.cookie != "" {
		r.Header.Set("Cookie", q.cookie)
	}
	if q.csrf != "" {
		r.Header.Set("X-CSRF-TOKEN", q.csrf)
	}
	if q.ctype != "" {
		r.Header.Set("Content-Type", q.ctype)
	}
	return r
}

// badCase is one row of every table in this file.
type badCase struct {
	name     string
	token    string // the token under test; never to be echoed
	req      badReq // zero: bearer token in the header; Verify is then run too
	verify   bool   // run Auth.Verify on token even with a custom req
	refresh  bool   // use a.Require(authx.Refresh) (and Verify with Refresh)
	offWire  bool   // the request cannot be sent by net/http's client
	want     error  // nil: admitted
	wantBody string // admitted: what the handler echoes ("ok" or the body it read)
	reason   string
}

// badEnv is one configured Auth, its access and refresh guards, and a real
// server in front of them.
type badEnv struct {
	a       *authx.Auth[string]
	access  *authx.Guard
	refresh *authx.Guard
	srv     *httptest.Server
	keys    []string // key material that must never be echoed
}

// badOK is the protected handler: it echoes the body it reads, or "ok".
var badOK = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if c, ok := authx.ClaimsFrom(r.Context()); !ok || c == nil {
		http.Error(w, "no claims in context", http.StatusInternalServerError)
		return
	}
	var b []byte
	if r.Body != nil {
		var err error
		if b, err = io.ReadAll(r.Body); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if len(b) == 0 {
		_, _ = io.WriteString(w, "ok")
		return
	}
	_, _ = w.Write(b)
})

// badSetup builds an env on the fixed clock. keys lists secrets (and PEMs)
// the responses must never contain.
func badSetup(tb testing.TB, keys [][]byte, opts ...authx.Option) *badEnv {
	tb.Helper()
	a, err := authx.New[string](append([]authx.Option{authx.WithClock(badClock)}, opts...)...)
	if err != nil {
		tb.Fatalf("authx.New: %v", err)
	}
	env := &badEnv{a: a, access: a.Require(), refresh: a.Require(authx.Refresh)}
	for _, k := range keys {
		env.keys = append(env.keys, string(k))
	}
	if err := env.access.Err(); err != nil {
		tb.Fatalf("access guard: %v", err)
	}
	if err := env.refresh.Err(); err != nil {
		tb.Fatalf("refresh guard: %v", err)
	}
	mux := http.NewServeMux()
	guarded := func(g *authx.Guard) http.Handler {
		h := g.Wrap(badOK)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					tb.Errorf("guard panicked in the server: %v", p)
					w.WriteHeader(599)
				}
			}()
			h.ServeHTTP(w, r)
		})
	}
	mux.Handle("/access", guarded(env.access))
	mux.Handle("/refresh", guarded(env.refresh))
	env.srv = httptest.NewServer(mux)
	tb.Cleanup(env.srv.Close)
	return env
}

// issue mints a token with the env's own Auth.
func (env *badEnv) issue(tb testing.TB, typ authx.TokenType, opts ...authx.TokenOption) string {
	tb.Helper()
	var tok string
	var err error
	if typ == authx.Refresh {
		tok, err = env.a.CreateRefreshToken("alice", opts...)
	} else {
		tok, err = env.a.CreateAccessToken("alice", opts...)
	}
	if err != nil {
		tb.Fatalf("issuing %s token: %v", typ, err)
	}
	return tok
}

// run checks one case through Verify, Check, Wrap with a recorder and the
// real server.
func (env *badEnv) run(t *testing.T, tc badCase) {
	t.Helper()
	leaks := append([]string(nil), env.keys...)
	if tc.token != "" {
		leaks = append(leaks, tc.token)
		for _, seg := range strings.Split(tc.token, ".") {
			if len(seg) >= 16 {
				leaks = append(leaks, seg)
			}
		}
	}
	guard, policies := env.access, []authx.Policy(nil)
	if tc.refresh {
		guard, policies = env.refresh, []authx.Policy{authx.Refresh}
	}
	req := tc.req
	if req.isZero() {
		req = badBearer(tc.token)
	}
	internal := []string{}

	// 1. Auth.Verify, for token-content cases.
	if tc.req.isZero() || tc.verify {
		badNoPanic(t, "Verify", func() {
			c, err := env.a.Verify(context.Background(), tc.token, policies...)
			if tc.want == nil {
				if err != nil || c == nil {
					t.Errorf("Verify = %v, %v; want claims, nil (%s)", c, err, tc.reason)
				}
				return
			}
			badCheckErr(t, "Verify", err, tc.want, leaks)
			if err != nil {
				internal = append(internal, err.Error())
			}
		})
	}

	// 2. Guard.Check on the request.
	badNoPanic(t, "Guard.Check", func() {
		c, err := guard.Check(req.build(t, "http://authx.test", tc.refresh))
		if tc.want == nil {
			if err != nil || c == nil {
				t.Errorf("Guard.Check = %v, %v; want claims, nil (%s)", c, err, tc.reason)
			}
			return
		}
		badCheckErr(t, "Guard.Check", err, tc.want, leaks)
		if err != nil {
			internal = append(internal, err.Error())
		}
	})
	for _, text := range internal {
		for _, part := range strings.Split(text, ": ") {
			if len(part) >= 8 {
				leaks = append(leaks, part)
			}
		}
	}
	leaks = append(leaks, "authx:")

	want := badWantResp(tc.want, tc.wantBody)
	check := func(where string, res *http.Response) {
		t.Helper()
		got, everything := badRead(t, res)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: response (-want +got):\n%s\nreason: %s", where, diff, tc.reason)
		}
		if tc.want == nil {
			return
		}
		for _, l := range leaks {
			if l != "" && strings.Contains(everything, l) {
				t.Errorf("%s: response leaks %.40q…:\n%s", where, l, everything)
			}
		}
	}

	// 3. Guard.Wrap with a recorder.
	badNoPanic(t, "Guard.Wrap", func() {
		rec := httptest.NewRecorder()
		guard.Wrap(badOK).ServeHTTP(rec, req.build(t, "http://authx.test", tc.refresh))
		check("Guard.Wrap", rec.Result())
	})

	// 4. A real round trip.
	if tc.offWire {
		return
	}
	badNoPanic(t, "http round trip", func() {
		res, err := env.srv.Client().Do(req.build(t, env.srv.URL, tc.refresh))
		if err != nil {
			t.Errorf("round trip: %v", err)
			return
		}
		defer res.Body.Close()
		check("server", res)
	})
}

// badRunAll runs a table in parallel on env.
func badRunAll(t *testing.T, env *badEnv, cases []badCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env.run(t, tc)
		})
	}
}

func TestBadInputAlgorithm(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	p := badSeg(badP(badValid))
	cases := []badCase{
		{
			name:   "control/HS256",
			token:  badForge(t, badHS256, badValid, badSecret),
			reason: "the hand-crafted token is valid: every rejection below is caused by one change",
		},
		{
			name:   "none/with-valid-HMAC-signature",
			token:  badForge(t, `{"alg":"none","typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrAlgorithm,
			reason: `"none" is never the algorithm of a configured key`,
		},
		{
			name:   "none/empty-signature",
			token:  badSeg(`{"alg":"none","typ":"JWT"}`) + "." + p + ".",
			want:   authx.ErrMalformed,
			reason: "an unsecured JWS has an empty third segment: refused as malformed before alg is even read",
		},
		{
			name:   "none/no-signature-segment",
			token:  badSeg(`{"alg":"none","typ":"JWT"}`) + "." + p,
			want:   authx.ErrMalformed,
			reason: "two segments are not a JWS",
		},
		{
			name:   "none/capitalised",
			token:  badForge(t, `{"alg":"None","typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrAlgorithm,
			reason: "no spelling of none is accepted",
		},
		{
			name:   "HS384-valid-HS384-signature",
			token:  badSignWith(sha512.New384, badSeg(`{"alg":"HS384","typ":"JWT"}`), p, badSecret),
			want:   authx.ErrAlgorithm,
			reason: "the key is pinned to HS256; an HS384 MAC with the same secret must not pass",
		},
		{
			name:   "HS512-valid-HS512-signature",
			token:  badSignWith(sha512.New, badSeg(`{"alg":"HS512","typ":"JWT"}`), p, badSecret),
			want:   authx.ErrAlgorithm,
			reason: "the key is pinned to HS256",
		},
		{
			name:   "RS256",
			token:  badForge(t, `{"alg":"RS256","typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrAlgorithm,
			reason: "no RS256 key is configured",
		},
		{
			name:   "lower-case-hs256",
			token:  badForge(t, `{"alg":"hs256","typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrAlgorithm,
			reason: "alg values are case-sensitive (RFC 7515 §4.1.1)",
		},
		{
			name:   "alg-number",
			token:  badForge(t, `{"alg":256,"typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrMalformed,
			reason: "alg must be a JSON string",
		},
		{
			name:   "alg-null",
			token:  badForge(t, `{"alg":null,"typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrMalformed,
			reason: "alg must be a JSON string",
		},
		{
			name:   "alg-array",
			token:  badForge(t, `{"alg":["HS256"],"typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrMalformed,
			reason: "alg must be a JSON string",
		},
		{
			name:   "alg-missing",
			token:  badForge(t, `{"typ":"JWT"}`, badValid, badSecret),
			want:   authx.ErrMalformed,
			reason: "alg is required",
		},
	}
	badRunAll(t, env, cases)
}

func TestBadInputHeaderParams(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	row := func(name, header string, want error, reason string) badCase {
		return badCase{name: name, token: badForge(t, header, badValid, badSecret), want: want, reason: reason}
	}
	cases := []badCase{
		row("jwk", `{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"YWJj"}}`, authx.ErrMalformed, "a token may not carry its own key"),
		row("jku", `{"alg":"HS256","typ":"JWT","jku":"https://attacker.example/jwks.json"}`, authx.ErrMalformed, "a token may not point at its own key set"),
		row("x5u", `{"alg":"HS256","typ":"JWT","x5u":"https://attacker.example/cert.pem"}`, authx.ErrMalformed, "a token may not point at its own certificate"),
		row("x5c", `{"alg":"HS256","typ":"JWT","x5c":["MIIBszCCAVmgAwIBAgIU"]}`, authx.ErrMalformed, "a token may not carry its own certificate chain"),
		row("x5t", `{"alg":"HS256","typ":"JWT","x5t":"dGh1bWJwcmludA"}`, authx.ErrMalformed, "certificate thumbprints select keys we never configured"),
		row("x5t#S256", `{"alg":"HS256","typ":"JWT","x5t#S256":"dGh1bWJwcmludA"}`, authx.ErrMalformed, "certificate thumbprints select keys we never configured"),
		row("jwk-other-case", `{"alg":"HS256","typ":"JWT","JWK":{"kty":"oct","k":"YWJj"}}`, authx.ErrMalformed, "key-naming parameters are refused in any letter case"),
		row("crit-unknown", `{"alg":"HS256","typ":"JWT","crit":["urn:example:ext"],"urn:example:ext":true}`, authx.ErrMalformed, "an extension we do not implement must be refused (RFC 7515 §4.1.11)"),
		row("crit-empty", `{"alg":"HS256","typ":"JWT","crit":[]}`, authx.ErrMalformed, "crit: [] is invalid (RFC 7515 §4.1.11)"),
		row("crit-b64", `{"alg":"HS256","typ":"JWT","b64":false,"crit":["b64"]}`, authx.ErrMalformed, "unencoded payloads (RFC 7797) are not supported"),
		row("zip", `{"alg":"HS256","typ":"JWT","zip":"DEF"}`, authx.ErrMalformed, "compressed payloads are JWE-only"),
		row("enc", `{"alg":"HS256","typ":"JWT","enc":"A256GCM"}`, authx.ErrMalformed, "a JWE header is not a JWS"),
		row("cty-nested", `{"alg":"HS256","typ":"JWT","cty":"JWT"}`, authx.ErrMalformed, "nested JWTs are not supported"),
		row("typ-at+jwt", `{"alg":"HS256","typ":"at+jwt"}`, authx.ErrMalformed, "only typ JWT is accepted"),
		row("typ-JWS", `{"alg":"HS256","typ":"JWS"}`, authx.ErrMalformed, "only typ JWT is accepted"),
		row("typ-number", `{"alg":"HS256","typ":1}`, authx.ErrMalformed, "typ must be a string"),
		row("typ-lower-case", `{"alg":"HS256","typ":"jwt"}`, nil, "typ is compared case-insensitively (RFC 7519 §5.1)"),
		row("typ-absent", `{"alg":"HS256"}`, nil, "typ is optional"),
		row("unknown-param", `{"alg":"HS256","typ":"JWT","foo":"bar"}`, nil, "an unregistered, harmless parameter is ignored"),
		row("duplicate-alg", `{"alg":"HS256","alg":"HS256","typ":"JWT"}`, authx.ErrMalformed, "duplicate names are ambiguous (RFC 7515 §4)"),
		row("duplicate-alg-none-first", `{"alg":"none","typ":"JWT","alg":"HS256"}`, authx.ErrMalformed, "first-wins and last-wins parsers disagree: refuse"),
		row("duplicate-alg-escaped", `{"alg":"HS256","typ":"JWT","\u0061lg":"none"}`, authx.ErrMalformed, `"\u0061lg" is "alg"`),
		row("alg-other-case", `{"alg":"HS256","typ":"JWT","ALG":"none"}`, authx.ErrMalformed, "a case variant of alg is a confusion attempt"),
		row("duplicate-typ", `{"alg":"HS256","typ":"JWT","typ":"JWT"}`, authx.ErrMalformed, "duplicate names are refused"),
		row("duplicate-unknown-param", `{"alg":"HS256","typ":"JWT","foo":1,"foo":2}`, authx.ErrMalformed, "duplicate names are refused"),
		row("header-17-params", `{"alg":"HS256","typ":"JWT",`+badParams(17)+`}`, authx.ErrMalformed, "the header's parameter count is bounded"),
		row("header-16-params", `{"alg":"HS256","typ":"JWT",`+badParams(16)+`}`, nil, "sixteen harmless parameters are within the bound"),
		row("header-over-2KiB", `{"alg":"HS256","typ":"JWT","x":"`+strings.Repeat("x", 2048)+`"}`, authx.ErrMalformed, "the header's size is bounded"),
		row("header-array", `["HS256"]`, authx.ErrMalformed, "the header must be a JSON object"),
		row("header-invalid-json", `{"alg":"HS256","typ":"JWT"`, authx.ErrMalformed, "the header must be valid JSON"),
		row("header-trailing-data", `{"alg":"HS256","typ":"JWT"}{}`, authx.ErrMalformed, "nothing may follow the header object"),
	}
	badRunAll(t, env, cases)
}

func TestBadInputBase64(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	valid := badForge(t, badHS256, badValid, badSecret)
	h, p, s := badSplit(t, valid)

	// A payload whose base64url has both '-' and '_' (runs of '~' and '?'
	// always contain an aligned 3-byte group encoding to "…-" and "…_").
	pURL := badSeg(badP(`{"sub":"alice","jti":"j1","type":"access","iat":$NOW,"exp":$EXP,"x":"~~~~~~???????"}`))
	if !strings.Contains(pURL, "-") || !strings.Contains(pURL, "_") {
		t.Fatalf("payload %q lacks '-' or '_'", pURL)
	}
	// A header and a payload whose last character has unused bits.
	hOdd := badSeg(`{"alg":"HS256", "typ":"JWT"}`)
	pOdd := badSeg(badUnaligned(badP(badValid)))
	padded := base64.URLEncoding.EncodeToString([]byte(`{"alg":"HS256", "typ":"JWT"}`))
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("padded header %q has no padding", padded)
	}
	insert := func(seg, what string) string { return seg[:10] + what + seg[10:] }

	cases := []badCase{
		{name: "control/odd-length-segments", token: badSign(hOdd, pOdd, badSecret), reason: "canonical segments with partial groups verify"},
		{name: "control/payload-with-dash-underscore", token: badSign(h, pURL, badSecret), reason: "the url-safe alphabet verifies"},
		{name: "padding/header", token: badSign(padded, p, badSecret), want: authx.ErrMalformed, reason: "JWS uses unpadded base64url (RFC 7515 §2)"},
		{name: "padding/signature", token: valid + "=", want: authx.ErrMalformed, reason: "a padded signature is not canonical"},
		{name: "padding/payload", token: badSign(h, base64.URLEncoding.EncodeToString([]byte(badUnaligned(badP(badValid)))), badSecret), want: authx.ErrMalformed, reason: "a padded payload is not canonical"},
		{name: "std-alphabet/plus", token: badSign(h, strings.ReplaceAll(pURL, "-", "+"), badSecret), want: authx.ErrMalformed, reason: "'+' is standard base64, not base64url"},
		{name: "std-alphabet/slash", token: badSign(h, strings.ReplaceAll(pURL, "_", "/"), badSecret), want: authx.ErrMalformed, reason: "'/' is standard base64, not base64url"},
		{name: "whitespace/newline", token: badSign(h, insert(p, "\n"), badSecret), offWire: true, want: authx.ErrMalformed, reason: "lenient decoders skip \\n; a canonical token has none"},
		{name: "whitespace/carriage-return", token: badSign(h, insert(p, "\r"), badSecret), offWire: true, want: authx.ErrMalformed, reason: "lenient decoders skip \\r"},
		{name: "whitespace/space", token: badSign(h, insert(p, " "), badSecret), want: authx.ErrMalformed, reason: "a space inside the token is not base64url"},
		{name: "whitespace/tab", token: badSign(h, insert(p, "\t"), badSecret), want: authx.ErrMalformed, reason: "a tab inside the token is not base64url"},
		{name: "whitespace/newline-in-signature", token: h + "." + p + "." + insert(s, "\n"), offWire: true, want: authx.ErrMalformed, reason: "no white space anywhere"},
		{name: "non-ascii", token: badSign(h, insert(p, "é"), badSecret), want: authx.ErrMalformed, reason: "only the 64 alphabet characters and dots"},
		{name: "trailing-bits/header", token: badSign(badFlipUnusedBits(t, hOdd), pOdd, badSecret), want: authx.ErrMalformed, reason: "non-zero unused bits make a second encoding of the same header"},
		{name: "trailing-bits/payload", token: badSign(hOdd, badFlipUnusedBits(t, pOdd), badSecret), want: authx.ErrMalformed, reason: "non-zero unused bits make a second encoding of the same claims"},
		{name: "trailing-bits/signature", token: h + "." + p + "." + badFlipUnusedBits(t, s), want: authx.ErrMalformed, reason: "the same MAC bytes with different text: a token must have exactly one encoding"},
		{name: "segment-length-mod-4-is-1", token: badSign(h, p+"A", badSecret), want: authx.ErrMalformed, reason: "no base64 text has length 4n+1"},
		{name: "segments/4", token: valid + "." + s, want: authx.ErrMalformed, reason: "a compact JWS has exactly three segments"},
		{name: "segments/5-JWE-shaped", token: h + "." + p + "." + s + "." + s + "." + s, want: authx.ErrMalformed, reason: "JWE is not accepted"},
		{name: "segments/2", token: h + "." + p, want: authx.ErrMalformed, reason: "the signature is missing"},
		{name: "segments/1", token: h, want: authx.ErrMalformed, reason: "no dots at all"},
		{name: "empty/header", token: "." + p + "." + s, want: authx.ErrMalformed, reason: "empty segments are malformed"},
		{name: "empty/payload", token: badSign(h, "", badSecret), want: authx.ErrMalformed, reason: "empty segments are malformed, even validly signed"},
		{name: "empty/signature", token: h + "." + p + ".", want: authx.ErrMalformed, reason: "empty segments are malformed"},
		{name: "empty/all", token: "..", want: authx.ErrMalformed, reason: "empty segments are malformed"},
		{name: "empty/trailing-dot", token: valid + ".", want: authx.ErrMalformed, reason: "a fourth, empty segment"},
		{name: "dots-only", token: "...", want: authx.ErrMalformed, reason: "four empty segments"},
	}
	badRunAll(t, env, cases)
}

func TestBadInputClaims(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	row := func(name, payload string, want error, reason string) badCase {
		return badCase{name: name, token: badForge(t, badHS256, payload, badSecret), want: want, reason: reason}
	}
	m := authx.ErrMalformed
	cases := []badCase{
		row("control/minimal", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP}`, nil, "exp, sub, jti and type are all that is required"),
		row("control/scopes-null", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"scopes":null}`, nil, "scopes may be null (Python AuthX's default)"),

		// Names differing only by letter case from registered ones.
		row("case/EXP", `{"sub":"alice","jti":"j1","type":"access","exp":$PAST,"EXP":$EXP}`, m, "a parser folding case could read EXP as exp"),
		row("case/Sub", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"Sub":"admin"}`, m, "Sub is a confusion attempt"),
		row("case/Sub-alone", `{"Sub":"admin","jti":"j1","type":"access","exp":$EXP}`, m, "a case variant is malformed, not merely a missing sub"),
		row("case/TYPE", `{"sub":"alice","jti":"j1","type":"refresh","exp":$EXP,"TYPE":"access"}`, m, "TYPE is a confusion attempt"),
		row("case/Scopes", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"Scopes":["admin:*"]}`, m, "Scopes is a confusion attempt"),
		row("case/long-s-sub", "{\"sub\":\"alice\",\"jti\":\"j1\",\"type\":\"access\",\"exp\":$EXP,\"\u017fub\":\"admin\"}", m, "U+017F folds to s"),

		// Duplicate names.
		row("duplicate/exp", `{"sub":"alice","jti":"j1","type":"access","exp":$PAST,"exp":$EXP}`, m, "first-wins and last-wins parsers disagree on exp"),
		row("duplicate/sub", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"sub":"admin"}`, m, "which user is it?"),
		row("duplicate/custom", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"role":"user","role":"admin"}`, m, "custom claims may not repeat either"),
		row("duplicate/exp-escaped", `{"sub":"alice","jti":"j1","type":"access","exp":$PAST,"\u0065xp":$EXP}`, m, `"\u0065xp" is "exp" once unescaped`),
		row("duplicate/custom-escaped", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"role":"user","r\u006fle":"admin"}`, m, "escapes do not make a new name"),

		// Wrong JSON types.
		row("type-of/exp-string", `{"sub":"alice","jti":"j1","type":"access","exp":"$EXP"}`, m, "NumericDate is a number"),
		row("type-of/iat-string", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"iat":"$NOW"}`, m, "NumericDate is a number"),
		row("type-of/nbf-string", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"nbf":"$NOW"}`, m, "NumericDate is a number"),
		row("type-of/exp-bool", `{"sub":"alice","jti":"j1","type":"access","exp":true}`, m, "NumericDate is a number"),
		row("type-of/iat-bool", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"iat":false}`, m, "NumericDate is a number"),
		row("type-of/nbf-bool", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"nbf":true}`, m, "NumericDate is a number"),
		row("type-of/exp-null", `{"sub":"alice","jti":"j1","type":"access","exp":null}`, m, "a null exp would mean 'never expires' to some parsers"),
		row("type-of/exp-object", `{"sub":"alice","jti":"j1","type":"access","exp":{"$date":1}}`, m, "NumericDate is a number"),
		row("type-of/exp-out-of-range", `{"sub":"alice","jti":"j1","type":"access","exp":1e400}`, m, "beyond float64"),
		row("type-of/exp-beyond-2^53", `{"sub":"alice","jti":"j1","type":"access","exp":1e16}`, m, "not representable exactly"),
		row("type-of/type-number", `{"sub":"alice","jti":"j1","type":1,"exp":$EXP}`, m, "type is a string"),
		row("type-of/type-admin", `{"sub":"alice","jti":"j1","type":"admin","exp":$EXP}`, m, `type is "access" or "refresh"`),
		row("type-of/type-ACCESS", `{"sub":"alice","jti":"j1","type":"ACCESS","exp":$EXP}`, m, "type values are case-sensitive"),
		row("type-of/type-null", `{"sub":"alice","jti":"j1","type":null,"exp":$EXP}`, m, "type is a string"),
		row("type-of/scopes-string", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"scopes":"admin:*"}`, m, "scopes is a JSON array"),
		row("type-of/scopes-number-element", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"scopes":["read",1]}`, m, "scopes are strings"),
		row("type-of/scopes-object", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"scopes":{"admin:*":true}}`, m, "scopes is a JSON array"),
		row("type-of/scopes-nested", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"scopes":[["admin:*"]]}`, m, "scopes are strings"),
		row("type-of/fresh-string", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"fresh":"true"}`, m, "fresh is a boolean"),
		row("type-of/fresh-number", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"fresh":1}`, m, "fresh is a boolean"),
		row("type-of/sub-number", `{"sub":42,"jti":"j1","type":"access","exp":$EXP}`, m, "sub is a string (RFC 7519 §4.1.2)"),
		row("type-of/sub-array", `{"sub":["alice"],"jti":"j1","type":"access","exp":$EXP}`, m, "sub is a string"),
		row("type-of/sub-null", `{"sub":null,"jti":"j1","type":"access","exp":$EXP}`, m, "sub is a string"),
		row("type-of/aud-number", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"aud":42}`, m, "aud is a string or an array of strings"),
		row("type-of/aud-number-element", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"aud":["api",42]}`, m, "aud elements are strings"),
		row("type-of/jti-number", `{"sub":"alice","jti":7,"type":"access","exp":$EXP}`, m, "jti is a string"),
		row("type-of/iss-number", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"iss":7}`, m, "iss is a string"),
		row("type-of/csrf-number", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"csrf":7}`, m, "csrf is a string"),

		// Missing required claims.
		row("missing/exp", `{"sub":"alice","jti":"j1","type":"access","iat":$NOW}`, authx.ErrMissingClaim, "exp is required: no eternal tokens"),
		row("missing/sub", `{"jti":"j1","type":"access","exp":$EXP}`, authx.ErrMissingClaim, "sub is required"),
		row("missing/sub-empty", `{"sub":"","jti":"j1","type":"access","exp":$EXP}`, authx.ErrMissingClaim, "an empty sub names nobody"),
		row("missing/jti", `{"sub":"alice","type":"access","exp":$EXP}`, authx.ErrMissingClaim, "jti is required for revocation"),
		row("missing/jti-empty", `{"sub":"alice","jti":"","type":"access","exp":$EXP}`, authx.ErrMissingClaim, "an empty jti cannot be revoked"),
		row("missing/type", `{"sub":"alice","jti":"j1","exp":$EXP}`, authx.ErrMissingClaim, "type is required: an untyped token could be either"),

		// Bounds.
		row("bounds/custom-claim-nested-64-deep", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,"x":`+strings.Repeat("[", 64)+strings.Repeat("]", 64)+`}`, m, "nesting is bounded: no deep recursion on attacker input"),
		row("bounds/129-custom-claims", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP,`+badParams(129)+`}`, m, "the number of custom claims is bounded"),
		row("bounds/sub-over-1KiB", `{"sub":"`+strings.Repeat("a", 1025)+`","jti":"j1","type":"access","exp":$EXP}`, m, "claim strings are bounded"),

		// Not a claims object.
		row("payload/array", `[{"sub":"alice","jti":"j1","type":"access","exp":$EXP}]`, m, "the claims set is a JSON object"),
		row("payload/invalid-json", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP`, m, "the claims set is valid JSON"),
		row("payload/trailing-data", `{"sub":"alice","jti":"j1","type":"access","exp":$EXP} {}`, m, "nothing may follow the claims object"),
		row("payload/invalid-utf8", "{\"sub\":\"al\xffice\",\"jti\":\"j1\",\"type\":\"access\",\"exp\":$EXP}", m, "JSON text is UTF-8 (RFC 8259 §8.1)"),
		row("payload/lone-surrogate", `{"sub":"\ud800","jti":"j1","type":"access","exp":$EXP}`, m, "a lone surrogate is not a character"),
	}
	badRunAll(t, env, cases)
}

func TestBadInputSize(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	all := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret),
		authx.WithTokenLocations(authx.InCookie, authx.InQuery, authx.InJSON))
	small := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithMaxTokenSize(1024))

	const def = 8 << 10
	blob := strings.Repeat("A", def+1)
	over := badTokenOfLen(t, def+1, badSecret)
	at := badTokenOfLen(t, def, badSecret)
	over1k := badTokenOfLen(t, 1025, badSecret)
	at1k := badTokenOfLen(t, 1024, badSecret)

	t.Run("default", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, env, []badCase{
			{name: "8KiB+1-base64url-chars", token: blob, want: authx.ErrTokenTooLarge, reason: "rejected by size before any decoding: not ErrMalformed although it has no dots"},
			{name: "8KiB+1-valid-signed-token", token: over, want: authx.ErrTokenTooLarge, reason: "even a valid token is refused over the bound"},
			{name: "8KiB-valid-signed-token", token: at, reason: "the bound itself is allowed"},
			{name: "header-far-over-bound", token: blob, req: badBearer(strings.Repeat("A", 4*def)), verify: true, want: authx.ErrTokenTooLarge, reason: "the header value is bounded before the scheme is parsed"},
		})
	})
	t.Run("other-locations", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, all, []badCase{
			{name: "cookie", token: blob, req: badReq{cookie: "access_token_cookie=" + blob}, verify: true, want: authx.ErrTokenTooLarge, reason: "the bound holds in every location"},
			{name: "query", token: blob, req: badReq{query: "token=" + blob}, verify: true, want: authx.ErrTokenTooLarge, reason: "the bound holds in every location"},
			{name: "json", token: blob, req: badReq{method: http.MethodPost, ctype: "application/json", body: `{"access_token":"` + blob + `"}`}, verify: true, want: authx.ErrTokenTooLarge, reason: "the bound holds in every location"},
		})
	})
	t.Run("WithMaxTokenSize(1024)", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, small, []badCase{
			{name: "1025-valid-signed-token", token: over1k, want: authx.ErrTokenTooLarge, reason: "the configured bound replaces 8 KiB"},
			{name: "1025-base64url-chars", token: strings.Repeat("A", 1025), want: authx.ErrTokenTooLarge, reason: "size first, shape later"},
			{name: "1024-valid-signed-token", token: at1k, reason: "the bound itself is allowed"},
		})
	})
}

func TestBadInputHeaderAndLocations(t *testing.T) {
	t.Parallel()
	header := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	cookieFirst := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithTokenLocations(authx.InCookie, authx.InHeader))
	headerFirst := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithTokenLocations(authx.InHeader, authx.InCookie))
	query := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithTokenLocations(authx.InQuery))

	good := badForge(t, badHS256, badValid, badSecret)
	forged := badForge(t, badHS256, badValid, badOtherSecret)
	garbage := "not-a-token"
	cookie := func(tok string) string { return "access_token_cookie=" + tok }
	both := func(cookieTok, headerTok string) badReq {
		return badReq{cookie: cookie(cookieTok), auth: []string{"Bearer " + headerTok}}
	}

	t.Run("header-only", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, header, []badCase{
			{name: "two-authorization-headers", token: good, req: badReq{auth: []string{"Bearer " + good, "Bearer " + good}}, want: authx.ErrInvalidRequest, reason: "which one counts is ambiguous: 400 invalid_request"},
			{name: "two-authorization-headers-basic-and-bearer", token: good, req: badReq{auth: []string{"Basic dXNlcjpwYXNz", "Bearer " + good}}, want: authx.ErrInvalidRequest, reason: "two headers are refused whatever their schemes"},
			{name: "basic-scheme", token: good, req: badReq{auth: []string{"Basic dXNlcjpwYXNz"}}, want: authx.ErrNoToken, reason: "a foreign scheme is not a bearer token: missing_token without an error attribute"},
			{name: "scheme-lower-case", token: good, req: badReq{auth: []string{"bearer " + good}}, reason: "schemes are case-insensitive (RFC 9110 §11.1)"},
			{name: "scheme-upper-case", token: good, req: badReq{auth: []string{"BEARER " + good}}, reason: "schemes are case-insensitive"},
			{name: "scheme-without-token", req: badReq{auth: []string{"Bearer"}}, want: authx.ErrInvalidRequest, reason: "our scheme with nothing after it is a request missing its parameter: invalid_request (RFC 6750 §3.1)"},
			{name: "scheme-and-spaces", req: badReq{auth: []string{"Bearer    "}}, want: authx.ErrInvalidRequest, reason: "our scheme with only spaces after it is invalid_request (RFC 6750 §3.1)"},
			{name: "scheme-glued-word", req: badReq{auth: []string{"Bearerxyz"}}, want: authx.ErrNoToken, reason: "Bearerxyz is another scheme"},
			{name: "scheme-glued-token", token: good, req: badReq{auth: []string{"Bearer" + good}}, want: authx.ErrNoToken, reason: "without the space it is another scheme, not our token"},
			{name: "empty-header", req: badReq{auth: []string{""}}, want: authx.ErrNoToken, reason: "an empty header holds no token"},
			{name: "verify-empty-token", token: "", verify: true, req: badReq{method: http.MethodGet}, want: authx.ErrNoToken, reason: "Verify(\"\") is no token"},
		})
	})
	t.Run("query", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, query, []badCase{
			{name: "parameter-twice", token: good, req: badReq{query: "token=" + good + "&token=" + good}, want: authx.ErrInvalidRequest, reason: "a duplicated query parameter is ambiguous"},
			{name: "parameter-empty", req: badReq{query: "token="}, want: authx.ErrNoToken, reason: "an empty parameter holds no token"},
			{name: "parameter-forged", token: forged, req: badReq{query: "token=" + forged}, verify: true, want: authx.ErrSignature, reason: "the query token is verified like any other"},
			{name: "control/parameter", token: good, req: badReq{query: "token=" + good}, reason: "one parameter passes"},
		})
	})
	t.Run("cookie-then-header", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, cookieFirst, []badCase{
			{name: "cookie-forged-header-good", token: forged, req: both(forged, good), want: authx.ErrSignature, reason: "the first configured location wins even when its token is bad: no fallback"},
			{name: "cookie-garbage-header-good", token: garbage, req: both(garbage, good), want: authx.ErrMalformed, reason: "no fallback"},
			{name: "cookie-good-header-forged", token: forged, req: both(good, forged), reason: "the header is never read"},
			{name: "basic-header-no-cookie", req: badReq{auth: []string{"Basic dXNlcjpwYXNz"}}, want: authx.ErrNoToken, reason: "nothing anywhere"},
		})
	})
	t.Run("header-then-cookie", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, headerFirst, []badCase{
			{name: "header-forged-cookie-good", token: forged, req: both(good, forged), want: authx.ErrSignature, reason: "the first configured location wins even when its token is bad: no fallback"},
			{name: "header-garbage-cookie-good", token: garbage, req: both(good, garbage), want: authx.ErrMalformed, reason: "no fallback"},
			{name: "header-good-cookie-forged", token: forged, req: both(forged, good), reason: "the cookie is never read"},
			{name: "basic-header-cookie-good", token: good, req: badReq{auth: []string{"Basic dXNlcjpwYXNz"}, cookie: cookie(good)}, reason: "a foreign scheme holds no token: lookup falls through to the cookie (GET: no CSRF)"},
			{name: "bearer-without-token-cookie-good", token: good, req: badReq{auth: []string{"Bearer"}, cookie: cookie(good)}, want: authx.ErrInvalidRequest, reason: "our scheme without a token is an error, not an absence: no fallback"},
			{name: "two-headers-cookie-good", token: good, req: badReq{auth: []string{"Bearer " + good, "Bearer " + good}, cookie: cookie(good)}, want: authx.ErrInvalidRequest, reason: "an unreadable request is refused, not skipped"},
		})
	})
}

func TestBadInputJSONBody(t *testing.T) {
	t.Parallel()
	jsonOnly := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret),
		authx.WithTokenLocations(authx.InJSON), authx.WithMaxBodySize(1024))
	jsonThenHeader := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret),
		authx.WithTokenLocations(authx.InJSON, authx.InHeader))

	good := badForge(t, badHS256, badValid, badSecret)
	forged := badForge(t, badHS256, badValid, badOtherSecret)
	post := func(ctype, body string) badReq { return badReq{method: http.MethodPost, ctype: ctype, body: body} }
	big := `{"access_token":"` + good + `","filler":"` + strings.Repeat("x", 1024) + `"}`
	original := "{\n  \"note\": \"keep me\",\n  \"access_token\": \"" + good + "\",\n  \"n\": [1, 2.50, \"\\u00e9\"]\n}\n\t "

	t.Run("json-only", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, jsonOnly, []badCase{
			{name: "invalid-json", req: post("application/json", `{"access_token":`), want: authx.ErrInvalidRequest, reason: "an unparsable body is a bad request"},
			{name: "invalid-json-trailing", token: good, req: post("application/json", `{"access_token":"`+good+`"} x`), want: authx.ErrInvalidRequest, reason: "nothing may follow the object"},
			{name: "member-number", req: post("application/json", `{"access_token":42}`), want: authx.ErrInvalidRequest, reason: "the token member must be a string"},
			{name: "member-array", token: good, req: post("application/json", `{"access_token":["`+good+`"]}`), want: authx.ErrInvalidRequest, reason: "the token member must be a string"},
			{name: "member-object", req: post("application/json", `{"access_token":{}}`), want: authx.ErrInvalidRequest, reason: "the token member must be a string"},
			{name: "member-twice", token: good, req: post("application/json", `{"access_token":"`+forged+`","access_token":"`+good+`"}`), want: authx.ErrInvalidRequest, reason: "first-wins and last-wins parsers disagree"},
			{name: "deeply-nested-body", req: post("application/json", `{"x":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}`), want: authx.ErrInvalidRequest, reason: "body nesting is bounded"},
			{name: "member-null", req: post("application/json", `{"access_token":null}`), want: authx.ErrNoToken, reason: "null holds no token"},
			{name: "body-not-object", req: post("application/json", `["x"]`), want: authx.ErrNoToken, reason: "valid JSON that is not an object holds no token"},
			{name: "body-over-limit", token: good, req: post("application/json", big), want: authx.ErrInvalidRequest, reason: "WithMaxBodySize(1024), refused by Content-Length"},
			{name: "body-over-limit-chunked", token: good, req: badReq{method: http.MethodPost, ctype: "application/json", body: big, chunked: true}, want: authx.ErrInvalidRequest, reason: "WithMaxBodySize(1024), refused while reading a body of unknown length"},
			{name: "charset-parameter", token: good, req: post("application/json; charset=utf-8", `{"access_token":"`+good+`"}`), wantBody: `{"access_token":"` + good + `"}`, reason: "media type parameters are allowed"},
			{name: "plus-json", token: good, req: post("application/vnd.api+json", `{"access_token":"`+good+`"}`), wantBody: `{"access_token":"` + good + `"}`, reason: "any +json type is JSON"},
			{name: "text-plain-not-read", token: good, req: post("text/plain", `{"access_token":"`+good+`"}`), want: authx.ErrNoToken, reason: "only JSON bodies are read"},
			{name: "no-content-type-not-read", token: good, req: post("", `{"access_token":"`+good+`"}`), want: authx.ErrNoToken, reason: "only JSON bodies are read"},
			{name: "body-restored-exactly", token: good, req: post("application/json", original), wantBody: original, reason: "the handler reads the exact original bytes"},
			{name: "forged-token", token: forged, req: post("application/json", `{"access_token":"`+forged+`"}`), verify: true, want: authx.ErrSignature, reason: "the body token is verified like any other"},
		})
	})
	t.Run("json-then-header", func(t *testing.T) {
		t.Parallel()
		textBody := `{"access_token":"` + forged + `"}`
		badRunAll(t, jsonThenHeader, []badCase{
			{name: "text-plain-body-untouched", token: good, req: badReq{method: http.MethodPost, ctype: "text/plain", body: textBody, auth: []string{"Bearer " + good}}, wantBody: textBody, reason: "a text/plain body is neither read for a token nor consumed"},
			{name: "invalid-json-no-fallback", token: good, req: badReq{method: http.MethodPost, ctype: "application/json", body: "{", auth: []string{"Bearer " + good}}, want: authx.ErrInvalidRequest, reason: "an unreadable first location is an error, not an absence"},
		})
	})
}

func TestBadInputTokenType(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret),
		authx.WithTokenLocations(authx.InHeader, authx.InCookie, authx.InQuery, authx.InJSON))
	access := env.issue(t, authx.Access)
	refresh := env.issue(t, authx.Refresh)

	// Each location, under the names the access or the refresh guard reads.
	in := func(loc string, asRefresh bool, tok string) badReq {
		switch loc {
		case "header":
			return badBearer(tok)
		case "cookie":
			if asRefresh {
				return badReq{cookie: "refresh_token_cookie=" + tok}
			}
			return badReq{cookie: "access_token_cookie=" + tok}
		case "query":
			return badReq{query: "token=" + tok}
		}
		key := "access_token"
		if asRefresh {
			key = "refresh_token"
		}
		return badReq{method: http.MethodPost, ctype: "application/json", body: `{"` + key + `":"` + tok + `"}`}
	}
	var cases []badCase
	for _, loc := range []string{"header", "cookie", "query", "json"} {
		body := func(r badReq) string { return r.body }
		cases = append(cases,
			badCase{name: "refresh-to-access-guard/" + loc, token: refresh, req: in(loc, false, refresh), verify: true, want: authx.ErrAccessRequired, reason: "a refresh token never passes an access guard, whatever its location"},
			badCase{name: "access-to-refresh-guard/" + loc, token: access, req: in(loc, true, access), verify: true, refresh: true, want: authx.ErrRefreshRequired, reason: "an access token never passes a Refresh guard, whatever its location"},
			badCase{name: "control/access-to-access-guard/" + loc, token: access, req: in(loc, false, access), verify: true, wantBody: body(in(loc, false, access)), reason: "the right type passes"},
			badCase{name: "control/refresh-to-refresh-guard/" + loc, token: refresh, req: in(loc, true, refresh), verify: true, refresh: true, wantBody: body(in(loc, true, refresh)), reason: "the right type passes"},
		)
	}
	cases = append(cases, badCase{
		name: "refresh-in-refresh-cookie-invisible-to-access-guard", token: refresh,
		req: badReq{cookie: "refresh_token_cookie=" + refresh}, want: authx.ErrNoToken,
		reason: "an access guard reads the access cookie only",
	})
	badRunAll(t, env, cases)
}

func TestBadInputCSRF(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithTokenLocations(authx.InCookie))
	mixed := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithTokenLocations(authx.InHeader, authx.InCookie))
	tok := env.issue(t, authx.Access)
	c, err := env.a.Verify(context.Background(), tok)
	if err != nil || c.CSRF == "" {
		t.Fatalf("issued cookie token: claims %+v, err %v; want a csrf claim", c, err)
	}
	noCSRF := badForge(t, badHS256, `{"sub":"alice","jti":"j1","type":"access","exp":$EXP}`, badSecret)
	emptyCSRF := badForge(t, badHS256, `{"sub":"alice","jti":"j1","type":"access","csrf":"","exp":$EXP}`, badSecret)
	cookie := "access_token_cookie=" + tok + "; csrf_access_token=" + c.CSRF
	on := func(method, csrf string) badReq { return badReq{method: method, cookie: cookie, csrf: csrf} }

	t.Run("cookie-only", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, env, []badCase{
			{name: "POST-without-header", token: tok, req: on(http.MethodPost, ""), want: authx.ErrCSRFMissing, reason: "a cookie-borne token on an unsafe method needs the CSRF header"},
			{name: "POST-wrong-header", token: tok, req: on(http.MethodPost, "wrong"), want: authx.ErrCSRFMismatch, reason: "the header must equal the csrf claim"},
			{name: "POST-header-is-prefix", token: tok, req: on(http.MethodPost, c.CSRF[:8]), want: authx.ErrCSRFMismatch, reason: "no prefix matching"},
			{name: "POST-right-header", token: tok, req: on(http.MethodPost, c.CSRF), reason: "the csrf claim in the header passes"},
			{name: "GET-without-header", token: tok, req: on(http.MethodGet, ""), reason: "safe methods need no CSRF header"},
			{name: "OPTIONS-without-header", token: tok, req: on(http.MethodOptions, ""), reason: "safe methods need no CSRF header"},
			{name: "PUT-without-header", token: tok, req: on(http.MethodPut, ""), want: authx.ErrCSRFMissing, reason: "PUT is unsafe"},
			{name: "PATCH-wrong-header", token: tok, req: on(http.MethodPatch, "wrong"), want: authx.ErrCSRFMismatch, reason: "PATCH is unsafe"},
			{name: "DELETE-without-header", token: tok, req: on(http.MethodDelete, ""), want: authx.ErrCSRFMissing, reason: "DELETE is unsafe"},
			{name: "DELETE-right-header", token: tok, req: on(http.MethodDelete, c.CSRF), reason: "the csrf claim passes"},
			{name: "token-without-csrf-claim", token: noCSRF, req: badReq{method: http.MethodPost, cookie: "access_token_cookie=" + noCSRF, csrf: "anything"}, want: authx.ErrCSRFMismatch, reason: "a token without a csrf claim matches no header"},
			{name: "token-with-empty-csrf-claim", token: emptyCSRF, req: badReq{method: http.MethodPost, cookie: "access_token_cookie=" + emptyCSRF, csrf: "x"}, want: authx.ErrCSRFMismatch, reason: "an empty csrf claim matches no header"},
		})
	})
	t.Run("header-and-cookie", func(t *testing.T) {
		t.Parallel()
		headerTok := mixed.issue(t, authx.Access)
		badRunAll(t, mixed, []badCase{
			{name: "POST-bearer-header-needs-no-CSRF", token: headerTok, req: badReq{method: http.MethodPost, auth: []string{"Bearer " + headerTok}}, reason: "CSRF applies to cookie-borne tokens only"},
			{name: "POST-cookie-without-header", token: tok, req: on(http.MethodPost, ""), want: authx.ErrCSRFMissing, reason: "the cookie token still needs CSRF"},
		})
	})
}

// TestBadInputCSRFMethodCase: CSRF is skipped only for the safe methods,
// spelled exactly (GET, HEAD, OPTIONS, TRACE). Methods are case-sensitive,
// but a handler that does not route on the method still runs for "patch",
// and browsers send "patch" as written (fetch upper-cases only DELETE, GET,
// HEAD, OPTIONS, POST and PUT); every such method is checked (fail closed).
func TestBadInputCSRFMethodCase(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithTokenLocations(authx.InCookie))
	tok := env.issue(t, authx.Access)
	cookie := "access_token_cookie=" + tok
	badRunAll(t, env, []badCase{
		{name: "patch-lower-case", token: tok, req: badReq{method: "patch", cookie: cookie}, want: authx.ErrCSRFMissing, reason: "browsers send a lower-case patch as written"},
		{name: "post-lower-case", token: tok, req: badReq{method: "post", cookie: cookie}, want: authx.ErrCSRFMissing, reason: "post is POST to Python AuthX"},
		{name: "get-lower-case", token: tok, req: badReq{method: "get", cookie: cookie}, want: authx.ErrCSRFMissing, reason: "only the exact safe methods skip the check"},
		{name: "PROPFIND", token: tok, req: badReq{method: "PROPFIND", cookie: cookie}, want: authx.ErrCSRFMissing, reason: "any unsafe method needs the header, not only AuthX's four"},
	})
}

func TestBadInputTime(t *testing.T) {
	t.Parallel()
	strict := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	lenient := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithLeeway(2*time.Minute))
	tok := func(claims string) string {
		return badForge(t, badHS256, `{"sub":"alice","jti":"j1","type":"access",`+claims+`}`, badSecret)
	}
	expired := tok(`"iat":$OLD,"exp":$PAST`)
	expiresNow := tok(`"exp":$NOW`)
	notYet := tok(`"nbf":$SOON,"exp":$EXP`)
	issuedFuture := tok(`"iat":$SOON,"exp":$EXP`)
	longExpired := tok(`"exp":$OLD`)
	longNotYet := tok(`"nbf":$LATER,"exp":$EXP`)
	longFuture := tok(`"iat":$LATER,"exp":$EXP`)

	t.Run("no-leeway", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, strict, []badCase{
			{name: "expired", token: expired, want: authx.ErrExpired, reason: "exp one minute ago"},
			{name: "expires-now", token: expiresNow, want: authx.ErrExpired, reason: "exp is exclusive: on or after exp is expired (RFC 7519 §4.1.4)"},
			{name: "not-yet-valid", token: notYet, want: authx.ErrNotYetValid, reason: "nbf one minute ahead"},
			{name: "issued-in-future", token: issuedFuture, want: authx.ErrIssuedInFuture, reason: "iat one minute ahead"},
			{name: "nbf-now", token: tok(`"nbf":$NOW,"exp":$EXP`), reason: "nbf is inclusive"},
		})
	})
	t.Run("leeway-2m", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, lenient, []badCase{
			{name: "expired-within-leeway", token: expired, reason: "one minute late is within two"},
			{name: "not-yet-valid-within-leeway", token: notYet, reason: "one minute early is within two"},
			{name: "issued-in-future-within-leeway", token: issuedFuture, reason: "one minute of skew is within two"},
			{name: "expired-beyond-leeway", token: longExpired, want: authx.ErrExpired, reason: "three minutes late is beyond two"},
			{name: "not-yet-valid-beyond-leeway", token: longNotYet, want: authx.ErrNotYetValid, reason: "three minutes early is beyond two"},
			{name: "issued-in-future-beyond-leeway", token: longFuture, want: authx.ErrIssuedInFuture, reason: "three minutes of skew is beyond two"},
		})
	})
}

// TestBadInputDateRange: a NumericDate (exp, iat, nbf) is read from the
// epoch to 9999-12-31T23:59:59Z; outside that the token is malformed, even
// though its signature is valid: a negative iat or nbf, or an exp in year
// 31 million, is a forgery or a bug, never a date.
func TestBadInputDateRange(t *testing.T) {
	t.Parallel()
	env := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	row := func(name, claims string, want error, reason string) badCase {
		return badCase{name: name, token: badForge(t, badHS256, `{"sub":"alice","jti":"j1","type":"access",`+claims+`}`, badSecret), want: want, reason: reason}
	}
	m := authx.ErrMalformed
	badRunAll(t, env, []badCase{
		row("exp/after-9999", `"exp":253402300800`, m, "10000-01-01T00:00:00Z is past the last representable date"),
		row("exp/after-9999-by-a-fraction", `"exp":253402300799.5`, m, "past 9999-12-31T23:59:59Z"),
		row("exp/1e15", `"exp":1e15`, m, "exactly representable, yet some 31 million years ahead: an eternal token"),
		row("exp/2^53", `"exp":9007199254740992`, m, "the old bound was inclusive"),
		row("exp/negative", `"exp":-1`, m, "before the epoch"),
		row("exp/negative-fraction", `"exp":-0.5`, m, "truncation toward zero must not turn -0.5 into the epoch"),
		row("iat/negative", `"iat":-1,"exp":$EXP`, m, "a token issued before 1970 passed the issued-in-future check"),
		row("iat/after-9999", `"iat":253402300800,"exp":$EXP`, m, "out of range, not merely issued in the future"),
		row("nbf/negative", `"nbf":-86400,"exp":$EXP`, m, "a negative nbf passed as 'valid since long ago'"),
		row("nbf/after-9999", `"nbf":253402300800,"exp":$EXP`, m, "out of range, not merely not yet valid"),
		row("control/exp-9999-12-31T23:59:59Z", `"exp":253402300799`, nil, "the last second is in range"),
		row("control/iat-nbf-at-the-epoch", `"iat":0,"nbf":0,"exp":$EXP`, nil, "the epoch is in range"),
		row("control/exp-with-a-fraction", `"iat":$NOW,"exp":$EXP.5`, nil, "NumericDate may have a fraction"),
	})
}

func TestBadInputIssuerAudience(t *testing.T) {
	t.Parallel()
	iss := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithIssuer("https://id.example"))
	aud := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret), authx.WithAudience("api"))
	none := badSetup(t, [][]byte{badSecret}, authx.WithSecret(badSecret))
	tok := func(claims string) string {
		return badForge(t, badHS256, `{"sub":"alice","jti":"j1","type":"access","exp":$EXP`+claims+`}`, badSecret)
	}
	t.Run("issuer", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, iss, []badCase{
			{name: "wrong", token: tok(`,"iss":"https://evil.example"`), want: authx.ErrIssuer, reason: "iss must equal WithIssuer"},
			{name: "missing", token: tok(``), want: authx.ErrIssuer, reason: "WithIssuer requires iss"},
			{name: "empty", token: tok(`,"iss":""`), want: authx.ErrIssuer, reason: "an empty iss is not ours"},
			{name: "other-case", token: tok(`,"iss":"HTTPS://ID.EXAMPLE"`), want: authx.ErrIssuer, reason: "iss is compared exactly (StringOrURI)"},
			{name: "trailing-slash", token: tok(`,"iss":"https://id.example/"`), want: authx.ErrIssuer, reason: "iss is compared exactly"},
			{name: "control/right", token: tok(`,"iss":"https://id.example"`), reason: "the configured issuer passes"},
		})
	})
	t.Run("audience", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, aud, []badCase{
			{name: "mismatch", token: tok(`,"aud":"web"`), want: authx.ErrAudience, reason: "aud must name a configured audience"},
			{name: "mismatch-list", token: tok(`,"aud":["web","admin"]`), want: authx.ErrAudience, reason: "no element names us"},
			{name: "missing", token: tok(``), want: authx.ErrAudience, reason: "WithAudience requires aud"},
			{name: "empty-list", token: tok(`,"aud":[]`), want: authx.ErrAudience, reason: "an empty list names nobody"},
			{name: "other-case", token: tok(`,"aud":"API"`), want: authx.ErrAudience, reason: "aud is compared exactly"},
			{name: "control/string", token: tok(`,"aud":"api"`), reason: "the configured audience passes"},
			{name: "control/list", token: tok(`,"aud":["web","api"]`), reason: "one matching element passes"},
		})
	})
	t.Run("no-audience-configured", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, none, []badCase{
			{name: "aud-string", token: tok(`,"aud":"api"`), want: authx.ErrAudience, reason: "a token for an audience is refused where none is configured (RFC 7519 §4.1.3)"},
			{name: "aud-list", token: tok(`,"aud":["api"]`), want: authx.ErrAudience, reason: "a token for an audience is refused where none is configured"},
		})
	})
}

func TestBadInputKeys(t *testing.T) {
	t.Parallel()
	keys := [][]byte{badSecret, badSecret384, badOldSecret}
	kid := badSetup(t, keys, authx.WithSecret(badSecret), authx.WithKeyID("k1"),
		authx.WithVerificationKey("k384", "HS384", badSecret384))
	rotated := badSetup(t, keys, authx.WithSecret(badSecret), authx.WithVerificationKey("", "HS256", badOldSecret))
	removed := badSetup(t, keys, authx.WithSecret(badSecret))
	old := badSetup(t, keys, authx.WithSecret(badOldSecret))
	oldTok := old.issue(t, authx.Access)
	p := badSeg(badP(badValid))

	t.Run("kid", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, kid, []badCase{
			{name: "unknown-kid", token: badForge(t, `{"alg":"HS256","kid":"nope","typ":"JWT"}`, badValid, badSecret), want: authx.ErrUnknownKey, reason: "a kid we do not have"},
			{name: "empty-kid", token: badForge(t, `{"alg":"HS256","kid":"","typ":"JWT"}`, badValid, badSecret), want: authx.ErrUnknownKey, reason: "an empty kid names no key"},
			{name: "kid-number", token: badForge(t, `{"alg":"HS256","kid":1,"typ":"JWT"}`, badValid, badSecret), want: authx.ErrMalformed, reason: "kid is a string"},
			{name: "duplicate-kid", token: badForge(t, `{"alg":"HS256","kid":"k1","kid":"k384","typ":"JWT"}`, badValid, badSecret), want: authx.ErrMalformed, reason: "duplicate names are refused"},
			{name: "no-kid-every-key-has-one", token: badForge(t, badHS256, badValid, badSecret), want: authx.ErrUnknownKey, reason: "without a kid no key is selected when every key has one"},
			{name: "kid-of-HS384-key-alg-HS256", token: badSign(badSeg(`{"alg":"HS256","kid":"k384","typ":"JWT"}`), p, badSecret384), want: authx.ErrAlgorithm, reason: "the kid's key is pinned to HS384"},
			{name: "kid-of-HS256-key-alg-HS384", token: badSignWith(sha512.New384, badSeg(`{"alg":"HS384","kid":"k1","typ":"JWT"}`), p, badSecret), want: authx.ErrAlgorithm, reason: "the kid's key is pinned to HS256"},
			{name: "kid-right-wrong-secret", token: badForge(t, `{"alg":"HS256","kid":"k1","typ":"JWT"}`, badValid, badOtherSecret), want: authx.ErrSignature, reason: "the right key, a wrong MAC"},
			{name: "control/kid-k1", token: badForge(t, `{"alg":"HS256","kid":"k1","typ":"JWT"}`, badValid, badSecret), reason: "the signing key by kid"},
			{name: "control/kid-k384", token: badSignWith(sha512.New384, badSeg(`{"alg":"HS384","kid":"k384","typ":"JWT"}`), p, badSecret384), reason: "a verification key by kid with its own alg"},
		})
	})
	t.Run("rotation", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, rotated, []badCase{
			{name: "old-key-kept", token: oldTok, reason: `a token of the old key verifies with WithVerificationKey("", "HS256", old)`},
			{name: "attacker-key", token: badForge(t, badHS256, badValid, badOtherSecret), want: authx.ErrSignature, reason: "no configured key made it"},
		})
	})
	t.Run("rotation-removed", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, removed, []badCase{
			{name: "old-key-removed", token: oldTok, want: authx.ErrSignature, reason: "once the old key is gone its tokens fail the signature"},
		})
	})
}

func TestBadInputAlgConfusion(t *testing.T) {
	t.Parallel()
	priv, err := badRSAKey()
	if err != nil {
		t.Fatalf("rsa.GenerateKey: %v", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pkix := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&priv.PublicKey)})
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{pkix, pkcs1, random, x509.MarshalPKCS1PrivateKey(priv)}

	signer := badSetup(t, secrets, authx.WithSigningKey("RS256", priv))
	verifier := badSetup(t, secrets, authx.WithVerificationKey("", "RS256", pkix))
	byKID := badSetup(t, secrets, authx.WithVerificationKey("rsa1", "RS256", pkix))
	genuine := signer.issue(t, authx.Access)

	forge := func(header string, secret []byte) string { return badForge(t, header, badValid, secret) }
	hs := `{"alg":"HS256","typ":"JWT"}`
	hsKID := `{"alg":"HS256","kid":"rsa1","typ":"JWT"}`
	for _, tc := range []struct {
		name string
		env  *badEnv
	}{{"RS256-signing-key", signer}, {"RS256-public-PEM-verification-key", verifier}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			badRunAll(t, tc.env, []badCase{
				{name: "HS256-keyed-with-PKIX-PEM", token: forge(hs, pkix), want: authx.ErrAlgorithm, reason: "the classic confusion: the public key used as an HMAC secret"},
				{name: "HS256-keyed-with-PKCS1-PEM", token: forge(hs, pkcs1), want: authx.ErrAlgorithm, reason: "the public key in another PEM form"},
				{name: "HS256-keyed-with-32-random-bytes", token: forge(hs, random), want: authx.ErrAlgorithm, reason: "no HS256 key is configured at all"},
				{name: "control/genuine-RS256", token: genuine, reason: "the real RS256 token passes"},
			})
		})
	}
	t.Run("RS256-key-by-kid", func(t *testing.T) {
		t.Parallel()
		badRunAll(t, byKID, []badCase{
			{name: "HS256-kid-of-RSA-key-keyed-with-PEM", token: forge(hsKID, pkix), want: authx.ErrAlgorithm, reason: "the kid selects an RS256 key: HS256 is refused"},
			{name: "HS256-kid-of-RSA-key-keyed-with-random", token: forge(hsKID, random), want: authx.ErrAlgorithm, reason: "the kid selects an RS256 key: HS256 is refused"},
		})
	})
}
