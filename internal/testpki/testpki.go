// Package testpki makes the certificates tests need at run time: a root CA,
// intermediates, and leaf certificates (RSA-2048, ECDSA P-256 or Ed25519;
// valid, expired, not yet valid, self-signed, client-auth), with nodetls's
// own openssl package. Nothing here is committed to disk; every object is
// freed by t.Cleanup.
//
//	ca := testpki.NewCA(t, testpki.Options{})
//	srv := ca.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
//	// srv.KeyPEM, srv.ChainPEM for the server; ca.CertPEM for the client's trust store.
//
// A "wrong host" certificate is just a leaf for another name:
// ca.Leaf(t, testpki.Options{}, "other.example").
package testpki

import (
	"bytes"
	"crypto/rand"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodetls/nodetls/openssl"
)

// KeyType selects the key of a CA or leaf.
type KeyType int

const (
	RSA2048   KeyType = iota // RSA, 2048 bits (the default)
	ECDSAP256                // ECDSA on P-256
	Ed25519                  // Ed25519
)

// Options tune a CA or leaf; the zero value is a valid RSA-2048 certificate
// from an hour ago for a year.
type Options struct {
	Key KeyType
	// CommonName defaults to "nodetls test CA", "nodetls intermediate CA", or
	// the leaf's first host ("localhost" when there is none).
	CommonName string
	// Subject replaces the default subject (just the CN) when set.
	Subject openssl.Name
	// Expired makes the validity end an hour ago; NotYetValid makes it start
	// in a day. An explicit NotBefore/NotAfter wins over both.
	Expired, NotYetValid bool
	NotBefore, NotAfter  time.Time
	// ClientAuth gives a leaf the extended key usage clientAuth only (the
	// default is serverAuth and clientAuth). ExtKeyUsage replaces either.
	ClientAuth  bool
	ExtKeyUsage []string
	// KeyUsage replaces the default key usage (OpenSSL names).
	// NoKeyCertSign gives a CA the key usage digitalSignature and cRLSign only,
	// so that verifying what it signed fails ("key usage does not include
	// certificate signing").
	KeyUsage      []string
	NoKeyCertSign bool
	// PathLen limits the CAs below a CA.
	PathLen *int
	// Digest is the signature digest ("SHA1" for weak-digest tests); "" is
	// SHA-256 (none for Ed25519).
	Digest string
	// OCSPServer and IssuingCertificateURL fill authorityInfoAccess.
	OCSPServer, IssuingCertificateURL []string
}

// CA is a certificate authority that can issue intermediates and leaves.
type CA struct {
	Cert    *openssl.Certificate
	Key     *openssl.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
	// ChainPEM are the intermediates from this CA up to the root, this CA
	// first, the root left out (empty for a root).
	ChainPEM []byte
	// Root is the root CA of this CA's chain (the CA itself for a root).
	Root *CA
}

// Leaf is an end-entity certificate and its key.
type Leaf struct {
	Cert    *openssl.Certificate
	Key     *openssl.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
	// ChainPEM is the leaf followed by its intermediates: what a server sends
	// (Node's cert option).
	ChainPEM []byte
	// CAPEM is the root certificate a peer trusts (Node's ca option); for a
	// self-signed leaf, the leaf itself.
	CAPEM []byte
	// Serial is the certificate's serial number.
	Serial *big.Int
}

// NewCA makes a self-signed root CA.
func NewCA(t testing.TB, opts Options) *CA {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "nodetls test CA"
	}
	ca := issueCA(t, opts, nil)
	ca.Root = ca
	return ca
}

// Intermediate makes a CA signed by ca.
func (ca *CA) Intermediate(t testing.TB, opts Options) *CA {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "nodetls intermediate CA"
	}
	sub := issueCA(t, opts, ca)
	sub.ChainPEM = join(sub.CertPEM, ca.ChainPEM)
	sub.Root = ca.Root
	return sub
}

func issueCA(t testing.TB, opts Options, parent *CA) *CA {
	t.Helper()
	tmpl := template(opts)
	tmpl.IsCA = true
	tmpl.PathLen = opts.PathLen
	if opts.NoKeyCertSign {
		tmpl.KeyUsage = []string{"digitalSignature", "cRLSign"}
	}
	key := newKey(t, opts.Key)
	var cert *openssl.Certificate
	var err error
	if parent == nil {
		cert, err = openssl.CreateCertificate(tmpl, key, nil, nil)
	} else {
		cert, err = openssl.CreateCertificate(tmpl, key, parent.Cert, parent.Key)
	}
	if err != nil {
		t.Fatalf("testpki: create CA %q: %v", opts.CommonName, err)
	}
	t.Cleanup(cert.Free)
	return &CA{Cert: cert, Key: key, CertPEM: certPEM(t, cert), KeyPEM: keyPEM(t, key)}
}

// Leaf makes a certificate for hosts (DNS names or IP addresses, all in the
// subjectAltName) signed by ca.
func (ca *CA) Leaf(t testing.TB, opts Options, hosts ...string) *Leaf {
	t.Helper()
	l := issueLeaf(t, opts, hosts, ca)
	l.ChainPEM = join(l.CertPEM, ca.ChainPEM)
	l.CAPEM = ca.Root.CertPEM
	return l
}

// SelfSigned makes a self-signed leaf certificate for hosts (not a CA).
func SelfSigned(t testing.TB, opts Options, hosts ...string) *Leaf {
	t.Helper()
	l := issueLeaf(t, opts, hosts, nil)
	l.ChainPEM = l.CertPEM
	l.CAPEM = l.CertPEM
	return l
}

func issueLeaf(t testing.TB, opts Options, hosts []string, ca *CA) *Leaf {
	t.Helper()
	if opts.CommonName == "" {
		opts.CommonName = "localhost"
		if len(hosts) > 0 {
			opts.CommonName = hosts[0]
		}
	}
	tmpl := template(opts)
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	switch {
	case opts.ExtKeyUsage != nil:
		tmpl.ExtKeyUsage = opts.ExtKeyUsage
	case opts.ClientAuth:
		tmpl.ExtKeyUsage = []string{"clientAuth"}
	default:
		tmpl.ExtKeyUsage = []string{"serverAuth", "clientAuth"}
	}
	key := newKey(t, opts.Key)
	var cert *openssl.Certificate
	var err error
	if ca == nil {
		cert, err = openssl.CreateCertificate(tmpl, key, nil, nil)
	} else {
		cert, err = openssl.CreateCertificate(tmpl, key, ca.Cert, ca.Key)
	}
	if err != nil {
		t.Fatalf("testpki: create leaf %q: %v", opts.CommonName, err)
	}
	t.Cleanup(cert.Free)
	return &Leaf{Cert: cert, Key: key, CertPEM: certPEM(t, cert), KeyPEM: keyPEM(t, key), Serial: tmpl.SerialNumber}
}

// template turns options into a certificate template with a fresh serial.
func template(opts Options) *openssl.CertificateTemplate {
	now := time.Now()
	tmpl := &openssl.CertificateTemplate{
		Subject:               opts.Subject,
		SerialNumber:          randomSerial(),
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              opts.KeyUsage,
		SignatureDigest:       opts.Digest,
		OCSPServer:            opts.OCSPServer,
		IssuingCertificateURL: opts.IssuingCertificateURL,
	}
	if tmpl.Subject == nil {
		tmpl.Subject = openssl.Name{{Type: "CN", Value: opts.CommonName}}
	}
	switch {
	case opts.Expired:
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-48*time.Hour), now.Add(-time.Hour)
	case opts.NotYetValid:
		tmpl.NotBefore, tmpl.NotAfter = now.Add(24*time.Hour), now.Add(48*time.Hour)
	}
	if !opts.NotBefore.IsZero() {
		tmpl.NotBefore = opts.NotBefore
	}
	if !opts.NotAfter.IsZero() {
		tmpl.NotAfter = opts.NotAfter
	}
	return tmpl
}

// randomSerial is a random positive serial number of up to 16 bytes.
func randomSerial() *big.Int {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	b[0] = b[0]&0x7f | 0x01
	return new(big.Int).SetBytes(b[:])
}

func newKey(t testing.TB, kt KeyType) *openssl.PrivateKey {
	t.Helper()
	var k *openssl.PrivateKey
	var err error
	switch kt {
	case RSA2048:
		k, err = openssl.GenerateRSAKey(2048)
	case ECDSAP256:
		k, err = openssl.GenerateECKey("P-256")
	case Ed25519:
		k, err = openssl.GenerateEd25519Key()
	default:
		t.Fatalf("testpki: unknown key type %d", kt)
	}
	if err != nil {
		t.Fatalf("testpki: generate key: %v", err)
	}
	t.Cleanup(k.Free)
	return k
}

func certPEM(t testing.TB, c *openssl.Certificate) []byte {
	t.Helper()
	b, err := c.PEM()
	if err != nil {
		t.Fatalf("testpki: certificate PEM: %v", err)
	}
	return b
}

func keyPEM(t testing.TB, k *openssl.PrivateKey) []byte {
	t.Helper()
	b, err := k.MarshalPKCS8PEM()
	if err != nil {
		t.Fatalf("testpki: key PEM: %v", err)
	}
	return b
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// WriteFiles writes the leaf's key, chain and CA certificate as PEM files in
// a fresh t.TempDir() and returns their paths, for peers run as commands
// (openssl s_server -key KEY -cert CHAIN, node, gnutls-serv, curl --cacert CA).
func (l *Leaf) WriteFiles(t testing.TB) (keyFile, chainFile, caFile string) {
	t.Helper()
	dir := t.TempDir()
	keyFile, chainFile, caFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "chain.pem"), filepath.Join(dir, "ca.pem")
	for path, data := range map[string][]byte{keyFile: l.KeyPEM, chainFile: l.ChainPEM, caFile: l.CAPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatalf("testpki: %v", err)
		}
	}
	return keyFile, chainFile, caFile
}
