package openssl

import (
	"net"

	"github.com/nodetls/nodetls/cbridge"
)

// ReadUntilHandshake is Read for a caller waiting for a renegotiation to end:
// it returns (0, nil) once more than done handshakes have completed
// (HandshakeCount() > done), even when the peer sends no application data
// after its last handshake message. Data that arrives first is returned as
// Read returns it.
func (c *Conn) ReadUntilHandshake(p []byte, done int) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		c.mu.Lock()
		if c.closed || c.ssl == nil {
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		if int(c.dones) > done {
			c.mu.Unlock()
			return 0, nil
		}
		if c.readErr != nil {
			err := c.readErr
			c.mu.Unlock()
			return 0, err
		}
		seq := c.inSeq
		st := c.stepLocked(cbridge.OpRead, p, controlRoom)
		n := 0
		if st.Ret > 0 {
			n = int(st.Ret)
		}
		if st.SSLError != cbridge.ErrNone && st.SSLError != cbridge.ErrWantRead {
			c.readErr = c.stepError(st)
		}
		err := c.readErr
		finished := int(c.dones) > done
		hasOut := len(c.out) > 0
		c.unlockAndReport()
		if hasOut {
			c.flushAsync()
		}
		if n > 0 {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if finished {
			return 0, nil
		}
		if err := c.fill(seq); err != nil {
			return 0, err
		}
	}
}
