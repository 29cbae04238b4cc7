package openssl_test

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/require"
)

// Helpers for the session and ticket tests.

// nodeCacheMode is the session cache mode Node sets on every context: OpenSSL's
// internal cache off, so session-ID resumption goes through the callbacks.
const nodeCacheMode = openssl.SessCacheBoth | openssl.SessCacheNoInternal | openssl.SessCacheNoAutoClear

var sessionIDContext = []byte("nodetls session tests")

// protoCase is a protocol version to run a case with.
type protoCase struct {
	name string
	v    openssl.ProtocolVersion
}

var sessionProtocols = []protoCase{{"TLSv1.2", openssl.TLS1_2}, {"TLSv1.3", openssl.TLS1_3}}

// transportCase picks net.Pipe or loopback TCP.
type transportCase struct {
	name string
	pair func(t testing.TB, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) (srv, cli *openssl.Conn, serr, cerr error)
}

var sessionTransports = []transportCase{{"pipe", pipePair}, {"tcp", tcpPair}}

func sessionPKI(t testing.TB) *testpki.Leaf {
	t.Helper()
	_, leaf := newPKI(t, testpki.Options{Key: testpki.ECDSAP256})
	return leaf
}

// sessionServer makes a server context for version v with Node's cache mode
// and a session ID context; opts adds to that.
func sessionServer(t testing.TB, leaf *testpki.Leaf, v openssl.ProtocolVersion, opts openssl.ContextOptions) *openssl.Context {
	t.Helper()
	mode := nodeCacheMode
	opts.MaxVersion = v
	opts.SessionIDContext = sessionIDContext
	if opts.SessionCacheMode == nil {
		opts.SessionCacheMode = &mode
	}
	return serverContext(t, leaf, opts)
}

// sessionClient makes a client context for version v with Node's cache mode.
func sessionClient(t testing.TB, leaf *testpki.Leaf, v openssl.ProtocolVersion) *openssl.Context {
	t.Helper()
	mode := nodeCacheMode
	return clientContext(t, leaf.CAPEM, openssl.ContextOptions{MaxVersion: v, SessionCacheMode: &mode})
}

// sessionList collects the sessions a client receives and frees them when
// the test ends.
type sessionList struct {
	mu   sync.Mutex
	list []*openssl.Session
}

func newSessionList(t testing.TB) *sessionList {
	l := &sessionList{}
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, s := range l.list {
			s.Free()
		}
	})
	return l
}

func (l *sessionList) add(s *openssl.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, s)
}

func (l *sessionList) all() []*openssl.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*openssl.Session(nil), l.list...)
}

func (l *sessionList) last() *openssl.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) == 0 {
		return nil
	}
	return l.list[len(l.list)-1]
}

// sessionCache is a server's external session-ID cache.
type sessionCache struct {
	mu                 sync.Mutex
	m                  map[string]*openssl.Session
	news, hits, misses int
	lastHit            *openssl.Session
}

func newSessionCache(t testing.TB) *sessionCache {
	c := &sessionCache{m: map[string]*openssl.Session{}}
	t.Cleanup(c.clear)
	return c
}

func (c *sessionCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.m {
		s.Free()
		delete(c.m, k)
	}
}

func (c *sessionCache) onNew(s *openssl.Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.news++
	k := string(s.ID())
	if old := c.m[k]; old != nil {
		old.Free()
	}
	c.m[k] = s
}

func (c *sessionCache) get(id []byte) *openssl.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[string(id)]
	if s == nil {
		c.misses++
		return nil
	}
	c.hits++
	c.lastHit = s
	return s.Ref()
}

func (c *sessionCache) counts() (news, hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.news, c.hits, c.misses
}

func (c *sessionCache) serverConfig() openssl.ConnConfig {
	return openssl.ConnConfig{OnNewSession: c.onNew, GetSession: c.get}
}

// outcome is what one client/server connection showed.
type outcome struct {
	version                    string
	clientReused, serverReused bool
	// Client state right after the handshake and after reading the server's
	// first data (which comes after any TLS 1.3 tickets).
	sessionAtHandshake, sessionAfterRead *openssl.Session
	ticketAtHandshake, ticketAfterRead   []byte
}

// connect runs one connection: handshake, the server writes "ok", the client
// reads it, then both close. Sessions in the outcome are freed at test end.
func connect(t testing.TB, tr transportCase, sctx, cctx *openssl.Context, scfg, ccfg openssl.ConnConfig) outcome {
	t.Helper()
	if ccfg.Session != nil {
		// Otherwise the client would not even offer it.
		require.True(t, ccfg.Session.Resumable(), "the session to offer is resumable")
	}
	srv, cli, serr, cerr := tr.pair(t, sctx, cctx, scfg, ccfg)
	require.NoError(t, serr, "server handshake")
	require.NoError(t, cerr, "client handshake")
	var o outcome
	o.version = cli.Version()
	o.clientReused, o.serverReused = cli.SessionReused(), srv.SessionReused()
	o.sessionAtHandshake = cli.Session()
	o.ticketAtHandshake = cli.Ticket()

	srvDone := make(chan error, 1)
	go func() {
		_, err := srv.Write([]byte("ok"))
		if err == nil {
			_, err = io.Copy(io.Discard, srv) // until the client's close_notify
		}
		srv.Close()
		srvDone <- err
	}()
	got := make([]byte, 2)
	_, err := io.ReadFull(cli, got)
	require.NoError(t, err)
	require.Equal(t, "ok", string(got))
	o.sessionAfterRead = cli.Session()
	o.ticketAfterRead = cli.Ticket()
	cli.Close()
	select {
	case err := <-srvDone:
		require.NoError(t, err, "server side")
	case <-time.After(10 * time.Second):
		t.Fatal("server side did not finish")
	}
	t.Cleanup(func() { o.sessionAtHandshake.Free(); o.sessionAfterRead.Free() })
	return o
}

// ticketName is the key name a ticket made under Node's layout starts with.
func ticketName(ticket []byte) []byte {
	if len(ticket) < 16 {
		return nil
	}
	return ticket[:16]
}

func newKey(t testing.TB) []byte {
	t.Helper()
	k, err := openssl.NewTicketKey()
	require.NoError(t, err)
	require.Len(t, k, openssl.TicketKeySize)
	return k
}

func sameName(ticket, key []byte) bool { return bytes.Equal(ticketName(ticket), key[:16]) }

// copySession makes an independent copy through DER (OpenSSL clients use a
// TLS 1.3 session once, and drop a TLS 1.2 one whose ticket was renewed).
func copySession(t testing.TB, s *openssl.Session) *openssl.Session {
	t.Helper()
	c, err := openssl.ParseSession(s.DER())
	require.NoError(t, err)
	t.Cleanup(c.Free)
	return c
}
