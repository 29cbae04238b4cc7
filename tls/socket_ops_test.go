package tls_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// socketOps are the operations TestSocketRandomOperations runs on either
// end; each is bounded by deadlines or a context, so any op that does not
// return within opLimit has hung.
var socketOps = []struct {
	name string
	run  func(s *tls.Socket, r *rand.Rand) error
}{
	// A Write may run the handshake, which reads (bounded by the read
	// deadline, as in crypto/tls), so writes set both deadlines.
	{"write", func(s *tls.Socket, r *rand.Rand) error {
		_ = s.SetDeadline(time.Now().Add(time.Duration(r.IntN(100)) * time.Millisecond))
		_, err := s.Write(make([]byte, r.IntN(70000)))
		return err
	}},
	// A Read may answer the peer (a renegotiation, a key update), which
	// writes, so reads set both deadlines too.
	{"read", func(s *tls.Socket, r *rand.Rand) error {
		_ = s.SetDeadline(time.Now().Add(time.Duration(r.IntN(100)) * time.Millisecond))
		_, err := s.Read(make([]byte, 1+r.IntN(40000)))
		return err
	}},
	{"handshake", func(s *tls.Socket, r *rand.Rand) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(200))*time.Millisecond)
		defer cancel()
		return s.Handshake(ctx)
	}},
	{"renegotiate", func(s *tls.Socket, r *rand.Rand) error {
		_ = s.SetDeadline(time.Now().Add(time.Duration(r.IntN(200)) * time.Millisecond))
		return s.Renegotiate(tls.RenegotiateOptions{RequestCert: r.IntN(2) == 0, RejectUnauthorized: tls.Bool(false)})
	}},
	{"end", func(s *tls.Socket, _ *rand.Rand) error { return s.End() }},
	{"close", func(s *tls.Socket, _ *rand.Rand) error { return s.Close() }},
	{"destroy", func(s *tls.Socket, _ *rand.Rand) error { s.Destroy(); return nil }},
	{"fragment", func(s *tls.Socket, r *rand.Rand) error { return s.SetMaxSendFragment(r.IntN(20000)) }},
	{"ekm", func(s *tls.Socket, r *rand.Rand) error {
		_, err := s.ExportKeyingMaterial(r.IntN(100), "label", nil)
		return err
	}},
	{"info", func(s *tls.Socket, _ *rand.Rand) error {
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
	{"disable renegotiation", func(s *tls.Socket, _ *rand.Rand) error { s.DisableRenegotiation(); return nil }},
}

const opLimit = 10 * time.Second

// TestSocketRandomOperations runs random sequences of Socket operations
// (writes, reads, handshakes, renegotiations, end, close, destroy, ...) on
// both ends of TLS 1.2 and 1.3 connections over TCP and net.Pipe, two
// goroutines per end, under
// -race: no operation may panic or hang, and afterwards every goroutine
// has ended and every OpenSSL object is freed.
func TestSocketRandomOperations(t *testing.T) {
	ca := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256})
	leaf := ca.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	pair := func(version string, pipe bool) (srv, cli *tls.Socket) {
		var sraw, craw net.Conn
		if pipe {
			sraw, craw = net.Pipe()
		} else {
			accepted := make(chan net.Conn, 1)
			go func() {
				c, _ := ln.Accept()
				accepted <- c
			}()
			craw, err = net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			sraw = <-accepted
			require.NotNil(t, sraw)
		}
		sc := tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM, CA: ca.CertPEM, MaxVersion: version}
		srv, err = tls.NewTLSSocket(sraw, tls.TLSSocketOptions{IsServer: true, SecureContextOptions: sc})
		require.NoError(t, err)
		cli, err = tls.NewTLSSocket(craw, tls.TLSSocketOptions{Servername: "localhost",
			SecureContextOptions: tls.SecureContextOptions{CA: ca.CertPEM, MaxVersion: version}})
		require.NoError(t, err)
		return srv, cli
	}

	runSeed := func(seed uint64) {
		version := "TLSv1.3"
		if seed%2 == 1 {
			version = "TLSv1.2"
		}
		pipe := seed%4 >= 2 // net.Pipe: the general (window BIO) path; TCP: the socket fast path
		srv, cli := pair(version, pipe)
		var wg sync.WaitGroup
		for g, s := range []*tls.Socket{srv, srv, cli, cli} {
			wg.Add(1)
			go func(g int, s *tls.Socket) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(g)))
				for step := 0; step < 12; step++ {
					op := socketOps[r.IntN(len(socketOps))]
					if step < 4 && (op.name == "close" || op.name == "destroy" || op.name == "end") {
						op = socketOps[r.IntN(2)] // mostly data first
					}
					done := make(chan struct{})
					go func() {
						defer close(done)
						_ = op.run(s, r)
					}()
					select {
					case <-done:
					case <-time.After(opLimit):
						t.Errorf("seed %d (%s, pipe %v), goroutine %d: %s did not return within %v", seed, version, pipe, g, op.name, opLimit)
						s.Destroy()
						<-done
						return
					}
				}
			}(g, s)
		}
		wg.Wait()
		srv.Destroy()
		cli.Destroy()
	}

	runSeed(0) // warm up: contexts, caches
	settledGoroutines := func(limit int) int {
		n := runtime.NumGoroutine()
		for i := 0; i < 100 && n > limit; i++ {
			time.Sleep(20 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		return n
	}
	baseGoroutines := settledGoroutines(0)
	before := settled()
	seeds := uint64(100)
	if testing.Short() {
		seeds = 20
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runSeed(seed) })
	}
	assert.LessOrEqual(t, settledGoroutines(baseGoroutines), baseGoroutines, "goroutines after the sockets ended")
	after := settled()
	assert.LessOrEqual(t, after.SSL, before.SSL, "SSL objects")
	assert.LessOrEqual(t, after.Session, before.Session, "SSL_SESSION objects")
	assert.LessOrEqual(t, after.X509, before.X509, "X509 objects")
	t.Logf("live before %+v after %+v; goroutines %d", before, after, baseGoroutines)
}
