package tls

import (
	"crypto/x509"

	"github.com/nodetls/nodetls/openssl"
)

// Name is a certificate subject or issuer as Node gives it: attribute short
// names (C, ST, L, O, OU, CN, emailAddress, ... or a dotted OID) to their
// values; an attribute that occurs several times has several values.
type Name map[string][]string

// Get returns the first value of an attribute, "" if absent: Node's
// cert.subject.CN where the attribute occurs once.
func (n Name) Get(key string) string {
	if v := n[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Certificate is the object of Node's getPeerCertificate() and
// getCertificate(), field for field, in Node's formats: ValidFrom like
// "Mar  1 00:00:00 2024 GMT", fingerprints as upper-case hex pairs joined by
// ':', SerialNumber upper-case hex, Exponent like "0x10001", SubjectAltName
// like "DNS:localhost, IP Address:127.0.0.1".
type Certificate struct {
	Subject, Issuer Name                // subject, issuer
	SubjectAltName  string              // subjectaltname: "DNS:a.example, IP Address:127.0.0.1"
	InfoAccess      map[string][]string // infoAccess: "OCSP - URI", "CA Issuers - URI"
	CA              bool                // ca: basicConstraints CA:TRUE
	// Modulus (upper-case hex) and Exponent ("0x10001") are set for RSA keys.
	Modulus, Exponent string
	Bits              int      // bits: the key size
	Pubkey            []byte   // pubkey: the SubjectPublicKeyInfo DER for RSA, the curve point for EC
	ASN1Curve         string   // asn1Curve, EC keys: "prime256v1"
	NISTCurve         string   // nistCurve, EC keys: "P-256"
	ValidFrom         string   // valid_from: "Mar  1 00:00:00 2024 GMT"
	ValidTo           string   // valid_to
	Fingerprint       string   // fingerprint: SHA-1 of Raw, "AB:CD:..."
	Fingerprint256    string   // fingerprint256: SHA-256 of Raw
	Fingerprint512    string   // fingerprint512: SHA-512 of Raw
	ExtKeyUsage       []string // ext_key_usage: dotted OIDs ("1.3.6.1.5.5.7.3.1")
	SerialNumber      string   // serialNumber: upper-case hex
	Raw               []byte   // raw: the DER
	// IssuerCertificate (issuerCertificate) is set by GetPeerCertificate(true);
	// a self-signed root points to itself, as in Node.
	IssuerCertificate *Certificate

	info *openssl.CertificateInfo
}

// certificateFrom builds Node's certificate object from an OpenSSL certificate.
func certificateFrom(c *openssl.Certificate) *Certificate {
	if c == nil {
		return nil
	}
	ci, err := c.Info()
	if err != nil {
		return nil
	}
	return certificateFromInfo(ci)
}

func certificateFromInfo(ci *openssl.CertificateInfo) *Certificate {
	return &Certificate{
		Subject:        Name(ci.Subject.Map()),
		Issuer:         Name(ci.Issuer.Map()),
		SubjectAltName: ci.SubjectAltName,
		InfoAccess:     ci.InfoAccess,
		CA:             ci.CA,
		Modulus:        ci.Modulus,
		Exponent:       ci.Exponent,
		Bits:           ci.Bits,
		Pubkey:         ci.Pubkey,
		ASN1Curve:      ci.ASN1Curve,
		NISTCurve:      ci.NISTCurve,
		ValidFrom:      ci.ValidFrom,
		ValidTo:        ci.ValidTo,
		Fingerprint:    ci.Fingerprint,
		Fingerprint256: ci.Fingerprint256,
		Fingerprint512: ci.Fingerprint512,
		ExtKeyUsage:    ci.ExtKeyUsage,
		SerialNumber:   ci.SerialNumber,
		Raw:            ci.Raw,
		info:           ci,
	}
}

// certificateChainFrom builds the detailed object: each certificate's
// IssuerCertificate is the next one; a self-issued last one points to itself.
func certificateChainFrom(chain []*openssl.Certificate) *Certificate {
	var first, prev *Certificate
	for _, c := range chain {
		cur := certificateFrom(c)
		if cur == nil {
			break
		}
		if prev == nil {
			first = cur
		} else {
			prev.IssuerCertificate = cur
		}
		prev = cur
	}
	if prev != nil && len(chain) > 0 && prev.info != nil && isSelfIssued(chain[len(chain)-1]) {
		prev.IssuerCertificate = prev
	}
	return first
}

func isSelfIssued(c *openssl.Certificate) bool { return c.SelfIssued() }

// X509 parses the certificate for Go code that expects crypto/x509 (in
// Node, new crypto.X509Certificate(cert.raw)).
func (c *Certificate) X509() (*x509.Certificate, error) { return x509.ParseCertificate(c.Raw) }

// JSON writes the certificate as Node's JSON.stringify of the same object
// (without issuerCertificate; Buffer fields raw and pubkey are left out).
func (c *Certificate) JSON() []byte {
	if c == nil || c.info == nil {
		return []byte("{}")
	}
	return c.info.NodeJSON(openssl.BufferOmit)
}
