package openssl

// ReadUntilHandshake is Read for a caller waiting for a renegotiation to end:
// it returns (0, nil) once more than done handshakes have completed
// (HandshakeCount() > done), even when the peer sends no application data
// after its last handshake message. Data that arrives first is returned as
// Read returns it.
func (c *Conn) ReadUntilHandshake(p []byte, done int) (int, error) {
	return c.read(p, done)
}
