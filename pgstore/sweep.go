package pgstore

import (
	"context"
	"time"
)

// Sweep deletes the rows that have expired — lapsed revocations and
// cut-offs, forgotten refresh tokens, expired sessions, full rate-limit
// buckets — and returns how many. It deletes in bounded batches
// ([WithSweepBatch]), one short statement each, skipping rows that other
// transactions hold locked, so it never holds long locks nor waits on a
// request. Each batch is bounded by the Store's timeout ([WithTimeout]);
// Sweep goes on until a batch of every table comes back short, or ctx
// ends. Sweeping only reclaims space: every read filters by expiry, so an
// expired row is never taken for a live one, swept or not.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	total := 0
	for i, t := range tables {
		for {
			var n int64
			err := s.run(ctx, "sweep "+t.name, func(ctx context.Context) error {
				tag, err := s.pool.Exec(ctx, s.q.sweep[i], s.sweepBatch)
				n = tag.RowsAffected()
				return err
			})
			total += int(n)
			if err != nil {
				return total, err
			}
			if n < int64(s.sweepBatch) {
				break
			}
		}
	}
	return total, nil
}

// sweepLoop calls Sweep every sweepEvery until ctx ends.
func (s *Store) sweepLoop(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(s.sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n, err := s.Sweep(ctx)
			if err != nil && ctx.Err() == nil {
				s.logger.WarnContext(ctx, "pgstore: sweep failed", "err", err, "deleted", n)
			}
		}
	}
}
