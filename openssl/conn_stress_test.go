package openssl_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stream is an endless, position-dependent byte sequence: byte o is
// pattern[o % len(pattern)]. The pattern's odd length keeps record and chunk
// boundaries from lining up with it; each direction gets its own pattern, so
// crossed streams are caught too.
type stream struct{ pattern []byte }

func newStream(t testing.TB) stream {
	p := make([]byte, 1<<20+7)
	_, err := rand.Read(p)
	require.NoError(t, err)
	return stream{p}
}

// fill writes the stream's bytes from offset off into b.
func (s stream) fill(b []byte, off int64) {
	for len(b) > 0 {
		i := int(off % int64(len(s.pattern)))
		n := copy(b, s.pattern[i:])
		b, off = b[n:], off+int64(n)
	}
}

// equal reports whether b is the stream's bytes from offset off.
func (s stream) equal(b []byte, off int64) bool {
	for len(b) > 0 {
		i := int(off % int64(len(s.pattern)))
		n := min(len(b), len(s.pattern)-i)
		if !bytes.Equal(b[:n], s.pattern[i:i+n]) {
			return false
		}
		b, off = b[n:], off+int64(n)
	}
	return true
}

// Sizes that straddle the engine's boundaries: a byte, a record's plaintext
// (16 KiB) and either side of it, the engine's write chunk (64 KiB), and
// more than the transport's buffers.
var ioSizes = []int{1, 100, 1500, 16383, 16384, 16385, 40000, 65536, 65537, 200000, 1 << 20}

// sendStream writes total bytes of s in writes cycling through ioSizes
// (starting at a different place on each end), waits for hold (if not nil)
// and ends the direction with CloseWrite.
func sendStream(c *openssl.Conn, s stream, total int64, start int, hold <-chan struct{}) error {
	buf := make([]byte, 1<<20)
	var off int64
	for k := start; off < total; k++ {
		n := int(min(int64(ioSizes[k%len(ioSizes)]), total-off))
		s.fill(buf[:n], off)
		w, err := c.Write(buf[:n])
		off += int64(w)
		if err != nil {
			return fmt.Errorf("write at %d: %w", off, err)
		}
		if w != n {
			return fmt.Errorf("short write at %d: %d of %d", off, w, n)
		}
	}
	if hold != nil {
		<-hold
	}
	return c.CloseWrite()
}

// recvStream reads until io.EOF with reads cycling through ioSizes, checks
// every byte against s and that exactly total bytes came.
func recvStream(c *openssl.Conn, s stream, total int64, start int) error {
	buf := make([]byte, 1<<20)
	var off int64
	for k := start; ; k++ {
		n, err := c.Read(buf[:ioSizes[k%len(ioSizes)]])
		if n > 0 && !s.equal(buf[:n], off) {
			return fmt.Errorf("bytes %d..%d differ from what was sent", off, off+int64(n))
		}
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read at %d: %w", off, err)
		}
		if off > total {
			return fmt.Errorf("received %d bytes, more than the %d sent", off, total)
		}
	}
	if off != total {
		return fmt.Errorf("received %d bytes, want %d", off, total)
	}
	return nil
}

// exchange moves total bytes each way at once over an established pair: on
// each end one goroutine writes while another reads. during (if set) runs
// beside the transfer; the directions are closed once it has returned.
func stressExchange(t *testing.T, srv, cli *openssl.Conn, total int64, limit time.Duration, during func()) {
	t.Helper()
	up, down := newStream(t), newStream(t)
	var hold chan struct{}
	if during != nil {
		hold = make(chan struct{})
		go func() { defer close(hold); during() }()
	}
	errs := make([]error, 4)
	var wg sync.WaitGroup
	var once sync.Once
	// On the first failure both ends close, as an application would, so that
	// the other goroutines end instead of waiting for a peer that stopped.
	run := func(i int, f func() error) {
		defer wg.Done()
		if errs[i] = f(); errs[i] != nil {
			once.Do(func() { srv.Close(); cli.Close() })
		}
	}
	wg.Add(4)
	go run(0, func() error { return sendStream(cli, up, total, 0, hold) })
	go run(1, func() error { return recvStream(srv, up, total, 3) })
	go run(2, func() error { return sendStream(srv, down, total, 5, hold) })
	go run(3, func() error { return recvStream(cli, down, total, 7) })
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		srv.Close()
		cli.Close()
		<-done
		t.Fatalf("transfer did not finish in %v: %v", limit, errs)
	}
	if hold != nil {
		<-hold
	}
	for i, name := range []string{"client write", "server read", "server write", "client read"} {
		assert.NoError(t, errs[i], name)
	}
}

func unixPair(t *testing.T, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) (srv, cli *openssl.Conn, serr, cerr error) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	raw, err := net.Dial("unix", ln.Addr().String())
	require.NoError(t, err)
	sraw := <-accepted
	require.NotNil(t, sraw)
	return handshakePair(t, sraw, raw, sctx, cctx, scfg, ccfg)
}

// TestConnConcurrentBothWays moves data both ways at once on one connection,
// reading and writing on separate goroutines at both ends, and checks every
// byte and the clean end of each direction (close_notify, then io.EOF).
// Variants run TLS 1.3 key updates and TLS 1.2 renegotiations from a third
// goroutine during the transfer.
func TestConnConcurrentBothWays(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	sctx := serverContext(t, leaf, openssl.ContextOptions{})
	cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{})
	tls12 := clientContext(t, leaf.CAPEM, openssl.ContextOptions{MaxVersion: openssl.TLS1_2})
	cfg := openssl.ConnConfig{ServerName: "localhost"}
	type pairFunc func(*testing.T, *openssl.Context, *openssl.Context, openssl.ConnConfig, openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error)
	tcp := pairFunc(func(t *testing.T, s, c *openssl.Context, sc, cc openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error) {
		return tcpPair(t, s, c, sc, cc)
	})
	tcpWindow := pairFunc(func(t *testing.T, s, c *openssl.Context, sc, cc openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error) {
		sraw, craw := rawTCP(t)
		return handshakePair(t, opaque{sraw}, opaque{craw}, s, c, sc, cc)
	})
	pipe := pairFunc(func(t *testing.T, s, c *openssl.Context, sc, cc openssl.ConnConfig) (*openssl.Conn, *openssl.Conn, error, error) {
		return pipePair(t, s, c, sc, cc)
	})
	keyUpdates := func(t *testing.T, srv, cli *openssl.Conn) {
		for i := 0; i < 40; i++ {
			c := cli
			if i%2 == 1 {
				c = srv
			}
			if !assert.NoError(t, c.KeyUpdate()) {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	// The client renegotiates (a full handshake, which the client finishes
	// last), waits for the end, and again.
	renegotiations := func(t *testing.T, srv, cli *openssl.Conn) {
		for i := 0; i < 5; i++ {
			n := cli.HandshakeCount()
			if !assert.NoError(t, cli.Renegotiate()) {
				return
			}
			deadline := time.Now().Add(20 * time.Second)
			for cli.HandshakeCount() == n {
				if !assert.True(t, time.Now().Before(deadline), "renegotiation %d did not finish", i) {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
		assert.Equal(t, 6, cli.HandshakeCount())
	}
	renegSrv := serverContext(t, leaf, openssl.ContextOptions{Options: openssl.OpAllowClientRenegotiation})
	tests := []struct {
		name   string
		pair   pairFunc
		sctx   *openssl.Context
		cctx   *openssl.Context
		total  int64
		during func(t *testing.T, srv, cli *openssl.Conn)
	}{
		{"tcp tls1.3 64MiB", tcp, sctx, cctx, 64 << 20, nil},
		{"tcp tls1.3 key updates 16MiB", tcp, sctx, cctx, 16 << 20, keyUpdates},
		{"tcp tls1.2 16MiB", tcp, sctx, tls12, 16 << 20, nil},
		{"tcp tls1.2 renegotiations 16MiB", tcp, renegSrv, tls12, 16 << 20, renegotiations},
		{"tcp window BIO 32MiB", tcpWindow, sctx, cctx, 32 << 20, nil},
		{"tcp window BIO key updates 8MiB", tcpWindow, sctx, cctx, 8 << 20, keyUpdates},
		{"tcp window BIO tls1.2 renegotiations 8MiB", tcpWindow, renegSrv, tls12, 8 << 20, renegotiations},
		{"unix 16MiB", unixPair, sctx, cctx, 16 << 20, nil},
		{"pipe 8MiB", pipe, sctx, cctx, 8 << 20, nil},
		{"pipe key updates 4MiB", pipe, sctx, cctx, 4 << 20, keyUpdates},
		{"pipe tls1.2 renegotiations 4MiB", pipe, renegSrv, tls12, 4 << 20, renegotiations},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, cli, serr, cerr := tt.pair(t, tt.sctx, tt.cctx, openssl.ConnConfig{}, cfg)
			require.NoError(t, serr)
			require.NoError(t, cerr)
			var during func()
			if tt.during != nil {
				during = func() { tt.during(t, srv, cli) }
			}
			stressExchange(t, srv, cli, tt.total, 2*time.Minute, during)
			assert.NoError(t, cli.Close())
			assert.NoError(t, srv.Close())
		})
	}
}
