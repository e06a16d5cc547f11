package jwks

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authx-go/authx"
)

// Set is the keys of a remote JWK Set, kept fresh in the background: an
// [authx.KeySet]. Build it with [New] or [Discover]; it is safe for
// concurrent use. Its methods on a nil Set fail closed ([ErrConfig]).
type Set struct {
	cfg     config
	url     string                                // the JWKS URL; "" until resolve finds it (see where)
	resolve func(context.Context) (string, error) // discovery; nil for New

	snap   atomic.Pointer[snapshot] // nil until the first successful fetch
	closed atomic.Bool

	mu       sync.Mutex
	cur      *flight // the fetch under way, or nil
	next     *flight // the waiters of the next fetch, or nil
	gen      uint64  // successful fetches so far
	misses   map[string]struct{}
	lastMiss time.Time // when an unknown kid last caused a fetch
	lastErr  error     // of the latest fetch; nil after a success
	failures int       // fetches failed in a row

	kick   chan struct{} // asks the background goroutine for a fetch now
	cancel context.CancelFunc
	done   chan struct{} // closed when the background goroutine has ended
}

var _ authx.KeySet = (*Set)(nil)

// snapshot is what one successful fetch found. It is never modified.
type snapshot struct {
	all     []authx.PublicKey
	byKID   map[string][]authx.PublicKey
	fetched time.Time
	expires time.Time
}

// lookup returns a copy of the keys with id kid (all keys for ""), and
// whether there is any.
func (p *snapshot) lookup(kid string) ([]authx.PublicKey, bool) {
	keys := p.all
	if kid != "" {
		keys = p.byKID[kid]
	}
	return slices.Clone(keys), len(keys) > 0
}

// flight is one fetch of the background goroutine, which callers of
// [Set.Keys] and [Set.Refresh] wait for.
type flight struct {
	done chan struct{} // closed when the fetch has ended
	err  error         // its error, set before done is closed
	gen  uint64        // Set.gen after it, if err is nil
}

// maxMisses bounds the kids remembered as missing.
const maxMisses = 1024

// New fetches the JWK Set at url (https; see [InsecureAllowHTTP]) and
// returns a [Set] of its keys, refreshed in the background by one
// goroutine until ctx ends or [Set.Close] is called. ctx is the Set's
// lifetime, not a request's: give it one that lasts as long as the service.
// The first fetch is bounded by ctx and [WithFetchTimeout]; if it fails,
// New returns its error, unless [WithTolerantStart] is given. A JWK Set
// with no key this package accepts is an error ([ErrInvalid]): see
// [Set.Keys] for which keys are used.
func New(ctx context.Context, url string, opts ...Option) (*Set, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if _, err := checkURL("JWKS URL", url, cfg.insecureHTTP); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := newSet(cfg)
	s.url = url
	return s.start(ctx)
}

func newSet(cfg config) *Set {
	return &Set{cfg: cfg, kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// start makes the first fetch and starts the background goroutine.
func (s *Set) start(ctx context.Context) (*Set, error) {
	if ctx == nil {
		return nil, fmt.Errorf("%w: nil context", ErrConfig)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClosed, err)
	}
	err := s.fetch(ctx)
	if err != nil && !s.cfg.tolerant {
		s.closeIdle()
		return nil, err
	}
	if err != nil {
		s.cfg.logger.Warn("jwks: first fetch failed; requests are refused (503) until one succeeds", "url", s.where(), "err", err)
	}
	bg, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	go s.run(bg, s.nextDelay(err))
	return s, nil
}

// Issuer returns the issuer given by [WithIssuer] or [Discover]: authx
// asks the Set only about tokens whose iss is exactly this.
func (s *Set) Issuer() string {
	if s == nil {
		return ""
	}
	return s.cfg.issuer
}

// Keys returns the keys whose id is kid, or every key when kid is "",
// from memory: it never waits on the network when it holds kid. The keys
// are a JWK Set's public signature keys (use "sig" or none, key_ops with
// "verify" or none) of the algorithms authx verifies: RS256/384/512 and
// PS256/384/512 with 2048 to 4096 bits, ES256/384/512 on the curve of
// their alg, EdDSA with Ed25519; the alg is the JWK's, or
// [WithDefaultAlg]'s. Symmetric keys, HMAC and "none" are never used; JWKs
// with private key material are skipped and logged at Error. JWKs that
// share a kid are all returned, in the order of the document.
//
// A kid the Set does not hold may be a key the issuer has just rotated in:
// unless an unknown kid caused a fetch less than [WithUnknownKIDInterval]
// ago, or this kid was not found by the latest fetch, Keys asks for one
// (joining a fetch under way) and waits for it at most
// [WithUnknownKIDWait] or until ctx ends. Otherwise it answers at once.
// No key is (nil, nil): authx answers 401.
//
// Keys returns an error, and authx 503, when it cannot answer: no fetch has
// succeeded yet ([ErrNotReady]), the keys are older than their lifetime
// plus [WithMaxStale] ([ErrStale]), the Set is closed ([ErrClosed]). The
// caller must not modify the keys.
func (s *Set) Keys(ctx context.Context, kid string) ([]authx.PublicKey, error) {
	if s == nil || s.done == nil {
		return nil, fmt.Errorf("%w: Set not built with New or Discover", ErrConfig)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	p := s.snap.Load()
	if p == nil {
		return nil, s.failed(ErrNotReady, "")
	}
	now := s.cfg.now()
	if past := now.Sub(p.expires); past > s.cfg.maxStale {
		return nil, s.failed(ErrStale, fmt.Sprintf("keys expired %v ago, longer than WithMaxStale(%v)", past.Round(time.Second), s.cfg.maxStale))
	}
	if keys, ok := p.lookup(kid); ok {
		return keys, nil
	}
	return s.unknownKID(ctx, kid, now)
}

// failed returns sentinel wrapped with detail and the latest fetch's error.
func (s *Set) failed(sentinel error, detail string) error {
	s.mu.Lock()
	last := s.lastErr
	s.mu.Unlock()
	switch {
	case detail != "" && last != nil:
		return fmt.Errorf("%w: %s: %w", sentinel, detail, last)
	case last != nil:
		return fmt.Errorf("%w: %w", sentinel, last)
	case detail != "":
		return fmt.Errorf("%w: %s", sentinel, detail)
	}
	return sentinel
}

// unknownKID answers Keys for a kid the keys held do not have.
func (s *Set) unknownKID(ctx context.Context, kid string, now time.Time) ([]authx.PublicKey, error) {
	log := s.cfg.logger
	debug := func(msg string, args ...any) { // without allocating when Debug is off
		if log.Enabled(ctx, slog.LevelDebug) {
			log.Debug(msg, append(args, "kid", cut(kid))...)
		}
	}
	if len(kid) > maxKIDBytes {
		debug("jwks: unknown kid, longer than any key's")
		return nil, nil
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if _, ok := s.misses[kid]; ok {
		s.mu.Unlock()
		debug("jwks: unknown kid, not found by the latest fetch")
		return nil, nil
	}
	f := s.cur
	if f == nil {
		f = s.next
	}
	if f == nil {
		if since := now.Sub(s.lastMiss); !s.lastMiss.IsZero() && since < s.cfg.missInterval {
			s.mu.Unlock()
			debug("jwks: unknown kid; an unknown kid caused a fetch less than WithUnknownKIDInterval ago", "since", since)
			return nil, nil
		}
		s.lastMiss = now
		f = s.pending()
		log.Info("jwks: unknown kid; fetching", "kid", cut(kid), "url", s.where())
	}
	s.mu.Unlock()
	if !wait(ctx, f, s.cfg.missWait) {
		return nil, nil
	}
	if keys, ok := s.snap.Load().lookup(kid); ok {
		return keys, nil
	}
	if f.err == nil {
		s.mu.Lock()
		if s.gen == f.gen && len(s.misses) < maxMisses {
			if s.misses == nil {
				s.misses = make(map[string]struct{})
			}
			s.misses[kid] = struct{}{}
		}
		s.mu.Unlock()
	}
	return nil, nil
}

// wait waits for f at most d or until ctx ends, and reports whether f ended.
func wait(ctx context.Context, f *flight, d time.Duration) bool {
	select {
	case <-f.done:
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-f.done:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// pending returns the flight of the next fetch and asks the background
// goroutine for it. s.mu is held.
func (s *Set) pending() *flight {
	if s.next == nil {
		s.next = &flight{done: make(chan struct{})}
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return s.next
}

// Refresh fetches the JWK Set now and returns that fetch's error, waiting
// for it until ctx ends. A fetch under way when Refresh is called does not
// count: Refresh waits for one that starts after it (concurrent calls
// share it). The fetch is not bounded by [WithUnknownKIDInterval]: call
// Refresh from operators' tools (a known rotation) and tests, never on a
// client's request. A failed fetch keeps the keys held.
func (s *Set) Refresh(ctx context.Context) error {
	if s == nil || s.done == nil {
		return fmt.Errorf("%w: Set not built with New or Discover", ErrConfig)
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return ErrClosed
	}
	f := s.pending()
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the background goroutine and waits for it to end (a fetch
// under way is cancelled); afterwards every method fails with [ErrClosed].
// Ending New's context does the same without waiting. Close always returns
// nil, and may be called more than once.
func (s *Set) Close() error {
	if s == nil || s.done == nil {
		return nil
	}
	s.cancel()
	<-s.done
	return nil
}

// run is the background goroutine: it fetches when the keys are due
// (delay first) or when asked, until ctx ends.
func (s *Set) run(ctx context.Context, delay time.Duration) {
	defer close(s.done)
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-s.kick:
		}
		if ctx.Err() != nil { // before a kick that came with it
			s.shutdown()
			return
		}
		f := s.begin()
		err := s.fetch(ctx)
		s.end(f, err)
		t.Reset(s.nextDelay(err))
	}
}

// begin takes the waiters of the next fetch as the fetch under way.
func (s *Set) begin() *flight {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.next
	if f == nil {
		f = &flight{done: make(chan struct{})}
	}
	s.next, s.cur = nil, f
	select { // a request for a fetch made before this one is answered by it
	case <-s.kick:
	default:
	}
	return f
}

func (s *Set) end(f *flight, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.err, f.gen = err, s.gen
	s.cur = nil
	close(f.done)
}

// shutdown closes the Set: waiters are released with ErrClosed.
func (s *Set) shutdown() {
	s.mu.Lock()
	s.closed.Store(true)
	if f := s.next; f != nil {
		f.err = ErrClosed
		s.next = nil
		close(f.done)
	}
	s.mu.Unlock()
	s.closeIdle()
}

func (s *Set) closeIdle() {
	if s.cfg.ownClient {
		s.cfg.client.CloseIdleConnections()
	}
}

// Retries after a failed fetch: after retryMin, doubling up to retryMax
// (or the least lifetime, if shorter).
const (
	retryMin = time.Second
	retryMax = time.Minute
)

// nextDelay is the time from now to the next background fetch, after a
// fetch that returned err.
func (s *Set) nextDelay(err error) time.Duration {
	if err != nil {
		s.mu.Lock()
		n := s.failures
		s.mu.Unlock()
		d := retryMin
		for i := 1; i < n && d < retryMax; i++ {
			d *= 2
		}
		return min(d, retryMax, s.cfg.minLife)
	}
	p := s.snap.Load()
	due := p.fetched.Add(p.expires.Sub(p.fetched) * 3 / 4)
	return max(due.Sub(s.cfg.now()), 0)
}

// where names the Set's endpoint in logs: its JWKS URL, or its issuer while
// discovery has not found it. Only the background goroutine writes s.url,
// under s.mu; other goroutines call where with s.mu held.
func (s *Set) where() string {
	if s.url != "" {
		return redact(s.url)
	}
	return s.cfg.issuer
}

// fetch fetches the JWK Set (discovering its URL first if need be) and,
// if it holds a usable key, makes it the Set's keys. Only the background
// goroutine calls it, and New before starting it.
func (s *Set) fetch(ctx context.Context) error {
	err := s.fetchOnce(ctx)
	if s.cfg.onFetch != nil {
		defer s.cfg.onFetch(err)
	}
	s.mu.Lock()
	wasFailing := s.failures > 0
	if err != nil {
		s.failures++
		s.lastErr = err
	} else {
		s.failures, s.lastErr = 0, nil
	}
	n := s.failures
	s.mu.Unlock()
	log := s.cfg.logger
	if err == nil {
		if wasFailing {
			log.Info("jwks: fetch succeeded again", "url", s.where())
		}
		return nil
	}
	if ctx.Err() != nil {
		return err // closing: not the endpoint's fault
	}
	p := s.snap.Load()
	switch {
	case p == nil:
		log.Warn("jwks: fetch failed; no keys yet, requests are refused (503)", "url", s.where(), "failures", n, "err", err)
	case s.cfg.now().Sub(p.expires) > s.cfg.maxStale:
		log.Error("jwks: fetch failed; the keys held expired longer than WithMaxStale ago, requests are refused (503)",
			"url", s.where(), "failures", n, "expired", p.expires, "err", err)
	default:
		log.Warn("jwks: fetch failed; serving the keys held", "url", s.where(), "failures", n,
			"fetched", p.fetched, "expires", p.expires, "served_until", p.expires.Add(s.cfg.maxStale), "err", err)
	}
	return err
}

func (s *Set) fetchOnce(ctx context.Context) error {
	if s.url == "" {
		u, err := s.resolve(ctx)
		if err != nil {
			return err
		}
		s.mu.Lock() // where() reads it under s.mu from other goroutines
		s.url = u
		s.mu.Unlock()
		s.cfg.logger.Info("jwks: discovered the JWKS URL", "issuer", s.cfg.issuer, "jwks_uri", redact(u))
	}
	body, header, err := s.get(ctx, s.url, "application/jwk-set+json, application/json")
	if err != nil {
		return err
	}
	keys, skipped, err := parseJWKS(body, s.cfg.maxKeys, s.cfg.defaultAlg)
	if err != nil {
		return fmt.Errorf("%w (GET %s)", err, s.where())
	}
	s.logSkipped(skipped)
	if len(keys) == 0 {
		return fmt.Errorf("%w: GET %s: no usable key among %d (see the Warn log of each)", ErrInvalid, s.where(), len(skipped))
	}
	now := s.cfg.now()
	life, source := cacheLifetime(header, now, s.cfg.minLife, s.cfg.maxLife)
	p := &snapshot{all: keys, byKID: make(map[string][]authx.PublicKey), fetched: now, expires: now.Add(life)}
	for _, k := range keys {
		if k.KID != "" {
			p.byKID[k.KID] = append(p.byKID[k.KID], k)
		}
	}
	s.mu.Lock()
	s.snap.Store(p)
	s.gen++
	s.misses = nil
	s.mu.Unlock()
	s.cfg.logger.Debug("jwks: fetched", "url", s.where(), "keys", len(keys), "skipped", len(skipped), "lifetime", life, "lifetime_from", source)
	return nil
}

func (s *Set) logSkipped(skipped []skipped) {
	for _, sk := range skipped {
		if sk.private {
			s.cfg.logger.Error("jwks: the JWK Set publishes a private or secret key, which is no longer secret: key skipped; rotate it at the issuer",
				"url", s.where(), "kid", cut(sk.kid), "reason", sk.reason)
			continue
		}
		s.cfg.logger.Warn("jwks: key skipped", "url", s.where(), "kid", cut(sk.kid), slog.String("reason", sk.reason))
	}
}
