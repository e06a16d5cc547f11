package redisstore

import (
	"crypto/sha256"
	"encoding/base64"
)

// maxRawID is the longest id written into a key as is.
const maxRawID = 64

// enc returns id as it appears in a key (see the package doc): id itself
// when it is short and made of safe bytes, else "~" and the base64url
// SHA-256 of id. Safe bytes exclude '~', so the two forms never meet, and
// exclude braces, so an id never makes or breaks a Redis Cluster hash tag.
func enc(id string) string {
	raw := len(id) > 0 && len(id) <= maxRawID
	for i := 0; raw && i < len(id); i++ {
		raw = safeByte(id[i])
	}
	if raw {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "~" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func safeByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', ':', '@':
		return true
	}
	return false
}

// Every key is the prefix, then '{', which no prefix may hold: the prefix
// is the part of a key before its first '{', so stores under different
// prefixes share no key (with prefix + kind + id, the store under p+"bl:"
// revoking "x" wrote p's entry for "bl:x"). Single keys follow the prefix
// with "{}", a hash tag Redis Cluster ignores (an empty one: the whole key
// is hashed, spreading them over the slots); a subject's session keys and
// index follow it with their hash tag, "{sub:<enc subject>}".
const single = "{}"

// Kinds of single keys: prefix + kind + enc(id).
const (
	kindBlock   = single + "bl:"
	kindRefresh = single + "rt:"
	kindLimit   = single + "rl:"
	kindSession = single + "sid:" // session id → subject
)

func (s *Store) key(kind, id string) string { return s.prefix + kind + enc(id) }

// subjectTag is the start of every key of sub's sessions: the prefix and
// the hash tag that puts them in one Redis Cluster slot.
func (s *Store) subjectTag(sub string) string { return s.prefix + "{sub:" + enc(sub) + "}:" }

// sessionKeyPrefix + enc(id) is the key of session id of sub; the Lua
// scripts build session keys from it and the index members.
func (s *Store) sessionKeyPrefix(sub string) string { return s.subjectTag(sub) + "sess:" }

func (s *Store) sessionKey(sub, id string) string { return s.sessionKeyPrefix(sub) + enc(id) }

func (s *Store) indexKey(sub string) string { return s.subjectTag(sub) + "sessions" }
