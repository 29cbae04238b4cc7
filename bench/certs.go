package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/nodetls/nodetls/openssl"
)

// pki is the ECDSA P-256 CA and localhost leaf every contender uses, made at
// run time and written to dir for the external contenders.
type pki struct {
	caPEM, certPEM, keyPEM    []byte
	caFile, certFile, keyFile string
}

func makePKI(dir string) (*pki, error) {
	caKey, err := openssl.GenerateECKey("P-256")
	if err != nil {
		return nil, err
	}
	defer caKey.Free()
	ca, err := openssl.CreateCertificate(&openssl.CertificateTemplate{
		Subject: openssl.Name{{Type: "CN", Value: "nodetls bench CA"}}, IsCA: true,
	}, caKey, nil, nil)
	if err != nil {
		return nil, err
	}
	defer ca.Free()
	key, err := openssl.GenerateECKey("P-256")
	if err != nil {
		return nil, err
	}
	defer key.Free()
	leaf, err := openssl.CreateCertificate(&openssl.CertificateTemplate{
		Subject:     openssl.Name{{Type: "CN", Value: "localhost"}},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []string{"serverAuth"},
	}, key, ca, caKey)
	if err != nil {
		return nil, err
	}
	defer leaf.Free()
	p := &pki{}
	if p.caPEM, err = ca.PEM(); err != nil {
		return nil, err
	}
	if p.certPEM, err = leaf.PEM(); err != nil {
		return nil, err
	}
	if p.keyPEM, err = key.MarshalPKCS8PEM(); err != nil {
		return nil, err
	}
	p.caFile = filepath.Join(dir, "ca.pem")
	p.certFile = filepath.Join(dir, "cert.pem")
	p.keyFile = filepath.Join(dir, "key.pem")
	for f, b := range map[string][]byte{p.caFile: p.caPEM, p.certFile: p.certPEM, p.keyFile: p.keyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", f, err)
		}
	}
	return p, nil
}
