// Command quickstart is the README's quickstart: a login that issues
// tokens, and a route only admins reach, as the typed user.
package main

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/authx-go/authx"
)

type User struct {
	Name, Password string // a real app keeps a password hash
	Admin          bool
}

var users = map[string]User{"alice": {"Alice", "wonderland", true}, "bob": {"Bob", "builder", false}}

func main() {
	secret := os.Getenv("AUTHX_SECRET") // make one: export AUTHX_SECRET=$(openssl rand -base64 32)
	a, err := authx.New[User](authx.WithSecret([]byte(secret)),
		authx.WithSubjectGetter(func(_ context.Context, c *authx.Claims) (User, error) {
			if u, ok := users[c.Subject]; ok {
				return u, nil
			}
			return User{}, authx.ErrSubjectNotFound // → 401
		}))
	if err != nil {
		log.Fatal(err) // every option is checked here
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("user")
		u, ok := users[id]
		if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.FormValue("password"))) != 1 {
			http.Error(w, "wrong user or password", http.StatusUnauthorized)
			return
		}
		var scopes []string
		if u.Admin {
			scopes = []string{"admin:*"}
		}
		pair, err := a.CreateTokenPair(id, authx.FreshLogin(), authx.Grant(scopes...))
		if err != nil {
			http.Error(w, "cannot log in now", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(pair)
	})
	admins := a.Require(authx.Scopes("admin:*"), a.KnownSubject()) // a mistake here panics at start-up
	mux.Handle("GET /admin", admins.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := authx.SubjectFrom[User](r.Context()) // always there: KnownSubject resolved it
		fmt.Fprintf(w, "hello %s, admin\n", u.Name)
	}))
	addr := cmp.Or(os.Getenv("ADDR"), "localhost:8080")
	log.Printf("listening on http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}
