package tls_test

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Listen on a port in use fails with Node's error: code EADDRINUSE and the
// message node's server 'error' event carries.
func TestListenAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)

	node := peers.Node(t, `require('net').createServer().on('error', (e) => console.log(e.code + '\n' + e.message)).listen(`+port+`, '127.0.0.1')`)
	node.Wait(t, 20*time.Second)
	want := strings.Split(strings.TrimSpace(node.Stdout()), "\n")
	require.Len(t, want, 2, node.Output())

	leaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	srv, err := tls.CreateServer(tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: leaf.KeyPEM, Cert: leaf.CertPEM}}, nil)
	require.NoError(t, err)
	defer srv.Close()
	err = srv.Listen("127.0.0.1:" + port)
	var te *tls.Error
	require.True(t, errors.As(err, &te), "%v", err)
	assert.Equal(t, want[0], te.Code)
	assert.Equal(t, want[1], te.Message)
}
