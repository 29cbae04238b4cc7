package tls_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func echoServer(t *testing.T, opts tls.ServerOptions) *tls.Server {
	t.Helper()
	srv, err := tls.CreateServer(opts, func(s *tls.Socket) {
		defer s.Close()
		s.Write([]byte("welcome!\n"))
		io.Copy(s, s)
	})
	require.NoError(t, err)
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { srv.Close() })
	return srv
}

func TestConnectEcho(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{})
	leaf := ca.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	srv := echoServer(t, tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM}})
	port := srv.Address().(interface{ String() string })
	_ = port
	addr := srv.Address().String()
	_, p, _ := splitHostPort(addr)

	s, err := tls.Connect(tls.ConnectOptions{Port: p, SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM}})
	require.NoError(t, err)
	defer s.Close()
	assert.True(t, s.Authorized())
	assert.Nil(t, s.AuthorizationError())
	assert.Equal(t, "TLSv1.3", s.GetProtocol())
	assert.Equal(t, "localhost", s.Servername())
	assert.Equal(t, tls.Cipher{Name: "TLS_AES_256_GCM_SHA384", StandardName: "TLS_AES_256_GCM_SHA384", Version: "TLSv1.3"}, s.GetCipher())
	r := bufio.NewReader(s)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "welcome!\n", line)
	s.Write([]byte("ping\n"))
	line, err = r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "ping\n", line)
	pc := s.GetPeerCertificate(true)
	require.NotNil(t, pc)
	assert.Equal(t, "localhost", pc.Subject.Get("CN"))
	require.NotNil(t, pc.IssuerCertificate)
	assert.Same(t, pc.IssuerCertificate, pc.IssuerCertificate.IssuerCertificate)

	// Self-signed trust failure, and reject=false.
	_, err = tls.Connect(tls.ConnectOptions{Port: p})
	var te *tls.Error
	require.True(t, errors.As(err, &te), "%v", err)
	assert.Equal(t, "UNABLE_TO_VERIFY_LEAF_SIGNATURE", te.Code)
	assert.Equal(t, "unable to verify the first certificate", te.Message)

	s2, err := tls.Connect(tls.ConnectOptions{Port: p, RejectUnauthorized: tls.Bool(false)})
	require.NoError(t, err)
	assert.False(t, s2.Authorized())
	require.Error(t, s2.AuthorizationError())
	s2.Close()

	// Wrong host.
	_, err = tls.Connect(tls.ConnectOptions{Port: p, Servername: "evil.com", SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM}})
	require.True(t, errors.As(err, &te), "%v", err)
	assert.Equal(t, "ERR_TLS_CERT_ALTNAME_INVALID", te.Code)
	assert.Equal(t, "Hostname/IP does not match certificate's altnames: Host: evil.com. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1", te.Message)
	// err.cert is the whole detailed object, as Node's checkServerIdentity gets it.
	require.NotNil(t, te.Cert)
	assert.Equal(t, []string{"localhost"}, te.Cert.Subject["CN"])
	assert.NotEmpty(t, te.Cert.Fingerprint256)
	assert.NotEmpty(t, te.Cert.Raw)
	require.NotNil(t, te.Cert.IssuerCertificate, "the detailed chain")
	assert.Equal(t, te.Cert.Issuer, te.Cert.IssuerCertificate.Subject)
	_ = time.Second
}

// An empty ALPN protocol is refused by Connect before it dials (Node 20
// aborts the process on it); a server list may hold one, as in Node.
func TestConnectEmptyALPNProtocol(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, protos := range [][]string{{""}, {"h2", ""}} {
		_, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: port, ALPNProtocols: protos})
		var te *tls.Error
		require.ErrorAs(t, err, &te, "%q", protos)
		assert.Equal(t, "ERR_OUT_OF_RANGE", te.Code)
		assert.Contains(t, te.Message, fmt.Sprintf("protocol at index %d is 0", len(protos)-1))
	}
	select {
	case <-accepted:
		t.Fatal("Connect dialed with an invalid ALPNProtocols")
	case <-time.After(100 * time.Millisecond):
	}

	leaf := testpki.NewCA(t, testpki.Options{}).Leaf(t, testpki.Options{}, "localhost")
	srv := echoServer(t, tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{
		Key: leaf.KeyPEM, Cert: leaf.ChainPEM}, ALPNProtocols: []string{"", "h2"}})
	f := false
	s, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: srv.Address().(*net.TCPAddr).Port, ALPNProtocols: []string{"h2"}, RejectUnauthorized: &f})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, "h2", s.ALPNProtocol())
}

// Once a socket is destroyed (or closed), the getters that Node answers with
// null there return zero values; authorized, authorizationError, servername
// and alpnProtocol, properties in Node, keep their values.
func TestGettersAfterDestroy(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{})
	leaf := ca.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	srv := echoServer(t, tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM},
		ALPNProtocols: []string{"h2"}})
	_, p, _ := splitHostPort(srv.Address().String())
	for _, end := range []string{"Destroy", "Close"} {
		t.Run(end, func(t *testing.T) {
			s, err := tls.Connect(tls.ConnectOptions{Port: p, ALPNProtocols: []string{"h2"}, SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM}})
			require.NoError(t, err)
			line, err := bufio.NewReader(s).ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "welcome!\n", line)
			require.False(t, s.Destroyed())
			require.Equal(t, "TLSv1.3", s.GetProtocol())
			require.NotNil(t, s.GetPeerCertificate(false))
			require.NotNil(t, s.GetSession())
			if end == "Destroy" {
				s.Destroy()
			} else {
				require.NoError(t, s.Close())
			}
			assert.True(t, s.Destroyed())
			assert.Equal(t, "", s.GetProtocol())
			assert.Equal(t, tls.Cipher{}, s.GetCipher())
			assert.Nil(t, s.GetPeerCertificate(false))
			assert.Nil(t, s.GetPeerCertificate(true))
			assert.Nil(t, s.GetPeerX509Certificate())
			assert.Nil(t, s.GetCertificate())
			assert.Nil(t, s.GetX509Certificate())
			assert.Nil(t, s.GetSession())
			assert.Nil(t, s.GetTLSTicket())
			assert.False(t, s.IsSessionReused())
			assert.Nil(t, s.GetFinished())
			assert.Nil(t, s.GetPeerFinished())
			assert.Equal(t, tls.EphemeralKeyInfo{}, s.GetEphemeralKeyInfo())
			assert.Nil(t, s.GetSharedSigalgs())
			assert.True(t, s.Authorized())
			assert.Equal(t, "localhost", s.Servername())
			assert.Equal(t, "h2", s.ALPNProtocol())
		})
	}
}
