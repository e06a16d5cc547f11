package authx

// engine is the non-generic core shared by an Auth and its guards.
type engine struct {
	cfg       config
	keys      keyring
	blocklist safeBlocklist
	sessions  SessionStore
	limiter   RateLimiter
	checked   *checkedSessions // sessions found live recently (memory.go, sessioncheck.go)
}
