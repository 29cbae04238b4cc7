package openssl_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/opsrun"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/require"
)

// connOps are the operations TestConnRandomOperations runs on either end,
// each bounded by a deadline or a context: the common ones (opsrun.ConnOps:
// write, read, handshake) and the Conn's own.
var connOps = append(opsrun.ConnOps[*openssl.Conn](), []opsrun.Op[*openssl.Conn]{
	// Over net.Pipe a write waits for the peer to read, so these (which
	// send) are bounded by a deadline, as a write is.
	{Name: "renegotiate", Run: func(c *openssl.Conn, r *rand.Rand) error {
		_ = c.SetDeadline(time.Now().Add(time.Duration(r.IntN(200)) * time.Millisecond))
		return c.Renegotiate()
	}},
	{Name: "key update", Run: func(c *openssl.Conn, r *rand.Rand) error {
		_ = c.SetDeadline(time.Now().Add(time.Duration(r.IntN(200)) * time.Millisecond))
		return c.KeyUpdate()
	}},
	{Name: "close write", Run: func(c *openssl.Conn, _ *rand.Rand) error { return c.CloseWrite() }},
	{Name: "close", Run: func(c *openssl.Conn, _ *rand.Rand) error { return c.Close() }},
	{Name: "abort", Run: func(c *openssl.Conn, _ *rand.Rand) error { return c.Abort() }},
	{Name: "fragment", Run: func(c *openssl.Conn, r *rand.Rand) error { c.SetMaxSendFragment(r.IntN(20000)); return nil }},
	{Name: "ekm", Run: func(c *openssl.Conn, r *rand.Rand) error {
		_, err := c.ExportKeyingMaterial(r.IntN(100), "label", []byte("ctx"), r.IntN(2) == 0)
		return err
	}},
	{Name: "info", Run: func(c *openssl.Conn, _ *rand.Rand) error {
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
}...)

// TestConnRandomOperations runs random sequences of Conn operations (reads,
// writes, handshakes, renegotiations, key updates, half-close, close,
// abort, ...) on both ends of TLS 1.2 and 1.3 connections over TCP (read
// inside Go's poller) and net.Pipe (read through its Read), two goroutines per end,
// under -race: no operation may panic or hang, and afterwards every
// goroutine has ended and every OpenSSL object is freed (opsrun).
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
	seeds := uint64(100)
	if testing.Short() {
		seeds = 20
	}
	opsrun.Run(t, opsrun.Config[*openssl.Conn]{
		Ops: connOps, Data: 2, Final: map[string]bool{"close write": true, "close": true, "abort": true},
		Seeds: seeds, Steps: 12,
		Abort: func(c *openssl.Conn) { _ = c.Abort() },
		Pair: func(t *testing.T, seed uint64) (srv, cli *openssl.Conn, desc string) {
			tls12, pipe := seed%2 == 1, seed%4 >= 2
			var sraw, craw net.Conn
			if pipe {
				sraw, craw = net.Pipe()
			} else {
				sraw, craw = rawPair(t, "tcp")
			}
			srv, err := openssl.Server(sraw, ctxs[tls12][0], openssl.ConnConfig{})
			require.NoError(t, err)
			cli, err = openssl.Client(craw, ctxs[tls12][1], openssl.ConnConfig{ServerName: "localhost"})
			require.NoError(t, err)
			return srv, cli, fmt.Sprintf("TLS 1.2 %v, pipe %v", tls12, pipe)
		},
	})
}
