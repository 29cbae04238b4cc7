package tls_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawServer accepts connections on 127.0.0.1 and hands them to handle.
func rawServer(t *testing.T, handle func(net.Conn)) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// A peer that goes away during the handshake: a reset is reported as Node
// reports the stream error ("read ECONNRESET"), a clean close as the peer
// leaving ("Client network socket disconnected ..." on a client, "socket
// hang up" on a server).
func TestParityPeerGoesAwayInHandshake(t *testing.T) {
	servers := map[string]func(net.Conn){
		"reset": func(c net.Conn) {
			// Closing with most of the ClientHello unread makes the kernel send RST.
			_, _ = c.Read(make([]byte, 1))
			c.Close()
		},
		"close": func(c net.Conn) {
			buf := make([]byte, 4096)
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			for {
				if _, err := c.Read(buf); err != nil {
					break
				}
			}
			c.Close()
		},
	}
	for name, handle := range servers {
		t.Run("client, server "+name, func(t *testing.T) {
			spec := parity.ClientSpec{Options: map[string]any{"host": "127.0.0.1", "port": rawServer(t, handle)}}
			node := parity.RunNodeClient(t, spec)
			got := parity.RunGoClient(t, spec)
			require.Len(t, node, 1)
			assert.Equal(t, "ECONNRESET", node[0]["code"])
			assert.Empty(t, parity.Diff(node, got), "node %v\ngo %v", node, got)
		})
	}

	leaf := testpki.SelfSigned(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	spec := parity.ServerSpec{Options: map[string]any{"key": string(leaf.KeyPEM), "cert": string(leaf.CertPEM)}}
	clients := map[string]func(c *net.TCPConn){
		"reset": func(c *net.TCPConn) { _ = c.SetLinger(0) },
		"close": func(c *net.TCPConn) {},
	}
	for name, before := range clients {
		t.Run("server, client "+name, func(t *testing.T) {
			nodePort, nodeLines := parity.StartNodeServer(t, spec)
			goPort, goLines := parity.StartGoServer(t, spec)
			for _, port := range []int{nodePort, goPort} {
				c, err := net.DialTCP("tcp", nil, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
				require.NoError(t, err)
				_, err = c.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x50, 0x01}) // the start of a ClientHello
				require.NoError(t, err)
				time.Sleep(100 * time.Millisecond)
				before(c)
				c.Close()
				_, _ = io.Copy(io.Discard, c)
			}
			want := parity.WaitLines(nodeLines, 1, 10*time.Second)
			got := parity.WaitLines(goLines, 1, 10*time.Second)
			require.Len(t, want, 1)
			assert.Empty(t, parity.Diff(want, got), "node %v\ngo %v", want, got)
		})
	}
}
