package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/authx-go/authx"
)

// Revoke records id as revoked until the given time; an entry that lasts
// longer already is kept as is, and a time already past (on the
// database's clock) records nothing.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	if id == "" {
		return ErrEmptyID
	}
	return s.run(ctx, "blocklist revoke", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, s.q.revoke, []byte(id), until)
		return err
	})
}

// IsRevoked reports whether any of ids is revoked, in one statement.
// Entries past their until are not revoked, swept or not.
func (s *Store) IsRevoked(ctx context.Context, ids ...string) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	if len(ids) == 0 {
		return false, nil
	}
	var revoked bool
	err := s.run(ctx, "blocklist lookup", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, s.q.isRevoked, byteSlices(ids)).Scan(&revoked)
	})
	if err != nil {
		return false, err
	}
	return revoked, nil
}

// RevokeSubject revokes sub's tokens issued before before (in earlier
// seconds), until until; a live cut-off keeps the later before and the
// later until. A time already past records nothing.
func (s *Store) RevokeSubject(ctx context.Context, sub string, before, until time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	if sub == "" {
		return ErrEmptyID
	}
	return s.run(ctx, "blocklist revoke subject", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, s.q.revokeSubject, []byte(sub), before.Unix(), until)
		return err
	})
}

// IsTokenRevoked reports whether t is revoked: one of its ids is, its
// subject's tokens issued before a later time were ([Store.RevokeSubject]),
// or it was issued before this store's data began (its epoch, written by
// [Store.Migrate]: a schema dropped and migrated anew starts a new epoch,
// and tokens from before it are refused, since what would have revoked
// them is gone). All in one statement, one round trip: a guarded request
// costs one prepared statement. A store whose epoch is missing answers
// [ErrSchema], never "not revoked".
func (s *Store) IsTokenRevoked(ctx context.Context, t authx.TokenCheck) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	var (
		revoked bool
		epoch   *int64
		cut     *int64
	)
	err := s.run(ctx, "blocklist lookup", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, s.q.isTokenRevoked, byteSlices(t.IDs), []byte(t.Subject)).Scan(&revoked, &epoch, &cut)
	})
	if err != nil {
		return false, err
	}
	if epoch == nil {
		return false, fmt.Errorf("pgstore: blocklist lookup: %w: no epoch", ErrSchema)
	}
	if revoked || issuedBefore(t.IssuedAt, *epoch) {
		return true, nil
	}
	return cut != nil && t.Subject != "" && issuedBefore(t.IssuedAt, *cut), nil
}

// Epoch returns the time from which the store vouches for tokens (see
// [Store.IsTokenRevoked]), in whole seconds.
func (s *Store) Epoch(ctx context.Context) (time.Time, error) {
	if err := s.check(); err != nil {
		return time.Time{}, err
	}
	var epoch *int64
	err := s.run(ctx, "epoch", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, s.q.epoch).Scan(&epoch)
	})
	if err != nil {
		return time.Time{}, err
	}
	if epoch == nil {
		return time.Time{}, fmt.Errorf("pgstore: epoch: %w: no epoch", ErrSchema)
	}
	return time.Unix(*epoch, 0), nil
}

// issuedBefore reports whether a token issued at iat (zero: unknown) was
// issued in a second before sec.
func issuedBefore(iat time.Time, sec int64) bool {
	return iat.IsZero() || iat.Unix() < sec
}

// byteSlices returns ids as bytea values: ids are arbitrary bytes (NUL
// included), which text columns could not hold.
func byteSlices(ids []string) [][]byte {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = []byte(id)
	}
	return out
}
