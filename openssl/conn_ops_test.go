package openssl_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connOps are the operations TestConnRandomOperations runs on either end,
// each bounded by a deadline or a context.
var connOps = []struct {
	name string
	run  func(c *openssl.Conn, r *rand.Rand) error
}{
	// A Write may run the handshake, which reads (as in crypto/tls, bounded
	// by the read deadline), so writes set both deadlines.
	{"write", func(c *openssl.Conn, r *rand.Rand) error {
		_ = c.SetDeadline(time.Now().Add(time.Duration(r.IntN(100)) * time.Millisecond))
		_, err := c.Write(make([]byte, r.IntN(70000)))
		return err
	}},
	// A Read may answer the peer (a renegotiation, a key update), which
	// writes, so reads set both deadlines too.
	{"read", func(c *openssl.Conn, r *rand.Rand) error {
		_ = c.SetDeadline(time.Now().Add(time.Duration(r.IntN(100)) * time.Millisecond))
		_, err := c.Read(make([]byte, 1+r.IntN(40000)))
		return err
	}},
	{"handshake", func(c *openssl.Conn, r *rand.Rand) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(200))*time.Millisecond)
		defer cancel()
		return c.Handshake(ctx)
	}},
	// Over net.Pipe a write waits for the peer to read, so these (which
	// send) are bounded by a deadline, as a write is.
	{"renegotiate", func(c *openssl.Conn, r *rand.Rand) error {
		_ = c.SetDeadline(time.Now().Add(time.Duration(r.IntN(200)) * time.Millisecond))
		return c.Renegotiate()
	}},
	{"key update", func(c *openssl.Conn, r *rand.Rand) error {
		_ = c.SetDeadline(time.Now().Add(time.Duration(r.IntN(200)) * time.Millisecond))
		return c.KeyUpdate()
	}},
	{"close write", func(c *openssl.Conn, _ *rand.Rand) error { return c.CloseWrite() }},
	{"close", func(c *openssl.Conn, _ *rand.Rand) error { return c.Close() }},
	{"abort", func(c *openssl.Conn, _ *rand.Rand) error { return c.Abort() }},
	{"fragment", func(c *openssl.Conn, r *rand.Rand) error { c.SetMaxSendFragment(r.IntN(20000)); return nil }},
	{"ekm", func(c *openssl.Conn, r *rand.Rand) error {
		_, err := c.ExportKeyingMaterial(r.IntN(100), "label", []byte("ctx"), r.IntN(2) == 0)
		return err
	}},
	{"info", func(c *openssl.Conn, _ *rand.Rand) error {
		if s := c.Session(); s != nil {
			s.Free()
		}
		for _, cert := range c.PeerCertificateChain() {
			cert.Free() // the caller's to free
		}
		_, _ = c.Cipher()
		_ = c.Version()
		_ = c.Finished()
		_ = c.PeerFinished()
		_ = c.SharedSigalgNames()
		_ = c.PeerEphemeralKey()
		_ = c.Ticket()
		_ = c.VerifyResult()
		return nil
	}},
}

// TestConnRandomOperations runs random sequences of Conn operations (reads,
// writes, handshakes, renegotiations, key updates, half-close, close,
// abort, ...) on both ends of TLS 1.2 and 1.3 connections over TCP (the
// socket fast path) and net.Pipe (the window path), two goroutines per end,
// under -race: no operation may panic or run past its deadline by long, and
// afterwards every goroutine has ended and every OpenSSL object is freed.
func TestConnRandomOperations(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	ctxs := map[bool][2]*openssl.Context{}
	for _, tls12 := range []bool{false, true} {
		opts := openssl.ContextOptions{}
		if tls12 {
			opts.MaxVersion = openssl.TLS1_2
			opts.Options = openssl.OpAllowClientRenegotiation
		}
		ctxs[tls12] = [2]*openssl.Context{serverContext(t, leaf, opts), clientContext(t, leaf.CAPEM, opts)}
	}
	const limit = 10 * time.Second
	runSeed := func(seed uint64) {
		tls12, pipe := seed%2 == 1, seed%4 >= 2
		var sraw, craw net.Conn
		if pipe {
			sraw, craw = net.Pipe()
		} else {
			sraw, craw = rawPair(t, "tcp")
		}
		srv, err := openssl.Server(sraw, ctxs[tls12][0], openssl.ConnConfig{})
		require.NoError(t, err)
		cli, err := openssl.Client(craw, ctxs[tls12][1], openssl.ConnConfig{ServerName: "localhost"})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for g, c := range []*openssl.Conn{srv, srv, cli, cli} {
			wg.Add(1)
			go func(g int, c *openssl.Conn) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, uint64(g)))
				for step := 0; step < 12; step++ {
					op := connOps[r.IntN(len(connOps))]
					if step < 4 && (op.name == "close" || op.name == "abort" || op.name == "close write") {
						op = connOps[r.IntN(2)]
					}
					done := make(chan struct{})
					go func() {
						defer close(done)
						_ = op.run(c, r)
					}()
					select {
					case <-done:
					case <-time.After(limit):
						t.Errorf("seed %d (TLS 1.2 %v, pipe %v), goroutine %d: %s did not return within %v", seed, tls12, pipe, g, op.name, limit)
						_ = c.Abort()
						<-done
						return
					}
				}
			}(g, c)
		}
		wg.Wait()
		_ = srv.Abort()
		_ = cli.Abort()
	}

	runSeed(0)
	goroutines := func(limit int) int {
		n := runtime.NumGoroutine()
		for i := 0; i < 100 && n > limit; i++ {
			time.Sleep(20 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		return n
	}
	base := goroutines(0)
	before := settledNoGC()
	seeds := uint64(100)
	if testing.Short() {
		seeds = 20
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runSeed(seed) })
	}
	assert.LessOrEqual(t, goroutines(base), base, "goroutines after the connections ended")
	after := settledNoGC()
	assert.LessOrEqual(t, after.SSL, before.SSL, "SSL objects")
	assert.LessOrEqual(t, after.Session, before.Session, "SSL_SESSION objects")
	assert.LessOrEqual(t, after.X509, before.X509, "X509 objects")
	assert.LessOrEqual(t, after.BIO, before.BIO, "BIO objects")
	t.Logf("live before %+v after %+v; goroutines %d", before, after, base)
}

// settledNoGC waits until the live OpenSSL object counts stop changing,
// without running the garbage collector: objects must be freed explicitly,
// not by the finalizer safety net.
func settledNoGC() cbridge.ObjectCounts {
	prev := cbridge.LiveObjects()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		cur := cbridge.LiveObjects()
		if cur == prev {
			return cur
		}
		prev = cur
	}
	return prev
}
