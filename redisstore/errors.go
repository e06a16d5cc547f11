package redisstore

import "errors"

// Sentinel errors. Errors from Redis itself (connection, timeout, wrong
// type) are returned wrapped, so errors.Is also matches them and
// context.DeadlineExceeded.
var (
	// ErrConfig: the Store was built wrongly (a nil client, a prefix with a
	// brace). Every method of such a Store fails with it; see [Store.Err].
	ErrConfig = errors.New("redisstore: invalid configuration")
	// ErrEmptyID: an id or subject is empty.
	ErrEmptyID = errors.New("redisstore: empty id")
	// ErrSessionExists: Create was given the id of a live session.
	ErrSessionExists = errors.New("redisstore: session id already exists")
	// ErrCorrupt: a key holds a value this package did not write. The
	// operation fails rather than guess.
	ErrCorrupt = errors.New("redisstore: unexpected value in Redis")
	// ErrInvalidLimit: a rate limit with a negative rate or burst, or a
	// non-positive period.
	ErrInvalidLimit = errors.New("redisstore: invalid limit")
	// ErrUnsafeConfig: Redis is configured to lose keys (eviction, no
	// AOF), or its configuration cannot be read; see [Store.CheckConfig].
	ErrUnsafeConfig = errors.New("redisstore: Redis may lose keys")
	// ErrReplicas: fewer replicas than WithReplicaAcks asks for
	// acknowledged a write in time; authx answers 503 (the write may
	// still be lost in a failover).
	ErrReplicas = errors.New("redisstore: too few replicas acknowledged a write")
)
