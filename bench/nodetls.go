package main

import (
	"context"
	"net"

	"github.com/nodetls/nodetls/openssl"
)

// nodetlsConn adapts openssl.Conn to tlsConn.
type nodetlsConn struct{ *openssl.Conn }

func (c nodetlsConn) Handshake(ctx context.Context) error { return c.Conn.Handshake(ctx) }

func (c nodetlsConn) Negotiated() (string, string) {
	ci, _ := c.Cipher()
	return ci.Name, c.Version()
}

// opaqueConn hides the transport's type, as a wrapped net.Conn does: then
// openssl.Conn reads it through its Read into a buffer it keeps, instead of
// reading the socket inside Go's poller with pooled buffers.
type opaqueConn struct{ net.Conn }

// nodetlsWrappedSetup is nodetlsSetup over a wrapped connection, for comparison.
func nodetlsWrappedSetup(p *pki, w workload) (client, server func(net.Conn) (tlsConn, error), done func(), err error) {
	cl, sv, done, err := nodetlsSetup(p, w)
	if err != nil {
		return nil, nil, nil, err
	}
	return func(raw net.Conn) (tlsConn, error) { return cl(opaqueConn{raw}) },
		func(raw net.Conn) (tlsConn, error) { return sv(opaqueConn{raw}) }, done, nil
}

func nodetlsSetup(p *pki, w workload) (client, server func(net.Conn) (tlsConn, error), done func(), err error) {
	v := openssl.TLS1_3
	if w.version == "1.2" {
		v = openssl.TLS1_2
	}
	opts := openssl.ContextOptions{MinVersion: v, MaxVersion: v}
	if v == openssl.TLS1_3 {
		opts.Ciphersuites = &w.cipher
	} else {
		opts.CipherList = &w.cipher
	}
	sopts := opts
	sopts.KeyPairs = []openssl.KeyPair{{CertPEM: p.certPEM, KeyPEM: p.keyPEM}}
	sctx, err := openssl.NewContext(sopts)
	if err != nil {
		return nil, nil, nil, err
	}
	copts := opts
	copts.CA = p.caPEM
	cctx, err := openssl.NewContext(copts)
	if err != nil {
		sctx.Close()
		return nil, nil, nil, err
	}
	client = func(raw net.Conn) (tlsConn, error) {
		c, err := openssl.Client(raw, cctx, openssl.ConnConfig{ServerName: "localhost"})
		if err != nil {
			return nil, err
		}
		return nodetlsConn{c}, nil
	}
	server = func(raw net.Conn) (tlsConn, error) {
		c, err := openssl.Server(raw, sctx, openssl.ConnConfig{})
		if err != nil {
			return nil, err
		}
		return nodetlsConn{c}, nil
	}
	return client, server, func() { sctx.Close(); cctx.Close() }, nil
}
