package openssl

// TransportWrites reports how many times c has handed ciphertext to its
// transport: the send calls of socket-mode steps and the writes of flush.
func TransportWrites(c *Conn) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends
}

// Steps reports how many engine steps c has run.
func Steps(c *Conn) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.steps
}

// Writers reports how many Writes are in progress on c.
func Writers(c *Conn) int64 { return int64(c.writers.Load()) }

// Buffers reports whether c holds an input and an output buffer.
func Buffers(c *Conn) (in, out bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return cap(c.in) > 0, cap(c.out) > 0
}

// WindowsMade returns how many windows the engine's pools have made: two
// allocations each (the bytes and the pointer the pool holds).
func WindowsMade() uint64 { return windowsMade.Load() }
