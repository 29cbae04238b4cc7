package openssl

import "github.com/nodetls/nodetls/cbridge"

// PeerSentChain returns the certificates the peer sent in this handshake, as
// SSL_get_peer_cert_chain keeps them: on a client the server's certificate
// and its chain; on a server the client's chain without its own certificate.
// It is empty when no certificate was exchanged, which includes a resumed
// client connection whose session came from DER (a serialized session keeps
// the peer's certificate but not its chain). The caller frees them.
func (c *Conn) PeerSentChain() []*Certificate {
	var out []*Certificate
	_ = c.withSSL(func(s *cbridge.SSL) error {
		for _, x := range s.PeerChain() {
			out = append(out, &Certificate{x: x})
		}
		return nil
	})
	return out
}
