package openssl

import (
	"errors"
	"net"
)

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

// SilentAbort wraps a callback's error to end the handshake without an
// alert: the output of the step that failed is dropped, as when Node
// destroys a socket whose SNI callback failed.
type SilentAbort struct{ Err error }

func (e *SilentAbort) Error() string { return e.Err.Error() }

// Unwrap returns the callback's error.
func (e *SilentAbort) Unwrap() error { return e.Err }

// dropIfSilent discards pending output when err is a SilentAbort. c.mu is held.
func (c *Conn) dropIfSilent(err error) {
	var sa *SilentAbort
	if errors.As(err, &sa) {
		c.out = c.out[:0]
	}
}
