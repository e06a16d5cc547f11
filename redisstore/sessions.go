package redisstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authx-go/authx"
	"github.com/redis/go-redis/v9"
)

// SessionStore is the [authx.SessionStore] of a [Store] (see
// [Store.Sessions]). Sessions expire with their ExpiresAt; revoked ones
// are kept, inactive, until then. Each subject's sessions are indexed in
// the same Redis Cluster slot as the sessions themselves (see the package
// doc), so listing and revoking them all are atomic.
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

// Session hash fields (see the package doc).
const (
	fID       = "id"
	fSubject  = "sub"
	fIP       = "ip"
	fUA       = "ua"
	fActive   = "active"
	fCreated  = "created"
	fLast     = "last"
	fExpires  = "expires"
	fDevice   = "dev"
	fDevEntry = "d:"
	secs      = "_s"
	nanos     = "_ns"
)

// createScript writes a session and indexes it, atomically.
//
//	KEYS[1] session hash, KEYS[2] subject index
//	ARGV[1] expiry (unix ms), ARGV[2] index member, ARGV[3…] field, value pairs
var createScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[1]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
return 1
`)

// Create stores si as an active session. An id already used by a live
// session, of any subject, is [ErrSessionExists]; a session whose
// ExpiresAt is past is not stored.
func (ss *SessionStore) Create(ctx context.Context, si authx.SessionInfo) error {
	s := ss.store()
	if err := s.Err(); err != nil {
		return err
	}
	if si.ID == "" || si.Subject == "" {
		return ErrEmptyID
	}
	if !si.ExpiresAt.After(time.Now()) {
		return nil
	}
	exp := ceilUnixMilli(si.ExpiresAt)
	nonce := rand.Text()
	ptr := s.key(kindSession, si.ID)
	keys := []string{s.sessionKey(si.Subject, si.ID), s.indexKey(si.Subject)}
	args := append([]any{exp, enc(si.ID)}, sessionFields(si)...)
	var exists bool
	err := s.run(ctx, "session create", func(ctx context.Context) error {
		// The id → subject pointer, set only if the id is free. Its nonce
		// tells a retried command that the pointer is its own.
		var old string
		err := s.write(ctx, ptr, func(c cmdWriter) error {
			var err error
			old, err = c.Do(ctx, "SET", ptr, nonce+" "+si.Subject, "PXAT", exp, "NX", "GET").Text()
			if errors.Is(err, redis.Nil) {
				old, err = "", nil
			}
			return err
		})
		switch {
		case err != nil:
			return err
		case old != "" && !strings.HasPrefix(old, nonce+" "):
			exists = true
			return nil
		}
		return s.write(ctx, keys[0], func(c cmdWriter) error {
			return createScript.Run(ctx, c, keys, args...).Err()
		})
	})
	if err != nil {
		return err
	}
	if exists {
		return ErrSessionExists
	}
	return nil
}

// sessionFields returns si as hash field, value pairs.
func sessionFields(si authx.SessionInfo) []any {
	f := []any{fID, si.ID, fSubject, si.Subject, fActive, "1"}
	f = appendTime(f, fCreated, si.CreatedAt)
	f = appendTime(f, fLast, si.LastActive)
	f = appendTime(f, fExpires, si.ExpiresAt)
	if si.IP != "" {
		f = append(f, fIP, si.IP)
	}
	if si.UserAgent != "" {
		f = append(f, fUA, si.UserAgent)
	}
	if si.Device != nil {
		f = append(f, fDevice, "")
		for _, k := range slices.Sorted(maps.Keys(si.Device)) {
			f = append(f, fDevEntry+k, si.Device[k])
		}
	}
	return f
}

// appendTime writes t as Unix seconds and nanoseconds: exact, and
// comparable as numbers in Lua (a double holds either exactly).
func appendTime(f []any, name string, t time.Time) []any {
	return append(f, name+secs, strconv.FormatInt(t.Unix(), 10), name+nanos, strconv.Itoa(t.Nanosecond()))
}

// ceilUnixMilli returns t in Unix milliseconds, rounded up, so that a key
// set to expire then outlives t rather than lapsing before it.
func ceilUnixMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// subjectOf reads the subject of session id from its pointer.
func (s *Store) subjectOf(ctx context.Context, id string) (string, bool, error) {
	v, err := s.c.Get(ctx, s.key(kindSession, id)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	_, sub, ok := strings.Cut(v, " ")
	if !ok || sub == "" {
		return "", false, fmt.Errorf("%w: session pointer %q", ErrCorrupt, truncate(v, 64))
	}
	return sub, true, nil
}

// Get returns the session with id, revoked ones included until they expire.
func (ss *SessionStore) Get(ctx context.Context, id string) (authx.SessionInfo, bool, error) {
	s := ss.store()
	if err := s.Err(); err != nil {
		return authx.SessionInfo{}, false, err
	}
	var h map[string]string
	err := s.run(ctx, "session get", func(ctx context.Context) error {
		sub, ok, err := s.subjectOf(ctx, id)
		if err != nil || !ok {
			return err
		}
		h, err = s.c.HGetAll(ctx, s.sessionKey(sub, id)).Result()
		return err
	})
	if err != nil || len(h) == 0 {
		return authx.SessionInfo{}, false, err
	}
	si, err := parseSession(h)
	if err != nil {
		return authx.SessionInfo{}, false, err
	}
	if si.ID != id {
		return authx.SessionInfo{}, false, fmt.Errorf("%w: session hash of another id", ErrCorrupt)
	}
	if !si.ExpiresAt.After(time.Now()) {
		return authx.SessionInfo{}, false, nil
	}
	return si, true, nil
}

// listScript returns every session of a subject, pruning the index of
// members whose session has expired (by score, or because its key is gone).
//
//	KEYS[1] subject index; ARGV[1] session key prefix; ARGV[2] now (unix ms)
var listScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local h = redis.call('HGETALL', ARGV[1] .. m)
  if #h == 0 then
    redis.call('ZREM', KEYS[1], m)
  else
    out[#out + 1] = h
  end
end
return out
`)

// List returns subject's active, unexpired sessions, newest first (ties by
// id), or nil if there are none.
func (ss *SessionStore) List(ctx context.Context, subject string) ([]authx.SessionInfo, error) {
	s := ss.store()
	if err := s.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	var reply any
	err := s.run(ctx, "session list", func(ctx context.Context) error {
		var err error
		reply, err = listScript.Run(ctx, s.c, []string{s.indexKey(subject)},
			s.sessionKeyPrefix(subject), now.UnixMilli()).Result()
		return err
	})
	if err != nil {
		return nil, err
	}
	hashes, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: session list reply %T", ErrCorrupt, reply)
	}
	var out []authx.SessionInfo
	for _, x := range hashes {
		h, err := pairs(x)
		if err != nil {
			return nil, err
		}
		si, err := parseSession(h)
		if err != nil {
			return nil, err
		}
		if si.Active && si.ExpiresAt.After(now) && si.Subject == subject {
			out = append(out, si)
		}
	}
	slices.SortFunc(out, func(a, b authx.SessionInfo) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// touchScript moves a live, active session's last-active time forward; it
// never creates a key, so an expired session stays gone.
//
//	KEYS[1] session hash; ARGV[1], ARGV[2] t (unix s, ns); ARGV[3], ARGV[4] now (unix s, ns)
var touchScript = redis.NewScript(`
local function after(as, ans, bs, bns)
  return as > bs or (as == bs and ans > bns)
end
local h = redis.call('HMGET', KEYS[1], 'active', 'last_s', 'last_ns', 'expires_s', 'expires_ns')
if h[1] ~= '1' then
  return 0
end
local ts, tns = tonumber(ARGV[1]), tonumber(ARGV[2])
if not after(tonumber(h[4]), tonumber(h[5]), tonumber(ARGV[3]), tonumber(ARGV[4])) then
  return 0
end
if not after(ts, tns, tonumber(h[2]), tonumber(h[3])) then
  return 0
end
redis.call('HSET', KEYS[1], 'last_s', ARGV[1], 'last_ns', ARGV[2])
return 1
`)

// Touch records activity in an active, unexpired session at t; a t not
// after the recorded one changes nothing, and an unknown, revoked or
// expired session is left as it is.
func (ss *SessionStore) Touch(ctx context.Context, id string, t time.Time) error {
	s := ss.store()
	if err := s.Err(); err != nil {
		return err
	}
	now := time.Now()
	return s.run(ctx, "session touch", func(ctx context.Context) error {
		sub, ok, err := s.subjectOf(ctx, id)
		if err != nil || !ok {
			return err
		}
		return touchScript.Run(ctx, s.c, []string{s.sessionKey(sub, id)},
			t.Unix(), t.Nanosecond(), now.Unix(), now.Nanosecond()).Err()
	})
}

// revokeSessionScript marks a session inactive, if it exists.
//
//	KEYS[1] session hash
var revokeSessionScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'active', '0')
  return 1
end
return 0
`)

// Revoke marks the session inactive; it stays, inactive, until it
// expires. An unknown or revoked session is not an error.
func (ss *SessionStore) Revoke(ctx context.Context, id string) error {
	s := ss.store()
	if err := s.Err(); err != nil {
		return err
	}
	return s.run(ctx, "session revoke", func(ctx context.Context) error {
		sub, ok, err := s.subjectOf(ctx, id)
		if err != nil || !ok {
			return err
		}
		key := s.sessionKey(sub, id)
		return s.write(ctx, key, func(c cmdWriter) error {
			return revokeSessionScript.Run(ctx, c, []string{key}).Err()
		})
	})
}

// revokeAllScript marks every active, unexpired session of a subject
// inactive and returns their ids, pruning the index as listScript does.
// Each session it ends is stamped with the call's nonce, so that a retried
// command reports the same sessions rather than none.
//
//	KEYS[1] subject index; ARGV[1] session key prefix; ARGV[2] now (unix ms);
//	ARGV[3], ARGV[4] now (unix s, ns); ARGV[5] nonce
var revokeAllScript = redis.NewScript(`
local now_s, now_ns = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local k = ARGV[1] .. m
  local h = redis.call('HMGET', k, 'active', 'rv', 'id', 'expires_s', 'expires_ns')
  if not h[1] then
    redis.call('ZREM', KEYS[1], m)
  else
    local es, ens = tonumber(h[4]), tonumber(h[5])
    local live = es > now_s or (es == now_s and ens > now_ns)
    if live and h[1] == '1' then
      redis.call('HSET', k, 'active', '0', 'rv', ARGV[5])
      out[#out + 1] = h[3]
    elseif live and h[2] == ARGV[5] then
      out[#out + 1] = h[3]
    end
  end
end
return out
`)

// RevokeAll marks every active session of subject inactive and returns
// their ids, sorted (nil if none), in one atomic step.
func (ss *SessionStore) RevokeAll(ctx context.Context, subject string) ([]string, error) {
	s := ss.store()
	if err := s.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	nonce := rand.Text()
	var reply []any
	err := s.run(ctx, "session revoke all", func(ctx context.Context) error {
		key := s.indexKey(subject)
		return s.write(ctx, key, func(c cmdWriter) error {
			var err error
			reply, err = revokeAllScript.Run(ctx, c, []string{key},
				s.sessionKeyPrefix(subject), now.UnixMilli(), now.Unix(), now.Nanosecond(), nonce).Slice()
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, x := range reply {
		id, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%w: session id %T", ErrCorrupt, x)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// pairs turns a flat HGETALL reply into a map.
func pairs(x any) (map[string]string, error) {
	flat, ok := x.([]any)
	if !ok || len(flat)%2 != 0 {
		return nil, fmt.Errorf("%w: session hash reply %T", ErrCorrupt, x)
	}
	h := make(map[string]string, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		k, ok1 := flat[i].(string)
		v, ok2 := flat[i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: session hash field %T", ErrCorrupt, flat[i+1])
		}
		h[k] = v
	}
	return h, nil
}

// parseSession reads a session hash; a missing or malformed field is
// [ErrCorrupt].
func parseSession(h map[string]string) (authx.SessionInfo, error) {
	si := authx.SessionInfo{
		ID:        h[fID],
		Subject:   h[fSubject],
		IP:        h[fIP],
		UserAgent: h[fUA],
		Active:    h[fActive] == "1",
	}
	bad := si.ID == "" || si.Subject == "" || (h[fActive] != "1" && h[fActive] != "0")
	var err error
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{fCreated, &si.CreatedAt}, {fLast, &si.LastActive}, {fExpires, &si.ExpiresAt}} {
		if *t.dst, err = parseTime(h, t.name); err != nil {
			bad = true
		}
	}
	if bad {
		return authx.SessionInfo{}, fmt.Errorf("%w: session hash of %d fields", ErrCorrupt, len(h))
	}
	if _, ok := h[fDevice]; ok {
		si.Device = map[string]string{}
		for k, v := range h {
			if name, ok := strings.CutPrefix(k, fDevEntry); ok {
				si.Device[name] = v
			}
		}
	}
	return si, nil
}

func parseTime(h map[string]string, name string) (time.Time, error) {
	sec, err1 := strconv.ParseInt(h[name+secs], 10, 64)
	ns, err2 := strconv.ParseInt(h[name+nanos], 10, 64)
	if err := cmp.Or(err1, err2); err != nil {
		return time.Time{}, err
	}
	if ns < 0 || ns >= int64(time.Second) {
		return time.Time{}, fmt.Errorf("nanoseconds %d out of range", ns)
	}
	return time.Unix(sec, ns).UTC(), nil
}
