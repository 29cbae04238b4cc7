// Package excert gives the examples their certificates: read from the files
// the user names, or made at start (nothing is committed to the repository).
// It uses nodetls's own openssl package; any PEM key and certificate will do.
package excert

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nodetls/nodetls/openssl"
)

// Pair is a private key and its certificate chain, PEM encoded, as Node's key
// and cert options take them.
type Pair struct {
	KeyPEM, CertPEM []byte
}

// Load reads a key and a certificate file. Both or neither must be named;
// with neither, ok is false and the caller makes its own.
func Load(keyFile, certFile string) (p Pair, ok bool, err error) {
	if keyFile == "" && certFile == "" {
		return Pair{}, false, nil
	}
	if keyFile == "" || certFile == "" {
		return Pair{}, false, errors.New("-key and -cert go together")
	}
	if p.KeyPEM, err = os.ReadFile(keyFile); err != nil {
		return Pair{}, false, err
	}
	if p.CertPEM, err = os.ReadFile(certFile); err != nil {
		return Pair{}, false, err
	}
	return p, true, nil
}

// ReadOptional reads a file, or returns nil when name is "".
func ReadOptional(name string) ([]byte, error) {
	if name == "" {
		return nil, nil
	}
	return os.ReadFile(name)
}

// CA is a certificate authority made at start.
type CA struct {
	key  *openssl.PrivateKey
	cert *openssl.Certificate
	// CertPEM is the CA certificate: what peers trust (Node's ca option).
	CertPEM []byte
}

// NewCA makes a self-signed ECDSA P-256 CA valid for a day.
func NewCA(commonName string) (*CA, error) {
	key, err := openssl.GenerateECKey("P-256")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	cert, err := openssl.CreateCertificate(&openssl.CertificateTemplate{
		Subject:   openssl.Name{{Type: "CN", Value: commonName}},
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(24 * time.Hour),
		IsCA:      true,
	}, key, nil, key)
	if err != nil {
		key.Free()
		return nil, err
	}
	certPEM, err := cert.PEM()
	if err != nil {
		cert.Free()
		key.Free()
		return nil, err
	}
	return &CA{key: key, cert: cert, CertPEM: certPEM}, nil
}

// Free releases the CA's key and certificate.
func (ca *CA) Free() {
	ca.cert.Free()
	ca.key.Free()
}

// Issue makes a leaf for commonName. hosts ("localhost", "127.0.0.1",
// "*.example.com") become subjectAltName entries; client makes it a client
// certificate (extended key usage clientAuth) instead of a server one.
func (ca *CA) Issue(commonName string, hosts []string, client bool) (Pair, error) {
	return issue(commonName, hosts, client, ca.cert, ca.key)
}

// SelfSigned makes a self-signed ECDSA P-256 server certificate for hosts
// (the first is the common name), valid for a day.
func SelfSigned(hosts ...string) (Pair, error) {
	if len(hosts) == 0 {
		return Pair{}, errors.New("excert: no host name")
	}
	return issue(hosts[0], hosts, false, nil, nil)
}

func issue(commonName string, hosts []string, client bool, issuer *openssl.Certificate, issuerKey *openssl.PrivateKey) (Pair, error) {
	key, err := openssl.GenerateECKey("P-256")
	if err != nil {
		return Pair{}, err
	}
	defer key.Free()
	if issuerKey == nil {
		issuerKey = key
	}
	tmpl := &openssl.CertificateTemplate{
		Subject:     openssl.Name{{Type: "CN", Value: commonName}},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []string{"serverAuth"},
	}
	if client {
		tmpl.ExtKeyUsage = []string{"clientAuth"}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	cert, err := openssl.CreateCertificate(tmpl, key, issuer, issuerKey)
	if err != nil {
		return Pair{}, err
	}
	defer cert.Free()
	var p Pair
	if p.KeyPEM, err = key.MarshalPKCS8PEM(); err != nil {
		return Pair{}, err
	}
	if p.CertPEM, err = cert.PEM(); err != nil {
		return Pair{}, err
	}
	return p, nil
}

// WriteFiles writes files (name to content) into dir with mode 0600 and
// returns their paths by name. An empty dir makes a new temporary one.
func WriteFiles(dir string, files map[string][]byte) (string, map[string]string, error) {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "nodetls-example-"); err != nil {
			return "", nil, err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	paths := map[string]string{}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return "", nil, fmt.Errorf("write %s: %w", p, err)
		}
		paths[name] = p
	}
	return dir, paths, nil
}
