package openssl

import (
	"crypto/rand"
	"math/big"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/nodetls/nodetls/cbridge"
)

// CertificateTemplate describes a certificate for CreateCertificate. Zero
// values give a sensible certificate: a random serial, valid from an hour ago
// for a year, SHA-256 (no digest for Ed25519/Ed448), key identifiers, and a
// key usage that fits a CA or a leaf.
type CertificateTemplate struct {
	// Subject entries in order, e.g. {{"C","US"},{"O","x"},{"CN","localhost"}};
	// types are OpenSSL's short or long names or dotted OIDs, values UTF-8.
	Subject Name
	// SerialNumber; nil picks a random positive number of up to 16 bytes.
	SerialNumber *big.Int
	// NotBefore and NotAfter bound the validity; any window is allowed (past
	// ones for expired certificates, future ones for not-yet-valid ones).
	// Zero NotBefore is an hour ago; zero NotAfter is NotBefore plus 365 days.
	NotBefore, NotAfter time.Time

	// IsCA marks a certificate authority (basicConstraints CA:TRUE; otherwise
	// CA:FALSE). PathLen, when set, limits the CAs below it.
	IsCA    bool
	PathLen *int

	// Subject alternative names, written in this order: DNS names, IP
	// addresses, email addresses, URIs. Values are stored as given.
	DNSNames       []string
	IPAddresses    []net.IP
	EmailAddresses []string
	URIs           []string

	// KeyUsage names OpenSSL's keyUsage bits ("digitalSignature",
	// "keyEncipherment", "keyCertSign", "cRLSign", ...), written critical.
	// Nil means keyCertSign, cRLSign and digitalSignature for a CA, and
	// digitalSignature (plus keyEncipherment for RSA) for a leaf.
	// NoKeyUsage leaves the extension out.
	KeyUsage   []string
	NoKeyUsage bool
	// ExtKeyUsage names extended key usages ("serverAuth", "clientAuth",
	// "codeSigning", ... or dotted OIDs); nil leaves the extension out.
	ExtKeyUsage []string

	// OCSPServer and IssuingCertificateURL fill authorityInfoAccess
	// ("OCSP - URI" and "CA Issuers - URI").
	OCSPServer            []string
	IssuingCertificateURL []string

	// SubjectKeyID defaults to the SHA-1 of the public key; AuthorityKeyID to
	// the issuer's subject key identifier (omitted when the issuer has none).
	// NoKeyIDs leaves both out.
	SubjectKeyID   []byte
	AuthorityKeyID []byte
	NoKeyIDs       bool

	// SignatureDigest is an OpenSSL digest name ("SHA256", "SHA384", "SHA1",
	// ...); "" is SHA-256, or no digest for Ed25519 and Ed448 keys.
	SignatureDigest string
}

// usageName is what a key usage or extended key usage name may look like; it
// keeps OpenSSL's configuration syntax (commas, "critical") out of the values.
var usageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.]*$`)

func errTemplate(reason string) error {
	return cbridge.NewError("CreateCertificate", "nodetls", reason)
}

// CreateCertificate makes a certificate for subjectKey's public key, signed by
// issuerKey and naming issuer's subject as its issuer. With issuer nil the
// certificate is self-issued: it names itself and is signed by issuerKey, or
// by subjectKey when issuerKey is nil too. An issuer key that does not belong
// to issuer is an error ("key values mismatch").
func CreateCertificate(tmpl *CertificateTemplate, subjectKey *PrivateKey, issuer *Certificate, issuerKey *PrivateKey) (*Certificate, error) {
	if tmpl == nil {
		return nil, errTemplate("no template")
	}
	if subjectKey == nil {
		return nil, errTemplate("no subject key")
	}
	signer := issuerKey
	if issuer != nil {
		if issuerKey == nil {
			return nil, errTemplate("no issuer key")
		}
		if err := issuer.CheckPrivateKey(issuerKey); err != nil {
			return nil, err
		}
	} else if signer == nil {
		signer = subjectKey
	}
	x, err := cbridge.NewX509()
	if err != nil {
		return nil, err
	}
	defer x.Free()
	if err := buildCertificate(x, tmpl, subjectKey, issuer); err != nil {
		return nil, err
	}
	if err := x.Sign(signer.k, tmpl.SignatureDigest); err != nil {
		return nil, err
	}
	// Hand out the certificate as a peer reads it: parsed from its DER.
	der, err := x.DER()
	if err != nil {
		return nil, err
	}
	parsed, _, err := cbridge.X509FromDER(der)
	if err != nil {
		return nil, err
	}
	return &Certificate{x: parsed}, nil
}

func buildCertificate(x *cbridge.X509, tmpl *CertificateTemplate, subjectKey *PrivateKey, issuer *Certificate) error {
	serial := tmpl.SerialNumber
	if serial == nil {
		var err error
		if serial, err = randomSerial(); err != nil {
			return err
		}
	}
	if err := x.SetSerial(serial.Bytes(), serial.Sign() < 0); err != nil {
		return err
	}
	notBefore, notAfter := tmpl.NotBefore, tmpl.NotAfter
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = notBefore.Add(365 * 24 * time.Hour)
	}
	if err := x.SetValidity(notBefore.Unix(), notAfter.Unix()); err != nil {
		return err
	}
	for _, e := range tmpl.Subject {
		if e.Type == "" || strings.ContainsRune(e.Type, 0) {
			return errTemplate("invalid name entry type " + e.Type)
		}
		if err := x.AddNameEntry(false, e.Type, []byte(e.Value)); err != nil {
			return err
		}
	}
	var issuerX *cbridge.X509
	if issuer != nil {
		issuerX = issuer.x
	}
	if err := x.CopyIssuerName(issuerX); err != nil {
		return err
	}
	if err := x.SetPublicKey(subjectKey.k); err != nil {
		return err
	}
	pathLen := -1
	if tmpl.PathLen != nil {
		if *tmpl.PathLen < 0 {
			return errTemplate("negative path length")
		}
		pathLen = *tmpl.PathLen
	}
	if err := x.AddBasicConstraints(tmpl.IsCA, pathLen); err != nil {
		return err
	}
	if !tmpl.NoKeyUsage {
		usage := tmpl.KeyUsage
		if usage == nil {
			usage = defaultKeyUsage(tmpl.IsCA, subjectKey.Type())
		}
		if err := checkUsageNames(usage); err != nil {
			return err
		}
		if err := x.AddKeyUsage("critical," + strings.Join(usage, ",")); err != nil {
			return err
		}
	}
	if tmpl.ExtKeyUsage != nil {
		if err := checkUsageNames(tmpl.ExtKeyUsage); err != nil {
			return err
		}
		if err := x.AddExtKeyUsage(strings.Join(tmpl.ExtKeyUsage, ",")); err != nil {
			return err
		}
	}
	if err := addAltNames(x, tmpl); err != nil {
		return err
	}
	if len(tmpl.OCSPServer)+len(tmpl.IssuingCertificateURL) > 0 {
		var ads []cbridge.AccessDescription
		for _, u := range tmpl.OCSPServer {
			ads = append(ads, cbridge.AccessDescription{OCSP: true, URI: []byte(u)})
		}
		for _, u := range tmpl.IssuingCertificateURL {
			ads = append(ads, cbridge.AccessDescription{URI: []byte(u)})
		}
		if err := x.AddAuthorityInfoAccess(ads); err != nil {
			return err
		}
	}
	if !tmpl.NoKeyIDs {
		if err := x.AddSubjectKeyID(tmpl.SubjectKeyID); err != nil {
			return err
		}
		if _, err := x.AddAuthorityKeyID(issuerX, tmpl.AuthorityKeyID); err != nil {
			return err
		}
	}
	return nil
}

func defaultKeyUsage(ca bool, keyType string) []string {
	if ca {
		return []string{"keyCertSign", "cRLSign", "digitalSignature"}
	}
	if keyType == KeyTypeRSA {
		return []string{"digitalSignature", "keyEncipherment"}
	}
	return []string{"digitalSignature"}
}

func checkUsageNames(names []string) error {
	if len(names) == 0 {
		return errTemplate("empty key usage list (use NoKeyUsage to leave the extension out)")
	}
	for _, n := range names {
		if !usageName.MatchString(n) {
			return errTemplate("invalid key usage name " + n)
		}
	}
	return nil
}

func addAltNames(x *cbridge.X509, tmpl *CertificateTemplate) error {
	var names []cbridge.GeneralName
	for _, d := range tmpl.DNSNames {
		names = append(names, cbridge.GeneralName{Type: cbridge.GenDNS, Value: []byte(d)})
	}
	for _, ip := range tmpl.IPAddresses {
		b := ip.To4()
		if b == nil {
			b = ip.To16()
		}
		if b == nil {
			return errTemplate("invalid IP address " + ip.String())
		}
		names = append(names, cbridge.GeneralName{Type: cbridge.GenIPAddress, Value: b})
	}
	for _, e := range tmpl.EmailAddresses {
		names = append(names, cbridge.GeneralName{Type: cbridge.GenEmail, Value: []byte(e)})
	}
	for _, u := range tmpl.URIs {
		names = append(names, cbridge.GeneralName{Type: cbridge.GenURI, Value: []byte(u)})
	}
	if len(names) == 0 {
		return nil
	}
	return x.AddSubjectAltNames(names)
}

// randomSerial is a random positive serial of at most 16 bytes.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, errTemplate("random serial: " + err.Error())
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// RevokedCertificate is one entry of a CRL.
type RevokedCertificate struct {
	Serial *big.Int
	Time   time.Time // revocation date; zero means the CRL's thisUpdate
}

// CreateCRL makes a version-2 CRL issued and signed by issuer (SHA-256, or no
// digest for Ed25519/Ed448 keys) listing revoked, and returns it as an
// "X509 CRL" PEM block.
func CreateCRL(issuer *Certificate, issuerKey *PrivateKey, revoked []RevokedCertificate, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	if issuer == nil || issuerKey == nil {
		return nil, cbridge.NewError("CreateCRL", "nodetls", "no issuer or issuer key")
	}
	if err := issuer.CheckPrivateKey(issuerKey); err != nil {
		return nil, err
	}
	crl, err := cbridge.NewX509CRL(issuer.x, thisUpdate.Unix(), nextUpdate.Unix())
	if err != nil {
		return nil, err
	}
	defer crl.Free()
	for _, r := range revoked {
		if r.Serial == nil {
			return nil, cbridge.NewError("CreateCRL", "nodetls", "revoked entry without a serial")
		}
		when := r.Time
		if when.IsZero() {
			when = thisUpdate
		}
		if err := crl.AddRevoked(r.Serial.Bytes(), r.Serial.Sign() < 0, when.Unix()); err != nil {
			return nil, err
		}
	}
	if err := crl.Sign(issuer.x, issuerKey.k, ""); err != nil {
		return nil, err
	}
	return crl.PEM()
}
