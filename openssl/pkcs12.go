package openssl

import "github.com/nodetls/nodetls/cbridge"

// PKCS12 is the content of a PKCS#12 (PFX) file: a private key, the
// certificate that goes with it, and any further certificates (usually its
// chain). Free releases all of them.
type PKCS12 struct {
	Key  *PrivateKey
	Cert *Certificate
	CA   []*Certificate
}

// ParsePKCS12 decodes a DER PKCS#12 file and decrypts it with passphrase. A
// wrong passphrase is an *Error with OpenSSL's reason "mac verify failure";
// data that is not PKCS#12 fails with the ASN.1 decoder's reason. A file
// without a private key, or without the certificate of that key, is refused.
func ParsePKCS12(der []byte, passphrase string) (*PKCS12, error) {
	parts, err := cbridge.ParsePKCS12(der, passphrase)
	if err != nil {
		return nil, err
	}
	p := &PKCS12{}
	if parts.Key != nil {
		p.Key = privateKeyFromHandle(parts.Key)
	}
	if parts.Cert != nil {
		p.Cert = certificateFromHandle(parts.Cert)
	}
	for _, x := range parts.CA {
		p.CA = append(p.CA, certificateFromHandle(x))
	}
	switch {
	case p.Key == nil:
		p.Free()
		return nil, cbridge.NewError("PKCS12_parse", "nodetls", "no private key in PKCS#12 data")
	case p.Cert == nil:
		p.Free()
		return nil, cbridge.NewError("PKCS12_parse", "nodetls", "no certificate for the private key in PKCS#12 data")
	}
	return p, nil
}

// CreatePKCS12 encodes key, its certificate cert and the extra certificates ca
// as a DER PKCS#12 file protected by passphrase, with OpenSSL 3's default
// algorithms (PKCS12_create: AES-256-CBC with PBKDF2, HMAC-SHA256 MAC). The
// objects stay the caller's.
func CreatePKCS12(key *PrivateKey, cert *Certificate, ca []*Certificate, passphrase string) ([]byte, error) {
	if key == nil || cert == nil {
		return nil, cbridge.NewError("PKCS12_create", "nodetls", "a key and its certificate are required")
	}
	xs := make([]*cbridge.X509, len(ca))
	for i, c := range ca {
		if c == nil {
			return nil, cbridge.NewError("PKCS12_create", "nodetls", "nil CA certificate")
		}
		xs[i] = c.Handle()
	}
	return cbridge.CreatePKCS12(key.Handle(), cert.Handle(), xs, passphrase)
}

// Free releases the key and every certificate.
func (p *PKCS12) Free() {
	if p == nil {
		return
	}
	p.Key.Free()
	p.Cert.Free()
	for _, c := range p.CA {
		c.Free()
	}
}

// privateKeyFromHandle and certificateFromHandle wrap handles this package
// received from cbridge; they are the one place that builds these types
// outside key.go and certificate.go.
func privateKeyFromHandle(k *cbridge.PKey) *PrivateKey { return &PrivateKey{k: k} }

func certificateFromHandle(x *cbridge.X509) *Certificate { return &Certificate{x: x} }
