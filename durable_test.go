package authx_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
)

// "Log out everywhere" reaches every token the subject holds, also of a
// session the store no longer lists, on the very next request; a login
// right after it works.
func TestRevokeAllSessionsReachesLostSessions(t *testing.T) {
	t.Parallel()
	clock := authtest.NewClock(testNow)
	store := newLossySessions(clock.Now)
	s := newSite(t, authx.WithClock(clock.Now), authx.WithSessionStore(store))
	s.clock = clock
	info, l := sessionLogin(t, s)
	plain := authtest.Token(t, s.a, "alice") // no session at all
	bob := authtest.Token(t, s.a, "bob")
	me := func(tok string) int { return s.do(t, nil, bearerCall(http.MethodGet, "/me", tok)).Status }
	if me(l.pair.AccessToken) != http.StatusOK || me(plain) != http.StatusOK {
		t.Fatal("tokens refused before the revocation")
	}
	store.lose(info.ID) // the store can no longer list the session
	clock.Advance(time.Second)
	if err := s.a.RevokeAllSessions(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	after := authtest.Token(t, s.a, "alice") // a new login, same second
	tests := []struct {
		name string
		tok  string
		want int
	}{
		{"token of the lost session", l.pair.AccessToken, http.StatusUnauthorized},
		{"refresh token of the lost session", l.pair.RefreshToken, http.StatusUnauthorized},
		{"alice's token without a session", plain, http.StatusUnauthorized},
		{"alice's new login", after, http.StatusOK},
		{"bob's token", bob, http.StatusOK},
	}
	for _, tt := range tests {
		path := "/me"
		if tt.name == "refresh token of the lost session" {
			path = "/auth/refresh"
		}
		method := http.MethodGet
		if path == "/auth/refresh" {
			method = http.MethodPost
		}
		if got := s.do(t, nil, bearerCall(method, path, tt.tok)).Status; got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
