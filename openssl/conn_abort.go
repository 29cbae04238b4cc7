package openssl

import "net"

// Abort closes the transport at once, without close_notify and dropping the
// output OpenSSL produced that was not written yet (Node's destroy() of a
// socket whose handshake just ended: the last flight is never sent). It frees
// the connection; later calls return net.ErrClosed.
func (c *Conn) Abort() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	c.out = c.out[:0]
	c.mu.Unlock()
	err := c.transport.Close()
	c.mu.Lock()
	c.ssl.Free()
	c.ssl = nil
	c.mu.Unlock()
	return err
}
