package authx

import (
	"context"
	"fmt"
	"net/http"
)

// SetAccessCookies writes an access token cookie (HttpOnly) and its CSRF
// cookie (readable by JavaScript, carrying the token's csrf claim) to w,
// and marks the response Cache-Control: no-store (a shared cache must never
// hand one user's token cookie to another).
// The cookies live as long as the token unless [CookieConfig].MaxAge is set.
// The token must be one of a's, unexpired and of type access.
func (a *Auth[T]) SetAccessCookies(w http.ResponseWriter, token string) error {
	return a.setCookies(w, token, Access)
}

// SetRefreshCookies writes a refresh token cookie and its CSRF cookie, as
// [Auth.SetAccessCookies] does for access tokens.
func (a *Auth[T]) SetRefreshCookies(w http.ResponseWriter, token string) error {
	return a.setCookies(w, token, Refresh)
}

// SetTokenCookies writes the cookies of both tokens of pair.
func (a *Auth[T]) SetTokenCookies(w http.ResponseWriter, pair *TokenPair) error {
	if pair == nil {
		return fmt.Errorf("%w: nil TokenPair", ErrTokenOption)
	}
	if err := a.setCookies(w, pair.AccessToken, Access); err != nil {
		return err
	}
	return a.setCookies(w, pair.RefreshToken, Refresh)
}

func (a *Auth[T]) setCookies(w http.ResponseWriter, token string, typ TokenType) error {
	if err := a.configured(); err != nil {
		return err
	}
	e := a.e
	c, err := e.keys.parseNew(token, e.cfg.maxScopes)
	if err != nil {
		return err
	}
	if c.Type != typ {
		return typ.Check(context.Background(), c)
	}
	life := c.ExpiresAt.Sub(e.cfg.now())
	if life <= 0 {
		return newError(ErrExpired, nil)
	}
	if e.cfg.cookies.MaxAge > 0 {
		life = e.cfg.cookies.MaxAge
	}
	cc := &e.cfg.cookies
	name, path, csrfName, csrfPath := cc.namesFor(typ)
	writeCSRF := !cc.NoCSRFCookies && !e.cfg.csrf.InsecureDisable
	if writeCSRF && c.CSRF == "" {
		return fmt.Errorf("%w: the token has no csrf claim; list InCookie in WithTokenLocations or use WithCookies when issuing cookie tokens", ErrTokenOption)
	}
	noStore(w.Header())
	http.SetCookie(w, e.cookie(name, path, token, !cc.InsecureScriptReadable, life))
	if writeCSRF {
		http.SetCookie(w, e.cookie(csrfName, csrfPath, c.CSRF, false, life))
	}
	return nil
}

// UnsetAccessCookies deletes the access token cookie and its CSRF cookie.
// Deletion cookies carry the same Path, Domain, Secure and SameSite as the
// cookies they delete, so browsers match and drop them.
func (a *Auth[T]) UnsetAccessCookies(w http.ResponseWriter) { a.unsetCookies(w, Access) }

// UnsetRefreshCookies deletes the refresh token cookie and its CSRF cookie.
func (a *Auth[T]) UnsetRefreshCookies(w http.ResponseWriter) { a.unsetCookies(w, Refresh) }

// UnsetCookies deletes all four cookies.
func (a *Auth[T]) UnsetCookies(w http.ResponseWriter) {
	a.unsetCookies(w, Access)
	a.unsetCookies(w, Refresh)
}

func (a *Auth[T]) unsetCookies(w http.ResponseWriter, typ TokenType) {
	if a.configured() != nil {
		return
	}
	a.e.unsetCookies(w, typ)
}
