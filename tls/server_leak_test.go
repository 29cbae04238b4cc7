package tls_test

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/opsrun"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerPathsDoNotLeak runs the server paths that end a connection early
// or hand sessions around (a refused client certificate, a failing
// SNICallback, an SNI context without certificate, resumeSession data that
// OpenSSL never asks for, invalid session data) many times and checks that
// the live SSL, SSL_SESSION and X509 counts come back without the garbage
// collector's help (everything is freed explicitly).
func TestServerPathsDoNotLeak(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	client := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "client"})
	stranger := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256, ClientAuth: true, CommonName: "stranger"})
	empty, err := tls.CreateSecureContext(tls.SecureContextOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { empty.Close() })

	srv, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM, CA: ca.CertPEM},
		RequestCert:          true,
		SNICallback: func(name string) (*tls.SecureContext, error) {
			switch name {
			case "fail.example":
				return nil, errors.New("no such name")
			case "empty.example":
				return empty, nil
			}
			return nil, nil
		},
	}, func(s *tls.Socket) {
		buf := make([]byte, 64)
		for {
			if _, err := s.Read(buf); err != nil {
				break
			}
		}
		s.Close()
	})
	require.NoError(t, err)
	var mu sync.Mutex
	sessions := map[string][]byte{}
	srv.OnNewSession(func(id, data []byte) {
		mu.Lock()
		sessions[string(id)] = data
		mu.Unlock()
	})
	srv.OnResumeSession(func(id []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range sessions {
			return d // any session: TLS 1.3 never asks for it, TLS 1.2 resumes or not
		}
		return []byte("INVALID SESSION")
	})
	srv.OnTLSClientError(func(err error, s *tls.Socket) {
		if s != nil {
			s.Destroy()
		}
	})
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { srv.Close() })
	_, port, err := splitHostPort(srv.Address().String())
	require.NoError(t, err)

	connect := func(servername, maxVersion string, cert *testpki.Leaf) {
		opts := tls.ConnectOptions{Host: "127.0.0.1", Port: port, Servername: servername,
			SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM, MaxVersion: maxVersion},
			RejectUnauthorized:   tls.Bool(false), Timeout: 10 * time.Second}
		if cert != nil {
			opts.Key, opts.Cert = cert.KeyPEM, cert.ChainPEM
		}
		s, err := tls.Connect(opts)
		if err != nil {
			return
		}
		buf := make([]byte, 64)
		_, _ = s.Write([]byte("x"))
		_ = s.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = s.Read(buf)
		s.Close()
	}
	round := func() {
		connect("localhost", "", client)
		connect("localhost", "TLSv1.2", client)
		connect("localhost", "", stranger)
		connect("localhost", "TLSv1.2", nil)
		connect("fail.example", "", client)
		connect("empty.example", "", client)
	}
	round() // warm up: contexts, caches and the first sessions
	// Let earlier tests' objects go first; from here on the garbage
	// collector could only lower the counts.
	for range 5 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	before := opsrun.SettledObjects()
	for range 3 {
		round()
	}
	time.Sleep(300 * time.Millisecond) // let the server's goroutines end their sockets
	after := opsrun.SettledObjects()
	assert.LessOrEqual(t, after.SSL, before.SSL, "SSL objects")
	assert.LessOrEqual(t, after.Session, before.Session, "SSL_SESSION objects")
	assert.LessOrEqual(t, after.X509, before.X509, "X509 objects")
	t.Logf("live before %+v after %+v", before, after)
}
