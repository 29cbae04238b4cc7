package openssl

import "github.com/nodetls/nodetls/cbridge"

// PeerSentChain returns the certificates the peer sent in this handshake, as
// OpenSSL keeps them (SSL_get_peer_cert_chain): on a client the server's
// certificate first, on a server without the client's own certificate. It is
// empty on a client whose session was resumed from serialized data, which
// keeps the peer's certificate but not the chain. The caller frees the
// certificates.
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
