package pgstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/authx-go/authx"
	"github.com/jackc/pgx/v5"
)

// SessionStore is the [authx.SessionStore] of a [Store] (see
// [Store.Sessions]). Sessions expire with their ExpiresAt on the
// database's clock; revoked ones are kept, inactive, until then. Times are
// kept to the microsecond (PostgreSQL's timestamptz).
type SessionStore struct{ s *Store }

var _ authx.SessionStore = (*SessionStore)(nil)

// Sessions returns the session store of s.
func (s *Store) Sessions() *SessionStore { return &SessionStore{s: s} }

func (ss *SessionStore) store() *Store {
	if ss == nil {
		return nil
	}
	return ss.s
}

// Create stores si as an active session. An id already used by a live
// session, of any subject, is [ErrSessionExists]; a session whose
// ExpiresAt is past is not stored.
func (ss *SessionStore) Create(ctx context.Context, si authx.SessionInfo) error {
	s := ss.store()
	if err := s.check(); err != nil {
		return err
	}
	if si.ID == "" || si.Subject == "" {
		return ErrEmptyID
	}
	var keys, vals [][]byte
	if si.Device != nil {
		keys, vals = [][]byte{}, [][]byte{}
		for _, k := range slices.Sorted(maps.Keys(si.Device)) {
			keys, vals = append(keys, []byte(k)), append(vals, []byte(si.Device[k]))
		}
	}
	var inserted bool
	err := s.run(ctx, "session create", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, s.q.sessCreate, []byte(si.ID), []byte(si.Subject), si.CreatedAt, si.LastActive,
			si.ExpiresAt, []byte(si.IP), []byte(si.UserAgent), keys, vals).Scan(&inserted)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	switch {
	case err != nil:
		return err
	case !inserted && si.ExpiresAt.After(time.Now()):
		// No row: a live session holds the id (or, within the clocks'
		// skew, si had expired on the database's clock: not stored).
		return fmt.Errorf("%w: %q", ErrSessionExists, truncate(si.ID, 64))
	}
	return nil
}

// Get returns the session with id, and whether it exists (revoked ones
// too, inactive, until they expire).
func (ss *SessionStore) Get(ctx context.Context, id string) (authx.SessionInfo, bool, error) {
	s := ss.store()
	if err := s.check(); err != nil {
		return authx.SessionInfo{}, false, err
	}
	var (
		si    authx.SessionInfo
		found bool
	)
	err := s.run(ctx, "session get", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, s.q.sessGet, []byte(id))
		if err != nil {
			return err
		}
		list, err := collectSessions(rows)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			si, found = list[0], true
		}
		return nil
	})
	if err != nil {
		return authx.SessionInfo{}, false, err
	}
	return si, found, nil
}

// List returns the subject's active sessions, newest first.
func (ss *SessionStore) List(ctx context.Context, subject string) ([]authx.SessionInfo, error) {
	s := ss.store()
	if err := s.check(); err != nil {
		return nil, err
	}
	var list []authx.SessionInfo
	err := s.run(ctx, "session list", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, s.q.sessList, []byte(subject))
		if err != nil {
			return err
		}
		list, err = collectSessions(rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// Touch records activity in the session at t; an earlier time than the one
// recorded is ignored, and an unknown session is not an error.
func (ss *SessionStore) Touch(ctx context.Context, id string, t time.Time) error {
	s := ss.store()
	if err := s.check(); err != nil {
		return err
	}
	return s.run(ctx, "session touch", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, s.q.sessTouch, []byte(id), t)
		return err
	})
}

// Revoke marks the session inactive; an unknown or revoked session is not
// an error.
func (ss *SessionStore) Revoke(ctx context.Context, id string) error {
	s := ss.store()
	if err := s.check(); err != nil {
		return err
	}
	return s.run(ctx, "session revoke", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, s.q.sessRevoke, []byte(id))
		return err
	})
}

// RevokeAll marks every active session of subject inactive, in one
// statement, and returns their ids.
func (ss *SessionStore) RevokeAll(ctx context.Context, subject string) ([]string, error) {
	s := ss.store()
	if err := s.check(); err != nil {
		return nil, err
	}
	var ids []string
	err := s.run(ctx, "session revoke all", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, s.q.sessRevokeAll, []byte(subject))
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		ids = make([]string, len(got))
		for i, b := range got {
			ids[i] = string(b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// collectSessions reads the rows of session_get.sql or session_list.sql.
func collectSessions(rows pgx.Rows) ([]authx.SessionInfo, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (authx.SessionInfo, error) {
		var (
			si                   authx.SessionInfo
			id, sub, ip, ua      []byte
			keys, vals           [][]byte
			created, last, until time.Time
		)
		if err := row.Scan(&id, &sub, &created, &last, &until, &ip, &ua, &keys, &vals, &si.Active); err != nil {
			return si, err
		}
		if len(keys) != len(vals) {
			return si, fmt.Errorf("%w: session %q has %d device keys and %d values", ErrCorrupt, truncate(string(id), 64), len(keys), len(vals))
		}
		si.ID, si.Subject, si.IP, si.UserAgent = string(id), string(sub), string(ip), string(ua)
		si.CreatedAt, si.LastActive, si.ExpiresAt = created, last, until
		if keys != nil {
			si.Device = make(map[string]string, len(keys))
			for i, k := range keys {
				si.Device[string(k)] = string(vals[i])
			}
		}
		return si, nil
	})
}

// truncate cuts s to at most n bytes, for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
