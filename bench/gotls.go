package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// gotlsConn adapts crypto/tls.Conn to tlsConn.
type gotlsConn struct{ *tls.Conn }

func (c gotlsConn) Handshake(ctx context.Context) error { return c.HandshakeContext(ctx) }

func (c gotlsConn) Negotiated() (string, string) {
	st := c.ConnectionState()
	return tls.CipherSuiteName(st.CipherSuite), tls.VersionName(st.Version)
}

func gotlsSetup(p *pki, w workload) (client, server func(net.Conn) (tlsConn, error), done func(), err error) {
	cert, err := tls.X509KeyPair(p.certPEM, p.keyPEM)
	if err != nil {
		return nil, nil, nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(p.caPEM) {
		return nil, nil, nil, errors.New("crypto/tls: bad CA PEM")
	}
	v := uint16(tls.VersionTLS13)
	if w.version == "1.2" {
		v = tls.VersionTLS12
	}
	// TLS 1.3 suites are not configurable in crypto/tls; with AES hardware it
	// prefers TLS_AES_128_GCM_SHA256, which the run checks.
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: v, MaxVersion: v,
		CipherSuites: []uint16{w.goSuite}}
	ccfg := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: v, MaxVersion: v,
		CipherSuites: []uint16{w.goSuite}}
	client = func(raw net.Conn) (tlsConn, error) { return gotlsConn{tls.Client(raw, ccfg)}, nil }
	server = func(raw net.Conn) (tlsConn, error) { return gotlsConn{tls.Server(raw, scfg)}, nil }
	return client, server, func() {}, nil
}
