package pgstore

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The SQL of the Store, one statement a file (migrate.sql: the schema).
// {{name}} in a file stands for a quoted, schema-qualified name; see
// newQueries.
//
//go:embed *.sql
var sqlFiles embed.FS

// Bounds of identifiers: PostgreSQL keeps 63 bytes of a name; the longest
// table or index suffix is 22 bytes ("sessions_subject_idx" and kin).
const (
	maxIdent  = 63
	maxPrefix = 40
)

// validIdent reports whether s is 1 to max bytes of [A-Za-z0-9_], not
// starting with a digit.
func validIdent(s string, max int) bool {
	if s == "" || len(s) > max || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// tables are the Store's tables with their expiry columns (for Sweep).
var tables = []struct{ name, expiry string }{
	{"blocklist", "until"},
	{"subjects", "until"},
	{"refresh", "until"},
	{"sessions", "expires_at"},
	{"limits", "full_at"},
}

// indexes are the Store's index names (unqualified: an index lives in its
// table's schema).
var indexes = []string{"blocklist_until_idx", "subjects_until_idx", "refresh_until_idx",
	"sessions_subject_idx", "sessions_expires_idx", "limits_full_idx"}

// queries are the Store's statements, their names filled in.
type queries struct {
	migrate, lockKey                     string
	revoke, isRevoked, isTokenRevoked    string
	revokeSubject, spend, allow          string
	sessCreate, sessGet, sessList        string
	sessTouch, sessRevoke, sessRevokeAll string
	epoch                                string
	sweep                                []string // one per table, in tables' order
}

func newQueries(schema, prefix string) queries {
	pairs := []string{"{{schema}}", pgx.Identifier{schema}.Sanitize()}
	qualified := map[string]string{}
	for _, t := range append([]string{"meta"}, names(tables)...) {
		q := pgx.Identifier{schema, prefix + t}.Sanitize()
		qualified[t] = q
		pairs = append(pairs, "{{"+t+"}}", q)
	}
	for _, ix := range indexes {
		pairs = append(pairs, "{{"+ix+"}}", pgx.Identifier{prefix + ix}.Sanitize())
	}
	r := strings.NewReplacer(pairs...)
	load := func(name string) string {
		b, err := sqlFiles.ReadFile(name)
		if err != nil {
			// The files are embedded: a missing one is a build mistake
			// caught by every test, never a run-time condition.
			return "SELECT pgstore_missing_sql_file()"
		}
		return r.Replace(string(b))
	}
	q := queries{
		migrate:        load("migrate.sql"),
		lockKey:        "authx-pgstore:" + schema + "." + prefix,
		epoch:          load("epoch.sql"),
		revoke:         load("revoke.sql"),
		isRevoked:      load("is_revoked.sql"),
		isTokenRevoked: load("is_token_revoked.sql"),
		revokeSubject:  load("revoke_subject.sql"),
		spend:          load("spend.sql"),
		allow:          load("allow.sql"),
		sessCreate:     load("session_create.sql"),
		sessGet:        load("session_get.sql"),
		sessList:       load("session_list.sql"),
		sessTouch:      load("session_touch.sql"),
		sessRevoke:     load("session_revoke.sql"),
		sessRevokeAll:  load("session_revoke_all.sql"),
	}
	sweep := load("sweep.sql")
	for _, t := range tables {
		q.sweep = append(q.sweep, strings.NewReplacer("{{table}}", qualified[t.name],
			"{{expiry}}", pgx.Identifier{t.expiry}.Sanitize()).Replace(sweep))
	}
	return q
}

func names(ts []struct{ name, expiry string }) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.name
	}
	return out
}

// Migrate creates the Store's schema, tables and indexes if they do not
// exist, and its epoch (the time from which it vouches for tokens: see
// [Store.IsTokenRevoked]) if it has none. It is idempotent and safe to
// run from several replicas at once (a transaction-scoped advisory lock
// orders them). The Store never migrates implicitly: call Migrate at
// start-up, before the process issues tokens, or run migrate.sql (its
// placeholders filled in) with your own migration tool. Migrate is bounded
// by ctx only, not by [WithTimeout]. Until it has run, every call fails
// with [ErrSchema], and authx answers 503.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", s.q.lockKey); err != nil {
		return fmt.Errorf("pgstore: migrate: lock: %w", err)
	}
	// No arguments: pgx sends the file as one simple-protocol query.
	if _, err := tx.Exec(ctx, s.q.migrate); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: commit: %w", err)
	}
	return nil
}
