package authx

// MemorySessionStoreLen returns the number of sessions m holds, expired
// ones not yet swept included, for the external tests (the blocklist and
// the rate limiter export a Len; the session store keeps its API as it is).
func MemorySessionStoreLen(m *MemorySessionStore) int { return m.len() }
