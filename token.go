package authx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/authx-go/authx/internal/jsonscan"
	"github.com/authx-go/authx/internal/scope"
)

// TokenOption customises one token at issue time: [FreshLogin], [Grant],
// [Claim], [Data], [ExpiresIn], [ExpiresAt], [RefreshExpiresIn],
// [ForAudience], [ExtraHeader], [Session], [ValidFrom], [TokenID].
type TokenOption interface {
	applyToken(*tokenSettings)
}

type tokenOptionFunc func(*tokenSettings)

func (f tokenOptionFunc) applyToken(s *tokenSettings) { f(s) }

type tokenSettings struct {
	errs      []error
	fresh     bool
	scopes    []string
	scopesSet bool
	// refreshScopes replace scopes in the refresh token (RefreshGrant).
	refreshScopes    []string
	refreshScopesSet bool
	data             map[string]json.RawMessage
	ttl              time.Duration
	exp              time.Time
	refreshTTL       time.Duration
	audience         []string
	headers          map[string]json.RawMessage
	sid              string
	fam              string
	jti              string
	nbf              time.Time
	ticketFor        *Claims // WebSocket tickets: the access token traded
	jkt              string  // BoundToKey: cnf.jkt
	iat              time.Time
}

// useRefreshScopes makes RefreshGrant's scopes, if any, the token's.
func (s *tokenSettings) useRefreshScopes() {
	if s.refreshScopesSet {
		s.scopes, s.scopesSet = s.refreshScopes, true
	}
}

func (s *tokenSettings) errorf(format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf("%w: "+format, append([]any{ErrTokenOption}, args...)...))
}

func (s *tokenSettings) fail(err error) {
	s.errs = append(s.errs, fmt.Errorf("%w: %w", ErrTokenOption, err))
}

// The checks below apply the decoder's bounds (jws.go, claims.go) to what
// is about to be issued, so that an Auth never mints a token it cannot
// verify: each option checks its own values, settings their number, and
// issue what only the signed token shows (its size; its header, decoded as
// a verifier decodes it).

// checkName reports whether name, a custom claim or header field name,
// is written as itself: valid UTF-8.
func checkName(what, name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%s %.40q is not valid UTF-8: it would be written as U+FFFD, as another name", what, name)
	}
	return nil
}

// checkValue reports whether raw, a value encoding/json wrote, is one the
// decoder reads back (nested at most jsonscan.MaxDepth deep).
func checkValue(raw []byte) error {
	sc := jsonscan.New(raw)
	_, err := sc.Skip()
	if err == nil {
		err = sc.End()
	}
	if err != nil {
		return fmt.Errorf("a verifier would refuse it: %w", err)
	}
	return nil
}

// FreshLogin marks an access token as fresh: issued right after the user
// proved who they are (password, passkey), not by a refresh. [Fresh]
// guards admit only such tokens. Refresh tokens are never fresh.
func FreshLogin() TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) { s.fresh = true })
}

// Grant sets the scopes claim: the permissions [Scopes] policies check.
// Each scope is a non-empty RFC 6749 scope-token; "ns:*" grants the whole
// namespace "ns". Grant() with no scope writes an empty list. Repeated Grant
// options add up.
func Grant(scopes ...string) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		for _, sc := range scopes {
			if err := scope.Validate(sc); err != nil {
				s.errorf("scope %q: %v", sc, err)
				return
			}
		}
		s.scopesSet = true
		s.scopes = append(s.scopes, scopes...)
	})
}

// RefreshGrant sets the scopes of the refresh token instead of those of
// [Grant] (Python AuthX's refresh_scopes beside access_scopes): in
// [Auth.CreateTokenPair] the access token keeps Grant's scopes and the
// refresh token gets these; [Auth.CreateRefreshToken] uses them too. An
// access token renewed from the refresh token carries the refresh token's
// scopes. Each scope is validated as for Grant; repeated RefreshGrant
// options add up.
func RefreshGrant(scopes ...string) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		for _, sc := range scopes {
			if err := scope.Validate(sc); err != nil {
				s.errorf("refresh scope %q: %v", sc, err)
				return
			}
		}
		s.refreshScopesSet = true
		s.refreshScopes = append(s.refreshScopes, scopes...)
	})
}

// Claim adds one custom claim, flattened at the top level of the token as
// Python AuthX's data= does, and read back with [Claims.Get]. value is
// encoded with encoding/json, nested at most 32 deep, and name is valid
// UTF-8: a verifier reads no other. Registered and authx names (sub, exp,
// type, scopes, …, in any letter case) and a name given twice are refused
// with [ErrTokenOption]; so are more than 128 custom claims, and claims
// that make the token longer than [WithMaxTokenSize].
func Claim(name string, value any) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if err := checkDataName(name); err != nil {
			s.errs = append(s.errs, err)
			return
		}
		if err := checkName("custom claim", name); err != nil {
			s.fail(err)
			return
		}
		raw, err := json.Marshal(value)
		if err == nil {
			err = checkValue(raw)
		}
		if err != nil {
			s.errorf("custom claim %q: %v", name, err)
			return
		}
		if s.data == nil {
			s.data = make(map[string]json.RawMessage)
		}
		if _, dup := s.data[name]; dup {
			s.errorf("custom claim %q given twice", name)
			return
		}
		s.data[name] = raw
	})
}

// Data adds every entry of m as a custom claim, as [Claim] does.
func Data(m map[string]any) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			Claim(k, m[k]).applyToken(s)
		}
	})
}

// ExpiresIn sets the token's lifetime instead of the configured TTL. In
// [Auth.CreateTokenPair] it applies to the access token; see
// [RefreshExpiresIn].
func ExpiresIn(d time.Duration) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if d <= 0 {
			s.errorf("ExpiresIn(%v) must be positive", d)
			return
		}
		s.ttl = d
	})
}

// ExpiresAt sets the token's exp to t (a past t makes an expired token, which
// tests use). t must lie from 1970 to 9999-12-31T23:59:59Z, the range of a
// NumericDate a verifier accepts. In [Auth.CreateTokenPair] it applies to
// the access token.
func ExpiresAt(t time.Time) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		switch {
		case t.IsZero():
			s.errorf("ExpiresAt with a zero time")
			return
		case !validDate(t):
			s.errorf("ExpiresAt(%v) outside %s", t, dateRange)
			return
		}
		s.exp = t
	})
}

// RefreshExpiresIn sets the refresh token's lifetime in
// [Auth.CreateTokenPair] (and in [Auth.CreateRefreshToken]).
func RefreshExpiresIn(d time.Duration) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if d <= 0 {
			s.errorf("RefreshExpiresIn(%v) must be positive", d)
			return
		}
		s.refreshTTL = d
	})
}

// ForAudience sets the token's aud claim instead of the configured
// audience, e.g. to mint a token for another service: 1 to 32 non-empty
// valid UTF-8 audiences.
func ForAudience(aud ...string) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if err := checkAudience("ForAudience", aud); err != nil {
			s.fail(err)
			return
		}
		s.audience = append([]string(nil), aud...)
	})
}

// ExtraHeader adds a field to the token's JOSE header (Python AuthX's
// headers=). value is encoded with encoding/json, nested at most 32 deep,
// and name is valid UTF-8. Fields authx controls or refuses (alg, kid, typ,
// crit, jwk, jku, x5u, x5c, …, in any letter case) and a name given twice
// are refused with [ErrTokenOption], as [Claim] refuses them; so are more
// than 16 fields, and fields that make the header longer than the 2048
// bytes a verifier reads.
func ExtraHeader(name string, value any) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if name == "" {
			s.errorf("empty header name")
			return
		}
		if reservedHeader(name) {
			s.errorf("header %q is reserved", name)
			return
		}
		if err := checkName("header", name); err != nil {
			s.fail(err)
			return
		}
		raw, err := json.Marshal(value)
		if err == nil {
			err = checkValue(raw)
		}
		if err != nil {
			s.errorf("header %q: %v", name, err)
			return
		}
		if s.headers == nil {
			s.headers = make(map[string]json.RawMessage)
		}
		if _, dup := s.headers[name]; dup {
			s.errorf("header %q given twice", name)
			return
		}
		s.headers[name] = raw
	})
}

// Session binds the token to a server-side session id (the sid claim): a
// session started with [Auth.StartSession] for the same subject. Issuing
// checks it with the session store: an unknown or ended session, or one of
// another subject, is refused ([ErrRevoked]); a store that cannot answer is
// [ErrUnavailable]. Guards then admit the token only while the session
// lives.
func Session(id string) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if err := checkClaimString("session id", id); err != nil {
			s.fail(err)
			return
		}
		s.sid = id
	})
}

// BoundToKey binds the token to the key whose RFC 7638 SHA-256 thumbprint
// (base64url, 43 characters) is jkt: it carries cnf.jkt (RFC 9449 §6),
// and a guard admits it only when the request proves that key (see
// [KeyBinding]; [Auth.KeyProof] returns the thumbprint a login request
// proves). In a pair both tokens are bound. Without a [WithKeyBinding] an
// Auth refuses the tokens it binds.
func BoundToKey(jkt string) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if !validThumbprint(jkt) {
			s.errorf("BoundToKey: %.60q is not a base64url SHA-256 thumbprint", jkt)
			return
		}
		s.jkt = jkt
	})
}

// ValidFrom sets the nbf claim: the token is refused before t. t must lie
// from 1970 to 9999-12-31T23:59:59Z, as for [ExpiresAt].
func ValidFrom(t time.Time) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		switch {
		case t.IsZero():
			s.errorf("ValidFrom with a zero time")
			return
		case !validDate(t):
			s.errorf("ValidFrom(%v) outside %s", t, dateRange)
			return
		}
		s.nbf = t
	})
}

// TokenID sets the jti claim instead of a random UUID. Ids must be unique:
// revocation is by jti. Not allowed in CreateTokenPair.
func TokenID(jti string) TokenOption {
	return tokenOptionFunc(func(s *tokenSettings) {
		if err := checkClaimString("token id", jti); err != nil {
			s.fail(err)
			return
		}
		s.jti = jti
	})
}

// TokenPair is a new access and refresh token, shaped as an OAuth 2.0 token
// response (RFC 6749 §5.1) and as Python AuthX's TokenResponse.
type TokenPair struct {
	// AccessToken is the access token, for the guards.
	AccessToken string `json:"access_token"`
	// RefreshToken is the refresh token, for [Auth.RefreshHandler]; ""
	// when only an access token was issued.
	RefreshToken string `json:"refresh_token,omitempty"`
	// TokenType is "bearer", or the KeyBinding's scheme ("DPoP") for
	// tokens bound to a key (BoundToKey; RFC 9449 §5).
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
}

// CreateAccessToken issues an access token for sub, with the configured TTL,
// issuer and audience unless options say otherwise. When cookies are among
// the token locations, the token carries a random csrf claim. sub is 1 to
// 1024 bytes of valid UTF-8. A token the Auth could not verify — longer
// than [WithMaxTokenSize], or with a value a verifier refuses — is not
// issued: the error wraps [ErrTokenOption].
func (a *Auth[T]) CreateAccessToken(sub string, opts ...TokenOption) (string, error) {
	s, err := a.issueSettings(sub, opts)
	if err != nil {
		return "", err
	}
	tok, c, err := a.issue(Access, sub, s)
	a.issued(c, err)
	return tok, err
}

// CreateRefreshToken issues a refresh token for sub, starting a new refresh
// family. [FreshLogin] is ignored: refresh tokens are never fresh.
func (a *Auth[T]) CreateRefreshToken(sub string, opts ...TokenOption) (string, error) {
	s, err := a.issueSettings(sub, opts)
	if err != nil {
		return "", err
	}
	s.useRefreshScopes()
	if s.fam == "" {
		if s.fam, err = randomID(); err != nil {
			return "", err
		}
	}
	tok, c, err := a.issue(Refresh, sub, s)
	a.issued(c, err)
	return tok, err
}

// CreateTokenPair issues an access and a refresh token for sub with the same
// scopes, custom data, audience, session and refresh family. [ExpiresIn] and
// [ExpiresAt] apply to the access token, [RefreshExpiresIn] to the refresh
// token. Tokens of a refresh family (a pair, or a refresh token) may not
// outlive the longer of [WithAccessTTL] and [WithRefreshTTL]: that is how
// long a family revocation lasts. Raise WithRefreshTTL for longer logins.
func (a *Auth[T]) CreateTokenPair(sub string, opts ...TokenOption) (*TokenPair, error) {
	s, err := a.issueSettings(sub, opts)
	if err != nil {
		return nil, err
	}
	if s.jti != "" {
		return nil, fmt.Errorf("%w: TokenID cannot name two tokens", ErrTokenOption)
	}
	if s.fam == "" {
		if s.fam, err = randomID(); err != nil {
			return nil, err
		}
	}
	access, ac, err := a.issue(Access, sub, s)
	if err != nil {
		return nil, err
	}
	rs := *s // ExpiresIn and ExpiresAt are the access token's
	rs.ttl, rs.exp = 0, time.Time{}
	rs.useRefreshScopes()
	refresh, _, err := a.issue(Refresh, sub, &rs)
	if err != nil {
		return nil, err
	}
	a.issued(ac, nil)
	return &TokenPair{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    a.e.tokenType(s.jkt),
		ExpiresIn:    int64(ac.ExpiresAt.Sub(ac.IssuedAt) / time.Second),
	}, nil
}

// issued emits [EventIssue] for a token the Create… methods issued with
// claims c, unless issuing failed.
func (a *Auth[T]) issued(c *Claims, err error) {
	if err == nil {
		a.e.emit(context.Background(), nil, Event{Kind: EventIssue}, c)
	}
}

// issueSettings is settings for the Create… methods: a session named with
// [Session] must be live in the store and belong to sub.
func (a *Auth[T]) issueSettings(sub string, opts []TokenOption) (*tokenSettings, error) {
	s, err := a.settings(sub, opts)
	if err != nil || s.sid == "" {
		return s, err
	}
	if _, err := a.e.session(context.Background(), s.sid, sub); err != nil {
		return nil, err
	}
	return s, nil
}

func (a *Auth[T]) settings(sub string, opts []TokenOption) (*tokenSettings, error) {
	if err := a.configured(); err != nil {
		return nil, err
	}
	if a.e.keys.signing == nil {
		return nil, ErrNoSigningKey
	}
	if err := checkClaimString("subject", sub); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenOption, err)
	}
	s := &tokenSettings{}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil TokenOption", ErrTokenOption)
		}
		o.applyToken(s)
	}
	if len(s.scopes) > a.e.cfg.maxScopes || len(s.refreshScopes) > a.e.cfg.maxScopes {
		s.errorf("%d scopes, more than the configured %d", len(s.scopes), a.e.cfg.maxScopes)
	}
	if len(s.data) > maxCustomClaims {
		s.errorf("%d custom claims, more than %d", len(s.data), maxCustomClaims)
	}
	if len(s.headers) > maxExtraHeaders {
		s.errorf("%d extra header fields, more than %d", len(s.headers), maxExtraHeaders)
	}
	if len(s.errs) > 0 {
		return nil, errors.Join(s.errs...)
	}
	return s, nil
}

// issue builds the claims of one token and signs them.
func (a *Auth[T]) issue(typ TokenType, sub string, s *tokenSettings) (string, *Claims, error) {
	cfg := &a.e.cfg
	now := cfg.now().Truncate(time.Second)
	iat := now
	if !s.iat.IsZero() {
		iat = s.iat
	}
	c := &Claims{
		Subject:   sub,
		ID:        s.jti,
		Issuer:    cfg.issuer,
		Audience:  cfg.audience,
		IssuedAt:  iat,
		NotBefore: s.nbf,
		Type:      typ,
		SessionID: s.sid,
		FamilyID:  s.fam,
		LoginType: cfg.loginType,

		KeyThumbprint: s.jkt,
	}
	if s.scopesSet {
		c.Scopes = append([]string{}, s.scopes...)
	}
	if s.audience != nil {
		c.Audience = s.audience
	}
	var err error
	if c.ID == "" {
		if c.ID, err = uuid4(); err != nil {
			return "", nil, err
		}
	}
	if s.ticketFor != nil {
		c.ticket = &ticketClaims{JTI: s.ticketFor.ID, Exp: s.ticketFor.ExpiresAt}
	}
	if typ == Access || typ == ticketType {
		c.Fresh = s.fresh
		switch {
		case !s.exp.IsZero():
			c.ExpiresAt = s.exp
		case s.ttl > 0:
			c.ExpiresAt = now.Add(s.ttl)
		default:
			c.ExpiresAt = now.Add(cfg.accessTTL)
		}
	} else {
		switch {
		case s.refreshTTL > 0:
			c.ExpiresAt = now.Add(s.refreshTTL)
		case s.ttl > 0:
			c.ExpiresAt = now.Add(s.ttl)
		case !s.exp.IsZero():
			c.ExpiresAt = s.exp
		default:
			c.ExpiresAt = now.Add(cfg.refreshTTL)
		}
	}
	if err := checkDates(c); err != nil {
		return "", nil, err
	}
	if (c.FamilyID != "" || c.SessionID != "") && c.ExpiresAt.Sub(now) > a.e.familyLifetime() {
		// A family or session is revoked for the longer TTL; a longer-lived
		// member would outlive its revocation.
		return "", nil, fmt.Errorf("%w: a token of a refresh family or session may live at most %v (WithAccessTTL/WithRefreshTTL); got %v",
			ErrTokenOption, a.e.familyLifetime(), c.ExpiresAt.Sub(now))
	}
	if a.usesCookies() {
		if c.CSRF, err = uuid4(); err != nil {
			return "", nil, err
		}
	}
	tok, err := a.e.keys.signing.encode(c, s.data, s.headers)
	if err != nil {
		return "", nil, fmt.Errorf("authx: signing: %w", err)
	}
	if err := a.e.readable(tok); err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

// readable checks what only a signed token shows against the decoder: its
// size against WithMaxTokenSize, and its header (the extra fields
// together may pass maxHeaderBytes), decoded as a verifier decodes it. The
// claims need no second reading: the options and settings bound each of
// them, and decoding them again would double the cost of issuing. A token
// that fails is an [ErrTokenOption]: the options made it unreadable.
func (e *engine) readable(tok string) error {
	if len(tok) > e.cfg.maxToken {
		return fmt.Errorf("%w: the token is %d bytes, more than the WithMaxTokenSize(%d) a verifier reads", ErrTokenOption, len(tok), e.cfg.maxToken)
	}
	d1, _, err := splitToken(tok)
	if err == nil {
		var hbuf [256]byte
		_, err = e.keys.decodeHeader(tok[:d1], hbuf[:])
	}
	if err != nil {
		return fmt.Errorf("%w: a verifier would refuse the token's header: %w", ErrTokenOption, err)
	}
	return nil
}

// checkDates refuses to mint a token whose iat, exp or nbf (from the clock,
// a TTL or an option) a verifier would refuse as out of range: an Auth never
// issues a token it cannot verify.
func checkDates(c *Claims) error {
	dates := [...]struct {
		claim string
		t     time.Time
	}{{claimIat, c.IssuedAt}, {claimExp, c.ExpiresAt}, {claimNbf, c.NotBefore}}
	for _, d := range dates {
		if d.claim == claimNbf && d.t.IsZero() {
			continue // no nbf is written
		}
		if !validDate(d.t) {
			return fmt.Errorf("%w: the token's %s %v is outside %s", ErrTokenOption, d.claim, d.t, dateRange)
		}
	}
	return nil
}

func (a *Auth[T]) usesCookies() bool { return a.e.cfg.usesCookies() }

// uuid4 returns a random RFC 9562 version 4 UUID, the format Python AuthX
// uses for jti and csrf.
func uuid4() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("authx: random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:]), nil
}

// randomID returns 128 random bits as 32 hex characters.
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("authx: random: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
