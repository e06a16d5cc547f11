package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/authx-go/authx"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Store keeps authx's shared state in Redis. It is the [authx.Blocklist],
// [authx.RefreshStore] and [authx.RateLimiter]; [Store.Sessions] is the
// [authx.SessionStore]. Build it with [New]; it is safe for concurrent use.
// A nil or zero Store fails every call with [ErrConfig].
type Store struct {
	c        redis.UniversalClient
	prefix   string
	ctxAware bool // the client itself stops at a context's deadline
	limiter  *redis_rate.Limiter
	now      func() time.Time // the epoch's clock (WithClock)
	err      error
}

var (
	_ authx.Blocklist    = (*Store)(nil)
	_ authx.RefreshStore = (*Store)(nil)
	_ authx.RateLimiter  = (*Store)(nil)
)

// Option configures [New].
type Option interface {
	apply(*Store)
}

type optionFunc func(*Store)

func (f optionFunc) apply(s *Store) { f(s) }

// WithPrefix sets the prefix of every key. Default "authx:". Stores on one
// Redis with different prefixes share nothing, whatever the prefixes ("p"
// and "p:bl:" too); replicas that must share state use the same prefix.
// It must not contain '{' or '}': every key is the prefix, then a '{' that
// starts the store's own part (see the package doc), so that no key of
// one prefix is a key of another, and the hash tags that keep a subject's
// sessions in one Redis Cluster slot are the store's own. An invalid
// prefix makes every call fail with [ErrConfig].
func WithPrefix(p string) Option {
	return optionFunc(func(s *Store) {
		if strings.ContainsAny(p, "{}") {
			s.err = fmt.Errorf("%w: prefix %q contains a brace", ErrConfig, p)
			return
		}
		s.prefix = p
	})
}

// New returns a Store on client: a *redis.Client, a *redis.ClusterClient or
// any [redis.UniversalClient] (Redis 7.0 or later). The client is the
// caller's: the Store never closes it. Mistakes (a nil client, a bad
// prefix) are reported by [Store.Err] and fail every call, so a misbuilt
// Store denies rather than allows.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{c: client, prefix: "authx:", now: time.Now}
	for _, o := range opts {
		if o == nil {
			s.err = fmt.Errorf("%w: nil Option", ErrConfig)
			continue
		}
		o.apply(s)
	}
	nilClient := client == nil
	switch c := client.(type) {
	case *redis.Client:
		nilClient = c == nil
		s.ctxAware = !nilClient && c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		nilClient = c == nil
		s.ctxAware = !nilClient && c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		nilClient = c == nil
		s.ctxAware = !nilClient && c.Options().ContextTimeoutEnabled
	}
	if nilClient {
		s.c = nil
		s.err = fmt.Errorf("%w: nil client", ErrConfig)
		return s
	}
	s.limiter = redis_rate.NewLimiter(rateClient{client})
	return s
}

// Err reports a mistake made building the Store, or nil. Check it at
// start-up.
func (s *Store) Err() error {
	switch {
	case s == nil:
		return fmt.Errorf("%w: nil Store", ErrConfig)
	case s.err != nil:
		return s.err
	case s.c == nil || s.limiter == nil:
		return fmt.Errorf("%w: Store not built with New", ErrConfig)
	}
	return nil
}

// Option returns the authx options that make an Auth use the store for
// everything: its blocklist, refresh store, session store and rate limiter.
//
//	a, err := authx.New[User](authx.WithSecret(key), s.Option())
func (s *Store) Option() authx.Option {
	return authx.WithOptions(
		authx.WithBlocklist(s),
		authx.WithRefreshStore(s),
		authx.WithSessionStore(s.Sessions()),
		authx.WithRateLimiter(s),
	)
}

// run calls f with ctx and wraps its error with op. It returns when f does,
// or as soon as ctx is done if the client would not stop at ctx's deadline
// itself (it was built without ContextTimeoutEnabled): then f goes on in the
// background and its results are dropped. f must write its results only
// into variables the caller reads after a nil error.
func (s *Store) run(ctx context.Context, op string, f func(context.Context) error) error {
	if err := s.Err(); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	if s.ctxAware || ctx.Done() == nil {
		return wrap(ctx, op, f(ctx))
	}
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return wrap(ctx, op, err)
	case <-ctx.Done():
		return fmt.Errorf("redisstore: %s: %w", op, ctx.Err())
	}
}

// wrap names op in err and, if ctx is done, makes the error match its
// cause too (go-redis reports a deadline as an i/o timeout).
func wrap(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("redisstore: %s: %w: %w", op, ctx.Err(), err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}
