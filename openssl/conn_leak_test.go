package openssl_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leakEnv holds the contexts of the leak test; every handshake takes them
// from here and nothing else.
type leakEnv struct {
	sctx, cctx13, cctx12 *openssl.Context
}

// handshakeOnce runs one connection over net.Pipe, or over loopback TCP
// (every 5th, read inside Go's poller) with ln: handshake, a byte each way,
// close. Variant i also picks TLS 1.2 (every 4th), resumption with the
// session of an earlier connection (every 10th, which also frees it), and a
// handshake the server's ALPN callback fails (every 100th).
// sessions holds one kept session per client context: a session resumes only
// with the protocol versions of the context it came from.
type sessionSlots map[*openssl.Context]chan *openssl.Session

func (e *leakEnv) handshakeOnce(i int, slots sessionSlots, ln net.Listener) error {
	a, b := net.Pipe()
	if i%5 == 2 {
		var err error
		if a, b, err = tcpConns(ln); err != nil {
			return err
		}
	}
	scfg := openssl.ConnConfig{}
	ccfg := openssl.ConnConfig{ServerName: "localhost"}
	cctx := e.cctx13
	if i%4 == 3 {
		cctx = e.cctx12
	}
	sessions := slots[cctx]
	if i%10 == 5 {
		// Keep one session for a later connection; extra ones are freed.
		ccfg.OnNewSession = func(s *openssl.Session) {
			select {
			case sessions <- s:
			default:
				s.Free()
			}
		}
	}
	var resumed *openssl.Session
	if i%10 == 9 {
		select {
		case resumed = <-sessions:
			ccfg.Session = resumed
		default:
		}
	}
	failing := i%100 == 42
	if failing {
		ccfg.ALPNProtocols = []string{"h2"}
		scfg.SelectALPN = func([]string) (string, error) { return "", errors.New("no protocol for you") }
	}
	srv, err := openssl.Server(a, e.sctx, scfg)
	if err != nil {
		return err
	}
	cli, err := openssl.Client(b, cctx, ccfg)
	if err != nil {
		srv.Close()
		return err
	}
	if resumed != nil {
		defer resumed.Free()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var serr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if serr = srv.Handshake(ctx); serr != nil {
			srv.Close()
			return
		}
		buf := make([]byte, 1)
		if _, serr = io.ReadFull(srv, buf); serr != nil {
			srv.Close()
			return
		}
		if _, serr = srv.Write(buf); serr != nil {
			srv.Close()
			return
		}
		// The client's close_notify.
		if _, err := srv.Read(buf); err != io.EOF {
			serr = fmt.Errorf("server read %v, want io.EOF", err)
		}
		srv.Close()
	}()
	cerr := cli.Handshake(ctx)
	if cerr == nil {
		buf := []byte{byte(i)}
		if _, cerr = cli.Write(buf); cerr == nil {
			_, cerr = io.ReadFull(cli, buf)
		}
	}
	reused := cli.SessionReused() // before Close frees the connection
	cli.Close()
	<-done
	if failing {
		if cerr == nil || serr == nil {
			return fmt.Errorf("connection %d: the failing handshake succeeded (client %v, server %v)", i, cerr, serr)
		}
		return nil
	}
	if cerr != nil || serr != nil {
		return fmt.Errorf("connection %d: client %v, server %v", i, cerr, serr)
	}
	if resumed != nil && !reused {
		return fmt.Errorf("connection %d: session not resumed", i)
	}
	return nil
}

// run makes n connections on workers goroutines.
func (e *leakEnv) run(n, workers int) error {
	slots := sessionSlots{e.cctx13: make(chan *openssl.Session, 1), e.cctx12: make(chan *openssl.Session, 1)}
	defer func() {
		for _, ch := range slots {
			select {
			case s := <-ch:
				s.Free()
			default:
			}
		}
	}()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := e.handshakeOnce(i, slots, ln); err != nil {
					errs <- err
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// tcpConns connects to ln and accepts: the two ends of a TCP connection.
func tcpConns(ln net.Listener) (srv, cli net.Conn, err error) {
	cli, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	srv, err = ln.Accept()
	if err != nil {
		cli.Close()
		return nil, nil, err
	}
	return srv, cli, nil
}

// settle waits until the goroutine count is at most want (background
// flushers and test goroutines end shortly after their connection).
func settle(want int) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnNoLeaks runs 10,000 connections (TLS 1.3 and 1.2, resumed ones,
// failing ones, over net.Pipe and TCP) and checks that goroutines and the live SSL, SSL_CTX and
// SSL_SESSION objects come back to where they were; and that a Conn left
// open would have been seen.
func TestConnNoLeaks(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	newEnv := func() *leakEnv {
		sctx, err := openssl.NewContext(openssl.ContextOptions{KeyPairs: []openssl.KeyPair{{CertPEM: leaf.ChainPEM, KeyPEM: leaf.KeyPEM}}})
		require.NoError(t, err)
		// Clients keep sessions (OnNewSession) only with the client cache mode on.
		clientCache := openssl.SessCacheClient
		c13, err := openssl.NewContext(openssl.ContextOptions{CA: leaf.CAPEM, SessionCacheMode: &clientCache})
		require.NoError(t, err)
		c12, err := openssl.NewContext(openssl.ContextOptions{CA: leaf.CAPEM, MaxVersion: openssl.TLS1_2, SessionCacheMode: &clientCache})
		require.NoError(t, err)
		return &leakEnv{sctx, c13, c12}
	}
	closeEnv := func(e *leakEnv) {
		e.sctx.Close()
		e.cctx13.Close()
		e.cctx12.Close()
	}
	// Warm OpenSSL's own caches (providers, method stores) first.
	warm := newEnv()
	require.NoError(t, warm.run(20, 2))
	closeEnv(warm)

	// The warm-up's goroutines end shortly after their connections, and
	// objects that earlier tests left to the garbage collector are freed now,
	// not during the count.
	before := quiet()
	goroutines := runtime.NumGoroutine()

	e := newEnv()
	const n = 10000
	start := time.Now()
	require.NoError(t, e.run(n, 4))
	t.Logf("%d connections in %v", n, time.Since(start).Round(time.Millisecond))

	// A Conn nobody closes is seen: in the counts and in the goroutines.
	srv, cli := e.established(t)
	during := cbridge.LiveObjects()
	assert.Equal(t, before.SSL+2, during.SSL, "two live SSL objects")
	assert.Greater(t, during.SSLCtx, before.SSLCtx)
	blocked := goRead(cli, 1) // a goroutine left reading
	time.Sleep(10 * time.Millisecond)
	assert.Greater(t, runtime.NumGoroutine(), goroutines)
	srv.Close()
	cli.Close()
	<-blocked

	closeEnv(e)
	after := cbridge.LiveObjects()
	assert.Equal(t, before.SSL, after.SSL, "SSL")
	assert.Equal(t, before.SSLCtx, after.SSLCtx, "SSL_CTX")
	assert.Equal(t, before.Session, after.Session, "SSL_SESSION")
	assert.Equal(t, before.X509, after.X509, "X509")
	assert.Equal(t, before.PKey, after.PKey, "EVP_PKEY")
	assert.Equal(t, before.BIO, after.BIO, "BIO")
	assert.LessOrEqual(t, settle(goroutines), goroutines, "goroutines")
}

// quiet collects garbage until the live object counts stop moving, and
// returns them.
func quiet() cbridge.ObjectCounts {
	last := cbridge.LiveObjects()
	for i := 0; i < 50; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		now := cbridge.LiveObjects()
		if now == last {
			return now
		}
		last = now
	}
	return last
}

// established is a handshaken pair over net.Pipe from the leak test's contexts.
func (e *leakEnv) established(t *testing.T) (srv, cli *openssl.Conn) {
	t.Helper()
	a, b := net.Pipe()
	srv, err := openssl.Server(a, e.sctx, openssl.ConnConfig{})
	require.NoError(t, err)
	cli, err = openssl.Client(b, e.cctx13, openssl.ConnConfig{ServerName: "localhost"})
	require.NoError(t, err)
	errs := make(chan error, 1)
	go func() { errs <- srv.Handshake(context.Background()) }()
	require.NoError(t, cli.Handshake(context.Background()))
	require.NoError(t, <-errs)
	return srv, cli
}
