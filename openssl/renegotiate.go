package openssl

import (
	"errors"

	"github.com/nodetls/nodetls/cbridge"
)

// RenegotiateOptions change what a server asks for in the renegotiation it
// starts (Node's renegotiate({requestCert, rejectUnauthorized})).
type RenegotiateOptions struct {
	// RequestClientCert asks the client for a certificate in the new
	// handshake; RequireClientCert also fails it when none is sent. Either
	// one turns off session resumption on renegotiation
	// (SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION), since an abbreviated
	// handshake would never send a CertificateRequest.
	RequestClientCert, RequireClientCert bool
}

// RenegotiateWith is Renegotiate with new verification settings; only a
// server can ask for a client certificate this way.
func (c *Conn) RenegotiateWith(opts RenegotiateOptions) error {
	if opts.RequestClientCert || opts.RequireClientCert {
		if !c.server {
			return errors.New("openssl: only a server can request a client certificate")
		}
		mode := cbridge.VerifyPeer
		if opts.RequireClientCert {
			mode |= cbridge.VerifyFailIfNoPeerCert
		}
		err := c.withSSL(func(s *cbridge.SSL) error {
			s.SetVerify(mode)
			s.SetOptions(OpNoSessionResumptionOnRenego, 0)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return c.Renegotiate()
}
