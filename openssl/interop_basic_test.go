package openssl_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Our client against `openssl s_server`, and `openssl s_client` against our
// server: handshake, verification result and data both ways.
func TestInteropOpenSSLBasic(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{})
	keyFile, chainFile, caFile := leaf.WriteFiles(t)

	t.Run("we are the client", func(t *testing.T) {
		srv, addr := peers.OpenSSLServer(t, "-key", keyFile, "-cert", chainFile, "-rev")
		_ = srv
		raw, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		c, err := openssl.Client(raw, clientContext(t, leaf.CAPEM, openssl.ContextOptions{}), openssl.ConnConfig{ServerName: "localhost"})
		require.NoError(t, err)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, c.Handshake(ctx))
		assert.Equal(t, int64(0), c.VerifyResult())
		assert.Equal(t, "TLSv1.3", c.Version())
		_, err = c.Write([]byte("hello\n"))
		require.NoError(t, err)
		line, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "olleh\n", line) // -rev reverses each line
	})

	t.Run("we are the server", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		sctx := serverContext(t, leaf, openssl.ContextOptions{})
		got := make(chan string, 1)
		go func() {
			raw, err := ln.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			c, err := openssl.Server(raw, sctx, openssl.ConnConfig{})
			if err != nil {
				got <- err.Error()
				return
			}
			defer c.Close()
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				got <- err.Error()
				return
			}
			c.Write([]byte(strings.ToUpper(line)))
			got <- line
			io.Copy(io.Discard, c)
		}()
		cli := peers.OpenSSLClient(t, ln.Addr().String(), "-CAfile", caFile, "-servername", "localhost", "-verify_return_error")
		cli.Send(t, "ping from s_client\n")
		select {
		case line := <-got:
			assert.Equal(t, "ping from s_client\n", line)
		case <-time.After(10 * time.Second):
			t.Fatal("server got nothing")
		}
		cli.WaitFor(t, regexp.MustCompile(`PING FROM S_CLIENT`), 10*time.Second)
		assert.Contains(t, cli.Output(), "Verify return code: 0 (ok)")
		cli.CloseStdin()
		cli.Wait(t, 10*time.Second)
	})
}
