package openssl

import "github.com/nodetls/nodetls/cbridge"

// Certificate is an X.509 certificate held by OpenSSL. Free releases it.
type Certificate struct {
	x *cbridge.X509
}

// ParseCertificatesPEM reads every certificate of a PEM text in order (a chain
// or a bundle; CERTIFICATE, X509 CERTIFICATE and TRUSTED CERTIFICATE blocks).
func ParseCertificatesPEM(pem []byte) ([]*Certificate, error) {
	xs, err := cbridge.X509sFromPEM(pem)
	if err != nil {
		return nil, err
	}
	out := make([]*Certificate, len(xs))
	for i, x := range xs {
		out[i] = &Certificate{x: x}
	}
	return out, nil
}

// Free releases the certificate.
func (c *Certificate) Free() {
	if c != nil {
		c.x.Free()
	}
}

// Handle is the cbridge handle, for the layers that pass the certificate to OpenSSL.
func (c *Certificate) Handle() *cbridge.X509 { return c.x }
