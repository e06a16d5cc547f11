package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	timeout  time.Duration // of every call, unless its context ends sooner
	logger   *slog.Logger
	lossy    bool // InsecureAllowLossyConfig
	ctxAware bool // the client itself stops at a context's deadline
	limiter  *redis_rate.Limiter
	now      func() time.Time // the epoch's clock (WithClock)
	acks     int              // replicas that must acknowledge each write (WithReplicaAcks)
	ackWait  time.Duration    // how long WAIT waits for them
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

// Bounds of a call to Redis: see [WithTimeout].
const (
	// DefaultTimeout bounds every call of a Store built without
	// [WithTimeout].
	DefaultTimeout = 500 * time.Millisecond
	// MinTimeout is the shortest timeout WithTimeout accepts.
	MinTimeout = time.Millisecond
	// MaxTimeout is the longest timeout WithTimeout accepts.
	MaxTimeout = time.Minute
)

// WithTimeout bounds every call to Redis: a call whose context has no
// deadline, or a later one, gives up after d and returns an error matching
// context.DeadlineExceeded, so that a guarded request is answered 503
// rather than held while Redis is stalled (a fork, a failover, a
// partition, a paused VM). A context with an earlier deadline keeps it.
// Default [DefaultTimeout], 500 ms: a healthy Redis answers in well under
// a millisecond on a LAN, and 500 ms still covers a reconnect and a retry,
// an fsync stall with appendfsync always and a busy moment, yet is short
// against the seconds an HTTP client or load balancer waits; a guard that
// cannot ask Redis denies, so a longer wait only holds the request and its
// connection longer before the same 503. d must be between [MinTimeout]
// (1 ms) and [MaxTimeout] (1 minute); anything else, such as
// WithTimeout(500) meaning 500 ns, makes every call fail with [ErrConfig].
// The bound covers the whole call: dialing, waiting for a pooled
// connection, go-redis's retries and, for session lookups, both round
// trips. It costs a context.WithTimeout per call whose context has no
// earlier deadline: about 1 µs and 5 allocations.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(s *Store) {
		if d < MinTimeout || d > MaxTimeout {
			s.err = fmt.Errorf("%w: WithTimeout(%v): want %v to %v", ErrConfig, d, MinTimeout, MaxTimeout)
			return
		}
		s.timeout = d
	})
}

// WithLogger sets the logger of warnings: an unsafe Redis configuration
// accepted with [InsecureAllowLossyConfig] (Warn). Default: a logger that
// discards. A nil logger makes every call fail with [ErrConfig].
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *Store) {
		if l == nil {
			s.err = fmt.Errorf("%w: nil logger", ErrConfig)
			return
		}
		s.logger = l
	})
}

// New returns a Store on client: a *redis.Client, a *redis.ClusterClient or
// any [redis.UniversalClient] (Redis 7.0 or later). The client is the
// caller's: the Store never closes it. Mistakes (a nil client, a bad
// prefix or option) are reported by [Store.Err] and fail every call, so a
// misbuilt Store denies rather than allows.
//
// A *redis.Client, *redis.ClusterClient or *redis.Ring must be built with
// ContextTimeoutEnabled: true, so that it stops at the deadline every call
// carries ([WithTimeout]); New refuses one without it ([ErrConfig]), since
// the Store could only bound its calls by waiting on the context in a
// goroutine of its own, one per call (about 30 µs and 3 allocations per
// guarded request). Other UniversalClient implementations, whose options
// New cannot see, get that goroutine. Call [Store.CheckConfig] at
// start-up too: it reports a misbuilt Store as Err does, and a Redis that
// may lose what the Store writes.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{c: client, prefix: "authx:", now: time.Now, timeout: DefaultTimeout, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			s.err = fmt.Errorf("%w: nil Option", ErrConfig)
			continue
		}
		o.apply(s)
	}
	nilClient, known := client == nil, true
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
	default:
		known = false
	}
	if nilClient {
		s.c = nil
		s.err = fmt.Errorf("%w: nil client", ErrConfig)
		return s
	}
	if known && !s.ctxAware && s.err == nil {
		s.err = fmt.Errorf("%w: a %T built without ContextTimeoutEnabled: true would not stop at a call's deadline; set it in its options", ErrConfig, client)
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
//	a, err := authx.New[User](authx.WithSecret(key), authx.WithSubjectGetter(loadUser), s.Option())
func (s *Store) Option() authx.Option {
	return authx.WithOptions(
		authx.WithBlocklist(s),
		authx.WithRefreshStore(s),
		authx.WithSessionStore(s.Sessions()),
		authx.WithRateLimiter(s),
	)
}

// run calls f with ctx, bounded by the Store's timeout unless ctx ends
// sooner, and wraps its error with op. It returns when f does, or as soon
// as ctx is done if the client might not stop at ctx's deadline itself
// (its type is not one New can inspect): then f goes on in the background
// and its results are dropped. f must write its results only into
// variables the caller reads after a nil error.
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
	parent := ctx
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > s.timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	var err error
	if s.ctxAware {
		err = wrap(ctx, op, f(ctx))
	} else {
		done := make(chan error, 1)
		go func() { done <- f(ctx) }()
		select {
		case err = <-done:
			err = wrap(ctx, op, err)
		case <-ctx.Done():
			err = fmt.Errorf("redisstore: %s: %w", op, ctx.Err())
		}
	}
	if err != nil && ctx != parent && parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (the Store's timeout, %v: see WithTimeout)", err, s.timeout)
	}
	return err
}

// wrap names op in err and, if ctx is done, makes the error match its
// cause too (go-redis reports a deadline as an i/o timeout).
func wrap(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("redisstore: %s: %w: %w", op, ctx.Err(), err)
	case ctx.Err() == nil && pastDeadline(ctx) && !errors.Is(err, context.DeadlineExceeded):
		// The socket's deadline (the context's) fired a moment before the
		// context's own timer marked it done: the same deadline.
		return fmt.Errorf("redisstore: %s: %w: %w", op, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// pastDeadline reports whether ctx has a deadline that has passed.
func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}
