package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/authx-go/authx"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store keeps authx's shared state in PostgreSQL. It is the
// [authx.Blocklist] (an [authx.SubjectBlocklist]), [authx.RefreshStore]
// and [authx.RateLimiter]; [Store.Sessions] is the [authx.SessionStore].
// Build it with [New] and create its tables with [Store.Migrate]; it is
// safe for concurrent use. A nil Store fails every call with [ErrConfig].
type Store struct {
	pool       *pgxpool.Pool
	schema     string
	prefix     string
	timeout    time.Duration // of every call, unless its context ends sooner
	logger     *slog.Logger
	sweepEvery time.Duration // 0: no background sweep
	sweepBatch int
	q          queries

	stop     context.CancelFunc // the background sweep's
	done     chan struct{}      // closed when it has stopped
	stopOnce sync.Once
}

var (
	_ authx.Blocklist        = (*Store)(nil)
	_ authx.SubjectBlocklist = (*Store)(nil)
	_ authx.RefreshStore     = (*Store)(nil)
	_ authx.RateLimiter      = (*Store)(nil)
)

// Option configures [New].
type Option interface {
	apply(*config)
}

// config is what the options set; New checks it.
type config struct {
	schema, prefix string
	timeout        time.Duration
	logger         *slog.Logger
	sweepEvery     time.Duration
	sweepBatch     int
	errs           []error
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults of [New].
const (
	// DefaultSchema is the schema of a Store built without [WithSchema].
	DefaultSchema = "public"
	// DefaultTablePrefix starts the name of every table of a Store built
	// without [WithTablePrefix].
	DefaultTablePrefix = "authx_"
	// DefaultTimeout bounds every call of a Store built without
	// [WithTimeout].
	DefaultTimeout = 500 * time.Millisecond
	// MinTimeout is the shortest timeout WithTimeout accepts.
	MinTimeout = time.Millisecond
	// MaxTimeout is the longest timeout WithTimeout accepts.
	MaxTimeout = time.Minute
	// DefaultSweepBatch is how many expired rows one statement of
	// [Store.Sweep] deletes at most, without [WithSweepBatch].
	DefaultSweepBatch = 1000
)

// WithSchema sets the PostgreSQL schema of the Store's tables. Default
// [DefaultSchema], "public". Stores that share state (replicas of a
// service) use the same schema and table prefix; stores with different
// ones share nothing. The name must be 1 to 63 bytes of [A-Za-z0-9_], not
// starting with a digit (it is quoted, so case is kept); anything else
// makes New fail with [ErrConfig]. [Store.Migrate] creates the schema if
// it does not exist.
func WithSchema(name string) Option {
	return optionFunc(func(c *config) {
		if !validIdent(name, maxIdent) {
			c.fail("WithSchema(%q): want 1 to %d bytes of [A-Za-z0-9_], not starting with a digit", name, maxIdent)
			return
		}
		c.schema = name
	})
}

// WithTablePrefix sets the prefix of the Store's table and index names.
// Default [DefaultTablePrefix], "authx_" (tables authx_blocklist,
// authx_sessions, …). It must be 0 to 40 bytes of [A-Za-z0-9_], not
// starting with a digit, so that every name fits PostgreSQL's 63 bytes;
// anything else makes New fail with [ErrConfig].
func WithTablePrefix(p string) Option {
	return optionFunc(func(c *config) {
		if p != "" && !validIdent(p, maxPrefix) {
			c.fail("WithTablePrefix(%q): want 0 to %d bytes of [A-Za-z0-9_], not starting with a digit", p, maxPrefix)
			return
		}
		c.prefix = p
	})
}

// WithTimeout bounds every call to PostgreSQL: a call whose context has no
// deadline, or a later one, gives up after d and returns an error matching
// context.DeadlineExceeded, so that a guarded request is answered 503
// rather than held while the database is stalled (a lock, a failover, a
// saturated pool, a partition). A context with an earlier deadline keeps
// it. Default [DefaultTimeout], 500 ms: a healthy PostgreSQL answers these
// single-row statements in well under a millisecond on a LAN, and a guard
// that cannot ask it denies anyway. The bound covers the whole call:
// waiting for a pooled connection, dialing, and the statement. d must be
// between [MinTimeout] and [MaxTimeout]; anything else makes New fail with
// [ErrConfig]. [Store.Migrate] is bounded by its context only.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < MinTimeout || d > MaxTimeout {
			c.fail("WithTimeout(%v): want %v to %v", d, MinTimeout, MaxTimeout)
			return
		}
		c.timeout = d
	})
}

// WithLogger sets the logger of the background sweep's failures (Warn).
// Default: a logger that discards. A nil logger makes New fail with
// [ErrConfig].
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.fail("nil logger")
			return
		}
		c.logger = l
	})
}

// WithSweepEvery runs [Store.Sweep] every d in a goroutine of the Store,
// stopped by [Store.Close]. Default: no background sweep (expired rows are
// never read as valid either way; sweeping only reclaims their space, and
// an application may prefer to call Sweep from a job of its own). d must
// be positive and at least a second; anything else makes New fail with
// [ErrConfig].
func WithSweepEvery(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < time.Second {
			c.fail("WithSweepEvery(%v): want at least 1s", d)
			return
		}
		c.sweepEvery = d
	})
}

// WithSweepBatch sets how many expired rows one statement of [Store.Sweep]
// deletes at most. Default [DefaultSweepBatch], 1000: each batch is one
// short statement that skips rows locked by others, so a sweep never
// holds long locks. n must be 1 to 100000; anything else makes New fail
// with [ErrConfig].
func WithSweepBatch(n int) Option {
	return optionFunc(func(c *config) {
		if n < 1 || n > 100000 {
			c.fail("WithSweepBatch(%d): want 1 to 100000", n)
			return
		}
		c.sweepBatch = n
	})
}

// New returns a Store on pool. The pool is the caller's: the Store never
// closes it. Mistakes (a nil pool, an invalid option) are returned as an
// error wrapping [ErrConfig]. New does not touch the database: call
// [Store.Migrate] at start-up (or run its SQL, migrate.sql, with your own
// migration tool). Keep pgx's default QueryExecModeCacheStatement: every
// statement of the Store is then prepared once per connection, and a
// guarded request costs one round trip.
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	c := config{schema: DefaultSchema, prefix: DefaultTablePrefix, timeout: DefaultTimeout,
		logger: slog.New(slog.DiscardHandler), sweepBatch: DefaultSweepBatch}
	for _, o := range opts {
		if o == nil {
			c.fail("nil Option")
			continue
		}
		o.apply(&c)
	}
	if pool == nil {
		c.fail("nil pool")
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	s := &Store{pool: pool, schema: c.schema, prefix: c.prefix, timeout: c.timeout, logger: c.logger,
		sweepEvery: c.sweepEvery, sweepBatch: c.sweepBatch, q: newQueries(c.schema, c.prefix)}
	if s.sweepEvery > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stop, s.done = cancel, make(chan struct{})
		go s.sweepLoop(ctx)
	}
	return s, nil
}

// Close stops the background sweep ([WithSweepEvery]) and waits for it.
// It does not close the pool. Close is safe to call more than once.
func (s *Store) Close() {
	if s == nil || s.stop == nil {
		return
	}
	s.stopOnce.Do(func() {
		s.stop()
		<-s.done
	})
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

// check reports a nil Store.
func (s *Store) check() error {
	if s == nil || s.pool == nil {
		return fmt.Errorf("%w: nil Store (build it with New)", ErrConfig)
	}
	return nil
}

// run calls f with ctx, bounded by the Store's timeout unless ctx ends
// sooner, and wraps its error with op. pgx stops at the context's deadline
// itself (waiting for a connection, dialing, and reading the answer).
func (s *Store) run(ctx context.Context, op string, f func(context.Context) error) error {
	if err := s.check(); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	parent := ctx
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > s.timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	err := wrap(ctx, op, f(ctx))
	if err != nil && ctx != parent && parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (the Store's timeout, %v: see WithTimeout)", err, s.timeout)
	}
	return err
}

// PostgreSQL's codes of a missing schema or table.
const (
	codeUndefinedTable  = "42P01"
	codeUndefinedSchema = "3F000"
	codeUndefinedColumn = "42703"
)

// wrap names op in err; makes it match ErrSchema when the tables are
// missing, and the context's error when the context is done or its
// deadline fired first on the socket.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case codeUndefinedTable, codeUndefinedSchema, codeUndefinedColumn:
			return fmt.Errorf("pgstore: %s: %w: %w", op, ErrSchema, err)
		}
	}
	switch {
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("pgstore: %s: %w: %w", op, ctx.Err(), err)
	case ctx.Err() == nil && pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("pgstore: %s: %w: %w", op, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}
