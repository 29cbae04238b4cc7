package main

import (
	"net"

	"github.com/nodetls/nodetls/tls"
)

// nodetlsAPIConn adapts the public tls.Socket to tlsConn.
type nodetlsAPIConn struct{ *tls.Socket }

func (c nodetlsAPIConn) Negotiated() (string, string) {
	return c.GetCipher().Name, c.GetProtocol()
}

// nodetlsAPISetup runs both ends through nodetls's public API (tls.Socket,
// the server end made as tls.Server makes its sockets): what a program that
// uses package tls gets, on top of the engine that the nodetls contender
// drives directly.
func nodetlsAPISetup(p *pki, w workload) (client, server func(net.Conn) (tlsConn, error), done func(), err error) {
	v := "TLSv1.3"
	if w.version == "1.2" {
		v = "TLSv1.2"
	}
	sc, err := tls.CreateSecureContext(tls.SecureContextOptions{Key: p.keyPEM, Cert: p.certPEM,
		MinVersion: v, MaxVersion: v, Ciphers: w.cipher})
	if err != nil {
		return nil, nil, nil, err
	}
	cc, err := tls.CreateSecureContext(tls.SecureContextOptions{CA: p.caPEM, MinVersion: v, MaxVersion: v, Ciphers: w.cipher})
	if err != nil {
		sc.Close()
		return nil, nil, nil, err
	}
	client = func(raw net.Conn) (tlsConn, error) {
		s, err := tls.NewTLSSocket(raw, tls.TLSSocketOptions{SecureContext: cc, Servername: "localhost",
			RejectUnauthorized: tls.Bool(true)})
		if err != nil {
			return nil, err
		}
		return nodetlsAPIConn{s}, nil
	}
	server = func(raw net.Conn) (tlsConn, error) {
		s, err := tls.NewTLSSocket(raw, tls.TLSSocketOptions{SecureContext: sc, IsServer: true})
		if err != nil {
			return nil, err
		}
		return nodetlsAPIConn{s}, nil
	}
	return client, server, func() { sc.Close(); cc.Close() }, nil
}
