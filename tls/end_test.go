package tls_test

import (
	"bytes"
	"io"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/opsrun"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endServer is a tls.Server whose handler is handler, on 127.0.0.1.
func endServer(t *testing.T, handler func(*tls.Socket)) (port int, caPEM []byte) {
	t.Helper()
	leaf := testpki.NewCA(t, testpki.Options{Key: testpki.ECDSAP256}).Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	srv, err := tls.CreateServer(tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.ChainPEM}}, handler)
	require.NoError(t, err)
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { srv.Close() })
	_, port, err = splitHostPort(srv.Address().String())
	require.NoError(t, err)
	return port, leaf.CAPEM
}

func connectTo(t *testing.T, port int, ca []byte) *tls.Socket {
	t.Helper()
	c, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: port, Servername: "localhost",
		SecureContextOptions: tls.SecureContextOptions{CA: ca}})
	require.NoError(t, err)
	return c
}

// TestEndClosesWhenPeerEnds: Node's canonical server, socket.end(data) in
// the secureConnection listener and nothing more, leaves no socket behind
// once each client has read the reply and closed: as in Node (allowHalfOpen
// false), a server socket its handler ended and left closes itself at the
// peer's end of the stream.
func TestEndClosesWhenPeerEnds(t *testing.T) {
	port, ca := endServer(t, func(s *tls.Socket) {
		s.Write([]byte("hi"))
		s.End()
	})
	c := connectTo(t, port, ca) // warm up
	io.ReadAll(c)
	c.Close()
	before := opsrun.SettledObjects()
	goroutines := runtime.NumGoroutine()

	for range 30 {
		c := connectTo(t, port, ca)
		got, err := io.ReadAll(c)
		require.NoError(t, err)
		assert.Equal(t, "hi", string(got))
		require.NoError(t, c.Close())
	}
	after := opsrun.SettledObjects()
	assert.LessOrEqual(t, after.SSL, before.SSL, "the server's ended sockets are freed")
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "and their goroutines end")
}

// TestEndThenRead: after End, the socket still reads everything the peer
// sends, in order, to the end of the stream (Node's client pattern: write a
// request, end, read the reply); Reads after the end keep returning io.EOF,
// and the socket is its owner's to close (its getters still answer, as in
// Node's 'end' listener).
func TestEndThenRead(t *testing.T) {
	reply := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16)
	port, ca := endServer(t, func(s *tls.Socket) {
		req, err := io.ReadAll(s) // to the client's end
		if err == nil && string(req) == "request" {
			s.Write(reply)
		}
		s.Close()
	})
	for range 5 {
		c := connectTo(t, port, ca)
		_, err := c.Write([]byte("request"))
		require.NoError(t, err)
		require.NoError(t, c.End())
		got, err := io.ReadAll(c)
		require.NoError(t, err)
		require.Equal(t, len(reply), len(got))
		require.True(t, bytes.Equal(reply, got), "the reply, in order")
		n, err := c.Read(make([]byte, 10))
		assert.Equal(t, 0, n)
		assert.ErrorIs(t, err, io.EOF)
		assert.False(t, c.Destroyed())
		assert.Equal(t, "TLSv1.3", c.GetProtocol())
		require.NoError(t, c.Close())
	}
}

// TestEndUnreadDataKeepsSocket: data that comes after End and before the
// peer's end waits for a Read, and the socket stays open until its owner
// reads and closes it, as in Node (whose socket emits 'end' only once its
// data is read).
func TestEndUnreadDataKeepsSocket(t *testing.T) {
	ended := make(chan *tls.Socket, 1)
	port, ca := endServer(t, func(s *tls.Socket) {
		s.End()
		ended <- s
	})
	c := connectTo(t, port, ca)
	_, err := c.Write([]byte("late data"))
	require.NoError(t, err)
	io.ReadAll(c) // the server's end
	c.Close()
	s := <-ended
	time.Sleep(200 * time.Millisecond)
	assert.False(t, s.Destroyed(), "open while its data is unread")
	got, err := io.ReadAll(s)
	require.NoError(t, err)
	assert.Equal(t, "late data", string(got))
	s.Close()
}

// TestEndNodeClient: the same server against node's client, which ends its
// side when the server's end comes (allowHalfOpen false): the client sees
// the reply, 'end' and 'close', and the server's socket closes itself.
func TestEndNodeClient(t *testing.T) {
	peers.Require(t, "node")
	sockets := make(chan *tls.Socket, 1)
	port, ca := endServer(t, func(s *tls.Socket) {
		s.Write([]byte("hi"))
		s.End()
		sockets <- s
	})
	script := `
const tls = require('tls');
const c = tls.connect({port: +process.argv[1], host: '127.0.0.1', servername: 'localhost', ca: process.argv[2]});
c.on('data', d => console.log('data ' + d));
c.on('end', () => console.log('end'));
c.on('close', () => console.log('close'));
`
	p := peers.Node(t, script, strconv.Itoa(port), string(ca))
	p.WaitFor(t, regexp.MustCompile(`data hi\nend\nclose\n`), 10*time.Second)
	s := <-sockets
	deadline := time.Now().Add(5 * time.Second)
	for !s.Destroyed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.True(t, s.Destroyed(), "the server's socket closed at node's end")
	n, err := s.Read(make([]byte, 8))
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF)
}
