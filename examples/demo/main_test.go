package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authx-go/authx"
)

func newDemo(t *testing.T) *httptest.Server {
	t.Helper()
	a, err := authx.New[user](authx.WithSecret([]byte("demo-secret-demo-secret-demo-sec")),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (user, error) {
			u, ok := users[c.Subject]
			if !ok {
				return user{}, authx.ErrSubjectNotFound
			}
			return u, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes(a))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestDemoFlow(t *testing.T) {
	srv := newDemo(t)
	if code, _ := do(t, srv, "POST", "/auth/login", "", `{"username":"bob","password":"nope"}`); code != 401 {
		t.Fatalf("bad password: %d", code)
	}
	code, pair := do(t, srv, "POST", "/auth/login", "", `{"username":"bob","password":"bob-password"}`)
	if code != 200 {
		t.Fatalf("login: %d", code)
	}
	access, refresh := pair["access_token"].(string), pair["refresh_token"].(string)
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/api/me", access, 200},
		{"GET", "/api/me", "", 401},
		{"GET", "/api/reports", access, 200},
		{"GET", "/api/admin", access, 403},
		{"POST", "/api/me/password", access, 204},
		{"GET", "/api/me", refresh, 401},
	} {
		if code, body := do(t, srv, tc.method, tc.path, tc.token, ""); code != tc.want {
			t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, code, body, tc.want)
		}
	}
	code, fresh := do(t, srv, "POST", "/auth/refresh", refresh, "")
	if code != 200 {
		t.Fatalf("refresh: %d", code)
	}
	if code, _ := do(t, srv, "POST", "/api/me/password", fresh["access_token"].(string), ""); code != 401 {
		t.Errorf("refreshed token is not fresh: password change got %d, want 401", code)
	}
	if code, _ := do(t, srv, "POST", "/auth/refresh", refresh, ""); code != 401 {
		t.Errorf("refresh token reused: %d, want 401", code)
	}
	code, again := do(t, srv, "POST", "/auth/login", "", `{"username":"alice","password":"alice-password"}`)
	if code != 200 {
		t.Fatalf("login: %d", code)
	}
	if code, _ := do(t, srv, "POST", "/auth/logout", again["access_token"].(string), ""); code != 204 {
		t.Errorf("logout: %d, want 204", code)
	}
	if code, _ := do(t, srv, "GET", "/api/me", again["access_token"].(string), ""); code != 401 {
		t.Errorf("after logout: %d, want 401", code)
	}
	if code, _ := do(t, srv, "POST", "/auth/refresh", again["refresh_token"].(string), ""); code != 401 {
		t.Errorf("refresh after logout: %d, want 401", code)
	}
}
