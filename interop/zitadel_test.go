package interop_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/jwks"
)

// A real OpenID Provider's access tokens open our routes: zitadel/oidc's op
// package, as its example server wires it over its example storage, on
// loopback. Package jwks finds the OP's keys through its discovery
// document; an Auth trusting them (WithKeySet, Audience of the OP's web
// client) admits a user's token from the authorization code flow, with its
// subject, scopes and the OP's own claims, and refuses a tampered or
// re-signed token and the OP's tokens for other audiences; another, as the
// OP's service user, admits the token of the client credentials grant.
// When the OP rotates its signing key, a token of the new key verifies at
// once — its unknown kid makes the Set fetch the JWKS again, once — while
// the old key's tokens verify until the OP stops publishing it.
func TestRealProviderTokens(t *testing.T) {
	t.Parallel()
	idp := newProvider(t)
	set, err := jwks.Discover(t.Context(), idp.URL, jwks.InsecureAllowHTTP(), jwks.WithHTTPClient(idp.srv.Client()))
	if err != nil {
		t.Fatalf("jwks.Discover(%s): %v", idp.URL, err)
	}
	t.Cleanup(func() { _ = set.Close() })
	// The API, as the OP's web client; and a service's, as its service user.
	a, err := authx.New[string](authx.WithKeySet(set, authx.Audience(webClient)))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := authx.New[string](authx.WithKeySet(set, authx.Audience(serviceClient)))
	if err != nil {
		t.Fatal(err)
	}
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := authx.ClaimsFrom(r.Context())
		custom, _ := c.Get("custom_claim")
		iss := c.Issuer
		if iss == idp.URL {
			iss = "the OP"
		}
		fmt.Fprintf(w, "%s of %s %v custom_claim=%v", c.Subject, iss, c.Scopes, custom)
	})
	mux := http.NewServeMux()
	mux.Handle("/whoami", a.Require().Wrap(who))
	mux.Handle("/custom", a.Require(authx.Scopes("custom_scope")).Wrap(who))
	mux.Handle("/admin", a.Require(authx.Scopes("admin")).Wrap(who))
	mux.Handle("/service", svc.Require(authx.Scopes("custom_scope")).Wrap(who))
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)

	user := idp.UserToken(t, "openid custom_scope")
	service := idp.ServiceToken(t, "custom_scope")
	if kid := header(t, user.AccessToken).Kid; kid != idp.store.ownKID(t) {
		t.Fatalf("the user's token is signed by %q, not the example storage's key %q", kid, idp.store.ownKID(t))
	}
	const me = "id1 of the OP [openid custom_scope] custom_claim=map[client:web other:stuff]"
	invalid := result{Status: 401, WWW: `Bearer realm="api", error="invalid_token"`}
	fetches := idp.keyFetches.Load()
	for _, tt := range []struct {
		name, path, tok string
		want            result
		reason          string
	}{
		{"the user's access token", "/whoami", user.AccessToken, result{Status: 200, Body: me}, ""},
		{"its scope", "/custom", user.AccessToken, result{Status: 200, Body: me}, ""},
		{"a scope it lacks", "/admin", user.AccessToken, result{Status: 403, WWW: `Bearer realm="api", error="insufficient_scope", scope="admin"`}, ""},
		{"tampered: another user", "/whoami", tamper(t, user.AccessToken, "sub", "id2"), invalid, "the OP's signature no longer matches"},
		{"re-signed by another key under the OP's kid", "/whoami", authtest.Resign(t, user.AccessToken), invalid, ""},
		{"the user's ID token", "/whoami", user.IDToken, invalid,
			"the op types ID and access tokens alike (typ JWT) and gives both aud web: authx refuses a token with an ID token's claims (at_hash, nonce, c_hash)"},
		{"the service's token", "/service", service.AccessToken, result{Status: 200, Body: "sid1 of the OP [custom_scope] custom_claim=map[client:sid1 other:stuff]"},
			"the client credentials grant"},
		{"the service's token, for another audience", "/whoami", service.AccessToken, invalid,
			"the OP's token for its service user (aud sid1) must not open the API of client web"},
		{"the user's token, for another audience", "/service", user.AccessToken, invalid, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := get(t, api.URL+tt.path, tt.tok)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s\n%s", diff, tt.reason)
			}
		})
	}
	if got := idp.keyFetches.Load() - fetches; got != 0 {
		t.Errorf("the OP's JWKS fetched %d times by requests: the Set should answer them from memory", got)
	}

	// Rotation at the OP: a new signing key with a new kid, the old one
	// still published.
	newKID := idp.store.Rotate(t)
	rotated := idp.UserToken(t, "openid custom_scope")
	if kid := header(t, rotated.AccessToken).Kid; kid != newKID {
		t.Fatalf("after the rotation the OP signs with %q, want %q", kid, newKID)
	}
	fetches = idp.keyFetches.Load()
	if got := get(t, api.URL+"/custom", rotated.AccessToken); got.Status != 200 {
		t.Errorf("a token of the OP's new key: %+v, want 200", got)
	}
	if got := idp.keyFetches.Load() - fetches; got != 1 {
		t.Errorf("the new kid made the Set fetch the OP's JWKS %d times, want 1", got)
	}
	if got := get(t, api.URL+"/custom", user.AccessToken); got.Status != 200 {
		t.Errorf("a token of the OP's old key, still published: %+v, want 200", got)
	}

	// The OP stops publishing the old key; once the Set has fetched again,
	// its tokens are refused and the new key's still verify.
	idp.store.Retire()
	if err := set.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(invalid, get(t, api.URL+"/custom", user.AccessToken)); diff != "" {
		t.Errorf("a token of the retired key (-want +got)\n%s", diff)
	}
	if got := get(t, api.URL+"/custom", rotated.AccessToken); got.Status != 200 {
		t.Errorf("a token of the new key after the old one's retirement: %+v, want 200", got)
	}
}

// result is what a test compares of a response.
type result struct {
	Status int
	WWW    string // WWW-Authenticate
	Body   string // of a 200
}

func get(tb testing.TB, target, tok string) result {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), "GET", target, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := result{Status: resp.StatusCode, WWW: resp.Header.Get("WWW-Authenticate")}
	if r.Status == 200 {
		r.Body = string(body)
	}
	return r
}

// header decodes the JOSE header of tok.
func header(tb testing.TB, tok string) (h struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}) {
	tb.Helper()
	seg, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil {
		tb.Fatalf("header of %.20s…: %v", tok, err)
	}
	return h
}

// tamper sets claim to v in tok's payload, keeping its signature.
func tamper(tb testing.TB, tok, claim string, v any) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("tamper: not a JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		tb.Fatal(err)
	}
	claims[claim] = v
	if b, err = json.Marshal(claims); err != nil {
		tb.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// provider is a real OpenID Provider on loopback: zitadel/oidc's op package
// as its example server wires it (exampleop.SetupServer: discovery, JWKS,
// authorization and token endpoints, the example's login page), over the
// example's in-memory storage with its users and clients.
type provider struct {
	URL        string // the issuer
	srv        *httptest.Server
	store      *opStorage
	keyFetches atomic.Int64 // JWKS requests served

	meta struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
	}
}

// The example's clients: the web client ("web", a confidential client of
// the authorization code flow, whose id is the aud of its tokens), and the
// storage's built-in service user ("sid1") of the client credentials grant.
const (
	webClient, webSecret         = "web", "secret"
	serviceClient, serviceSecret = "sid1", "verysecret"
	redirectURI                  = "https://app.example/callback" // never fetched: the flow stops at the redirect
	userPassword                 = "verysecure"                   // the example users' password
	keysPath                     = "/keys"                        // the op's default JWKS endpoint
)

func newProvider(tb testing.TB) *provider {
	tb.Helper()
	p := &provider{}
	// The issuer must be known before the OP is built: listen first.
	p.srv = httptest.NewUnstartedServer(nil)
	p.URL = "http://" + p.srv.Listener.Addr().String()
	users := storage.NewUserStore(p.URL)
	p.store = &opStorage{Storage: storage.NewStorageWithClients(users, map[string]*storage.Client{
		webClient: storage.WebClient(webClient, webSecret, redirectURI),
	})}
	// nil logger: SetupServer leaves slog's default alone.
	router := exampleop.SetupServer(p.URL, p.store, nil, false)
	p.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == keysPath {
			p.keyFetches.Add(1)
		}
		router.ServeHTTP(w, r)
	})
	p.srv.Start()
	tb.Cleanup(p.srv.Close)

	resp, err := p.srv.Client().Get(p.URL + "/.well-known/openid-configuration")
	if err != nil {
		tb.Fatalf("OP discovery: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&p.meta); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("OP discovery: %d %v", resp.StatusCode, err)
	}
	if p.meta.JWKSURI != p.URL+keysPath {
		tb.Fatalf("OP discovery: jwks_uri %q, want %q", p.meta.JWKSURI, p.URL+keysPath)
	}
	return p
}

// opStorage is the example storage with what the example has no setting
// for:
//   - its clients get JWT access tokens (the example gives every client
//     opaque ones);
//   - those tokens carry the granted scopes in RFC 9068's scope claim: the
//     op writes none of its own into a JWT access token, and leaves such
//     claims to the storage's GetPrivateClaimsFromScopes, the hook an OP
//     built on it fills (as Zitadel adds its roles there);
//   - its signing key can be rotated: the example's own key signs until
//     Rotate, and stays published until Retire.
//
// Everything else — users, login, clients, secrets, token lifetimes, the
// example's custom_claim, the signing itself — is the example's.
type opStorage struct {
	*storage.Storage

	mu      sync.Mutex
	rotated []*opKey // newest first; the first signs
	retired bool     // only the newest key is published
}

type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

func (s *opStorage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := s.Storage.ClientCredentials(ctx, id, secret)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

// GetPrivateClaimsFromScopes adds the scopes granted (less profile, email,
// phone and address, which the op removes) as a scope claim to the
// example's claims.
func (s *opStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil || len(scopes) == 0 {
		return claims, err
	}
	if claims == nil {
		claims = make(map[string]any)
	}
	claims["scope"] = strings.Join(scopes, " ")
	return claims, nil
}

// Rotate makes a new RSA key (kid "rotated-1", "rotated-2", …) the signing
// key and returns its kid; the older keys stay in the JWKS.
func (s *opStorage) Rotate(tb testing.TB) string {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := &opKey{id: "rotated-" + strconv.Itoa(len(s.rotated)+1), key: k}
	s.rotated = append([]*opKey{key}, s.rotated...)
	return key.id
}

// Retire stops publishing every key but the signing one.
func (s *opStorage) Retire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retired = true
	s.rotated = s.rotated[:min(len(s.rotated), 1)]
}

// ownKID is the kid of the example storage's own key.
func (s *opStorage) ownKID(tb testing.TB) string {
	tb.Helper()
	k, err := s.Storage.SigningKey(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return k.ID()
}

func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rotated) == 0 {
		return s.Storage.SigningKey(ctx)
	}
	return s.rotated[0], nil
}

func (s *opStorage) KeySet(ctx context.Context) ([]op.Key, error) {
	own, err := s.Storage.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []op.Key
	for _, k := range s.rotated {
		keys = append(keys, opPublicKey{k})
	}
	if s.retired && len(keys) > 0 {
		return keys, nil
	}
	return append(keys, own...), nil
}

// opKey is an RS256 key of the rotation, as the example storage's own is.
type opKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *opKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *opKey) Key() any                                    { return k.key }
func (k *opKey) ID() string                                  { return k.id }

type opPublicKey struct{ *opKey }

func (k opPublicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k opPublicKey) Use() string                        { return "sig" }
func (k opPublicKey) Key() any                           { return &k.key.PublicKey }

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	IDToken     string `json:"id_token"`
	Scope       string `json:"scope"`
}

// UserToken runs the authorization code flow for the example user
// test-user@<host> as a browser would — the authorization request, the
// example's login form, the OP's callback — and redeems the code as the
// web client.
func (p *provider) UserToken(tb testing.TB, scope string) tokenResponse {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Transport: p.srv.Client().Transport,
		CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if r.URL.Host != p.srv.Listener.Addr().String() {
				return http.ErrUseLastResponse // the redirect to the client: stop, read the code
			}
			return nil
		}}
	q := url.Values{"client_id": {webClient}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {scope}, "state": {"state-1"}}
	resp, err := browser.Get(p.meta.AuthorizationEndpoint + "?" + q.Encode())
	if err != nil {
		tb.Fatalf("authorization request: %v", err)
	}
	resp.Body.Close()
	// The OP redirected to the example's login page, with the request's id.
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != 200 || id == "" {
		tb.Fatalf("authorization request: %d at %s, want the login page", resp.StatusCode, resp.Request.URL)
	}
	host := strings.Split(p.srv.Listener.Addr().String(), ":")[0]
	resp, err = browser.PostForm(resp.Request.URL.String(), url.Values{"id": {id}, "username": {"test-user@" + host}, "password": {userPassword}})
	if err != nil {
		tb.Fatalf("login: %v", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusFound {
		tb.Fatalf("login: %d %v, want a redirect to %s", resp.StatusCode, err, redirectURI)
	}
	if got := loc.Query().Get("state"); got != "state-1" {
		tb.Fatalf("callback %s: state %q", loc, got)
	}
	code := loc.Query().Get("code")
	if code == "" {
		tb.Fatalf("callback %s: no code", loc)
	}
	return p.token(tb, webClient, webSecret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}})
}

// ServiceToken runs the client credentials grant as the example's service
// user.
func (p *provider) ServiceToken(tb testing.TB, scope string) tokenResponse {
	tb.Helper()
	return p.token(tb, serviceClient, serviceSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
}

func (p *provider) token(tb testing.TB, client, secret string, form url.Values) tokenResponse {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), "POST", p.meta.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client, secret)
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != 200 || tr.AccessToken == "" {
		tb.Fatalf("token request: %d %v %+v", resp.StatusCode, err, tr)
	}
	return tr
}
