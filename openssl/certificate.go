package openssl

import "github.com/nodetls/nodetls/cbridge"

// Certificate is an X.509 certificate held by OpenSSL. Free releases it;
// contexts that use the certificate keep their own reference.
type Certificate struct {
	x *cbridge.X509
}

// errNoCertificate is returned for input that holds no certificate at all.
func errNoCertificate(op string) error {
	return cbridge.NewError(op, "nodetls", "no certificate found")
}

// ParseCertificate reads the first certificate of data, PEM or DER, the way
// Node's X509Certificate does: PEM first (CERTIFICATE, X509 CERTIFICATE and
// TRUSTED CERTIFICATE blocks), then DER; when neither works the error is
// OpenSSL's PEM error (for text without a block, "no start line").
func ParseCertificate(data []byte) (*Certificate, error) {
	const op = "PEM_read_bio_X509_AUX"
	if len(data) == 0 {
		return nil, errNoCertificate(op)
	}
	x, pemErr := cbridge.X509FromPEM(data)
	if pemErr == nil {
		return &Certificate{x: x}, nil
	}
	x, _, err := cbridge.X509FromDER(data)
	if err != nil {
		return nil, pemErr
	}
	return &Certificate{x: x}, nil
}

// ParseCertificates reads every certificate of data, in order: a PEM text
// (a chain or a bundle; CERTIFICATE, X509 CERTIFICATE and TRUSTED CERTIFICATE
// blocks), or DER (one certificate, or several back to back). When data is
// neither, the error is OpenSSL's PEM error, as for ParseCertificate.
func ParseCertificates(data []byte) ([]*Certificate, error) {
	const op = "PEM_read_bio_X509_AUX"
	if len(data) == 0 {
		return nil, errNoCertificate(op)
	}
	xs, pemErr := cbridge.X509sFromPEM(data)
	if pemErr == nil {
		return wrapX509s(xs), nil
	}
	var der []*cbridge.X509
	for rest := data; len(rest) > 0; {
		x, n, err := cbridge.X509FromDER(rest)
		if err != nil {
			for _, x := range der {
				x.Free()
			}
			if len(der) == 0 {
				return nil, pemErr
			}
			return nil, err
		}
		der = append(der, x)
		rest = rest[n:]
	}
	return wrapX509s(der), nil
}

// ParseCertificatesPEM reads every certificate of a PEM text in order (a chain
// or a bundle; CERTIFICATE, X509 CERTIFICATE and TRUSTED CERTIFICATE blocks).
// Empty input gives no certificates and no error.
func ParseCertificatesPEM(pem []byte) ([]*Certificate, error) {
	xs, err := cbridge.X509sFromPEM(pem)
	if err != nil {
		return nil, err
	}
	return wrapX509s(xs), nil
}

func wrapX509s(xs []*cbridge.X509) []*Certificate {
	out := make([]*Certificate, len(xs))
	for i, x := range xs {
		out[i] = &Certificate{x: x}
	}
	return out
}

// DER is the certificate's DER encoding.
func (c *Certificate) DER() ([]byte, error) { return c.handle().DER() }

// PEM is the certificate as a "CERTIFICATE" PEM block.
func (c *Certificate) PEM() ([]byte, error) { return c.handle().PEM() }

// PublicKeyDER is the certificate's public key as SubjectPublicKeyInfo DER.
func (c *Certificate) PublicKeyDER() ([]byte, error) { return c.handle().PublicDER() }

// CheckPrivateKey reports whether k is the private half of the certificate's
// key (X509_check_private_key): nil, or OpenSSL's error such as
// "error:05800074:x509 certificate routines::key values mismatch".
func (c *Certificate) CheckPrivateKey(k *PrivateKey) error {
	if k == nil {
		return cbridge.NewError("X509_check_private_key", "nodetls", "key is nil")
	}
	return c.handle().CheckPrivateKey(k.k)
}

// Ref returns a new, independently freed reference to the same certificate.
func (c *Certificate) Ref() *Certificate {
	if c == nil {
		return nil
	}
	r := c.x.Ref()
	if r == nil {
		return nil
	}
	return &Certificate{x: r}
}

// Free releases the certificate.
func (c *Certificate) Free() {
	if c != nil {
		c.x.Free()
	}
}

// Handle is the cbridge handle, for the layers that pass the certificate to OpenSSL.
func (c *Certificate) Handle() *cbridge.X509 { return c.handle() }

func (c *Certificate) handle() *cbridge.X509 {
	if c == nil {
		return nil
	}
	return c.x
}

// FreeCertificates frees every certificate of a list (nil entries are skipped).
func FreeCertificates(certs []*Certificate) {
	for _, c := range certs {
		c.Free()
	}
}

// SelfIssued reports whether the certificate's issuer is itself
// (X509_check_issued(c, c)), which ends a chain.
func (c *Certificate) SelfIssued() bool { return cbridge.CheckIssued(c.handle(), c.handle()) }

// IsCA reports X509_check_ca(c) >= 1: the certificate can act as a CA.
func (c *Certificate) IsCA() bool { return c.handle().IsCA() }

// NamesIssuer reports whether c's subject is subject's issuer name: c is
// the issuer subject names, whether or not its key and extensions would
// let it issue certificates.
func (c *Certificate) NamesIssuer(subject *Certificate) bool {
	return cbridge.NamesIssuer(c.handle(), subject.handle())
}

// Issued reports whether c issued subject (X509_check_issued).
func (c *Certificate) Issued(subject *Certificate) bool {
	return cbridge.CheckIssued(c.handle(), subject.handle())
}
