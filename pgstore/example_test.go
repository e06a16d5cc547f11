package pgstore_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/pgstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A service keeps authx's state in PostgreSQL: one pool, one Store,
// migrated at start-up, wired into the Auth with one option. (It needs a
// database, so it is compiled but not run.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://authx@127.0.0.1:5432/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	s, err := pgstore.New(pool, pgstore.WithSchema("authx"), pgstore.WithSweepEvery(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	a, err := authx.New[string](authx.WithSecret([]byte("an example secret of at least 32 bytes")), s.Option())
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/api/", a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
}
