package tls_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/opsrun"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/require"
)

// socketOps are the operations TestSocketRandomOperations runs on either
// end, each bounded by deadlines or a context: the common ones (opsrun.ConnOps:
// write, read, handshake) and the Socket's own.
var socketOps = append(opsrun.ConnOps[*tls.Socket](), []opsrun.Op[*tls.Socket]{
	{Name: "renegotiate", Run: func(s *tls.Socket, r *rand.Rand) error {
		_ = s.SetDeadline(time.Now().Add(time.Duration(r.IntN(200)) * time.Millisecond))
		return s.Renegotiate(tls.RenegotiateOptions{RequestCert: r.IntN(2) == 0, RejectUnauthorized: tls.Bool(false)})
	}},
	{Name: "end", Run: func(s *tls.Socket, _ *rand.Rand) error { return s.End() }},
	{Name: "close", Run: func(s *tls.Socket, _ *rand.Rand) error { return s.Close() }},
	{Name: "destroy", Run: func(s *tls.Socket, _ *rand.Rand) error { s.Destroy(); return nil }},
	{Name: "fragment", Run: func(s *tls.Socket, r *rand.Rand) error { return s.SetMaxSendFragment(r.IntN(20000)) }},
	{Name: "ekm", Run: func(s *tls.Socket, r *rand.Rand) error {
		_, err := s.ExportKeyingMaterial(r.IntN(100), "label", nil)
		return err
	}},
	{Name: "info", Run: func(s *tls.Socket, _ *rand.Rand) error {
		_ = s.GetSession()
		_ = s.GetPeerCertificate(true)
		_ = s.GetCipher()
		_ = s.GetProtocol()
		_ = s.GetFinished()
		_ = s.GetSharedSigalgs()
		_ = s.GetEphemeralKeyInfo()
		_ = s.Authorized()
		return s.AuthorizationError()
	}},
	{Name: "disable renegotiation", Run: func(s *tls.Socket, _ *rand.Rand) error { s.DisableRenegotiation(); return nil }},
}...)

// TestSocketRandomOperations runs random sequences of Socket operations
// (writes, reads, handshakes, renegotiations, end, close, destroy, ...) on
// both ends of TLS 1.2 and 1.3 connections over TCP and net.Pipe, two
// goroutines per end, under -race: no operation may panic or hang, and
// afterwards every goroutine has ended and every OpenSSL object is freed
// (opsrun).
func TestSocketRandomOperations(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	seeds := uint64(100)
	if testing.Short() {
		seeds = 20
	}
	opsrun.Run(t, opsrun.Config[*tls.Socket]{
		Ops: socketOps, Data: 2, Final: map[string]bool{"end": true, "close": true, "destroy": true},
		Seeds: seeds, Steps: 12,
		Abort: func(s *tls.Socket) { s.Destroy() },
		Pair: func(t *testing.T, seed uint64) (srv, cli *tls.Socket, desc string) {
			version := "TLSv1.3"
			if seed%2 == 1 {
				version = "TLSv1.2"
			}
			pipe := seed%4 >= 2 // net.Pipe: read through its Read; TCP: read inside Go's poller
			var sraw, craw net.Conn
			if pipe {
				sraw, craw = net.Pipe()
			} else {
				accepted := make(chan net.Conn, 1)
				go func() {
					c, _ := ln.Accept()
					accepted <- c
				}()
				var err error
				craw, err = net.Dial("tcp", ln.Addr().String())
				require.NoError(t, err)
				sraw = <-accepted
				require.NotNil(t, sraw)
			}
			sc := tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM, CA: ca.CertPEM, MaxVersion: version}
			srv, err := tls.NewTLSSocket(sraw, tls.TLSSocketOptions{IsServer: true, SecureContextOptions: sc})
			require.NoError(t, err)
			cli, err = tls.NewTLSSocket(craw, tls.TLSSocketOptions{Servername: "localhost",
				SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM, MaxVersion: version}})
			require.NoError(t, err)
			return srv, cli, fmt.Sprintf("%s, pipe %v", version, pipe)
		},
	})
}
