package jwks

// WithFetchHook calls f after every fetch of the Set with its error, for
// tests that wait for a background fetch rather than sleep.
func WithFetchHook(f func(error)) Option {
	return optionFunc(func(c *config) { c.onFetch = f })
}
