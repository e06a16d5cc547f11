package pgstore

import "errors"

// Sentinel errors. Errors from PostgreSQL or pgx (a refused connection, a
// timeout, a missing table) are returned wrapped, so errors.Is also matches
// them, and context.DeadlineExceeded when a call ran out of time.
var (
	// ErrConfig: the Store was built wrongly (a nil pool, an invalid schema
	// or table prefix, a nil option). [New] returns it; every method of a
	// nil Store fails with it.
	ErrConfig = errors.New("pgstore: invalid configuration")
	// ErrEmptyID: an id or subject is empty.
	ErrEmptyID = errors.New("pgstore: empty id")
	// ErrSessionExists: Create was given the id of a live session.
	ErrSessionExists = errors.New("pgstore: session id already exists")
	// ErrInvalidLimit: a rate limit with a negative rate or burst, or a
	// non-positive period.
	ErrInvalidLimit = errors.New("pgstore: invalid limit")
	// ErrSchema: the Store's tables are missing or incomplete (its schema
	// was never migrated, or was dropped): run [Store.Migrate]. Every call
	// fails with it until then, and authx answers 503.
	ErrSchema = errors.New("pgstore: schema missing (run Store.Migrate)")
	// ErrCorrupt: a row holds a value this package did not write. The
	// operation fails rather than guess.
	ErrCorrupt = errors.New("pgstore: unexpected value in PostgreSQL")
)
