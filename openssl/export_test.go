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
