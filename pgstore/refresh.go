package pgstore

import (
	"context"
	"crypto/rand"
	"time"
)

// Spend marks the refresh token id as used until the given time, in one
// atomic statement (spend.sql): of any number of concurrent calls, on any
// number of replicas, exactly one reports first; the others get the time
// of the first use. An entry past its until is taken over as if absent.
// The row carries a per-call nonce, so the winner is known from the row
// itself, not from a second read.
func (s *Store) Spend(ctx context.Context, id string, until time.Time) (bool, time.Time, error) {
	if err := s.check(); err != nil {
		return false, time.Time{}, err
	}
	if id == "" {
		return false, time.Time{}, ErrEmptyID
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	var (
		first   bool
		spentAt time.Time
	)
	err := s.run(ctx, "refresh spend", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, s.q.spend, []byte(id), until, nonce).Scan(&first, &spentAt)
	})
	if err != nil {
		return false, time.Time{}, err
	}
	if first {
		return true, time.Time{}, nil
	}
	return false, spentAt, nil
}
